"""Triage and orientation vocabulary (domain-rtms §2) and the clinical settings of §2–§4.

``None`` in a :class:`TriageInput` field means "not provided"; for the yes/no/unknown fields,
``unknown`` also counts as missing (R-TRI-06). The settings Structs mirror
catalogue/triage_settings.yaml one to one.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from rtms_pathway.model.medication import DrugCatalogue, MedicationReviewResult, MedicationSettings, MtSettings
from rtms_pathway.model.screening import (
    Confidence,
    Precaution,
    PrecautionDefinition,
    PrecautionLevel,
    PrecautionStatus,
    Reason,
    RuleSpec,
    SafetyScreeningResult,
    SafetySettings,
    ScreeningCatalogue,
    Setting,
    Task,
)

__all__ = [
    "CheckinSettings",
    "ClinicalCatalogues",
    "ClinicalSettings",
    "Confidence",
    "ContractSettings",
    "CssrsCategory",
    "Diagnosis",
    "EpisodePolarity",
    "Orientation",
    "PatientPreference",
    "Precaution",
    "PrecautionDefinition",
    "PrecautionLevel",
    "PrecautionStatus",
    "PriorEct",
    "PriorRtmsCourse",
    "ProtocolSettings",
    "ProtocolSuggestion",
    "Reason",
    "RuleSpec",
    "Severity",
    "SubstanceUse",
    "Task",
    "TreatmentHistory",
    "TriState",
    "TriageDecision",
    "TriageInput",
    "TriageSettings",
]

Diagnosis = Literal["unipolar_mdd", "bipolar_i", "bipolar_ii", "other"]
EpisodePolarity = Literal["depressive", "manic", "hypomanic", "mixed"]
Severity = Literal["subsyndromal", "mild", "moderate", "severe"]
TriState = Literal["yes", "no", "unknown"]
SuicidalRisk = Literal["none", "ideation_non_urgent", "urgent"]
CssrsCategory = Literal["none", "low", "moderate", "high"]
PatientPreference = Literal["rtms", "ect", "no_preference", "declines_ect", "declines_rtms"]
SubstanceCode = Literal["alcohol", "cannabis", "opioids", "stimulants", "sedatives", "other"]
Orientation = Literal[
    "not_eligible_safety", "ect_first", "needs_more_information", "rtms_with_precautions", "rtms_indicated"
]
# Strongest first: the API contract fixes this order (domain-rtms §2.2).
ORIENTATION_PRECEDENCE: tuple[Orientation, ...] = (
    "not_eligible_safety",
    "ect_first",
    "needs_more_information",
    "rtms_with_precautions",
    "rtms_indicated",
)


class _Data(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Unknown keys in triage_settings.yaml are typos and must fail the load."""


# ---------------------------------------------------------------------------------------------
# Input
# ---------------------------------------------------------------------------------------------


class SubstanceUse(msgspec.Struct, frozen=True):
    substance: SubstanceCode
    status: Literal["active", "remission"]
    pattern: str = ""


class TreatmentHistory(msgspec.Struct, frozen=True):
    """What §5 staging derived from the TreatmentTrial list of the current episode.

    The trial list itself and its adequacy rules belong to §5; triage needs only these counts.
    ``None`` for augmentation or psychotherapy means "not documented" (a referral letter often
    gives only the antidepressant count): the MTR-MDD definition then cannot be computed and
    R-TRI-08 falls back on ``triage.high_resistance_fallback_min_failures``.
    """

    failed_adequate_antidepressant_trials: int
    failed_augmentation_trials: int | None = None
    failed_psychotherapy_trials: int | None = None
    msm_total: int | None = None
    # When §5 staging has already decided R-TRI-08's high resistance with its own settings
    # (staging_settings.yaml), pass its verdict here so both screens say the same thing.
    high_resistance: bool | None = None


class PriorRtmsCourse(msgspec.Struct, frozen=True):
    protocol_id: str
    outcome: Literal["remission", "response", "partial_response", "non_response", "unknown"]
    adequate: bool = True


class PriorEct(msgspec.Struct, frozen=True):
    """R-TRI-16: ``recent`` is the clinician's judgement; the doc sets no delay."""

    responded: bool
    recent: bool
    continuation_discussed: bool


