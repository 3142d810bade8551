"""Triage (domain-rtms §2): the worked vignettes V1-V8, the edge-case table, precedence and thresholds."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
import pytest

from rtms_pathway.catalogue.loader_clinical import load_clinical_catalogues
from rtms_pathway.model.medication import DoseChange, MedicationEntry, MedicationReviewResult
from rtms_pathway.model.screening import ItemAnswer, ReviewDecision, SafetyScreeningResult, ScreeningOverride
from rtms_pathway.model.triage import (
    ClinicalSettings,
    PriorEct,
    PriorRtmsCourse,
    SubstanceUse,
    TreatmentHistory,
    TriageDecision,
    TriageInput,
)
from rtms_pathway.rules.medication import review_medications
from rtms_pathway.rules.screening import evaluate_screening
from rtms_pathway.rules.triage import RULES, high_resistance, scheduling_blockers, triage

CAT = load_clinical_catalogues()
S = CAT.settings
DEFAULT_RANKING = ["hf_left_10hz", "itbs_left", "deep_tms_h1", "lf_right_1hz"]


def tweak(settings: ClinicalSettings, group: str, name: str, value: Any) -> ClinicalSettings:
    """The same settings with one value changed: proves a threshold is data, not code."""
    section = getattr(settings, group)
    setting = getattr(section, name)
    new_section = msgspec.structs.replace(section, **{name: msgspec.structs.replace(setting, value=value)})
    return msgspec.structs.replace(settings, **{group: new_section})


def screening(
    yes: dict[str, dict[str, str]] | None = None,
    unanswered: tuple[str, ...] = (),
    overrides: tuple[ScreeningOverride, ...] = (),
    reviews: tuple[ReviewDecision, ...] = (),
    settings: ClinicalSettings = S,
) -> SafetyScreeningResult:
    """A complete screening answered "no" everywhere except ``yes`` (item code -> details)."""
    answers = {item.code: ItemAnswer("no") for item in CAT.screening.items}
    for code, details in (yes or {}).items():
        answers[code] = ItemAnswer("yes", details)
    for code in unanswered:
        answers[code] = ItemAnswer("unknown")
    return evaluate_screening(answers, CAT.screening, settings, overrides=overrides, reviews=reviews)


def meds(*names: str, entries: tuple[MedicationEntry, ...] = (), as_of: date | None = None) -> MedicationReviewResult:
    listed = [MedicationEntry(inn=n) for n in names] + list(entries)
    return review_medications(listed, drugs=CAT.drugs, settings=S, as_of=as_of)


def make(**overrides: Any) -> TriageInput:
    """Common background of §2.6: adult, complete clean screening, no interacting drug."""
    base: dict[str, Any] = {
        "diagnosis": "unipolar_mdd",
        "episode_polarity": "depressive",
        "episode_months": 8,
        "severity": "moderate",
        "psychotic_features": "no",
        "catatonia": "no",
        "suicidal_risk": "none",
        "treatment_trials": TreatmentHistory(1, 0, 0),
        "safety_screening": screening(),
        "medication_review": meds(),
    }
    base.update(overrides)
    return TriageInput(**base)


def codes(decision: TriageDecision) -> list[str]:
    return decision.precaution_codes()


def ranked(decision: TriageDecision) -> list[str]:
    return [s.protocol_id for s in decision.protocol_suggestions]


def assert_reasons_cited(decision: TriageDecision) -> None:
    for reason in decision.reasons:
        assert reason.rule_id and reason.text_fr and reason.text_en and reason.section, reason
        assert reason.source_label().endswith(f"(domain-rtms {reason.section})") or not reason.sources


# ---------------------------------------------------------------------------------------------
# §2.6 vignettes
# ---------------------------------------------------------------------------------------------


def test_v1_low_resistance() -> None:
    d = triage(make(severity="moderate", baseline_scale="madrs", baseline_total=28, episode_months=8,
                    treatment_trials=TreatmentHistory(1, 0, 0)), S)
    assert d.orientation == "rtms_indicated"
    assert codes(d) == []
    assert ranked(d) == DEFAULT_RANKING
    assert [s.rank for s in d.protocol_suggestions] == [1, 2, 3, 4]
    r07 = [r for r in d.reasons if r.rule_id == "R-TRI-07"]
    assert len(r07) == 1 and r07[0].sources == ("SEED", "NANTES")
    assert d.missing_information == ()
    assert_reasons_cited(d)


def test_v2_psychotic_features() -> None:
    d = triage(make(severity="severe", psychotic_features="yes", treatment_trials=TreatmentHistory(2, 0, 0),
                    patient_preference="rtms"), S)
    assert d.orientation == "ect_first"
    assert codes(d) == ["patient_preference_rtms"]
    assert d.precautions[0].level == "info"
    assert ranked(d) == []
    assert {"R-TRI-02", "R-TRI-14"} <= set(d.rule_ids())
    r02 = next(r for r in d.reasons if r.rule_id == "R-TRI-02")
    assert r02.sources == ("SEED", "REN14")
    r14 = next(r for r in d.reasons if r.rule_id == "R-TRI-14")
    assert "maintenue" in r14.text_fr  # the preference is recorded, the ECT orientation is kept


def test_v3_urgent_suicidal_risk() -> None:
    d = triage(make(suicidal_risk="urgent", cssrs_category="high"), S)
    assert d.orientation == "ect_first"
    assert codes(d) == []
    assert [(t.code, t.urgency) for t in d.tasks] == [("urgent_suicide_risk_assessment", "same_day")]
    assert "même jour" in d.tasks[0].text_fr
    assert "R-TRI-04" in d.rule_ids()
    assert ranked(d) == []


def test_v4_anxious_comorbidity_with_benzodiazepine() -> None:
    d = triage(make(gad7_total=15, medication_review=meds("lorazepam"), episode_months=14,
                    treatment_trials=TreatmentHistory(2, 0, 0)), S)
    assert d.orientation == "rtms_indicated"
    assert [(p.code, p.level) for p in d.precautions] == [
        ("anxious_features", "info"),
        ("benzodiazepine_reduces_efficacy", "advice"),
        ("mt_raising_medication", "advice"),
    ]
    assert ranked(d) == ["lf_right_1hz", "hf_left_10hz", "itbs_left", "deep_tms_h1"]
    assert d.protocol_suggestions[0].rule_id == "R-PRO-02"
    assert {"R-TRI-07", "R-TRI-11", "R-MED-04", "R-MED-05"} <= set(d.rule_ids())
    assert "35 à 48 %" in next(r for r in d.reasons if r.rule_id == "R-TRI-11").text_fr


def test_v5_bipolar_i_depression() -> None:
    d = triage(make(diagnosis="bipolar_i", medication_review=meds("lithium", "quetiapine"),
                    treatment_trials=TreatmentHistory(1, 0, 0)), S)
    assert d.orientation == "rtms_with_precautions"
    assert [(p.code, p.level, p.status) for p in d.precautions] == [
        ("mood_stabilizer_required", "precondition", "resolved"),
        ("monitor_manic_switch", "monitoring", "open"),
        ("seizure_threshold_medication_relative", "advice", "open"),
        ("neuroleptic_efficacy", "info", "open"),
    ]
    assert d.precaution("mood_stabilizer_required").subjects == ("lithium",)  # type: ignore[union-attr]
    assert d.precaution("seizure_threshold_medication_relative").subjects == ("lithium", "quetiapine")  # type: ignore[union-attr]
    assert ranked(d) == DEFAULT_RANKING
    assert {"R-TRI-12", "R-MED-02", "R-MED-06"} <= set(d.rule_ids())
    assert next(r for r in d.reasons if r.rule_id == "R-MED-02").confidence == "to_verify"
    assert scheduling_blockers(d) == []


def test_v6_alcohol_use_disorder() -> None:
    d = triage(make(substance_use=(SubstanceUse("alcohol", "active", "~6 drinks/day"),),
                    medication_review=meds("escitalopram"), treatment_trials=TreatmentHistory(2, 0, 0)), S)
    assert d.orientation == "rtms_with_precautions"
    assert [(p.code, p.level) for p in d.precautions] == [
        ("addiction_joint_followup", "monitoring"),
        ("alcohol_lowers_seizure_threshold", "monitoring"),
        ("seizure_threshold_medication_relative", "advice"),
    ]
    assert d.precaution("seizure_threshold_medication_relative").subjects == ("escitalopram",)  # type: ignore[union-attr]
    assert ranked(d) == DEFAULT_RANKING
    assert d.protocol_suggestions[0].rule_id == "R-PRO-03"
    r10 = next(r for r in d.reasons if r.rule_id == "R-TRI-10")
    assert "pas une contre-indication" in r10.text_fr and "addictologue" in r10.text_fr
    assert "seuil épileptogène" in r10.text_fr


def test_v7_high_resistance_prefers_rtms() -> None:
    d = triage(make(severity="moderate", episode_months=40, treatment_trials=TreatmentHistory(6, 1, 1, msm_total=10),
                    patient_preference="declines_ect"), S)
    assert d.orientation == "rtms_with_precautions"
    assert [(p.code, p.level) for p in d.precautions] == [
        ("high_resistance_discuss_ect", "precondition"),
        ("chronic_episode", "info"),
        ("patient_preference_rtms", "info"),
        ("ect_declined", "info"),
    ]
    assert ranked(d) == DEFAULT_RANKING
    assert {"R-TRI-08", "R-TRI-09", "R-TRI-14"} <= set(d.rule_ids())
    r08 = next(r for r in d.reasons if r.rule_id == "R-TRI-08")
    assert r08.sources == ("SEED", "MCAW18") and "ECT" in r08.text_fr
    r14 = next(r for r in d.reasons if r.rule_id == "R-TRI-14")
    assert "plaide pour la rTMS" in r14.text_fr  # both options reasonable: the preference weighs
    # MSM 10 stays below the alternative definition's threshold of 11.
    assert "high_resistance_discuss_ect" not in codes(triage(make(
        episode_months=40, treatment_trials=TreatmentHistory(6, 1, 1, msm_total=10)),
        tweak(S, "triage", "high_resistance_definition", "msm")))


def test_v8_cochlear_implant() -> None:
    d = triage(make(safety_screening=screening({"ifcn_q07_cochlear_implant": {}})), S)
    assert d.orientation == "not_eligible_safety"
    assert [(p.code, p.level) for p in d.precautions] == [("safety_block", "precondition")]
    assert ranked(d) == []
    r01 = next(r for r in d.reasons if r.rule_id == "R-TRI-01")
    assert {"ROSSI09", "LABELS"} <= set(r01.sources)
    assert "Implant cochléaire" in r01.text_fr
    assert [t.code for t in d.tasks] == ["letter_to_referrer_not_eligible"]


# ---------------------------------------------------------------------------------------------
# §2.6 edge cases
# ---------------------------------------------------------------------------------------------


def test_edge_bipolar_ii_without_mood_stabilizer() -> None:
    d = triage(make(diagnosis="bipolar_ii"), S)
    assert d.orientation == "rtms_with_precautions"
    stabilizer = d.precaution("mood_stabilizer_required")
    assert stabilizer is not None and stabilizer.status == "open" and stabilizer.level == "precondition"
    assert [p.code for p in scheduling_blockers(d)] == ["mood_stabilizer_required"]
    assert "Aucun régulateur" in next(r for r in d.reasons if r.rule_id == "R-TRI-12").text_fr


def test_edge_no_treatment_history_and_unknown_psychotic_features() -> None:
    d = triage(make(treatment_trials=None, psychotic_features="unknown"), S)
    assert d.orientation == "needs_more_information"
    assert set(d.missing_information) == {"treatment_trials", "psychotic_features"}
    assert [t.code for t in d.tasks] == ["request_information_from_referrer"]
    assert "R-TRI-06" in d.rule_ids()
    assert ranked(d) == []


def test_edge_current_mixed_episode() -> None:
    d = triage(make(episode_polarity="mixed"), S)
    assert d.orientation == "needs_more_information"
    assert "out_of_pathway" in codes(d)
    assert "R-TRI-13" in d.rule_ids()


def test_edge_psychotic_features_and_cochlear_implant() -> None:
    d = triage(make(psychotic_features="yes", safety_screening=screening({"ifcn_q07_cochlear_implant": {}})), S)
    assert d.orientation == "not_eligible_safety"
    assert {"R-TRI-01", "R-TRI-02"} <= set(d.rule_ids())  # the ECT indication stays listed


# ---------------------------------------------------------------------------------------------
# Precedence
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"catatonia": "yes", "safety_screening": screening({"ifcn_q09_cardiac_device": {}})}, "not_eligible_safety"),
        ({"suicidal_risk": "urgent", "episode_polarity": "mixed"}, "ect_first"),
        ({"catatonia": "yes", "severity": None}, "ect_first"),
        ({"diagnosis": "bipolar_ii", "severity": None}, "needs_more_information"),
        ({"diagnosis": "bipolar_ii"}, "rtms_with_precautions"),
        ({"suicidal_risk": "ideation_non_urgent"}, "rtms_with_precautions"),
        ({"treatment_trials": TreatmentHistory(0, 0, 0)}, "rtms_indicated"),  # first_line_use is advice
        ({"episode_months": 30}, "rtms_indicated"),  # chronic_episode is info
    ],
)
def test_orientation_precedence(overrides: dict[str, Any], expected: str) -> None:
    assert triage(make(**overrides), S).orientation == expected


def test_ect_rule_suppresses_the_information_request_but_keeps_the_list() -> None:
    d = triage(make(catatonia="yes", severity=None), S)
    assert d.orientation == "ect_first"
    assert d.missing_information == ("severity",)
    assert "R-TRI-06" not in d.rule_ids() and d.tasks == ()


def test_block_and_ect_and_incomplete_all_leave_their_reasons() -> None:
    d = triage(make(catatonia="yes", safety_screening=screening({"ifcn_q08_neurostimulator": {}},
                                                                unanswered=("ifcn_q05_pregnancy",))), S)
    assert d.orientation == "not_eligible_safety"
    assert {"R-TRI-01", "R-TRI-03"} <= set(d.rule_ids())
    assert d.missing_information == ("safety_screening.ifcn_q05_pregnancy",)


def test_cosigned_override_lifts_the_block() -> None:
    override = ScreeningOverride("SAF-IFCN-07-COCHLEAR", "dr.a", "physician",
                                 "Implant retiré, documenté par l'ORL le 2026-03-01.", cosigned_by="dr.b")
    d = triage(make(safety_screening=screening({"ifcn_q07_cochlear_implant": {}}, overrides=(override,))), S)
    assert d.orientation == "rtms_with_precautions"  # an accepted risk still carries precautions
    block = d.precaution("safety_block")
    assert block is not None and block.status == "overridden"
    assert "levée" in next(r for r in d.reasons if r.rule_id == "R-TRI-01").text_fr


def test_override_without_cosignature_does_not_lift_the_block() -> None:
    override = ScreeningOverride("SAF-IFCN-07-COCHLEAR", "dr.a", "physician",
                                 "Implant retiré, documenté par l'ORL le 2026-03-01.")
    result = screening({"ifcn_q07_cochlear_implant": {}}, overrides=(override,))
    assert result.rejected_decisions == ("SAF-IFCN-07-COCHLEAR: a second physician must co-sign",)
    assert triage(make(safety_screening=result), S).orientation == "not_eligible_safety"


def test_physician_review_finding_then_decisions() -> None:
    epilepsy = {"ifcn_q01_epilepsy": {}}
    d = triage(make(safety_screening=screening(epilepsy)), S)
    assert d.orientation == "rtms_with_precautions"
    assert [p.code for p in scheduling_blockers(d)] == ["physician_review_safety"]
    assert "R-TRI-17" in d.rule_ids()
    accept = ReviewDecision("SAF-IFCN-01-EPILEPSY", "dr.a", "accept", "Crise fébrile unique à 3 ans.")
    assert triage(make(safety_screening=screening(epilepsy, reviews=(accept,))), S).orientation == "rtms_indicated"
    measures = ReviewDecision("SAF-IFCN-01-EPILEPSY", "dr.a", "accept_with_measures", "Titration prudente.")
    d = triage(make(safety_screening=screening(epilepsy, reviews=(measures,))), S)
    assert d.orientation == "rtms_with_precautions" and scheduling_blockers(d) == []
    refuse = ReviewDecision("SAF-IFCN-01-EPILEPSY", "dr.a", "refuse", "Épilepsie non contrôlée.")
    assert triage(make(safety_screening=screening(epilepsy, reviews=(refuse,))), S).orientation == "not_eligible_safety"


def test_with_precautions_levels_are_data() -> None:
    v4 = make(gad7_total=15, medication_review=meds("lorazepam"), treatment_trials=TreatmentHistory(2, 0, 0))
    assert triage(v4, S).orientation == "rtms_indicated"
    any_level = tweak(S, "triage", "with_precautions_levels", ("info", "advice", "monitoring", "precondition"))
    assert triage(v4, any_level).orientation == "rtms_with_precautions"


# ---------------------------------------------------------------------------------------------
# Thresholds at their boundaries
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("months", "chronic"), [(24, False), (25, True)])
def test_chronic_episode_boundary(months: int, chronic: bool) -> None:
    assert ("chronic_episode" in codes(triage(make(episode_months=months), S))) is chronic


def test_chronic_threshold_comes_from_settings() -> None:
    assert "chronic_episode" in codes(triage(make(episode_months=13), tweak(S, "triage", "chronic_episode_months", 12)))


@pytest.mark.parametrize(("gad7", "anxious"), [(9, False), (10, True)])
def test_gad7_boundary(gad7: int, anxious: bool) -> None:
    d = triage(make(gad7_total=gad7, anxiety_comorbidity=False), S)
    assert ("anxious_features" in codes(d)) is anxious
    assert (ranked(d)[0] == "lf_right_1hz") is anxious


def test_gad7_threshold_comes_from_settings() -> None:
    assert "anxious_features" in codes(triage(make(gad7_total=8), tweak(S, "triage", "anxiety_gad7_threshold", 8)))


def test_declared_anxiety_without_gad7() -> None:
    assert "anxious_features" in codes(triage(make(anxiety_comorbidity=True), S))


@pytest.mark.parametrize(
    ("failures", "low_reason", "first_line"), [(0, False, True), (1, True, False), (2, True, False), (3, False, False)]
)
def test_resistance_bands(failures: int, low_reason: bool, first_line: bool) -> None:
    d = triage(make(treatment_trials=TreatmentHistory(failures, 0, 0)), S)
    favourable = [r for r in d.reasons if r.rule_id == "R-TRI-07" and "Profil favorable" in r.text_fr]
    assert bool(favourable) is low_reason
    assert ("first_line_use" in codes(d)) is first_line


@pytest.mark.parametrize(
    ("history", "met", "basis"),
    [
        (TreatmentHistory(2, 1, 1), True, "mtr_mdd"),
        (TreatmentHistory(2, 0, 1), False, "mtr_mdd"),
        (TreatmentHistory(2, 1, 0), False, "mtr_mdd"),
        (TreatmentHistory(1, 1, 1), False, "mtr_mdd"),
        (TreatmentHistory(3), True, "fallback_failed_trials"),
        (TreatmentHistory(2), False, "fallback_failed_trials"),
        (TreatmentHistory(2, None, 1), False, "fallback_failed_trials"),
    ],
)
def test_high_resistance_default_definition(history: TreatmentHistory, met: bool, basis: str) -> None:
    result = high_resistance(history, S)
    assert (result.met, result.basis) == (met, basis)


def test_staging_verdict_takes_precedence() -> None:
    assert high_resistance(TreatmentHistory(1, 0, 0, high_resistance=True), S).basis == "staging"
    assert "high_resistance_discuss_ect" in codes(triage(make(treatment_trials=TreatmentHistory(
        1, 0, 0, high_resistance=True)), S))
    assert not high_resistance(TreatmentHistory(6, 1, 1, high_resistance=False), S).met


@pytest.mark.parametrize(("msm", "met"), [(10, False), (11, True)])
def test_high_resistance_msm_alternative_boundary(msm: int, met: bool) -> None:
    settings = tweak(S, "triage", "high_resistance_definition", "msm")
    result = high_resistance(TreatmentHistory(2, 0, 0, msm_total=msm), settings)
    assert (result.met, result.basis) == (met, "msm")


def test_high_resistance_with_two_failures_shows_both_readings() -> None:
    # §5.6: two AD failures + augmentation + CBT is MTR-MDD although R-TRI-07 would say "low".
    d = triage(make(treatment_trials=TreatmentHistory(2, 1, 1)), S)
    assert "high_resistance_discuss_ect" in codes(d)
    assert "les deux lectures" in next(r for r in d.reasons if r.rule_id == "R-TRI-08").text_fr
    assert not [r for r in d.reasons if r.rule_id == "R-TRI-07"]


def test_cssrs_high_counts_as_urgent_by_default() -> None:
    d = triage(make(suicidal_risk="ideation_non_urgent", cssrs_category="high"), S)
    assert d.orientation == "ect_first"
    assert "confirmation clinique" in next(r for r in d.reasons if r.rule_id == "R-TRI-04").text_fr
    off = tweak(S, "triage", "cssrs_high_maps_to_urgent", False)
    d = triage(make(suicidal_risk="ideation_non_urgent", cssrs_category="high"), off)
    assert d.orientation == "rtms_with_precautions" and "suicidality_monitoring" in codes(d)


def test_inconsistent_trial_count_needs_more_information() -> None:
    d = triage(make(episode_months=2, treatment_trials=TreatmentHistory(4, 0, 0)), S)
    assert d.orientation == "needs_more_information"
    assert set(d.missing_information) == {"treatment_trials", "episode_months"}
    assert "ne tiennent pas" in next(r for r in d.reasons if r.rule_id == "R-TRI-06").text_fr


def test_medications_declared_at_screening_but_list_empty() -> None:
    d = triage(make(safety_screening=screening({"ifcn_q11_medications": {}})), S)
    assert d.orientation == "needs_more_information"
    assert d.missing_information == ("medication_review",)
    ok = triage(make(safety_screening=screening({"ifcn_q11_medications": {}}), medication_review=meds("sertraline")), S)
    assert ok.orientation == "rtms_indicated"


def test_not_collected_fields_are_not_missing() -> None:
    assert triage(make(severity=None, not_collected=frozenset({"severity"})), S).orientation == "rtms_indicated"


# ---------------------------------------------------------------------------------------------
# Other R-TRI rules and protocol suggestions
# ---------------------------------------------------------------------------------------------


def test_substance_use_in_remission_raises_nothing() -> None:
    d = triage(make(substance_use=(SubstanceUse("alcohol", "remission"),)), S)
    assert "addiction_joint_followup" not in codes(d)


def test_cannabis_raises_joint_followup_without_alcohol_precaution() -> None:
    d = triage(make(substance_use=(SubstanceUse("cannabis", "active"),)), S)
    assert "addiction_joint_followup" in codes(d) and "alcohol_lowers_seizure_threshold" not in codes(d)


def test_manic_episode_and_non_mood_indication_are_out_of_pathway() -> None:
    for overrides in ({"episode_polarity": "manic"}, {"episode_polarity": "hypomanic"}, {"diagnosis": "other"}):
        d = triage(make(**overrides), S)
        assert d.orientation == "needs_more_information" and "out_of_pathway" in codes(d)
    # A manic bipolar patient is not screened for a "switch": R-TRI-13, not R-TRI-12.
    assert "monitor_manic_switch" not in codes(triage(make(diagnosis="bipolar_i", episode_polarity="manic"), S))


def test_bipolar_with_antiepileptic_shows_the_a10_tension() -> None:
    d = triage(make(diagnosis="bipolar_i", medication_review=meds("valproate")), S)
    assert d.precaution("mood_stabilizer_required").status == "resolved"  # type: ignore[union-attr]
    assert "A10" in next(r for r in d.reasons if r.rule_id == "R-TRI-12").text_fr


def test_mood_stabilizer_stated_by_referrer_resolves_the_precondition() -> None:
    d = triage(make(diagnosis="bipolar_ii", mood_stabilizer_documented=True), S)
    assert d.precaution("mood_stabilizer_required").status == "resolved"  # type: ignore[union-attr]
    assert d.orientation == "rtms_with_precautions"  # monitor_manic_switch remains


def test_preference_for_ect_and_declined_rtms_are_recorded() -> None:
    d = triage(make(patient_preference="ect"), S)
    assert codes(d) == [] and "R-TRI-14" in d.rule_ids()
    d = triage(make(patient_preference="declines_rtms"), S)
    assert "ne souhaite pas" in next(r for r in d.reasons if r.rule_id == "R-TRI-14").text_fr


def test_declines_ect_keeps_ect_first() -> None:
    d = triage(make(psychotic_features="yes", patient_preference="declines_ect"), S)
    assert d.orientation == "ect_first"
    assert codes(d) == ["patient_preference_rtms", "ect_declined"]


def test_prior_rtms_response_ranks_that_protocol_first() -> None:
    d = triage(make(prior_rtms=(PriorRtmsCourse("itbs_left", "response"),)), S)
    assert "prior_rtms_response" in codes(d)
    assert ranked(d)[0] == "itbs_left" and d.protocol_suggestions[0].rule_id == "R-PRO-05"


def test_prior_hf_left_nonresponse_switches_to_bilateral() -> None:
    d = triage(make(prior_rtms=(PriorRtmsCourse("hf_left_10hz", "non_response"),)), S)
    assert d.precaution("prior_rtms_nonresponse").level == "advice"  # type: ignore[union-attr]
    assert ranked(d)[:2] == ["bilateral_sequential", "lf_right_1hz"]
    assert ranked(d)[0] != "hf_left_10hz"


def test_inadequate_prior_course_is_not_a_nonresponse() -> None:
    d = triage(make(prior_rtms=(PriorRtmsCourse("hf_left_10hz", "non_response", adequate=False),)), S)
    assert "prior_rtms_nonresponse" not in codes(d) and ranked(d) == DEFAULT_RANKING


def test_failed_protocol_never_ranks_first_even_when_anxious() -> None:
    d = triage(make(anxiety_comorbidity=True, prior_rtms=(PriorRtmsCourse("lf_right_1hz", "non_response"),)), S)
    assert ranked(d)[0] == "hf_left_10hz" and ranked(d)[-1] == "lf_right_1hz"
    assert d.protocol_suggestions[-1].rule_id == "R-TRI-15"


def test_anxiety_and_addiction_together_follow_the_rule_order() -> None:
    d = triage(make(anxiety_comorbidity=True, substance_use=(SubstanceUse("alcohol", "active"),)), S)
    assert ranked(d)[:2] == ["hf_left_10hz", "lf_right_1hz"]  # R-PRO-03 applies after R-PRO-02
    reordered = tweak(S, "protocol", "rule_order", ("R-PRO-03", "R-PRO-02", "R-PRO-04", "R-PRO-05"))
    assert ranked(triage(make(anxiety_comorbidity=True, substance_use=(SubstanceUse("alcohol", "active"),)),
                         reordered))[0] == "lf_right_1hz"


def test_itbs_as_high_frequency_is_a_setting() -> None:
    order = tweak(S, "protocol", "rule_order", ("R-PRO-05", "R-PRO-02", "R-PRO-04", "R-PRO-03"))
    inp = make(substance_use=(SubstanceUse("stimulants", "active"),),
               prior_rtms=(PriorRtmsCourse("itbs_left", "remission"),))
    assert ranked(triage(inp, order))[0] == "hf_left_10hz"
    counts = tweak(order, "protocol", "itbs_counts_as_high_frequency", True)
    assert ranked(triage(inp, counts))[0] == "itbs_left"


def test_accelerated_itbs_only_with_site_capabilities() -> None:
    assert "accelerated_itbs" not in ranked(triage(make(site_capabilities=frozenset({"neuronavigation"})), S))
    d = triage(make(site_capabilities=frozenset({"neuronavigation", "fcmri_targeting"})), S)
    assert ranked(d)[-1] == "accelerated_itbs" and d.protocol_suggestions[-1].rule_id == "R-PRO-06"


def test_post_ect_maintenance() -> None:
    d = triage(make(prior_ect=PriorEct(responded=True, recent=True, continuation_discussed=True)), S)
    assert "post_ect_maintenance" in codes(d)
    assert ranked(d)[0] == "bilateral_sequential_maintenance"
    assert "6 et 13 mois" in next(r for r in d.reasons if r.rule_id == "R-TRI-16").text_fr
    assert "post_ect_maintenance" not in codes(triage(make(prior_ect=PriorEct(True, True, False)), S))


def test_decision_is_deterministic_and_versioned() -> None:
    one, two = triage(make(site_capabilities=frozenset({"a", "b", "c"})), S), triage(
        make(site_capabilities=frozenset({"c", "b", "a"})), S)
    assert one.inputs_hash == two.inputs_hash and one.inputs_hash.startswith("sha256:")
    assert one.ruleset_version == "settings 2026.1; screening 2026.1; drugs 2026.1"


def test_every_triage_rule_has_french_and_english_rationale_and_sources() -> None:
    assert sorted(RULES) == [f"R-TRI-{n:02d}" for n in range(1, 18)]
    for spec in RULES.values():
        assert spec.text_fr and spec.text_en and spec.section == "§2.4"
    assert all(spec.sources for rid, spec in RULES.items() if rid != "R-TRI-06")


def test_dose_decrease_in_the_review_reaches_the_triage_reasons() -> None:
    review = meds(entries=(MedicationEntry("lorazepam", changes=(DoseChange("decreased", date(2026, 4, 13)),)),),
                  as_of=date(2026, 4, 20))
    d = triage(make(medication_review=review), S)
    assert "R-MED-03" in d.rule_ids()
