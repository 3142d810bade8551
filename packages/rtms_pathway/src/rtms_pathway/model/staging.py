"""Treatment history and resistance staging vocabulary (domain-rtms §5).

``TreatmentTrial`` is what the team records (§5.1); the ``*Assessment``/``*Result`` structs are
what the staging rules compute from it (§5.2–§5.5). ``StagingSettings`` is the typed view of
``catalogue/staging_settings.yaml``: every clinical threshold arrives from that file, with its
confidence marker, never from a constant in the rules.

``Explanation``, ``SettingProvenance`` and ``Confidence`` are shared by the MBC and session
vocabularies too (they import them from here).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

import msgspec

from shared_core.text import fold

Confidence = Literal["verified", "to_verify", "conflict", "design"]

Modality = Literal["antidepressant", "augmentation", "psychotherapy", "ect", "rtms", "esketamine", "other"]
PharmClass = Literal[
    "ssri", "snri", "tca", "maoi", "mirtazapine_like", "other_ad", "antipsychotic_aug", "lithium_aug", "other_aug"
]
Adherence = Literal["good", "partial", "poor", "unknown"]
TrialOutcome = Literal["remission", "response_ge50", "partial_25_49", "non_response_lt25", "intolerance", "unknown"]
StopReason = Literal["inefficacy", "intolerance", "patient_choice", "remission", "other"]
EctLaterality = Literal["bilateral", "right_unilateral", "unknown"]
TrialSource = Literal["patient", "records", "referrer"]
Diagnosis = Literal["unipolar", "bipolar_i", "bipolar_ii"]
MsmSeverity = Literal["subsyndromal", "mild", "moderate", "severe_without_psychosis", "severe_with_psychosis"]
FailureDefinition = Literal["has", "eu_pearl"]
HighResistanceDefinition = Literal["mtr_mdd", "msm"]
# How the dose of a trial was judged against the molecule table (R-STG-01).
DoseCheck = Literal[
    "met", "below_minimum", "confirmed_by_clinician", "unknown_molecule", "unit_mismatch", "dose_missing",
    "not_applicable",
]
# Improvement band of a trial, from ``improvement_pct`` when given, else from ``outcome``.
ResponseBand = Literal["remission", "response", "partial", "non_response", "not_evaluable"]
ThaseRushStage = Literal[0, 1, 2, 3, 4, 5]


class Explanation(msgspec.Struct, frozen=True):
    """Why a rule decided what it did, citing its id and the specification section."""

    rule_id: str
    source: str
    text_fr: str
    text_en: str


class SettingProvenance(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Confidence marker of one setting (domain-rtms §0.1); ``alternative`` documents a conflict."""

    confidence: Confidence
    source: str
    alternative: str | None = None


