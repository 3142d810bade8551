"""Matching (domain-sport §7): hard filters M-1..M-7 in order with readable codes, distance order,
radius widening, near misses, the same-territory rule and the optional score."""

from collections.abc import Iterator
from datetime import UTC, date, datetime

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sport_referral.catalogue.loader import CatalogueError, load_supervision_matrix
from sport_referral.catalogue.loader_sport import load_matching_settings
from sport_referral.model.matching import GeoPoint, MatchingSettings, MatchRequest, PatientNeeds
from sport_referral.model.structures import Structure
from sport_referral.rules.matching import match_structures

MATRIX = load_supervision_matrix()
SETTINGS = load_matching_settings()
TODAY = date(2026, 1, 30)
TOULOUSE = GeoPoint(43.6047, 1.4442)
KM_PER_DEGREE = 111.19508  # one degree of latitude on the R = 6371 km sphere


def north(km: float) -> tuple[float, float]:
    return (43.6047 + km / KM_PER_DEGREE, 1.4442)


def structure(structure_id: str, km: float = 5.0, **overrides: object) -> Structure:
    lat, lon = north(km)
    base: dict[str, object] = {
        "structure_id": structure_id,
        "kind": "mss",
        "name": structure_id,
        "postcode": "31000",
        "commune_insee": "31555",
        "accepting_referrals": True,
        "source": "manual",
        "source_licence": "own",
        "latitude": lat,
        "longitude": lon,
        "professions": frozenset({"apa_teacher"}),
        "disability_families": frozenset({"moteur", "visuel"}),
        "activity_types": frozenset({"endurance", "strength"}),
        "accessibility": {"motor_reception": True},
        "capacity_open_slots": 4,
        "referral_email": "contact@example.fr",
    }
    base.update(overrides)
    return Structure(**base)  # type: ignore[arg-type]


def request(**overrides: object) -> MatchRequest:
    base: dict[str, object] = {
        "origin": TOULOUSE,
        "origin_department": "31",
        "limitation_level": "moderate",
        "today": TODAY,
    }
    base.update(overrides)
    return MatchRequest(**base)  # type: ignore[arg-type]


def with_settings(**changes: object) -> MatchingSettings:
    return msgspec.structs.replace(SETTINGS, **changes)


def ids(result: object) -> list[str]:
    return [c.structure_id for c in result.candidates]  # type: ignore[attr-defined]


def test_explanation_codes_exactly_like_the_doc_example() -> None:
    example = structure("mss-31-ex", km=12.4, capacity_open_slots=None)
    result = match_structures(
        request(
            needs=PatientNeeds(
                disability_families=frozenset({"moteur"}), required_features=frozenset({"motor_reception"})
            )
        ),
        [example],
        MATRIX,
        SETTINGS,
    )
    [candidate] = result.candidates
    assert candidate.match_reasons == [
        "m1_supervision_ok:apa_teacher",
        "m2_family_ok:moteur",
        "m4_ok:motor_reception",
        "m5_capacity_not_stated",
        "m7_within:12.4km",
    ]
    assert candidate.passed == ["M-1", "M-2", "M-3", "M-4", "M-5", "M-6", "M-7"]
    assert candidate.flags == ["capacity_not_stated"]
    assert candidate.distance_km == 12.4
    assert candidate.distance_basis == "commune_point"
    assert candidate.geo_precision == "address"
    assert candidate.data_sources[0].source == "manual"
    assert candidate.referral_target


def test_sorted_by_distance_then_name_and_rounded() -> None:
    south = structure("toulouse-south", latitude=43.5513, longitude=1.4010, name="Sud")
    same_a = structure("b", km=3.0, name="beta")
    same_b = structure("a", km=3.0, name="Alpha")
    far = structure("far", km=20.0, name="Aaa")
    result = match_structures(request(), [far, south, same_a, same_b], MATRIX, SETTINGS)
    assert ids(result) == ["a", "b", "toulouse-south", "far"]
    assert result.candidates[2].distance_km == 6.9  # §7.2 worked example