class TriageInput(msgspec.Struct, frozen=True, kw_only=True):
    """domain-rtms §2.1. ``episode_months`` is whole months since the episode began.

    ``safety_screening`` and ``medication_review`` are the results of §3 and §4, computed first.
    """

    diagnosis: Diagnosis | None
    episode_polarity: EpisodePolarity | None
    episode_months: int | None
    severity: Severity | None
    psychotic_features: TriState | None
    catatonia: TriState | None
    suicidal_risk: SuicidalRisk | None
    treatment_trials: TreatmentHistory | None
    safety_screening: SafetyScreeningResult | None
    medication_review: MedicationReviewResult | None
    cssrs_category: CssrsCategory | None = None
    baseline_scale: str | None = None
    baseline_total: int | None = None
    anxiety_comorbidity: bool | None = None
    gad7_total: int | None = None
    substance_use: tuple[SubstanceUse, ...] = ()
    prior_rtms: tuple[PriorRtmsCourse, ...] = ()
    prior_ect: PriorEct | None = None
    patient_preference: PatientPreference | None = None
    site_capabilities: frozenset[str] = frozenset()
    # The referrer states a mood stabilizer is prescribed even if the molecule is not on the
    # medication list (the API contract's ``mood_stabilizer`` flag): resolves R-TRI-12 too.
    mood_stabilizer_documented: bool = False
    # Fields of §2.1 this intake form does not collect (the API contract has no severity field):
    # R-TRI-06 does not report them as missing.
    not_collected: frozenset[str] = frozenset()


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------


class ProtocolSuggestion(msgspec.Struct, frozen=True):
    protocol_id: str
    rank: int
    rule_id: str


class TriageDecision(msgspec.Struct, frozen=True):
    """domain-rtms §2.2. ``computed_at`` is added by the service: rules have no clock."""

    orientation: Orientation
    precautions: tuple[Precaution, ...]
    protocol_suggestions: tuple[ProtocolSuggestion, ...]
    reasons: tuple[Reason, ...]
    missing_information: tuple[str, ...]
    tasks: tuple[Task, ...]
    ruleset_version: str
    inputs_hash: str

    def precaution_codes(self) -> list[str]:
        return [p.code for p in self.precautions]

    def precaution(self, code: str) -> Precaution | None:
        return next((p for p in self.precautions if p.code == code), None)

    def rule_ids(self) -> list[str]:
        return [r.rule_id for r in self.reasons]


# ---------------------------------------------------------------------------------------------
# Settings (catalogue/triage_settings.yaml)
# ---------------------------------------------------------------------------------------------


class TriageSettings(_Data, frozen=True):
    chronic_episode_months: Setting[int]
    anxiety_gad7_threshold: Setting[int]
    low_resistance_min_failures: Setting[int]
    low_resistance_max_failures: Setting[int]
    high_resistance_definition: Setting[Literal["mtr_mdd", "msm"]]
    high_resistance_msm_min: Setting[int]
    mtr_mdd_min_antidepressant_failures: Setting[int]
    mtr_mdd_min_augmentation_failures: Setting[int]
    mtr_mdd_min_psychotherapy_failures: Setting[int]
    high_resistance_fallback_min_failures: Setting[int]
    cssrs_high_maps_to_urgent: Setting[bool]
    min_weeks_per_failed_trial: Setting[int]
    with_precautions_levels: Setting[tuple[PrecautionLevel, ...]]
    with_precautions_statuses: Setting[tuple[PrecautionStatus, ...]]


class ProtocolSettings(_Data, frozen=True):
    known_protocols: Setting[tuple[str, ...]]
    default_ranking: Setting[tuple[str, ...]]
    anxious_head: Setting[tuple[str, ...]]
    addiction_first: Setting[str]
    itbs_counts_as_high_frequency: Setting[bool]
    itbs_protocol: Setting[str]
    hf_left_protocol: Setting[str]
    nonresponse_hf_left_head: Setting[tuple[str, ...]]
    rule_order: Setting[tuple[str, ...]]
    accelerated_protocol: Setting[str]
    accelerated_requires_capabilities: Setting[tuple[str, ...]]
    post_ect_maintenance_protocol: Setting[str]


class CheckinSettings(_Data, frozen=True):
    substance_window_hours: Setting[int]


class ContractSettings(_Data, frozen=True):
    """How the API contract's simpler triage body maps onto :class:`TriageInput` (*design*)."""

    suicide_risk_map: Setting[dict[str, SuicidalRisk]]
    substance_map: Setting[dict[str, SubstanceCode]]
    diagnosis_map: Setting[dict[str, Diagnosis]]
    preference_map: Setting[dict[str, PatientPreference]]
    max_failed_adequate_trials: Setting[int]
    max_episode_months: Setting[int]


class ClinicalSettings(_Data, frozen=True):
    schema: str
    version: str
    triage: TriageSettings
    protocol: ProtocolSettings
    medication: MedicationSettings
    mt: MtSettings
    safety: SafetySettings
    checkin: CheckinSettings
    contract: ContractSettings
    precautions: dict[str, PrecautionDefinition]
    note: str = ""

    def precaution_level(self, code: str) -> PrecautionLevel:
        return self.precautions[code].level


class ClinicalCatalogues(msgspec.Struct, frozen=True):
    """The three clinical data files, loaded together (catalogue.loader_clinical.load_clinical_catalogues)."""

    screening: ScreeningCatalogue
    drugs: DrugCatalogue
    settings: ClinicalSettings
