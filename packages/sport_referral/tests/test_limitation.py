"""Limitation levels and routing (domain-sport §3, L-1 to L-8), with a property test: a severe
patient is never routed to a club, a venue, a route or a sport educator."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared_core.errors import ValidationFailed
from sport_referral.catalogue.loader import CatalogueError, load_supervision_matrix
from sport_referral.catalogue.loader_sport import (
    SEVERE_CRITERIA_CODES,
    load_limitation_catalogue,
    load_matching_settings,
)
from sport_referral.model.matching import GeoPoint, MatchRequest
from sport_referral.model.structures import (
    ACCESS_FEATURES,
    ACTIVITY_TYPES,
    CATEGORY_1_PROFESSIONS,
    DISABILITY_FAMILIES,
    PROFESSIONS,
    STRUCTURE_KINDS,
    Structure,
)
from sport_referral.rules.limitation import (
    assess_limitation,
    check_complementary_referral,
    check_level_change,
    structures_failing_new_level,
    suggest_walking_item,
    supervision_fit,
)
from sport_referral.rules.matching import match_structures

MATRIX = load_supervision_matrix()
CATALOGUE = load_limitation_catalogue()
TODAY = __import__("datetime").date(2026, 1, 30)


def structure(**overrides: object) -> Structure:
    base: dict[str, object] = {
        "structure_id": "s-1",
        "kind": "mss",
        "name": "Structure",
        "postcode": "31000",
        "commune_insee": "31555",
        "accepting_referrals": True,
        "source": "manual",
        "source_licence": "own",
        "latitude": 43.6,
        "longitude": 1.44,
    }
    base.update(overrides)
    return Structure(**base)  # type: ignore[arg-type]


# --- catalogue ----------------------------------------------------------------------------------


def test_checklist_has_14_items_in_annex_order() -> None:
    assert [c.code for c in CATALOGUE.criteria] == list(SEVERE_CRITERIA_CODES)
    assert len(CATALOGUE.criteria) == 14
    assert CATALOGUE.criterion("cereb_anxiety_depression").number == 8  # type: ignore[union-attr]
    assert CATALOGUE.vision_parts_rule == "any"
    assert CATALOGUE.provenance["vision_parts_rule"].status == "conflict"
    assert CATALOGUE.provenance["limitation_levels.none"].status == "to_verify"
    assert CATALOGUE.provenance["limitation_levels.severe"].status == "verified"


def test_malformed_checklist_names_file_and_key() -> None:
    text = (
        load_limitation_catalogue.__wrapped__.__globals__["resources"]
        .files("sport_referral.catalogue")
        .joinpath("severe_criteria.yaml")
        .read_text("utf-8")
    )
    with pytest.raises(CatalogueError, match=r"severe_criteria.yaml: vision_parts_rule.value"):
        load_limitation_catalogue(severe_text=text.replace("value: any", "value: maybe"))
    with pytest.raises(CatalogueError, match=r"severe_criteria.yaml: items"):
        load_limitation_catalogue(severe_text=text.replace("code: sens_pain", "code: sens_pain_x"))


# --- L-1 / L-2 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("code", SEVERE_CRITERIA_CODES)
def test_any_ticked_item_makes_the_level_severe(code: str) -> None:
    assessment = assess_limitation([code], None, CATALOGUE)
    assert assessment.level == "severe"
    assert assessment.severe_criteria == [code]
    assert assessment.reasons[0].rule == "L-1"


def test_physician_cannot_lower_a_severe_level() -> None:
    with pytest.raises(ValidationFailed) as error:
        assess_limitation(["loco_walking"], "moderate", CATALOGUE)
    assert error.value.errors[0].field == "limitation_level"
    assert "L-1" in error.value.errors[0].message


def test_no_item_needs_an_explicit_choice() -> None:
    with pytest.raises(ValidationFailed, match="Limitation") as error:
        assess_limitation([], None, CATALOGUE)
    assert "L-2" in error.value.errors[0].message
    for level in ("none", "minimal", "moderate"):
        assert assess_limitation([], level, CATALOGUE).level == level  # type: ignore[arg-type]


def test_severe_without_item_and_unknown_items_are_refused_together() -> None:
    with pytest.raises(ValidationFailed) as error:
        assess_limitation(["flying"], "severe", CATALOGUE)
    assert {e.field for e in error.value.errors} == {"severe_criteria[0]", "severe_criteria"}


def test_vision_rule_all_needs_both_parts() -> None:
    strict = CATALOGUE.__class__(
        **{**{f: getattr(CATALOGUE, f) for f in CATALOGUE.__struct_fields__}, "vision_parts_rule": "all"}
    )
    one = assess_limitation(["sens_vision_reading"], "moderate", strict)
    assert one.level == "moderate"
    assert one.warnings[0].code == "l1_vision_part_not_sufficient"
    both = assess_limitation(["sens_vision_reading", "sens_vision_mobility"], None, strict)
    assert both.level == "severe"
    assert assess_limitation(["sens_vision_mobility"], None, CATALOGUE).level == "severe"  # default "any"


# --- L-3 ----------------------------------------------------------------------------------------


def test_walking_distance_suggests_item_5_but_never_ticks() -> None:
    suggestion = suggest_walking_item(120, None, CATALOGUE)
    assert suggestion.suggest_item == "loco_walking"
    assert suggestion.reasons[0].code == "l3_suggest_walking_item"
    from_6mwt = suggest_walking_item(None, 140, CATALOGUE)
    assert from_6mwt.reasons[0].code == "l3_suggest_walking_item_from_6mwt"
    assert suggest_walking_item(150, 300, CATALOGUE).suggest_item is None


# --- L-5 / L-7 / M-1 ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["club", "venue", "trail"])
def test_severe_never_goes_to_club_venue_or_trail_whatever_the_staff(kind: str) -> None:
    fit = supervision_fit("severe", structure(kind=kind, professions=frozenset(PROFESSIONS)), MATRIX)
    assert not fit.ok
    assert fit.code == f"m1_severe_kind_excluded:{kind}"
    assert fit.reason.rule == "L-5"
    assert "D.1172-3" in fit.reason.source


def test_severe_needs_a_health_professional() -> None:
    assert not supervision_fit("severe", structure(professions=frozenset({"sport_educator", "apa_teacher"})), MATRIX).ok
    fit = supervision_fit("severe", structure(kind="apa_practice", professions=frozenset({"physiotherapist"})), MATRIX)
    assert fit.ok and fit.code == "m1_supervision_ok:physiotherapist"


def test_moderate_sport_educator_needs_qualification_or_team() -> None:
    educator = structure(kind="club", professions=frozenset({"sport_educator"}))
    fit = supervision_fit("moderate", educator, MATRIX)
    assert not fit.ok and fit.code == "m1_l7_condition_not_met:sport_educator" and fit.reason.rule == "L-7"
    assert supervision_fit(
        "moderate",
        structure(kind="club", professions=frozenset({"sport_educator"}), sport_health_qualification=True),
        MATRIX,
    ).ok
    assert supervision_fit(
        "moderate",
        structure(kind="club", professions=frozenset({"sport_educator"}), multidisciplinary_team=True),
        MATRIX,
    ).ok
    # cfg:supervision.moderate_sport_educator_conditional = false lifts the condition.
    assert supervision_fit("moderate", educator, MATRIX, moderate_conditional=False).ok
    assert supervision_fit("minimal", educator, MATRIX).ok


def test_federal_certified_not_at_moderate() -> None:
    assert not supervision_fit(
        "moderate", structure(kind="club", professions=frozenset({"federal_certified"})), MATRIX
    ).ok
    assert supervision_fit("none", structure(kind="club", professions=frozenset({"federal_certified"})), MATRIX).ok


def test_undeclared_professions_only_at_low_levels() -> None:
    venue = structure(kind="venue")
    low = supervision_fit("minimal", venue, MATRIX)
    assert low.ok and low.flags == ["supervision_not_declared"]
    assert not supervision_fit("moderate", venue, MATRIX).ok
    assert not supervision_fit("severe", structure(kind="mss"), MATRIX).ok


# --- L-6 / L-8 ----------------------------------------------------------------------------------


def test_complementary_apa_teacher_after_improved_autonomy() -> None:
    primary = structure(kind="apa_practice", professions=frozenset({"physiotherapist"}))
    complement = structure(structure_id="s-2", kind="mss", professions=frozenset({"apa_teacher"}))
    reasons = check_complementary_referral(
        primary_level="severe",
        primary_structure=primary,
        complement_structure=complement,
        improved_autonomy_recorded=True,
        assessed_by="physiotherapist",
        primary_referral_id="r-1",
    )
    assert reasons[0].rule == "L-6"
    with pytest.raises(ValidationFailed) as error:
        check_complementary_referral(
            primary_level="severe",
            primary_structure=primary,
            complement_structure=structure(kind="club", professions=frozenset({"apa_teacher"})),
            improved_autonomy_recorded=False,
            assessed_by="apa_teacher",
            primary_referral_id=None,
        )
    assert {e.field for e in error.value.errors} == {
        "complement_structure",
        "improved_autonomy_recorded",
        "assessed_by",
        "complements_referral_id",
    }


def test_level_goes_down_only_with_a_signed_assessment() -> None:
    with pytest.raises(ValidationFailed):
        check_level_change("severe", "moderate", new_assessment_signed=False)
    assert check_level_change("severe", "moderate", new_assessment_signed=True)[0].rule == "L-8"
    assert check_level_change("minimal", "moderate", new_assessment_signed=False)[0].code == "l8_recheck_open_referrals"
    club = structure(structure_id="club-1", kind="club", professions=frozenset({"apa_teacher"}))
    kine = structure(structure_id="kine-1", kind="apa_practice", professions=frozenset({"physiotherapist"}))
    assert structures_failing_new_level("severe", [club, kine], MATRIX) == ["club-1"]


# --- property: never a severe patient to a club, a venue, a route or a sport educator ---------------


structures = st.builds(
    structure,
    structure_id=st.integers(min_value=0, max_value=10**6).map(lambda n: f"s-{n}"),
    kind=st.sampled_from(STRUCTURE_KINDS),
    name=st.text(alphabet="abcdefgh ", min_size=1, max_size=12),
    professions=st.frozensets(st.sampled_from(PROFESSIONS)),
    disability_families=st.frozensets(st.sampled_from(DISABILITY_FAMILIES)),
    activity_types=st.frozensets(st.sampled_from(ACTIVITY_TYPES)),
    accessibility=st.dictionaries(st.sampled_from(ACCESS_FEATURES), st.booleans()),
    accepting_referrals=st.booleans(),
    capacity_open_slots=st.none() | st.integers(min_value=0, max_value=5),
    referral_email=st.none() | st.just("contact@example.fr"),
    sport_health_qualification=st.none() | st.booleans(),
    multidisciplinary_team=st.none() | st.booleans(),
    latitude=st.floats(min_value=43.3, max_value=43.9),
    longitude=st.floats(min_value=1.1, max_value=1.8),
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(structures, max_size=12, unique_by=lambda s: s.structure_id),
    st.sampled_from(["referral", "directory"]),
    st.booleans(),
)
def test_severe_patient_is_never_routed_to_club_venue_trail_or_sport_educator(
    candidates: list[Structure], purpose: str, widen: bool
) -> None:
    request = MatchRequest(
        origin=GeoPoint(43.6047, 1.4442),
        limitation_level="severe",
        today=TODAY,
        origin_department="31",
        purpose=purpose,
        widen=widen,
    )  # type: ignore[arg-type]
    result = match_structures(request, candidates, MATRIX, load_matching_settings())
    by_id = {s.structure_id: s for s in candidates}
    for candidate in result.candidates:
        chosen = by_id[candidate.structure_id]
        assert chosen.kind not in {"club", "venue", "trail"}
        assert chosen.professions & CATEGORY_1_PROFESSIONS
        assert candidate.match_reasons[0].split(":")[1] in CATEGORY_1_PROFESSIONS
    for miss in result.near_misses:
        assert by_id[miss.structure_id].kind not in {"club", "venue", "trail"}
        assert by_id[miss.structure_id].professions & CATEGORY_1_PROFESSIONS


@settings(max_examples=200)
@given(structures)
def test_sport_educator_alone_never_supervises_severe_or_unqualified_moderate(s: Structure) -> None:
    alone = Structure(
        **{**{f: getattr(s, f) for f in s.__struct_fields__}, "professions": frozenset({"sport_educator"})}
    )
    assert not supervision_fit("severe", alone, MATRIX).ok
    moderate = supervision_fit("moderate", alone, MATRIX).ok
    assert moderate == bool(alone.sport_health_qualification or alone.multidisciplinary_team)