def test_m1_severe_only_health_professionals() -> None:
    club = structure("club", kind="club", professions=frozenset({"physiotherapist"}))
    mss_apa = structure("mss-apa", professions=frozenset({"apa_teacher", "sport_educator"}))
    kine = structure("kine", kind="apa_practice", professions=frozenset({"physiotherapist", "apa_teacher"}))
    result = match_structures(request(limitation_level="severe"), [club, mss_apa, kine], MATRIX, SETTINGS)
    assert ids(result) == ["kine"]
    assert result.candidates[0].match_reasons[0] == "m1_supervision_ok:physiotherapist"


def test_m1_moderate_sport_educator_l7() -> None:
    plain = structure("plain", kind="club", professions=frozenset({"sport_educator"}))
    qualified = structure(
        "qualified", kind="club", professions=frozenset({"sport_educator"}), sport_health_qualification=True
    )
    assert ids(match_structures(request(), [plain, qualified], MATRIX, SETTINGS)) == ["qualified"]


def test_m2_families() -> None:
    other = structure("other", disability_families=frozenset({"visuel"}))
    undeclared = structure("undeclared", disability_families=frozenset())
    good = structure("good", disability_families=frozenset({"moteur", "psychique"}))
    needs = PatientNeeds(disability_families=frozenset({"moteur", "psychique"}))
    result = match_structures(request(needs=needs), [other, undeclared, good], MATRIX, SETTINGS)
    assert ids(result) == ["good"]
    assert result.candidates[0].match_reasons[1:3] == ["m2_family_ok:moteur", "m2_family_ok:psychique"]
    flagged = match_structures(
        request(needs=needs), [undeclared], MATRIX, with_settings(undeclared_families="keep_flagged")
    )
    assert "m2_families_not_declared" in flagged.candidates[0].match_reasons
    assert flagged.candidates[0].flags == ["families_not_declared"]


def test_m3_activity_coverage() -> None:
    partial = structure("partial", activity_types=frozenset({"endurance"}))
    none = structure("none", activity_types=frozenset({"flexibility"}))
    undeclared = structure("undeclared", activity_types=frozenset())
    wanted = frozenset({"endurance", "strength"})
    result = match_structures(request(activity_types=wanted), [partial, none, undeclared], MATRIX, SETTINGS)
    assert ids(result) == ["partial", "undeclared"]
    assert result.candidates[0].coverage == "1/2"
    assert "m3_activity_ok:1/2" in result.candidates[0].match_reasons
    assert "activity_types_not_declared" in result.candidates[1].flags
    strict = match_structures(request(activity_types=wanted), [partial], MATRIX, with_settings(activity_coverage="all"))
    assert strict.candidates == []


def test_m4_required_features_known_false_and_unknown() -> None:
    missing = structure("missing", accessibility={"motor_reception": False})
    unknown = structure("unknown", accessibility={})
    ok = structure("ok")
    needs = PatientNeeds(required_features=frozenset({"motor_reception"}))
    assert ids(match_structures(request(needs=needs), [missing, unknown, ok], MATRIX, SETTINGS)) == ["ok"]
    kept = match_structures(
        request(needs=needs), [missing, unknown], MATRIX, with_settings(unknown_required_feature="keep_flagged")
    )
    assert ids(kept) == ["unknown"]
    assert kept.candidates[0].flags == ["to_confirm:motor_reception"]
    assert "m4_to_confirm:motor_reception" in kept.candidates[0].match_reasons


def test_m5_capacity_and_venues() -> None:
    closed = structure("closed", accepting_referrals=False)
    full = structure("full", capacity_open_slots=0)
    venue = structure(
        "venue",
        kind="venue",
        accepting_referrals=False,
        capacity_open_slots=0,
        referral_email=None,
        professions=frozenset(),
    )
    result = match_structures(
        request(limitation_level="minimal", purpose="directory"), [closed, full, venue], MATRIX, SETTINGS
    )
    assert ids(result) == ["venue"]
    assert "m6_practice_place" in result.candidates[0].match_reasons
    assert "m1_supervision_not_declared" in result.candidates[0].match_reasons
    assert not result.candidates[0].referral_target


