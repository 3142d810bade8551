"""English labels of the treatment-history codes (domain-rtms §4, §5), translated in ``rtms_history.po``.

Templates show ``_(LABELS[prefix + code])``: the message id is an English phrase, so English readers
see words rather than codes and the French catalogue never holds a bare code such as "other".
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

LABELS: Final = MappingProxyType({
    "modality_antidepressant": "Antidepressant", "modality_augmentation": "Augmentation",
    "modality_psychotherapy": "Psychotherapy", "modality_ect": "ECT (electroconvulsive therapy)",
    "modality_rtms": "rTMS course", "modality_esketamine": "Esketamine", "modality_other": "Other treatment",
    "class_ssri": "SSRI", "class_snri": "SNRI", "class_tca": "Tricyclic antidepressant (TCA)", "class_maoi": "MAOI",
    "class_mirtazapine_like": "Mirtazapine / mianserin", "class_other_ad": "Other antidepressant class",
    "class_antipsychotic_aug": "Antipsychotic augmentation", "class_lithium_aug": "Lithium augmentation",
    "class_other_aug": "Other augmentation",
    "adherence_good": "Good adherence", "adherence_partial": "Partial adherence", "adherence_poor": "Poor adherence",
    "adherence_unknown": "Adherence not known",
    "outcome_remission": "Remission", "outcome_response_ge50": "Response (≥ 50 %)",
    "outcome_partial_25_49": "Partial response (25–49 %)", "outcome_non_response_lt25": "Non-response (< 25 %)",
    "outcome_intolerance": "Intolerance", "outcome_unknown": "Outcome not known",
    "stop_inefficacy": "Stopped for inefficacy", "stop_intolerance": "Stopped for intolerance",
    "stop_patient_choice": "Stopped by the patient's choice", "stop_remission": "Stopped after remission",
    "stop_other": "Stopped for another reason",
    "laterality_bilateral": "Bilateral ECT", "laterality_right_unilateral": "Right unilateral ECT",
    "laterality_unknown": "ECT laterality not known",
    "source_patient": "Told by the patient", "source_records": "Medical records", "source_referrer": "Referring doctor",
    "severity_msm_subsyndromal": "Subsyndromal", "severity_msm_mild": "Mild episode",
    "severity_msm_moderate": "Moderate episode", "severity_msm_severe_without_psychosis": "Severe without psychosis",
    "severity_msm_severe_with_psychosis": "Severe with psychosis",
    "change_increase": "Dose increased", "change_decrease": "Dose decreased", "change_stop": "Drug stopped",
    "threshold_strong": "Strongly lowered", "threshold_relative": "Relatively lowered",
    "threshold_none": "No known lowering", "threshold_unknown": "Effect not known",
    "mt_raising_yes": "Raises the motor threshold", "mt_raising_no": "Does not raise the motor threshold",
    "mt_raising_unknown": "Effect on the motor threshold not known",
    "efficacy_reducing": "Reduces rTMS efficacy", "efficacy_possibly_reducing": "May reduce rTMS efficacy",
    "efficacy_possibly_enhancing": "May enhance rTMS efficacy", "efficacy_none": "No known effect on efficacy",
    "efficacy_unknown": "Effect on efficacy not known",
    "flag_trd_has": "Treatment-resistant depression (HAS)", "flag_trd_fr_classes": "Two-different-classes option",
    "flag_trd_eu_pearl": "Treatment-resistant depression (EU-PEARL)",
    "flag_prd_eu_pearl": "Partially responsive depression (EU-PEARL)",
    "flag_mtr_mdd": "Multiple-therapy-resistant depression (MTR-MDD)",
    "flag_dtd": "Difficult-to-treat depression", "flag_bipolar_trd": "Bipolar treatment-resistant depression",
    "confidence_to_verify": "value to verify", "confidence_conflict": "sources in conflict",
    "msm_band_mild": "mild resistance", "msm_band_moderate": "moderate resistance",
    "msm_band_severe": "severe resistance",
    "field_modality": "Modality", "field_agent": "Agent (INN) or psychotherapy type", "field_atc": "ATC code",
    "field_pharm_class": "Pharmacological class", "field_start_date": "Start date", "field_end_date": "End date",
    "field_max_daily_dose": "Maximal daily dose", "field_unit": "Unit",
    "field_weeks_at_adequate_dose": "Weeks at an adequate dose", "field_adherence": "Adherence",
    "field_outcome": "Outcome", "field_improvement_pct": "Improvement (%)",
    "field_improvement_scale": "Scale of the improvement", "field_stop_reason": "Reason for stopping",
    "field_sessions": "Sessions (psychotherapy, ECT, rTMS)", "field_ect_laterality": "ECT laterality",
    "field_source": "Source of the information", "field_augments_agent": "Added to (augmentation)",
    "field_notes": "Notes",
})
