"""The three sport calculators of api-contract.md: validators report every bad field at once and
answers encode exactly the contract's keys."""

from datetime import date

import msgspec
import pytest

from shared_core.errors import ValidationFailed
from sport_referral.catalogue.loader import load_supervision_matrix
from sport_referral.catalogue.loader_sport import load_aids, load_matching_settings
from sport_referral.model.matching import GeoPoint
from sport_referral.model.structures import Structure
from sport_referral.rules.api_contract import (
    MalformedJson,
    PassSportBody,
    StructuresQuery,
    decode_json,
    pass_sport_answer,
    search_structures,
    supervision_answer,
    validate_pass_sport_body,
    validate_structures_query,
    validate_supervision_body,
)

MATRIX = load_supervision_matrix()
SETTINGS = load_matching_settings()
PASS = load_aids().pass_sport
TODAY = date(2026, 1, 30)
KM_PER_DEGREE = 111.19508
COMMUNES = {"31555": GeoPoint(43.6047, 1.4442), "97411": GeoPoint(-20.8789, 55.4481)}


def fields(error: pytest.ExceptionInfo[ValidationFailed]) -> set[str]:
    return {e.field for e in error.value.errors}


def structure(structure_id: str, km: float, **overrides: object) -> Structure:
    base: dict[str, object] = {
        "structure_id": structure_id,
        "kind": "mss",
        "name": structure_id,
        "postcode": "31000",
        "commune_insee": "31555",
        "accepting_referrals": True,
        "source": "manual",
        "source_licence": "own",
        "latitude": 43.6047 + km / KM_PER_DEGREE,
        "longitude": 1.4442,
        "professions": frozenset({"apa_teacher"}),
        "disability_families": frozenset({"moteur"}),
        "accessibility": {"motor_reception": True},
        "capacity_open_slots": 3,
        "referral_email": "a@b.fr",
        "disciplines": ("Natation", "Marche nordique"),
    }
    base.update(overrides)
    return Structure(**base)  # type: ignore[arg-type]


DIRECTORY = [
    structure("pool", 12.4, name="Piscine"),
    structure("walk", 3.0, name="Marche", disciplines=("Marche nordique",), accessibility={}),
    structure("far", 45.0, name="Loin"),
    structure("club", 5.0, kind="club", name="Club", professions=frozenset({"sport_educator"})),
    structure(
        "venue",
        8.0,
        kind="venue",
        name="Gymnase",
        professions=frozenset(),
        referral_email=None,
        accepting_referrals=False,
        disability_families=frozenset(),
        disciplines=("Basket-ball",),
    ),
]


# --- GET /api/v1/sport/structures -------------------------------------------------------------


def test_query_reports_every_bad_field_at_once() -> None:
    with pytest.raises(ValidationFailed) as error:
        validate_structures_query(
            {
                "lat": "abc",
                "radius_km": "-5",
                "family": "x",
                "limitation_level": "extreme",
                "wheelchair": "yes",
                "activity": "  ",
                "sort": "random",
                "limit": "0",
                "offset": "-1",
                "foo": "bar",
            },
            SETTINGS,
        )
    assert fields(error) == {
        "lat",
        "lon",
        "radius_km",
        "family",
        "limitation_level",
        "wheelchair",
        "activity",
        "sort",
        "limit",
        "offset",
        "foo",
    }


def test_query_location_rules() -> None:
    with pytest.raises(ValidationFailed) as both:
        validate_structures_query({"lat": "43.6", "lon": "1.44", "commune": "31555"}, SETTINGS)
    assert fields(both) == {"commune"}
    with pytest.raises(ValidationFailed) as none:
        validate_structures_query({}, SETTINGS)
    assert fields(none) == {"lat"}
    with pytest.raises(ValidationFailed) as bad:
        validate_structures_query({"commune": "3155X", "lat": "91", "lon": "nan"}, SETTINGS)
    assert fields(bad) == {"commune", "lat", "lon"}
    with pytest.raises(ValidationFailed) as repeated:
        validate_structures_query({"lat": ["1", "2"], "lon": "1"}, SETTINGS)
    assert fields(repeated) == {"lat"}


def test_query_defaults_and_parsing() -> None:
    query = validate_structures_query({"commune": "31555"}, SETTINGS)
    assert query == StructuresQuery(radius_km=30, commune="31555")
    full = validate_structures_query(
        {
            "lat": "43.6",
            "lon": "1.44",
            "radius_km": "12.5",
            "family": "psychique",
            "limitation_level": "severe",
            "wheelchair": "true",
            "activity": "natation",
        },
        SETTINGS,
    )
    assert (full.radius_km, full.family, full.limitation_level, full.wheelchair) == (12.5, "psychique", "severe", True)
    with pytest.raises(ValidationFailed):
        validate_structures_query({"commune": "31555", "family": "tsa"}, SETTINGS)  # extension off by default
    page = validate_structures_query({"commune": "31555", "limit": "20", "offset": "40"}, SETTINGS)
    assert (page.limit, page.offset, page.window) == (20, 40, 60) and query.window is None
    with pytest.raises(ValidationFailed) as too_many:
        validate_structures_query({"commune": "31555", "limit": "501", "offset": "x"}, SETTINGS)
    assert fields(too_many) == {"limit", "offset"}


