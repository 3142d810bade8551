"""The API contract's POST /api/v1/rtms/triage: body mapping, answer shape, and 422 field errors."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from rtms_pathway.catalogue.loader_clinical import load_clinical_catalogues
from rtms_pathway.rules.triage_api import (
    ContractTriageAnswer,
    ContractTriageInput,
    contract_to_triage_input,
    parse_contract_triage,
    run_contract_triage,
    triage_contract,
    validate_contract_triage,
)
from shared_core.errors import FieldError, ValidationFailed

CAT = load_clinical_catalogues()
DEFAULT_RANKING = ["hf_left_10hz", "itbs_left", "deep_tms_h1", "lf_right_1hz"]


def body(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "diagnosis": "unipolar",
        "psychotic_features": False,
        "catatonia": False,
        "suicide_risk": "none",
        "failed_adequate_trials": 1,
        "episode_months": 8,
        "anxiety_comorbidity": False,
        "substance_use": [],
        "mood_stabilizer": False,
        "safety_findings": [],
        "medications": [],
        "patient_preference": "none",
    }
    base.update(changes)
    return base


def answer(**changes: Any) -> ContractTriageAnswer:
    return run_contract_triage(body(**changes), CAT)


def test_clean_body_is_rtms_indicated_with_the_default_ranking() -> None:
    a = answer()
    assert a.orientation == "rtms_indicated"
    assert a.precautions == []
    assert a.protocol_suggestions == DEFAULT_RANKING
    codes = [r.code for r in a.reasons]
    assert "R-TRI-07" in codes and "R-PRO-01" in codes
    for reason in a.reasons:
        assert reason.text and reason.source.endswith(")") and "domain-rtms §" in reason.source


def test_answer_encodes_to_the_contract_json_shape() -> None:
    encoded = msgspec.json.decode(msgspec.json.encode(answer()))
    assert set(encoded) == {"orientation", "precautions", "protocol_suggestions", "reasons"}
    assert set(encoded["reasons"][0]) == {"code", "text", "source"}


# ---------------------------------------------------------------------------------------------
# The contract's precaution codes
# ---------------------------------------------------------------------------------------------


def test_bipolar_without_mood_stabilizer() -> None:
    a = answer(diagnosis="bipolar_ii")
    assert a.orientation == "rtms_with_precautions"
    assert a.precautions == ["mood_stabilizer_required", "monitor_manic_switch"]


@pytest.mark.parametrize("changes", [{"mood_stabilizer": True}, {"medications": ["lithium"]},
                                     {"medications": ["valproate"]}, {"medications": ["Lamotrigine"]}])
def test_bipolar_with_a_mood_stabilizer_only_monitors_the_switch(changes: dict[str, Any]) -> None:
    a = answer(diagnosis="bipolar_i", **changes)
    assert a.orientation == "rtms_with_precautions"
    assert "mood_stabilizer_required" not in a.precautions
    assert "monitor_manic_switch" in a.precautions


@pytest.mark.parametrize("drug", ["clozapine", "clomipramine", "amitriptyline", "imipramine", "maprotiline",
                                  "chlorpromazine", "theophylline", "ketamine"])
def test_strong_hazard_drugs_raise_seizure_threshold_medication(drug: str) -> None:
    a = answer(medications=[drug])
    assert "seizure_threshold_medication" in a.precautions
    assert a.orientation == "rtms_with_precautions"


def test_benzodiazepine_raises_both_advices_and_any_precaution_ranks_the_orientation() -> None:
    a = answer(medications=["lorazepam"])
    assert a.precautions == ["benzodiazepine_reduces_efficacy", "mt_raising_medication"]
    # api-contract: rtms_with_precautions when there is any precaution in the answer.
    assert a.orientation == "rtms_with_precautions"


def test_information_only_facts_stay_in_the_reasons() -> None:
    a = answer(episode_months=30)
    assert a.precautions == [] and a.orientation == "rtms_indicated"
    assert "R-TRI-09" in [reason.code for reason in a.reasons]


@pytest.mark.parametrize("drug", ["valproate", "carbamazepine", "lamotrigine", "levetiracetam", "topiramate",
                                  "pregabalin", "gabapentin", "oxcarbazepine", "phenobarbital", "clonazepam"])
def test_anticonvulsants_raise_mt_raising_medication(drug: str) -> None:
    assert "mt_raising_medication" in answer(medications=[drug]).precautions


def test_alcohol() -> None:
    a = answer(substance_use=["alcohol"])
    assert a.precautions == ["addiction_joint_followup", "alcohol_lowers_seizure_threshold"]
    assert a.orientation == "rtms_with_precautions"
    assert a.protocol_suggestions[0] == "hf_left_10hz"


def test_physician_review_finding() -> None:
    a = answer(safety_findings=["epilepsy"])
    assert a.precautions == ["physician_review_safety"]
    assert a.orientation == "rtms_with_precautions"
    assert "R-TRI-17" in [r.code for r in a.reasons]


@pytest.mark.parametrize(("failed", "months", "high"), [(2, 24, False), (3, 24, True), (6, 40, True)])
def test_high_resistance_from_the_failed_trial_count(failed: int, months: int, high: bool) -> None:
    a = answer(failed_adequate_trials=failed, episode_months=months)
    assert ("high_resistance_discuss_ect" in a.precautions) is high
    if high:
        assert a.orientation == "rtms_with_precautions"


def test_low_and_moderate_suicide_risk_are_monitored() -> None:
    for risk in ("low", "moderate"):
        a = answer(suicide_risk=risk)
        assert a.precautions == ["suicidality_monitoring"] and a.orientation == "rtms_with_precautions"


def test_every_answered_precaution_code_is_defined_in_the_settings() -> None:
    a = answer(diagnosis="bipolar_ii", substance_use=["alcohol", "stimulants"], anxiety_comorbidity=True,
               failed_adequate_trials=0, episode_months=30, safety_findings=["epilepsy"], suicide_risk="low",
               medications=["clozapine", "lorazepam", "sertraline"], patient_preference="rtms")
    assert set(a.precautions) <= set(CAT.settings.precautions)


# ---------------------------------------------------------------------------------------------
# Orientations and precedence
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "orientation"),
    [
        ({"safety_findings": ["cochlear_implant"]}, "not_eligible_safety"),
        ({"safety_findings": ["pacemaker"]}, "not_eligible_safety"),
        ({"safety_findings": ["ifcn_q07_cochlear_implant"]}, "not_eligible_safety"),
        ({"safety_findings": ["metal_in_head"]}, "not_eligible_safety"),
        ({"safety_findings": ["titanium_implant_head"]}, "rtms_indicated"),
        ({"safety_findings": ["prior_tms"]}, "rtms_indicated"),
        ({"safety_findings": ["prior_tms_problem"]}, "rtms_with_precautions"),
        ({"safety_findings": ["prior_tms", "prior_tms_seizure"]}, "not_eligible_safety"),
        ({"safety_findings": ["shunt"]}, "rtms_with_precautions"),
        ({"safety_findings": ["programmable_shunt"]}, "not_eligible_safety"),
        ({"psychotic_features": True}, "ect_first"),
        ({"catatonia": True}, "ect_first"),
        ({"suicide_risk": "high_urgent"}, "ect_first"),
        ({"psychotic_features": True, "diagnosis": "bipolar_i"}, "ect_first"),
    ],
)
def test_orientations(changes: dict[str, Any], orientation: str) -> None:
    assert answer(**changes).orientation == orientation


def test_psychotic_features_and_cochlear_implant() -> None:
    a = answer(psychotic_features=True, safety_findings=["cochlear_implant"])
    assert a.orientation == "not_eligible_safety"
    assert a.precautions == ["safety_block"]
    assert a.protocol_suggestions == []
    codes = [r.code for r in a.reasons]
    assert "R-TRI-01" in codes and "R-TRI-02" in codes


def test_ect_first_gives_no_protocol_suggestion() -> None:
    assert answer(catatonia=True).protocol_suggestions == []


# ---------------------------------------------------------------------------------------------
# needs_more_information for the contract form
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failed", "months", "complete"),
    [(1, 0, True), (2, 0, False), (2, 1, True), (6, 2, False), (6, 5, True), (50, 1200, True)],
)
def test_failed_trials_must_fit_in_the_episode(failed: int, months: int, complete: bool) -> None:
    a = answer(failed_adequate_trials=failed, episode_months=months)
    assert (a.orientation != "needs_more_information") is complete


def test_medications_declared_at_screening_with_an_empty_list() -> None:
    a = answer(safety_findings=["current_medications"])
    assert a.orientation == "needs_more_information"
    assert "R-TRI-06" in [r.code for r in a.reasons]
    assert answer(safety_findings=["current_medications"], medications=["sertraline"]).orientation != (
        "needs_more_information")


def test_ect_first_outranks_an_incoherent_body() -> None:
    assert answer(psychotic_features=True, failed_adequate_trials=8, episode_months=1).orientation == "ect_first"


def test_safety_block_outranks_an_incoherent_body() -> None:
    a = answer(safety_findings=["cochlear_implant"], failed_adequate_trials=8, episode_months=1)
    assert a.orientation == "not_eligible_safety"


# ---------------------------------------------------------------------------------------------
# Mapping details
# ---------------------------------------------------------------------------------------------


def test_mapping_to_the_internal_form() -> None:
    inp = contract_to_triage_input(parse_contract_triage(body(
        diagnosis="unipolar", suicide_risk="moderate", substance_use=["alcohol", "alcohol", "cannabis"],
        medications=["Clozapine", "clozapine", "acide valproïque"], patient_preference="none"), CAT), CAT)
    assert inp.diagnosis == "unipolar_mdd" and inp.episode_polarity == "depressive"
    assert inp.suicidal_risk == "ideation_non_urgent" and inp.patient_preference == "no_preference"
    assert [(s.substance, s.status) for s in inp.substance_use] == [("alcohol", "active"), ("cannabis", "active")]
    assert inp.medication_review is not None
    assert [f.inn for f in inp.medication_review.findings] == ["clozapine", "valproate"]
    assert inp.safety_screening is not None and inp.safety_screening.complete
    assert inp.not_collected == frozenset({"severity"})


def test_unknown_medication_is_reported_not_rejected() -> None:
    a = answer(medications=["paracetamol"])
    assert a.orientation == "rtms_indicated"
    assert any(r.code == "MED-UNLISTED" and "paracetamol" in r.text for r in a.reasons)


def test_preference_rtms_is_recorded() -> None:
    # An information-level fact: recorded among the reasons, not as a precaution (api-contract).
    assert "R-TRI-14" in [reason.code for reason in answer(patient_preference="rtms").reasons]
    assert answer(patient_preference="rtms").precautions == []


def test_json_bytes_decode_into_the_struct() -> None:
    decoded = msgspec.json.decode(msgspec.json.encode(body()), type=ContractTriageInput)
    assert triage_contract(decoded, CAT).orientation == "rtms_indicated"


# ---------------------------------------------------------------------------------------------
# Invalid bodies: every bad field, all at once
# ---------------------------------------------------------------------------------------------


def fields(errors: list[FieldError]) -> list[str]:
    return [e.field for e in errors]


def test_valid_body_has_no_errors() -> None:
    assert validate_contract_triage(body(), CAT) == []


def test_not_an_object() -> None:
    assert validate_contract_triage([1, 2], CAT) == [FieldError("body", "must be a JSON object")]


def test_every_missing_field_is_named() -> None:
    assert fields(validate_contract_triage({}, CAT)) == list(ContractTriageInput.__struct_fields__)


def test_several_bad_fields_at_once() -> None:
    bad = body(
        diagnosis="schizophrenia",
        psychotic_features="yes",
        suicide_risk="high",
        failed_adequate_trials=-1,
        episode_months=1.5,
        substance_use=["alcohol", "tobacco", 3],
        mood_stabilizer=None,
        safety_findings=["cochlear_implant", "unicorn"],
        medications=["", 7, "lithium"],
        patient_preference="maybe",
        extra_field=True,
    )
    errors = validate_contract_triage(bad, CAT)
    assert fields(errors) == [
        "diagnosis", "psychotic_features", "suicide_risk", "failed_adequate_trials", "episode_months",
        "substance_use[1]", "substance_use[2]", "mood_stabilizer", "safety_findings[1]",
        "medications[0]", "medications[1]", "patient_preference", "extra_field",
    ]
    assert all(e.message for e in errors)
    assert "unicorn" in next(e.message for e in errors if e.field == "safety_findings[1]")


def test_booleans_are_not_integers_and_bounds_hold() -> None:
    errors = validate_contract_triage(body(failed_adequate_trials=True, episode_months=1201), CAT)
    assert fields(errors) == ["failed_adequate_trials", "episode_months"]
    assert validate_contract_triage(body(episode_months=1200, failed_adequate_trials=50), CAT) == []
    assert fields(validate_contract_triage(body(failed_adequate_trials=51), CAT)) == ["failed_adequate_trials"]


def test_lists_must_be_lists() -> None:
    errors = validate_contract_triage(body(substance_use="alcohol", safety_findings=None, medications={}), CAT)
    assert fields(errors) == ["substance_use", "safety_findings", "medications"]


def test_parse_raises_with_every_error() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_contract_triage(body(diagnosis=None, catatonia=1), CAT)
    assert fields(caught.value.errors) == ["diagnosis", "catatonia"]


def test_struct_forbids_unknown_fields() -> None:
    with pytest.raises(msgspec.ValidationError, match="unknown field"):
        msgspec.convert(body(extra=1), ContractTriageInput)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(body(failed_adequate_trials=-2), ContractTriageInput)