class TreatmentTrial(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One treatment trial (domain-rtms §5.1). Doses and durations are exact decimals."""

    episode_id: str
    modality: Modality
    agent: str
    trial_id: str | None = None
    atc: str | None = None
    pharm_class: PharmClass | None = None
    start_date: date | None = None
    end_date: date | None = None
    max_daily_dose: Decimal | None = None
    unit: str | None = None
    weeks_at_adequate_dose: Decimal | None = None
    adherence: Adherence = "unknown"
    outcome: TrialOutcome = "unknown"
    improvement_pct: Decimal | None = None
    improvement_scale: str | None = None
    stop_reason: StopReason | None = None
    sessions: int | None = None
    ect_laterality: EctLaterality | None = None
    rtms_protocol_id: str | None = None
    course_number: int | None = None
    source: TrialSource | None = None
    # Agent of the antidepressant an augmentation was added to (e.g. lithium added to venlafaxine).
    augments_agent: str | None = None
    # Physician confirmation that the dose was adequate when the molecule table cannot say
    # (molecule absent, other unit): the Maudsley Treatment Inventory judgement (FEKADU18).
    dose_confirmed_adequate: bool | None = None


class TrialAssessment(msgspec.Struct, frozen=True):
    """Derived, versioned flags of one trial (§5.1 "derived"), each with its explanation."""

    index: int
    agent: str
    modality: Modality
    pharm_class: PharmClass | None
    in_current_episode: bool
    adequate: bool | None  # None: adequacy does not apply (psychotherapy)
    dose_check: DoseCheck
    response_band: ResponseBand
    failure_eu_pearl: bool  # antidepressant trials only (R-STG-03)
    failure_has: bool  # antidepressant trials only (R-STG-04)
    intolerance: bool
    # Insufficient response under ``stg.failure_definition``, for every modality: what MSM,
    # Thase-Rush, MTR-MDD and bipolar TRD count (augmentation, psychotherapy and ECT included).
    treatment_failure: bool
    explanations: tuple[Explanation, ...]
    needs_review: bool = False


class DefinitionFlag(msgspec.Struct, frozen=True):
    """A computed TRD definition (§5.3). ``value`` None: a clinician-assigned label (``dtd``)."""

    code: Literal["trd_has", "trd_fr_classes", "trd_eu_pearl", "prd_eu_pearl", "mtr_mdd", "dtd", "bipolar_trd"]
    value: bool | None
    confidence: Confidence
    explanation: Explanation


class MsmDimension(msgspec.Struct, frozen=True):
    code: Literal["duration", "severity", "antidepressant_failures", "augmentation", "ect"]
    category: str
    points: int
    text_fr: str
    text_en: str


class MsmResult(msgspec.Struct, frozen=True):
    """Maudsley Staging Method (§5.4). ``total`` None when not applicable (0 failures)."""

    total: int | None
    band: Literal["mild", "moderate", "severe"] | None
    dimensions: tuple[MsmDimension, ...]
    explanation: Explanation
    above_trd_cutoff: bool | None = None


class ThaseRushResult(msgspec.Struct, frozen=True):
    stage: ThaseRushStage
    label: Literal["0", "I", "II", "III", "IV", "V"]
    failed_classes: tuple[str, ...]
    explanation: Explanation


class HighResistance(msgspec.Struct, frozen=True):
    """R-TRI-08 input: which definition was used and whether it is met."""

    value: bool
    definition: HighResistanceDefinition
    confidence: Confidence
    explanation: Explanation


class ChecklistItemState(msgspec.Struct, frozen=True):
    code: str
    label_fr: str
    label_en: str
    # None: not yet reviewed; True: present (possible pseudo-resistance); False: ruled out.
    present: bool | None


class PseudoResistanceChecklist(msgspec.Struct, frozen=True):
    items: tuple[ChecklistItemState, ...]
    complete: bool
    any_present: bool
    explanation: Explanation


class StagingResult(msgspec.Struct, frozen=True):
    ruleset_version: str
    trials: tuple[TrialAssessment, ...]
    antidepressant_failures_has: int
    antidepressant_failures_eu_pearl: int
    intolerance_count: int
    flags: tuple[DefinitionFlag, ...]
    trd: bool  # the site's headline TRD flag: trd_has, or trd_fr_classes when classes are required
    msm: MsmResult
    thase_rush: ThaseRushResult
    high_resistance: HighResistance
    checklist: PseudoResistanceChecklist
    explanations: tuple[Explanation, ...]

    def flag(self, code: str) -> DefinitionFlag:
        for item in self.flags:
            if item.code == code:
                return item
        raise KeyError(code)


# -- settings (typed view of catalogue/staging_settings.yaml) -------------------------------


class MoleculeDose(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Minimal effective dose of one molecule (§5.1; §13 #10: every row is [to verify])."""

    agent: str
    pharm_class: PharmClass
    min_effective_dose: Decimal
    unit: str
    confidence: Confidence
    source: str
    # Other spellings (French DCI, brand-free variants), compared accent- and case-insensitively.
    aliases: tuple[str, ...] = ()


class MsmCategory(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Points for values up to ``max`` inclusive (None: no upper bound)."""

    max: int | None
    points: int
    label_fr: str
    label_en: str


class MsmBand(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    code: Literal["mild", "moderate", "severe"]
    min: int
    max: int
    label_fr: str
    label_en: str


class MsmTable(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    duration_months: tuple[MsmCategory, ...]
    severity: dict[MsmSeverity, int]
    antidepressant_failures: tuple[MsmCategory, ...]
    augmentation_used: int
    ect_used: int
    bands: tuple[MsmBand, ...]
    confidence: Confidence
    source: str


class ChecklistItem(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    code: str
    label_fr: str
    label_en: str


class StagingSettings(msgspec.Struct, frozen=True):
    version: str
    min_weeks: int
    has_failure_below_pct: int
    eu_pearl_failure_below_pct: int
    response_pct: int
    require_different_classes: bool
    failure_definition: FailureDefinition
    eu_pearl_counts_augmentation: bool
    high_resistance_definition: HighResistanceDefinition
    high_resistance_msm_min: int
    msm_trd_cutoff: Decimal
    mtr_min_antidepressant_failures: int
    mtr_min_augmentation_failures: int
    mtr_min_psychotherapy_failures: int
    evidence_based_psychotherapies: tuple[str, ...]
    prd_min_partial_trials: int
    bipolar_trd_min_failures: int
    msm: MsmTable
    molecules: tuple[MoleculeDose, ...]
    pseudo_resistance: tuple[ChecklistItem, ...]
    provenance: dict[str, SettingProvenance]

    def confidence(self, key: str) -> Confidence:
        return self.provenance[key].confidence

    def molecule(self, agent: str) -> MoleculeDose | None:
        wanted = fold(agent)
        for row in self.molecules:
            if wanted == fold(row.agent) or wanted in {fold(alias) for alias in row.aliases}:
                return row
        return None

    @property
    def to_verify(self) -> list[str]:
        """Settings still marked [to verify] (domain-rtms §13), for the admin page."""
        keys = [key for key, prov in self.provenance.items() if prov.confidence == "to_verify"]
        keys += [f"molecules.{row.agent}" for row in self.molecules if row.confidence == "to_verify"]
        if self.msm.confidence == "to_verify":
            keys.append("msm")
        return keys


class StagingInput(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What the staging rules need about one patient's current episode.

    The episode duration comes from ``episode_start`` (with the staging date given to the rule)
    or, when only a month count is known (triage form), from ``episode_months``.
    ``pseudo_resistance`` maps checklist codes (R-STG-06) to True (present) / False (ruled out).
    ``dtd`` is the clinician-assigned "difficult-to-treat depression" label (never computed).
    """

    current_episode_id: str
    diagnosis: Diagnosis
    severity: MsmSeverity
    trials: tuple[TreatmentTrial, ...] = ()
    episode_start: date | None = None
    episode_months: int | None = None
    pseudo_resistance: dict[str, bool] = msgspec.field(default_factory=dict)
    dtd: bool | None = None
