"""Medication review (domain-rtms §4): the worked example, R-MED-01..07, the recent-change window."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import msgspec
import pytest

from rtms_pathway.catalogue.loader_clinical import load_clinical_catalogues
from rtms_pathway.model.medication import DoseChange, MedicationEntry, MedicationReviewResult
from rtms_pathway.model.screening import CheckinMedicationChange
from rtms_pathway.model.triage import ClinicalSettings
from rtms_pathway.rules.medication import RULES, assess_medication_changes, lookup_drug, review_medications

CAT = load_clinical_catalogues()
S = CAT.settings
TODAY = date(2026, 4, 20)


def tweak(settings: ClinicalSettings, group: str, name: str, value: Any) -> ClinicalSettings:
    section = getattr(settings, group)
    new_section = msgspec.structs.replace(
        section, **{name: msgspec.structs.replace(getattr(section, name), value=value)}
    )
    return msgspec.structs.replace(settings, **{group: new_section})


def review(*entries: MedicationEntry | str, settings: ClinicalSettings = S,
           as_of: date | None = TODAY) -> MedicationReviewResult:
    listed = [MedicationEntry(inn=e) if isinstance(e, str) else e for e in entries]
    return review_medications(listed, drugs=CAT.drugs, settings=settings, as_of=as_of)


def codes(result: MedicationReviewResult) -> list[str]:
    return [p.code for p in result.precautions]


def test_worked_example_clozapine_lorazepam_reduced_lithium() -> None:
    """§4.4: clozapine 300 mg; lorazepam 1 mg x3 reduced last week from 2 mg x3; lithium."""
    result = review(
        MedicationEntry("clozapine", dose_text="300 mg/j"),
        MedicationEntry("lorazepam", dose_text="1 mg x3/j",
                        changes=(DoseChange("decreased", TODAY - timedelta(days=7)),)),
        MedicationEntry("lithium"),
    )
    assert codes(result) == [
        "seizure_threshold_medication",
        "seizure_threshold_medication_relative",
        "benzodiazepine_reduces_efficacy",
        "mt_raising_medication",
        "neuroleptic_efficacy",
    ]
    by_code = {p.code: p for p in result.precautions}
    assert by_code["seizure_threshold_medication"].subjects == ("clozapine",)
    assert by_code["seizure_threshold_medication"].actions == ("A1", "A2")
    assert by_code["seizure_threshold_medication"].level == "monitoring"
    assert by_code["seizure_threshold_medication_relative"].subjects == ("lithium",)
    assert by_code["seizure_threshold_medication_relative"].actions == ("A3",)  # one relative drug: no A1
    assert by_code["benzodiazepine_reduces_efficacy"].subjects == ("lorazepam",)
    assert by_code["mt_raising_medication"].subjects == ("lorazepam",)
    assert by_code["neuroleptic_efficacy"].subjects == ("clozapine",)
    assert result.hold_next_session and result.mt_recheck
    r03 = next(r for r in result.reasons if r.rule_id == "R-MED-03")
    assert r03.subjects == ("lorazepam",) and "il y a 7 jour(s)" in r03.text_fr and r03.sources == ("SEED",)
    r01 = next(r for r in result.reasons if r.rule_id == "R-MED-01")
    assert "ne contre-indique pas" in r01.text_fr and "3 jours" in r01.text_fr
    assert result.current_mood_stabilizers() == ("lithium",)


@pytest.mark.parametrize(("days_ago", "fires"), [(0, True), (14, True), (15, False), (-1, False)])
def test_recent_change_window_boundary(days_ago: int, fires: bool) -> None:
    entry = MedicationEntry("lorazepam", changes=(DoseChange("decreased", TODAY - timedelta(days=days_ago)),))
    result = review(entry)
    assert result.hold_next_session is fires
    assert ("R-MED-03" in [r.rule_id for r in result.reasons]) is fires


def test_recent_change_window_is_a_setting() -> None:
    entry = MedicationEntry("lorazepam", changes=(DoseChange("decreased", TODAY - timedelta(days=20)),))
    assert review(entry, settings=tweak(S, "medication", "recent_change_days", 21)).hold_next_session


def test_stopped_antiepileptic_fires_r_med_03_but_is_no_longer_current() -> None:
    entry = MedicationEntry("valproate", status="stopped",
                            changes=(DoseChange("stopped", TODAY - timedelta(days=10)),))
    result = review(entry)
    assert result.hold_next_session
    assert codes(result) == []  # not current: no MT-raising advice any more
    assert "arrêtée" in next(r for r in result.reasons if r.rule_id == "R-MED-03").text_fr


@pytest.mark.parametrize(("drug", "kind", "fires"), [
    ("lorazepam", "increased", False),
    ("lorazepam", "started", False),
    ("sertraline", "decreased", False),  # no MT-raising or withdrawal effect
    ("zolpidem", "stopped", True),
    ("phenobarbital", "decreased", True),
    ("pregabalin", "decreased", True),
])
def test_which_changes_trigger_r_med_03(drug: str, kind: str, fires: bool) -> None:
    entry = MedicationEntry(drug, changes=(DoseChange(kind, TODAY - timedelta(days=2)),))  # type: ignore[arg-type]
    assert review(entry).hold_next_session is fires


def test_as_of_is_required_to_judge_changes() -> None:
    with pytest.raises(ValueError, match="as_of"):
        review(MedicationEntry("lorazepam", changes=(DoseChange("decreased", TODAY),)), as_of=None)
    assert review("lorazepam", as_of=None).precautions


def test_relative_combination_sign_off() -> None:
    pair = review("lithium", "quetiapine")
    relative = next(p for p in pair.precautions if p.code == "seizure_threshold_medication_relative")
    assert relative.actions == ("A3", "A1")
    assert "accord du médecin" in next(r for r in pair.reasons if r.rule_id == "R-MED-02").text_fr
    off = review("lithium", "quetiapine", settings=tweak(S, "medication", "relative_combo_signoff", False))
    assert off.precautions[0].actions == ("A3",)
    three = review("lithium", "quetiapine", settings=tweak(S, "medication", "relative_combo_min_count", 3))
    assert three.precautions[0].actions == ("A3",)


def test_strong_and_relative_together() -> None:
    assert codes(review("clomipramine", "sertraline")) == [
        "seizure_threshold_medication", "seizure_threshold_medication_relative"]


def test_antipsychotic_other_than_clozapine() -> None:
    result = review("olanzapine")
    assert codes(result) == ["seizure_threshold_medication_relative", "neuroleptic_efficacy"]
    assert next(p for p in result.precautions if p.code == "neuroleptic_efficacy").level == "info"


def test_z_drug_counts_as_benzodiazepine_related() -> None:
    assert codes(review("zolpidem")) == ["benzodiazepine_reduces_efficacy", "mt_raising_medication"]


def test_antiepileptic_mt_raising_only() -> None:
    result = review("levetiracetam")
    assert codes(result) == ["mt_raising_medication"]
    assert result.findings[0].actions == ("A5", "A9", "A10")


def test_substances_go_through_the_substance_use_fields() -> None:
    result = review("ethanol", "cocaine")
    assert codes(result) == []
    assert "R-TRI-10" in next(r for r in result.reasons if r.rule_id == "R-MED-01").text_fr


def test_unknown_drug_is_reported() -> None:
    result = review("paracetamol", "Doliprane")
    assert result.unknown_drugs == ("paracetamol", "Doliprane")
    assert [r.rule_id for r in result.reasons] == ["MED-UNLISTED"]
    assert not result.findings[0].known


@pytest.mark.parametrize(("name", "inn"), [
    ("Clozapine", "clozapine"), ("acide valproïque", "valproate"), ("divalproex", "valproate"),
    ("carbonate de lithium", "lithium"), ("alcool", "ethanol"), ("ESCITALOPRAM", "escitalopram"),
    ("méthylphénidate", "methylphenidate"), ("cyamémazine", "cyamemazine"),
])
def test_lookup_folds_case_accents_and_aliases(name: str, inn: str) -> None:
    assert lookup_drug(name, CAT.drugs).inn == inn


def test_mood_stabilizers() -> None:
    flagged = {inn for inn, d in CAT.drugs.drugs.items() if d.mood_stabilizer}
    assert flagged == {"lithium", "valproate", "carbamazepine", "lamotrigine"}
    assert review("quetiapine").current_mood_stabilizers() == ()


def test_benzodiazepine_half_life_advice_data() -> None:
    for inn, drug in CAT.drugs.drugs.items():
        if drug.drug_class == "benzodiazepines":
            assert drug.half_life_class is not None, inn
            assert "A4" in drug.actions


def test_checkin_assessment_of_changes() -> None:
    def assess(*changes: CheckinMedicationChange) -> Any:
        return assess_medication_changes(changes, session_date=TODAY, drugs=CAT.drugs, settings=S)

    held = assess(CheckinMedicationChange("diazepam", "stopped", TODAY - timedelta(days=1)))
    assert held.hold and held.mt_recheck and held.reasons[0].rule_id == "R-MED-03"
    old = assess(CheckinMedicationChange("diazepam", "stopped", TODAY - timedelta(days=15)))
    assert not old.hold and old.mt_recheck and old.rerun_review
    started = assess(CheckinMedicationChange("bupropion", "started", TODAY))
    assert not started.hold and started.reasons[0].rule_id == "R-MED-07"
    strong = assess(CheckinMedicationChange("esketamine", "started", TODAY))
    assert strong.hold and "fort" in strong.reasons[0].text_fr
    increased = assess(CheckinMedicationChange("clozapine", "increased", TODAY))
    assert not increased.hold and increased.mt_recheck


def test_every_medication_rule_is_cited() -> None:
    assert sorted(r for r in RULES if r.startswith("R-MED")) == [f"R-MED-{n:02d}" for n in range(1, 8)]
    for spec in RULES.values():
        assert spec.text_fr and spec.text_en and spec.section.startswith("§4")
    assert RULES["R-MED-02"].confidence == "to_verify"
    result = review("clozapine", "lorazepam", "lithium", "paracetamol")
    for reason in result.reasons:
        assert reason.rule_id and reason.text_fr and reason.text_en and reason.section
