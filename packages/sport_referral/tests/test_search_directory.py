"""GET /api/v1/sport/structures on the database (service.search_directory): the answer must be exactly
what the contract's rules give over the whole directory, whatever the range scan and the radius check
done before decoding leave out."""

from __future__ import annotations

import datetime as dt
import math

import msgspec
import pytest

import shared_core.tables
import sport_referral.tables
from shared_core.actors import Actor
from shared_core.db import Database
from sport_referral import service
from sport_referral.catalogue.loader import load_supervision_matrix
from sport_referral.catalogue.loader_sport import load_matching_settings
from sport_referral.model.structures import Structure
from sport_referral.rules.api_contract import search_structures
from sport_referral.service import commune_points, save_structures, search_directory

pytestmark = pytest.mark.db
assert shared_core.tables and sport_referral.tables  # the tables are on the metadata

ADMIN = Actor(id="admin-1", role="admin")
TODAY = dt.date(2026, 11, 20)
TOULOUSE = "31555"
KM_PER_DEGREE = 111.19508  # the haversine's, R = 6371.0 km


def _structure(number: int, km: float, bearing_degrees: float, **overrides: object) -> Structure:
    """A structure ``km`` from Toulouse's commune point in the given direction (0 = north, 45 = north-east)."""
    origin = commune_points()[TOULOUSE]
    bearing = math.radians(bearing_degrees)
    values: dict[str, object] = {
        "structure_id": f"s-{number:03d}", "kind": "mss", "name": f"Structure {number:03d}", "postcode": "31000",
        "commune_insee": TOULOUSE, "accepting_referrals": True, "source": "manual", "source_licence": "own",
        "source_ref": f"ref-{number:03d}",
        "latitude": origin.lat + km * math.cos(bearing) / KM_PER_DEGREE,
        "longitude": origin.lon + km * math.sin(bearing) / (KM_PER_DEGREE * math.cos(math.radians(origin.lat))),
        "professions": frozenset({"apa_teacher"}), "disability_families": frozenset({"moteur"}),
        "accessibility": {"motor_reception": True}, "capacity_open_slots": 2, "referral_email": "contact@mss.fr",
    }
    return Structure(**(values | overrides))  # type: ignore[arg-type]


def test_the_answer_is_the_rules_over_the_whole_directory(database: Database) -> None:
    directory = [
        # North: inside the box up to 30.3 km. 30.04 km rounds to 30.0 (kept), 30.06 to 30.1 (left out).
        _structure(1, 12.0, 0), _structure(2, 29.9, 0), _structure(3, 30.04, 0), _structure(4, 30.06, 0),
        _structure(5, 30.2, 0),
        # North-east: the box's corner reaches 42 km; only the circle counts.
        _structure(6, 25.0, 45), _structure(7, 31.0, 45), _structure(8, 40.0, 45),
        # Filters still apply to what is inside: a family not accommodated, a venue, a structure far away.
        _structure(9, 5.0, 200, disability_families=frozenset({"visuel"})),
        _structure(10, 8.0, 300, kind="venue", referral_email=None),
        _structure(11, 150.0, 90),
        # 1.04 km rounds to 1.0: kept by a 1 km search, though outside a box drawn at 1 km.
        _structure(12, 1.04, 0), _structure(13, 1.06, 180),
    ]
    save_structures(database, ADMIN, directory, "test")
    for params in ({"commune": [TOULOUSE]}, {"commune": [TOULOUSE], "family": ["moteur"]},
                   {"commune": [TOULOUSE], "radius_km": ["31"]}, {"commune": [TOULOUSE], "radius_km": ["200"]},
                   {"commune": [TOULOUSE], "limit": ["2"]}, {"commune": [TOULOUSE], "limit": ["2"], "offset": ["3"]},
                   {"commune": [TOULOUSE], "limit": ["3"], "sort": ["score"]},
                   {"commune": [TOULOUSE], "radius_km": ["1"]}, {"commune": [TOULOUSE], "limit": ["4"]}):
        found = search_directory(database, params, today=TODAY)
        expected = search_structures(params, directory, matrix=load_supervision_matrix(),
                                     settings=load_matching_settings(), commune_points=commune_points(), today=TODAY)
        assert found == expected, params
    within_30 = [item.id for item in search_directory(database, {"commune": [TOULOUSE]}, today=TODAY).items]
    assert within_30 == ["s-012", "s-013", "s-009", "s-010", "s-001", "s-006", "s-002", "s-003"]
    within_1 = [item.id for item in search_directory(database, {"commune": [TOULOUSE], "radius_km": ["1"]},
                                                     today=TODAY).items]
    assert within_1 == ["s-012"]


def test_pages_follow_one_another_to_the_whole_answer(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """Read ring by ring and in small batches (positions first, then each batch's JSON), pages of 7 give
    the whole answer in order, one after the other, and the last one says there is no next page."""
    monkeypatch.setattr(service, "_FIRST_BATCH", 3)
    monkeypatch.setattr(service, "_LAST_BATCH", 10)
    directory = [_structure(number, km=(number * 7919) % 290 / 10, bearing_degrees=number * 37,
                            capacity_open_slots=0 if number % 4 == 0 else 2) for number in range(60)]
    save_structures(database, ADMIN, directory, "test")
    whole = search_directory(database, {"commune": [TOULOUSE]}, today=TODAY)
    assert 30 < len(whole.items) < 60 and whole.next_offset is None
    pages, offset = [], 0
    while offset is not None:
        page = search_directory(database, {"commune": [TOULOUSE], "limit": ["7"], "offset": [str(offset)]},
                                today=TODAY)
        pages.extend(page.items)
        offset = page.next_offset
    assert pages == whole.items


def test_a_structure_moved_during_a_search_never_breaks_the_order(database: Database,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Positions and records are read by separate statements. An import moving a structure in between
    leaves it out (PostgreSQL, read committed) or unseen (an SQLite read is a snapshot): either way the
    rules still get the structures nearest first, each where it was ranked."""
    monkeypatch.setattr(service, "_FIRST_BATCH", 1)
    directory = [_structure(number, km=number, bearing_degrees=0) for number in range(1, 5)]
    save_structures(database, ADMIN, directory, "test")
    origin = commune_points()[TOULOUSE]
    with database.read_rows() as connection:
        nearest = service.nearest_structures(connection, origin, 30, 6371.0)
        first = next(nearest)
        save_structures(database, ADMIN, [msgspec.structs.replace(directory[1], latitude=origin.lat + 0.5)], "move")
        rest = list(nearest)
    found = [first.structure_id, *(s.structure_id for s in rest)]
    assert found == (["s-001", "s-002", "s-003", "s-004"] if database.is_sqlite else ["s-001", "s-003", "s-004"])
