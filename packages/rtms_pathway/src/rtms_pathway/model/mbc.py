"""Measurement-based care vocabulary (domain-rtms §10).

``MbcSettings`` is the typed view of ``catalogue/mbc_settings.yaml`` (``mbc.*``); the other
structs are the inputs and the explained outputs of ``rtms_pathway.rules.mbc``.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

import msgspec

from rtms_pathway.model.staging import Confidence, Explanation, SettingProvenance
from shared_core.rules.progress import ProgressStatus

__all__ = [
    "Assessment",
    "AssessmentDue",
    "BaselineResult",
    "Divergence",
    "EndOfCourseResult",
    "MaintenancePlanKind",
    "MbcSettings",
    "ProgressStatus",
    "Prompt",
    "RelapseCheck",
    "RelapseCriterion",
    "RelapseCutoff",
    "ScaleMeasure",
    "ScaleStatus",
    "SwitchRule",
    "TimePoint",
    "YmrsCheck",
]

TimePoint = Literal["baseline", "induction", "end_of_course", "maintenance", "follow_up"]
RelapseCriterion = Literal["baseline_band", "gain_loss", "scale_cutoff"]
MaintenancePlanKind = Literal["none", "classic", "cluster"]


class Assessment(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A scored administration of a scale (the total is already computed, R-SCL-05)."""

    scale: str
    total: int
    administered_on: date
    assessment_id: str | None = None


class ScaleMeasure(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Course baseline and current total on one scale."""

    scale: str
    baseline: int
    current: int


class BaselineResult(msgspec.Struct, frozen=True):
    """R-MBC-01: the course baseline, or None when no assessment fell in the window."""

    assessment: Assessment | None
    window_start: date
    window_end: date
    explanation: Explanation


class ScaleStatus(msgspec.Struct, frozen=True):
    """R-MBC-02/R-MBC-04 status on one scale, the improvement kept exact (numerator/denominator)."""

    scale: str
    baseline: int
    current: int
    status: ProgressStatus
    improvement_numerator: int | None
    improvement_denominator: int | None
    improvement_pct: float | None  # rounded for display only (one decimal, half away from zero)
    is_response: bool  # improvement >= the response threshold, whatever the status (S6: remission and response)
    baseline_band: str | None
    current_band: str | None
    explanation: Explanation


class Divergence(msgspec.Struct, frozen=True):
    scale: str
    status: ProgressStatus
    primary_scale: str
    primary_status: ProgressStatus
    text_fr: str
    text_en: str


class EndOfCourseResult(msgspec.Struct, frozen=True):
    """R-MBC-05: the primary scale decides; secondary scales are shown and divergences flagged."""

    status: ProgressStatus
    primary: ScaleStatus
    secondaries: tuple[ScaleStatus, ...]
    divergences: tuple[Divergence, ...]
    explanation: Explanation


class Prompt(msgspec.Struct, frozen=True):
    """A suggestion to the physician (never an automatic action, domain-rtms §0.3 principle 1).

    ``fired`` False still explains why the rule did not prompt. ``options`` are codes the UI offers
    (extension sizes, protocol ids, maintenance kinds, template ids).
    """

    code: str
    fired: bool
    rule_id: str
    source: str
    text_fr: str
    text_en: str
    options: tuple[str, ...] = ()
    letter_paragraph_fr: str | None = None
    letter_paragraph_en: str | None = None
    confidence: Confidence = "verified"


class RelapseCheck(msgspec.Struct, frozen=True):
    """R-MBC-10: "possible relapse" when any criterion (a), (b), (c) holds after a response."""

    possible_relapse: bool
    criteria: tuple[RelapseCriterion, ...]
    loss_of_gain_numerator: int | None
    loss_of_gain_denominator: int | None
    loss_of_gain_pct: float | None
    explanations: tuple[Explanation, ...]
    task_fr: str | None = None
    task_en: str | None = None


class YmrsCheck(msgspec.Struct, frozen=True):
    """R-MBC-13 with the §9.4 triggers: physician review before the next session."""

    review_before_next_session: bool
    triggers: tuple[Literal["ymrs_absolute", "ymrs_rise", "checkin_mood_elevation"], ...]
    explanation: Explanation
    confidence: Confidence


class AssessmentDue(msgspec.Struct, frozen=True):
    """One planned assessment task generated from the course plan (§10.1, R-SCH-11)."""

    time_point: TimePoint
    due_on: date
    window_start: date
    window_end: date
    scales: tuple[str, ...]
    rule_id: str
    label_fr: str
    label_en: str
    after_session: int | None = None
    months_after_end: int | None = None


# -- settings (typed view of catalogue/mbc_settings.yaml) ------------------------------------


class RelapseCutoff(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """R-MBC-10 (c): a scale-specific relapse cut-off, reached when total >= ``min``."""

    scale: str
    min: int
    confidence: Confidence
    source: str


class SwitchRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """R-MBC-07: protocols to suggest after non-response to any protocol of ``from_protocols``."""

    from_protocols: tuple[str, ...]
    suggest: tuple[str, ...]
    confidence: Confidence
    source: str


class MbcSettings(msgspec.Struct, frozen=True):
    version: str
    early_sessions: int
    early_min_pct: int
    response_pct: int
    partial_low_pct: int
    adequate_course_sessions: int
    residual_gad7: int
    relapse_gain_loss_pct: int
    baseline_window_days: int
    end_window_days: int
    extension_sessions: tuple[int, ...]
    rescue_template: str
    rescue_sessions: int
    ymrs_absolute: int
    ymrs_rise: int
    primary_scale: str
    self_report_scale: str
    anxiety_scale: str
    risk_scale: str
    mania_scale: str
    induction_self_every_sessions: int
    induction_clinician_after_sessions: tuple[int, ...]
    follow_up_self_months: tuple[int, ...]
    follow_up_clinician_months: tuple[int, ...]
    maintenance_self_every_months: int
    maintenance_clinician_every_months: int
    relapse_window_months: int
    relapse_window_self_every_days: int
    follow_up_window_days: int
    horizon_months: int
    relapse_cutoffs: tuple[RelapseCutoff, ...]
    switch_map: tuple[SwitchRule, ...]
    provenance: dict[str, SettingProvenance]

    def confidence(self, key: str) -> Confidence:
        return self.provenance[key].confidence

    @property
    def to_verify(self) -> list[str]:
        keys = [key for key, prov in self.provenance.items() if prov.confidence == "to_verify"]
        keys += [f"relapse_cutoffs.{c.scale}" for c in self.relapse_cutoffs if c.confidence == "to_verify"]
        keys += [f"switch_map[{i}]" for i, r in enumerate(self.switch_map) if r.confidence == "to_verify"]
        return keys
