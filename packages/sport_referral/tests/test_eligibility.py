"""Eligibility (domain-sport §2): worked examples of §2.3 and rules E-1 to E-11."""

import pytest

from shared_core.errors import ValidationFailed
from sport_referral.catalogue.loader import load_supervision_matrix
from sport_referral.catalogue.loader_sport import load_limitation_catalogue, load_prescription_settings
from sport_referral.model.eligibility import EligibilityInput, WeeklyActivityReport
from sport_referral.rules.eligibility import evaluate_eligibility, prefill_below_who
from sport_referral.rules.limitation import assess_limitation
from sport_referral.rules.supervision import allowed_professions


def make(**overrides: object) -> EligibilityInput:
    base: dict[str, object] = {
        "prescriber_is_physician": True,
        "prescriber_involved_in_care": True,
        "below_who_recommendations": True,
        "cannot_progress_alone": True,
        "ald": False,
        "chronic_disease": False,
        "patient_agrees": True,
    }
    base.update(overrides)
    return EligibilityInput(**base)  # type: ignore[arg-type]


def test_example_1_ald_diabetes() -> None:
    result = evaluate_eligibility(make(ald=True))
    assert result.eligible
    assert result.outcome == "eligible"
    assert result.basis == ["ald"]


def test_example_2_depression_as_chronic_disease_with_sedentarity() -> None:
    result = evaluate_eligibility(make(chronic_disease=True, risk_factors=frozenset({"sedentary"})))
    assert result.eligible
    assert result.basis == ["chronic_disease", "risk_factor"]
    # E-8: the sport side keeps only the ground, never the diagnosis.
    assert any(r.rule == "E-8" for r in result.reasons)
    level = assess_limitation([], "moderate", load_limitation_catalogue())
    assert level.level == "moderate"


def test_example_3_cmi_without_diagnosis() -> None:
    result = evaluate_eligibility(make(autonomy_criteria=frozenset({"d_cmi"})))
    assert result.eligible
    assert result.basis == ["autonomy"]
    autonomy = [r for r in result.reasons if r.code == "e5_autonomy"]
    assert autonomy and autonomy[0].rule == "E-7"


def test_example_4_already_active() -> None:
    result = evaluate_eligibility(make(ald=True, below_who_recommendations=False))
    assert not result.eligible
    assert result.outcome == "not_indicated_active_enough"
    assert result.offer_mss_orientation
    reason = next(r for r in result.reasons if r.code == "not_indicated_active_enough")
    assert reason.rule == "E-3"
    assert "D.1172-1" in reason.source
    assert "Maison Sport-Santé" in reason.text_fr


def test_example_5_severe_depression() -> None:
    result = evaluate_eligibility(make(chronic_disease=True, risk_factors=frozenset({"sedentary"})))
    assert result.eligible
    level = assess_limitation(["cereb_anxiety_depression"], None, load_limitation_catalogue())
    assert level.level == "severe"
    assert any(r.rule == "E-9" for r in level.reasons)
    assert allowed_professions(level.level, load_supervision_matrix()).allowed_professions == [
        "physiotherapist",
        "occupational_therapist",
        "psychomotor_therapist",
    ]


def test_autonomous_patient_is_not_indicated() -> None:
    result = evaluate_eligibility(make(ald=True, cannot_progress_alone=False))
    assert result.outcome == "not_indicated_autonomous"
    assert result.offer_mss_orientation


@pytest.mark.parametrize(
    ("overrides", "outcome", "rule"),
    [
        ({"prescriber_is_physician": False}, "prescriber_not_physician", "E-1"),
        ({"prescriber_involved_in_care": False}, "prescriber_not_involved_in_care", "E-2"),
        ({"patient_agrees": False}, "patient_disagrees", "E-10"),
    ],
)
def test_refusals(overrides: dict[str, object], outcome: str, rule: str) -> None:
    result = evaluate_eligibility(make(ald=True, **overrides))
    assert not result.eligible
    assert result.outcome == outcome
    assert any(r.rule == rule and r.kind == "fail" for r in result.reasons)
    assert not result.offer_mss_orientation


def test_no_ground_is_not_eligible() -> None:
    result = evaluate_eligibility(make())
    assert result.outcome == "no_eligible_condition"
    assert result.basis == []


def test_every_failure_is_listed_in_rule_order() -> None:
    result = evaluate_eligibility(
        make(prescriber_is_physician=False, below_who_recommendations=False, patient_agrees=False)
    )
    assert result.blocking == [
        "prescriber_not_physician",
        "not_indicated_active_enough",
        "no_eligible_condition",
        "patient_disagrees",
    ]
    assert result.outcome == "prescriber_not_physician"


def test_basis_order_follows_e5() -> None:
    result = evaluate_eligibility(
        make(
            ald=True,
            chronic_disease=True,
            risk_factors=frozenset({"obesity"}),
            autonomy_criteria=frozenset({"a_apa_allowance"}),
        )
    )
    assert result.basis == ["ald", "chronic_disease", "risk_factor", "autonomy"]


def test_other_risk_factor_needs_text_and_warns() -> None:
    with pytest.raises(ValidationFailed) as error:
        evaluate_eligibility(make(risk_factors=frozenset({"other"})))
    assert [e.field for e in error.value.errors] == ["risk_factor_other_text"]
    result = evaluate_eligibility(make(risk_factors=frozenset({"other"}), risk_factor_other_text="apnée du sommeil"))
    assert result.eligible
    assert [w.rule for w in result.warnings] == ["E-6"]
    assert "apnée du sommeil" in result.warnings[0].text_fr


def test_every_reason_has_rule_source_and_both_languages() -> None:
    result = evaluate_eligibility(
        make(
            ald=True,
            chronic_disease=True,
            risk_factors=frozenset({"other"}),
            risk_factor_other_text="x",
            autonomy_criteria=frozenset({"c_cdaph_right"}),
        )
    )
    for reason in [*result.reasons, *result.warnings]:
        assert reason.rule.startswith("E-")
        assert reason.source and reason.text_fr and reason.text_en
    assert result.reasons[-1].rule == "E-11"


def test_e4_prefill_counts_vigorous_double() -> None:
    who = load_prescription_settings().who
    below = prefill_below_who(WeeklyActivityReport(moderate_minutes=30), who)
    assert below.below_who_recommendations and below.physician_must_confirm
    assert below.reasons[0].rule == "E-4"
    assert "à vérifier" in below.reasons[0].source  # cfg:who.* is [to verify]
    at_threshold = prefill_below_who(WeeklyActivityReport(moderate_minutes=0, vigorous_minutes=75), who)
    assert at_threshold.moderate_equivalent_minutes == 150
    assert not at_threshold.below_who_recommendations
    example_4 = prefill_below_who(WeeklyActivityReport(moderate_minutes=200, strength_days=0), who)
    assert not example_4.below_who_recommendations
    assert [r.code for r in example_4.reasons] == ["e4_meets_who", "e4_strength_days_below"]
