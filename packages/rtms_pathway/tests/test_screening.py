"""Safety screening (domain-rtms §3): item levels, conditional rules, R-SAF-01..04, overrides."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import msgspec
import pytest

from rtms_pathway.catalogue.loader_clinical import load_clinical_catalogues
from rtms_pathway.model.screening import (
    AdverseEventReport,
    CheckinAnswers,
    CheckinMedicationChange,
    ItemAnswer,
    ReviewDecision,
    SafetyScreeningResult,
    ScreeningOverride,
    SubstanceIntake,
)
from rtms_pathway.model.triage import ClinicalSettings
from rtms_pathway.rules.screening import (
    RULES,
    evaluate_checkin,
    evaluate_screening,
    screening_is_valid,
    validate_screening_answers,
)
from shared_core.errors import FieldError

CAT = load_clinical_catalogues()
S = CAT.settings
SESSION = date(2026, 4, 20)
REASON = "Avis cardiologique favorable, dispositif compatible documenté."


def tweak(settings: ClinicalSettings, group: str, name: str, value: Any) -> ClinicalSettings:
    section = getattr(settings, group)
    new_section = msgspec.structs.replace(
        section, **{name: msgspec.structs.replace(getattr(section, name), value=value)}
    )
    return msgspec.structs.replace(settings, **{group: new_section})


def screen(yes: dict[str, dict[str, str]], settings: ClinicalSettings = S, **kwargs: Any) -> SafetyScreeningResult:
    answers = {item.code: ItemAnswer("no") for item in CAT.screening.items}
    answers.update({code: ItemAnswer("yes", details) for code, details in yes.items()})
    return evaluate_screening(answers, CAT.screening, settings, **kwargs)


# §3.2: default level of every IFCN item for a plain "yes" (no follow-up detail given).
IFCN_DEFAULTS = [
    ("ifcn_q01_epilepsy", "PHYSICIAN_REVIEW"),
    ("ifcn_q02_syncope", "PHYSICIAN_REVIEW"),
    ("ifcn_q03_head_trauma", "PHYSICIAN_REVIEW"),
    ("ifcn_q04_hearing", "PHYSICIAN_REVIEW"),
    ("ifcn_q05_pregnancy", "PHYSICIAN_REVIEW"),
    ("ifcn_q06_metal", "BLOCK"),
    ("ifcn_q07_cochlear_implant", "BLOCK"),
    ("ifcn_q08_neurostimulator", "BLOCK"),
    ("ifcn_q09_cardiac_device", "BLOCK"),
    ("ifcn_q10_infusion_device", "BLOCK"),
    ("ifcn_q11_medications", "INFO"),
    ("ifcn_q12_spinal_surgery", "INFO"),
    ("ifcn_q13_shunt", "PHYSICIAN_REVIEW"),
    ("ifcn_q14_prior_tms", "INFO"),
    ("ifcn_q15_prior_mri", "INFO"),
]
SITE_DEFAULTS = [
    ("site_conductive_implant_near_coil", "BLOCK"),
    ("site_metallic_ink_tattoo", "PHYSICIAN_REVIEW"),
    ("site_dental_fillings_piercings", "INFO"),
    ("site_raised_intracranial_pressure", "BLOCK"),
    ("site_brain_lesion", "PHYSICIAN_REVIEW"),
    ("site_family_history_epilepsy", "PHYSICIAN_REVIEW"),
    ("site_recent_seizure_despite_aed", "PHYSICIAN_REVIEW"),
    ("site_h_coil_planned", "INFO"),
]


@pytest.mark.parametrize(("item", "level"), IFCN_DEFAULTS + SITE_DEFAULTS)
def test_default_level_of_each_item(item: str, level: str) -> None:
    result = screen({item: {}})
    assert result.item_levels == {item: level}
    assert result.complete
    expected_overall = None if level == "INFO" else level
    assert result.level == expected_overall


def test_ifcn_items_are_numbered_1_to_15() -> None:
    ifcn = [item for item in CAT.screening.items if item.group == "ifcn"]
    assert [item.number for item in ifcn] == list(range(1, 16))
    assert [item.code for item in ifcn] == [code for code, _ in IFCN_DEFAULTS]


def test_cochlear_rule_matches_the_doc_record() -> None:
    rule = next(r for r in CAT.screening.rules if r.id == "SAF-IFCN-07-COCHLEAR")
    assert (rule.item, rule.level, rule.when.answer) == ("ifcn_q07_cochlear_implant", "BLOCK", "yes")
    assert rule.sources == ("ROSSI09", "ROSSI11", "LABELS")
    assert (rule.override.role, rule.override.reason_required, rule.override.cosign_required) == (
        "physician", True, True)
    assert rule.message_fr.startswith("Dispositif électronique implanté à proximité de la bobine")


@pytest.mark.parametrize(
    ("details", "level"),
    [({}, "BLOCK"), ({"material": "unknown"}, "BLOCK"), ({"material": "ferromagnetic"}, "BLOCK"),
     ({"material": "titanium"}, "INFO"), ({"material": "mri_safe_confirmed"}, "INFO")],
)
def test_metal_is_block_unless_titanium_or_mri_safe(details: dict[str, str], level: str) -> None:
    assert screen({"ifcn_q06_metal": details}).item_levels["ifcn_q06_metal"] == level


@pytest.mark.parametrize(
    ("details", "level", "rule_id"),
    [({}, "INFO", "SAF-IFCN-14-PRIOR-TMS"), ({"outcome": "no_problem"}, "INFO", "SAF-IFCN-14-PRIOR-TMS"),
     ({"outcome": "problem"}, "PHYSICIAN_REVIEW", "SAF-IFCN-14-PRIOR-TMS-PROBLEM"),
     ({"outcome": "seizure"}, "BLOCK", "SAF-IFCN-14-PRIOR-TMS-SEIZURE")],
)
def test_prior_tms_levels(details: dict[str, str], level: str, rule_id: str) -> None:
    result = screen({"ifcn_q14_prior_tms": details})
    assert result.item_levels["ifcn_q14_prior_tms"] == level
    assert [h.rule_id for h in result.hits] == [rule_id]


@pytest.mark.parametrize(("valve", "level"), [("fixed", "PHYSICIAN_REVIEW"), ("unknown", "PHYSICIAN_REVIEW"),
                                              ("programmable", "BLOCK")])
def test_shunt_levels(valve: str, level: str) -> None:
    assert screen({"ifcn_q13_shunt": {"valve": valve}}).item_levels["ifcn_q13_shunt"] == level


def test_r_saf_01_unanswered_and_unknown_items_make_the_screening_incomplete() -> None:
    empty = evaluate_screening({}, CAT.screening, S)
    required = [item.code for item in CAT.screening.items if item.required]
    assert not empty.complete and list(empty.missing_items) == required
    assert "site_h_coil_planned" not in empty.missing_items  # a protocol fact, not a patient question
    assert [r.rule_id for r in empty.reasons] == ["R-SAF-01"]
    answers = {item.code: ItemAnswer("no") for item in CAT.screening.items}
    answers["ifcn_q05_pregnancy"] = ItemAnswer("unknown")
    partial = evaluate_screening(answers, CAT.screening, S)
    assert partial.missing_items == ("ifcn_q05_pregnancy",)


def test_r_saf_02_every_hit_is_kept_and_levels_are_maxima() -> None:
    result = screen({"ifcn_q01_epilepsy": {}, "ifcn_q07_cochlear_implant": {}, "ifcn_q15_prior_mri": {},
                     "site_family_history_epilepsy": {}})
    assert [h.rule_id for h in result.hits] == [
        "SAF-IFCN-01-EPILEPSY", "SAF-IFCN-07-COCHLEAR", "SAF-IFCN-15-PRIOR-MRI", "SAF-SITE-FAMILY-EPILEPSY"]
    assert result.level == "BLOCK"
    assert [(p.code, p.status) for p in result.precautions] == [
        ("safety_block", "open"), ("physician_review_safety", "open")]


def test_medication_item_routes_to_the_review() -> None:
    assert screen({"ifcn_q11_medications": {}}).routes == ("medication_review",)


def test_conflict_rules_document_their_alternative() -> None:
    pregnancy = next(r for r in CAT.screening.rules if r.id == "SAF-IFCN-05-PREGNANCY")
    assert pregnancy.confidence == "conflict" and pregnancy.alternative is not None
    assert pregnancy.alternative.level == "BLOCK" and "AUCKLAND" in pregnancy.alternative.note


def test_recent_seizure_asks_for_a_neurology_opinion() -> None:
    result = screen({"site_recent_seizure_despite_aed": {}})
    assert result.precautions[0].actions == ("neurology_opinion",)


# ---------------------------------------------------------------------------------------------
# Overrides and physician decisions (§3.1, §3.5)
# ---------------------------------------------------------------------------------------------


def test_block_override_needs_a_physician_a_reason_and_a_cosignature() -> None:
    hit = {"ifcn_q09_cardiac_device": {}}
    good = ScreeningOverride("SAF-IFCN-09-CARDIAC", "dr.a", "physician", REASON, cosigned_by="dr.b")
    result = screen(hit, overrides=(good,))
    assert result.level is None
    assert result.hits[0].status == "overridden" and result.precautions[0].status == "overridden"
    bad = [
        (ScreeningOverride("SAF-IFCN-09-CARDIAC", "n.1", "nurse", REASON, "dr.b"), "needs the role physician"),
        (ScreeningOverride("SAF-IFCN-09-CARDIAC", "dr.a", "physician", "trop court", "dr.b"), "20 characters"),
        (ScreeningOverride("SAF-IFCN-09-CARDIAC", "dr.a", "physician", REASON), "co-sign"),
        (ScreeningOverride("SAF-IFCN-09-CARDIAC", "dr.a", "physician", REASON, "dr.a"), "co-sign"),
        (ScreeningOverride("SAF-IFCN-01-EPILEPSY", "dr.a", "physician", REASON, "dr.b"), "not a BLOCK rule"),
    ]
    for override, why in bad:
        result = screen(hit, overrides=(override,))
        assert result.level == "BLOCK" and why in result.rejected_decisions[0]


def test_cosignature_is_a_setting() -> None:
    alone = ScreeningOverride("SAF-IFCN-09-CARDIAC", "dr.a", "physician", REASON)
    settings = tweak(S, "safety", "block_override_cosign", False)
    assert screen({"ifcn_q09_cardiac_device": {}}, settings, overrides=(alone,)).level is None


def test_review_decisions() -> None:
    hit = {"ifcn_q03_head_trauma": {}}

    def status(decision: str) -> tuple[str | None, list[tuple[str, str]]]:
        result = screen(hit, reviews=(ReviewDecision("SAF-IFCN-03-HEAD-TRAUMA", "dr.a", decision, "IRM normale."),))  # type: ignore[arg-type]
        return result.level, [(p.code, p.status) for p in result.precautions]

    assert status("accept") == (None, [("physician_review_safety", "resolved")])
    assert status("accept_with_measures") == (None, [("physician_review_safety", "overridden")])
    assert status("refuse") == ("PHYSICIAN_REVIEW", [("safety_block", "open")])
    empty_reason = ReviewDecision("SAF-IFCN-03-HEAD-TRAUMA", "dr.a", "accept", " ")
    assert screen(hit, reviews=(empty_reason,)).rejected_decisions == (
        "SAF-IFCN-03-HEAD-TRAUMA: a review decision needs a reason",)


def test_validate_answers_lists_every_problem() -> None:
    errors = validate_screening_answers(
        {"ifcn_q99_unicorn": ItemAnswer("yes"), "ifcn_q06_metal": ItemAnswer("yes", {"material": "gold"}),
         "ifcn_q07_cochlear_implant": ItemAnswer("yes", {"side": "left"})},
        CAT.screening,
    )
    assert [e.field for e in errors] == ["ifcn_q99_unicorn", "ifcn_q06_metal.details.material",
                                         "ifcn_q07_cochlear_implant.details.side"]


def test_aliases_resolve_to_items_and_details() -> None:
    resolve = CAT.screening.resolve_finding
    assert resolve("cochlear_implant") == ("ifcn_q07_cochlear_implant", {})
    assert resolve("epilepsy") == ("ifcn_q01_epilepsy", {})
    assert resolve("pacemaker") == ("ifcn_q09_cardiac_device", {})
    assert resolve("programmable_shunt") == ("ifcn_q13_shunt", {"valve": "programmable"})
    assert resolve("ifcn_q06_metal") == ("ifcn_q06_metal", {})
    assert resolve("unicorn") is None


@pytest.mark.parametrize(("days", "valid"), [(0, True), (90, True), (91, False), (-1, False)])
def test_r_saf_03_screening_validity(days: int, valid: bool) -> None:
    assert screening_is_valid(SESSION - timedelta(days=days), SESSION, S) is valid


# ---------------------------------------------------------------------------------------------
# Per-session check-in, R-SAF-04
# ---------------------------------------------------------------------------------------------


def checkin(**answers: Any) -> Any:
    return evaluate_checkin(CheckinAnswers(**answers), session_date=SESSION, catalogue=CAT.screening,
                            drugs=CAT.drugs, settings=S)


def test_nothing_to_report_is_ready() -> None:
    outcome = checkin()
    assert (outcome.status, outcome.mt_recheck, outcome.triggers) == ("ready", False, ())


@pytest.mark.parametrize("field", ["sleep_deprivation", "seizure_or_syncope"])
def test_hold_triggers(field: str) -> None:
    outcome = checkin(**{field: True})
    assert outcome.status == "hold_for_physician" and outcome.triggers == (field,)
    assert [r.rule_id for r in outcome.reasons] == ["R-SAF-04"]
    assert {"DOBEK15", "SEED"} == set(outcome.reasons[0].sources)


def test_sleep_deprivation_triggers_an_mt_recheck() -> None:
    assert checkin(sleep_deprivation=True).mt_recheck


@pytest.mark.parametrize(("hours", "held"), [(0, True), (24, True), (25, False)])
def test_alcohol_window_boundary(hours: int, held: bool) -> None:
    outcome = checkin(substance_intake=(SubstanceIntake("alcohol", hours),))
    assert (outcome.status == "hold_for_physician") is held
    assert outcome.mt_recheck is held


def test_substance_window_is_a_setting() -> None:
    outcome = evaluate_checkin(CheckinAnswers(substance_intake=(SubstanceIntake("alcohol", 30),)),
                               session_date=SESSION, catalogue=CAT.screening, drugs=CAT.drugs,
                               settings=tweak(S, "checkin", "substance_window_hours", 48))
    assert outcome.status == "hold_for_physician"


def test_cannabis_holds_without_mt_recheck() -> None:
    outcome = checkin(substance_intake=(SubstanceIntake("cannabis", 3),))
    assert outcome.status == "hold_for_physician" and not outcome.mt_recheck


@pytest.mark.parametrize("field", ["new_implant", "possible_pregnancy"])
def test_changes_that_invalidate_the_screening(field: str) -> None:
    outcome = checkin(**{field: True})
    assert outcome.status == "hold_for_physician" and outcome.rescreen_required
    assert [r.rule_id for r in outcome.reasons] == ["R-SAF-03"]


def test_metal_objects_not_removed() -> None:
    assert checkin(metal_objects_removed=False).status == "pending_metal_removal"
    assert checkin(metal_objects_removed=False, sleep_deprivation=True).status == "hold_for_physician"


def test_adverse_events_are_recorded_only() -> None:
    outcome = checkin(adverse_events=(AdverseEventReport("headache", "mild", "after_session"),))
    assert outcome.status == "ready" and outcome.triggers == ("adverse_events",)


def test_benzodiazepine_decrease_holds_the_session() -> None:
    change = CheckinMedicationChange("lorazepam", "decreased", SESSION - timedelta(days=3))
    outcome = checkin(medication_changes=(change,))
    assert outcome.status == "hold_for_physician" and outcome.mt_recheck
    assert {"R-MED-03", "R-SAF-04"} <= {r.rule_id for r in outcome.reasons}


def test_new_strong_drug_holds_and_new_relative_drug_does_not() -> None:
    strong = checkin(medication_changes=(CheckinMedicationChange("clozapine", "started", SESSION),))
    assert strong.status == "hold_for_physician" and "R-MED-07" in {r.rule_id for r in strong.reasons}
    relative = checkin(medication_changes=(CheckinMedicationChange("sertraline", "started", SESSION),))
    assert relative.status == "ready" and relative.medication_review_rerun and relative.mt_recheck
    assert "R-MED-07" in {r.rule_id for r in relative.reasons}


def test_unknown_drug_reruns_the_review_without_holding() -> None:
    outcome = checkin(medication_changes=(CheckinMedicationChange("paracetamol", "started", SESSION),))
    assert outcome.status == "ready" and outcome.medication_review_rerun and not outcome.mt_recheck


def test_checkin_items_cover_the_doc_list() -> None:
    codes = [item.code for item in CAT.screening.checkin_items]
    assert codes == list(CheckinAnswers.__struct_fields__)
    effects = {item.code: item.effect for item in CAT.screening.checkin_items}
    assert effects["sleep_deprivation"] == effects["substance_intake"] == effects["seizure_or_syncope"] == (
        "hold_for_physician")


def test_screening_rule_texts() -> None:
    assert sorted(RULES) == ["R-SAF-01", "R-SAF-02", "R-SAF-03", "R-SAF-04"]
    for spec in RULES.values():
        assert spec.text_fr and spec.text_en and spec.section.startswith("§3")


def test_field_error_type_is_shared_core() -> None:
    assert isinstance(validate_screening_answers({"x": ItemAnswer("no")}, CAT.screening)[0], FieldError)