def test_m6_trails_and_venues_are_not_referral_targets() -> None:
    trail = structure("trail", kind="trail", professions=frozenset(), accepting_referrals=False)
    venue = structure("venue", kind="venue", professions=frozenset(), referral_email=None)
    for_referral = match_structures(request(limitation_level="none"), [trail, venue], MATRIX, SETTINGS)
    assert ids(for_referral) == []
    directory = match_structures(
        request(limitation_level="none", purpose="directory"), [trail, venue], MATRIX, SETTINGS
    )
    assert sorted(ids(directory)) == ["trail", "venue"]
    # A route is never offered beyond the low levels (no declared supervisor).
    assert (
        ids(match_structures(request(limitation_level="moderate", purpose="directory"), [trail], MATRIX, SETTINGS))
        == []
    )


def test_m7_radius() -> None:
    inside = structure("inside", km=29.9)
    outside = structure("outside", km=31.0)
    result = match_structures(request(widen=False), [inside, outside], MATRIX, SETTINGS)
    assert ids(result) == ["inside"]
    assert result.candidates[0].match_reasons[-1] == "m7_within:29.9km"


def test_widening_keeps_hard_filters() -> None:
    near = structure("near", km=10)
    mid_ok = structure("mid-ok", km=42)
    mid_bad = structure("mid-bad", km=44, disability_families=frozenset({"visuel"}))
    far_ok = structure("far-ok", km=70)
    beyond = structure("beyond", km=95)
    needs = PatientNeeds(disability_families=frozenset({"moteur"}))
    result = match_structures(request(needs=needs), [near, mid_ok, mid_bad, far_ok, beyond], MATRIX, SETTINGS)
    assert result.widened and result.radius_km == 80 and result.requested_radius_km == 30
    assert ids(result) == ["near", "mid-ok", "far-ok"]
    assert result.reasons[0].code == "m8_widened:80km"
    assert "élargie à 80 km" in result.reasons[0].text_fr
    first_step = match_structures(request(), [near, mid_ok, structure("mid-2", km=45)], MATRIX, SETTINGS)
    assert first_step.radius_km == 50 and len(first_step.candidates) == 3
    no_widen = match_structures(request(widen=False), [near, mid_ok], MATRIX, SETTINGS)
    assert not no_widen.widened and ids(no_widen) == ["near"]


def test_near_misses_when_nothing_passes() -> None:
    full = structure("full", km=5, capacity_open_slots=0)
    unknown = structure("unknown", km=3, accessibility={})
    undeclared = structure("undeclared", km=8, disability_families=frozenset())
    two_failures = structure("two", km=2, capacity_open_slots=0, accessibility={})
    wrong_level = structure("club", km=1, kind="club", professions=frozenset({"federal_certified"}))
    known_false = structure("false", km=1, accessibility={"motor_reception": False})
    extra = structure("extra", km=9, accepting_referrals=False)
    needs = PatientNeeds(disability_families=frozenset({"moteur"}), required_features=frozenset({"motor_reception"}))
    result = match_structures(
        request(needs=needs, widen=False),
        [full, unknown, undeclared, two_failures, wrong_level, known_false, extra],
        MATRIX,
        SETTINGS,
    )
    assert result.candidates == []
    assert [(m.structure_id, m.failed_rule, m.failed_code) for m in result.near_misses] == [
        ("unknown", "M-4", "m4_unknown:motor_reception"),
        ("full", "M-5", "m5_no_capacity"),
        ("undeclared", "M-2", "m2_families_not_declared"),
    ]
    assert all("to_confirm" in m.flags for m in result.near_misses)
    assert result.reasons[-1].rule == "M-11"