def test_search_answers_exactly_the_contract() -> None:
    answer = search_structures(
        {"commune": "31555", "limitation_level": "moderate", "family": "moteur"},
        DIRECTORY,
        matrix=MATRIX,
        settings=SETTINGS,
        commune_points=COMMUNES,
        today=TODAY,
    )
    data = msgspec.json.decode(msgspec.json.encode(answer))
    assert list(data) == ["items"]
    assert [item["id"] for item in data["items"]] == ["walk", "pool"]  # by distance; within 30 km; no widening
    for item in data["items"]:
        assert list(item) == ["id", "name", "kind", "commune", "distance_km", "match_reasons"]
    assert data["items"][1] == {
        "id": "pool",
        "name": "Piscine",
        "kind": "mss",
        "commune": "31555",
        "distance_km": 12.4,
        "match_reasons": ["m1_supervision_ok:apa_teacher", "m2_family_ok:moteur", "m5_capacity_ok", "m7_within:12.4km"],
    }


def test_search_wheelchair_activity_and_radius() -> None:
    def run(**params: str) -> list[str]:
        answer = search_structures(
            {"lat": "43.6047", "lon": "1.4442", **params},
            DIRECTORY,
            matrix=MATRIX,
            settings=SETTINGS,
            commune_points=COMMUNES,
            today=TODAY,
        )
        return [item.id for item in answer.items]

    assert run() == ["walk", "club", "venue", "pool"]
    assert run(wheelchair="true") == ["club", "venue", "pool"]  # "walk": step-free access unknown
    assert run(activity="marche") == ["walk", "club", "pool"]
    assert run(activity="BASKET") == ["venue"]
    assert run(radius_km="50") == ["walk", "club", "venue", "pool", "far"]
    assert run(limitation_level="severe") == []


def test_unknown_commune_is_422() -> None:
    with pytest.raises(ValidationFailed) as error:
        search_structures(
            {"commune": "31999"}, DIRECTORY, matrix=MATRIX, settings=SETTINGS, commune_points=COMMUNES, today=TODAY
        )
    assert fields(error) == {"commune"}


# --- POST /api/v1/sport/supervision -------------------------------------------------------------


def test_supervision_answers() -> None:
    severe = supervision_answer(validate_supervision_body(decode_json(b'{"limitation_level": "severe"}')), MATRIX)
    assert msgspec.json.encode(severe) == (
        b'{"allowed_professions":["physiotherapist","occupational_therapist","psychomotor_therapist"]}'
    )
    none = supervision_answer(validate_supervision_body({"limitation_level": "none"}), MATRIX)
    assert none.allowed_professions == [
        "physiotherapist",
        "occupational_therapist",
        "psychomotor_therapist",
        "apa_teacher",
        "sport_educator",
        "federal_certified",
    ]


def test_supervision_body_errors() -> None:
    with pytest.raises(ValidationFailed) as error:
        validate_supervision_body({"limitation_level": 3, "level": "severe"})
    assert fields(error) == {"limitation_level", "level"}
    with pytest.raises(ValidationFailed) as missing:
        validate_supervision_body({})
    assert fields(missing) == {"limitation_level"}
    with pytest.raises(ValidationFailed) as not_object:
        validate_supervision_body(["severe"])
    assert fields(not_object) == {"body"}
    with pytest.raises(MalformedJson):
        decode_json(b'{"limitation_level": ')


# --- POST /api/v1/sport/aids/pass-sport -----------------------------------------------------------


def test_pass_sport_answers_exactly_the_contract() -> None:
    body = validate_pass_sport_body(
        decode_json(b'{"birth_date": "2008-03-15", "on_date": "2025-09-01", "benefits": ["aeeh"]}'), PASS
    )
    assert body == PassSportBody(birth_date=date(2008, 3, 15), on_date=date(2025, 9, 1), benefits=["aeeh"])
    assert msgspec.json.encode(pass_sport_answer(body, PASS)) == (
        b'{"eligible":true,"amount_eur":70,"reason":"age_in_range"}'
    )
    refused = validate_pass_sport_body({"birth_date": "1994-07-01", "on_date": "2025-09-01", "benefits": ["aah"]}, PASS)
    assert msgspec.json.encode(pass_sport_answer(refused, PASS)) == (
        b'{"eligible":false,"amount_eur":0,"reason":"age_out_of_range"}'
    )


def test_pass_sport_body_reports_every_bad_field() -> None:
    with pytest.raises(ValidationFailed) as error:
        validate_pass_sport_body({"birth_date": "2025-13-01", "benefits": ["aeeh", 3, "rsa"], "age": 12}, PASS)
    assert fields(error) == {"birth_date", "on_date", "benefits[1]", "benefits[2]", "age"}
    with pytest.raises(ValidationFailed) as order:
        validate_pass_sport_body({"birth_date": "2010-01-01", "on_date": "2009-01-01", "benefits": "aeeh"}, PASS)
    assert fields(order) == {"birth_date", "benefits"}
    with pytest.raises(ValidationFailed) as formats:
        validate_pass_sport_body({"birth_date": "01/02/2010", "on_date": 20250901, "benefits": []}, PASS)
    assert fields(formats) == {"birth_date", "on_date"}