def test_same_territory_rule_for_overseas() -> None:
    mainland = structure("paris", latitude=48.8566, longitude=2.3522, commune_insee="75056", postcode="75001")
    reunion = structure("reunion", latitude=-21.3393, longitude=55.4781, commune_insee="97416", postcode="97410")
    patient = request(origin=GeoPoint(-20.8789, 55.4481), origin_department="974", radius_km=20000, widen=False)
    assert ids(match_structures(patient, [mainland, reunion], MATRIX, SETTINGS)) == ["reunion"]
    by_point = request(origin=GeoPoint(-20.8789, 55.4481), origin_department=None, radius_km=20000, widen=False)
    result = match_structures(by_point, [mainland, reunion], MATRIX, SETTINGS)
    assert ids(result) == ["reunion"] and result.origin_territory == "reunion"
    assert result.candidates[0].distance_km == 51.3
    off = msgspec.structs.replace(SETTINGS, geo=msgspec.structs.replace(SETTINGS.geo, same_territory_only=False))
    assert sorted(ids(match_structures(patient, [mainland, reunion], MATRIX, off))) == ["paris", "reunion"]


def test_commune_point_fallback_and_unlocated() -> None:
    no_coords = structure("no-coords", latitude=None, longitude=None, commune_insee="31069")
    lost = structure("lost", latitude=None, longitude=None, commune_insee="31999")
    points = {"31069": GeoPoint(43.6316, 1.3740)}
    result = match_structures(request(), [no_coords, lost], MATRIX, SETTINGS, points)
    assert ids(result) == ["no-coords"]
    assert result.candidates[0].geo_precision == "commune"
    assert result.unlocated == ["lost"]


def test_sort_by_score_uses_the_weights() -> None:
    plain_near = structure("near", km=2, capacity_open_slots=None, activity_types=frozenset())
    rich_far = structure(
        "rich",
        km=20,
        public_transport_nearby=True,
        labels=frozenset({"club_inclusif"}),
        profile_confirmed_at=datetime(2025, 10, 1, tzinfo=UTC),
        disciplines=("Natation",),
    )
    req = request(
        sort="score",
        activity_types=frozenset({"endurance", "strength"}),
        needs=PatientNeeds(preferred_disciplines=("natation",)),
    )
    result = match_structures(req, [plain_near, rich_far], MATRIX, SETTINGS)
    assert ids(result) == ["rich", "near"]
    near, rich = result.candidates[1], result.candidates[0]
    assert near.score_components.data_confidence == pytest.approx(0.6)  # two flags
    assert near.score_components.public_transport == 0.5  # unknown
    assert rich.score_components.freshness == 1.0 and rich.score_components.inclusion_label == 1.0
    w = SETTINGS.weights
    c = rich.score_components
    expected = (
        w.proximity * c.proximity
        + w.activity_coverage * c.activity_coverage
        + w.preferences * c.preferences
        + w.public_transport * c.public_transport
        + w.inclusion_label * c.inclusion_label
        + w.data_confidence * c.data_confidence
        + w.freshness * c.freshness
    )
    assert rich.score == pytest.approx(expected, abs=1e-4)
    assert ids(
        match_structures(msgspec.structs.replace(req, sort="distance"), [plain_near, rich_far], MATRIX, SETTINGS)
    ) == ["near", "rich"]


def test_score_ties_break_by_distance_then_name() -> None:
    a = structure("a", km=5, name="Zeta")
    b = structure("b", km=5, name="Alpha")
    c = structure("c", km=4, name="Omega")
    # Same components except proximity: the closer ranks first; equal ones by name.
    result = match_structures(request(sort="score"), [a, b, c], MATRIX, SETTINGS)
    assert ids(result) == ["c", "b", "a"]


def test_matching_settings_are_checked() -> None:
    from importlib import resources

    text = resources.files("sport_referral.catalogue").joinpath("matching_settings.yaml").read_text("utf-8")
    with pytest.raises(CatalogueError, match=r"matching_settings.yaml: matching.weights.value"):
        load_matching_settings(text.replace("proximity: 0.40", "proximity: 0.50"))
    with pytest.raises(CatalogueError, match=r"matching_settings.yaml: matching.widen_steps_km.value"):
        load_matching_settings(text.replace("value: [50, 80]", "value: [50, 120]"))
    with pytest.raises(CatalogueError, match=r"matching_settings.yaml: matching.undeclared_families.value"):
        load_matching_settings(text.replace("value: exclude", "value: drop", 1))
    assert SETTINGS.default_radius_km == 30 and SETTINGS.widen_steps_km == (50, 80) and SETTINGS.max_radius_km == 80
    assert SETTINGS.min_results == 3
    assert SETTINGS.provenance["supervision.moderate_sport_educator_conditional"].status == "to_verify"
    assert SETTINGS.enabled_families() == ("moteur", "visuel", "auditif", "mental", "psychique")


# --- a limit, structures read nearest first ------------------------------------------------------

def _nearest_first(structures: list[Structure]) -> list[Structure]:
    return sorted(structures, key=lambda s: (s.latitude, s.structure_id))  # all due north of the origin


@settings(max_examples=500, deadline=None)
@given(
    # Whole kilometres often tie at the cut; tenths cross the M-8 steps (30, 50, 80 km) at their edges.
    distances=st.lists(st.one_of(st.integers(0, 40).map(float), st.integers(0, 1000).map(lambda tenths: tenths / 10)),
                       max_size=14),
    failing=st.lists(st.booleans(), min_size=14, max_size=14),
    limit=st.integers(min_value=1, max_value=6),
    widen=st.booleans(),
)
def test_a_limited_nearest_first_read_answers_like_the_whole_directory(
    distances: list[float], failing: list[bool], limit: int, widen: bool
) -> None:
    """Same radius, widening, near misses and order as reading every structure; cut at ``limit``, with
    ``more`` telling whether others pass. Ties at the same 0.1 km are included (the list is sorted by
    name among them)."""
    directory = [
        structure(f"s{index:02d}", km=km, capacity_open_slots=0 if failing[index] else 4, name=f"n{-index % 5}")
        for index, km in enumerate(distances)
    ]
    whole = match_structures(request(widen=widen), directory, MATRIX, SETTINGS)
    read: list[str] = []

    def lazily() -> Iterator[Structure]:
        for item in _nearest_first(directory):
            read.append(item.structure_id)
            yield item

    limited = match_structures(request(widen=widen), lazily(), MATRIX, SETTINGS, limit=limit)
    assert ids(limited) == ids(whole)[:limit]
    assert limited.more == (len(whole.candidates) > limit)
    assert (limited.radius_km, limited.widened, limited.reasons) == (whole.radius_km, whole.widened, whole.reasons)
    assert limited.near_misses == whole.near_misses
    assert len(read) <= len(directory)


def test_a_limit_stops_reading_once_the_list_is_settled() -> None:
    directory = [structure(f"s{index:03d}", km=1 + index / 10) for index in range(200)]
    read: list[str] = []

    def lazily() -> Iterator[Structure]:
        for item in directory:
            read.append(item.structure_id)
            yield item

    result = match_structures(request(), lazily(), MATRIX, SETTINGS, limit=10)
    assert ids(result) == [f"s{index:03d}" for index in range(10)] and result.more
    assert len(read) == 12  # ten listed, one to know there are more, one beyond that distance


def test_a_limit_reads_every_tie_at_the_cut() -> None:
    """Read after two others at the same 0.1 km, the third sorts first among them by name."""
    directory = [structure("a", km=1, name="c"), structure("b", km=2, name="z"), structure("c", km=2, name="y"),
                 structure("d", km=2, name="a")]
    result = match_structures(request(), directory, MATRIX, SETTINGS, limit=2)
    assert ids(result) == ["a", "d"] and result.more


def test_a_limit_needs_the_nearest_first() -> None:
    with pytest.raises(ValueError, match="nearest first"):
        match_structures(request(), [structure("far", km=9), structure("near", km=2)], MATRIX, SETTINGS, limit=1)
