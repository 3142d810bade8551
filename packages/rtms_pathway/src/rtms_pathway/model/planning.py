"""Course planning vocabulary (domain-rtms §7 course model and scheduling, §8.2 motor threshold).

Values that are clinical or site policy are data: ``catalogue/planning_settings.yaml`` fills
:class:`PlanningSettings` and ``catalogue/planning_templates.yaml`` the taper and maintenance
templates. Nothing here has a clinical default.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

from rtms_pathway.model.protocols import Confidence, IsiAnchor

__all__ = [
    "ACTIVE_STATUSES",
    "BlockProposal",
    "CheckinFlags",
    "ClassicStep",
    "ClusterSpec",
    "CoursePlan",
    "DeviceOutputCheck",
    "Extension",
    "IntensityRounding",
    "MaintenanceTemplate",
    "MissedSessionsAlert",
    "MonthlyCount",
    "MotorThresholdMeasurement",
    "MtAlert",
    "MtChangeCheck",
    "MtDecision",
    "MtMethod",
    "MtTask",
    "MtTrigger",
    "Phase",
    "PlanWarning",
    "PlannedSession",
    "PlanningSettings",
    "PlanningTemplates",
    "RelapseWindow",
    "SessionCounts",
    "SessionStatus",
    "SettingProvenance",
    "SkipAction",
    "SkipReason",
    "TaperTemplate",
    "WarningSeverity",
    "WeeklyPattern",
]

Phase = Literal["induction", "taper", "maintenance_classic", "maintenance_cluster", "rescue"]
SessionStatus = Literal[
    "planned",
    "checked_in",
    "on_hold",
    "delivered",
    "partially_delivered",
    "skipped",
    "cancelled",
    "superseded",
]
# Statuses that occupy a slot and count in the course numbering (R-SCH-06, R-SCH-08).
ACTIVE_STATUSES: frozenset[str] = frozenset({"planned", "checked_in", "on_hold", "delivered", "partially_delivered"})
SkipReason = Literal["patient_absent", "patient_ill", "device_fault", "staff_unavailable", "clinical_hold", "other"]
SkipAction = Literal["postpone", "skip_without_replacement"]
IntensityRounding = Literal["round_half_down", "round_half_up", "round_half_even", "floor", "ceil"]
WarningSeverity = Literal["info", "warning", "alert"]


# --- settings ---------------------------------------------------------------------------------


class SettingProvenance(msgspec.Struct, frozen=True, kw_only=True):
    """Where a setting comes from and how sure we are (§0.1)."""

    confidence: Confidence
    source: str
    alternative: str | None = None


class PlanningSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Typed view of ``planning_settings.yaml``; each field is the dotted key with ``_``.

    ``provenance`` is keyed by the dotted key (``mt.interval_days``); :meth:`to_verify` lists the
    keys still marked [to verify] (domain-rtms §13).
    """

    version: str
    mt_interval_days: int
    mt_high_risk_interval_days: int
    mt_change_confirm_pct: int
    mt_visual_twitch_emg_advice_pct_mt: int
    device_max_output_pct_mso: int
    sch_consecutive_missed_alert: int
    sch_induction_weeks_min: int
    sch_induction_weeks_max: int
    sch_full_week_days: int
    sch_extension_steps: list[int]
    sch_slot_granularity_min: int
    site_opening_time: dt.time
    site_closing_time: dt.time
    isi_default_min_isi_min: int
    isi_default_anchor: IsiAnchor
    maint_min_sessions_per_month: int
    maint_relapse_window_months: int
    maint_relapse_self_report_interval_days: int
    maint_horizon_months: int
    pro_duration_tolerance_pct: int
    pro_intensity_rounding: IntensityRounding
    provenance: dict[str, SettingProvenance]

    def to_verify(self) -> list[str]:
        return sorted(key for key, prov in self.provenance.items() if prov.confidence == "to_verify")


# --- templates (§7.4, §7.5) -------------------------------------------------------------------


class TaperTemplate(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """``weeks[i]`` lists the weekdays (Monday 0) of taper week ``i + 1``; empty for T-NONE."""

    id: str
    label_fr: str
    weeks: list[list[int]]
    sources: list[str]
    confidence: Confidence
    fact_confidence: dict[str, Confidence] = msgspec.field(default_factory=dict)
    notes: list[str] = msgspec.field(default_factory=list)


class ClassicStep(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """``count`` nominal dates ``every_days`` apart (``null`` count: until the planning horizon).

    ``every_days`` may be fractional (3.5 weeks = 24.5 days): nominal dates are computed exactly
    from the step's origin and floored to a day, so they never drift.
    """

    every_days: float
    count: int | None


class WeeklyPattern(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Sessions on ``weekdays`` of each ISO week for ``weeks`` weeks (``null``: until the horizon)."""

    weekdays: list[int]
    weeks: int | None


class ClusterSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Clustered sessions: ``day_sessions[i]`` sessions on consecutive working day ``i + 1``."""

    day_sessions: list[int]
    anchor: Literal["first_monday_of_month", "on_demand"]
    min_isi_min: int
    isi_anchor: IsiAnchor
    repeat: Literal["monthly", "once"]
    span_days_range: tuple[float, float] | None = None


class MaintenanceTemplate(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """§7.5. A classic template has ``steps`` or ``weekly``; a cluster or rescue one has ``cluster``."""

    id: str
    kind: Literal["classic", "cluster", "rescue"]
    label_fr: str
    sources: list[str]
    confidence: Confidence
    steps: list[ClassicStep] = msgspec.field(default_factory=list)
    weekly: WeeklyPattern | None = None
    cluster: ClusterSpec | None = None
    protocol_id: str | None = None
    then: Literal["individualise", "stop", "repeat"] = "individualise"
    fact_confidence: dict[str, Confidence] = msgspec.field(default_factory=dict)
    notes: list[str] = msgspec.field(default_factory=list)


class PlanningTemplates(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    version: str
    tapers: list[TaperTemplate]
    maintenance: list[MaintenanceTemplate]

    def taper(self, template_id: str) -> TaperTemplate:
        for template in self.tapers:
            if template.id == template_id:
                return template
        raise KeyError(template_id)

    def maintenance_template(self, template_id: str) -> MaintenanceTemplate:
        for template in self.maintenance:
            if template.id == template_id:
                return template
        raise KeyError(template_id)


# --- the plan ---------------------------------------------------------------------------------


class PlannedSession(msgspec.Struct, frozen=True, kw_only=True):
    """One planned session (R-SCH-08: planned date and slot; performed start and end).

    ``id`` is stable inside the plan; ``number`` is the session's rank among the course's active
    sessions (``index_in_course``) and is recomputed after every change, so after a postponed skip
    the following sessions move up one number. A skipped session keeps ``original_number``.
    """

    id: int
    phase: Phase
    date: dt.date
    slot: int
    start: dt.time
    end: dt.time
    protocol_ref: str
    status: SessionStatus = "planned"
    number: int | None = None
    index_in_phase: int | None = None
    original_number: int | None = None
    nominal_date: dt.date | None = None
    cluster: str | None = None
    replaces: int | None = None
    replaced_by: int | None = None
    skip_reason: SkipReason | None = None
    skip_action: SkipAction | None = None
    skip_note: str = ""
    performed_start: dt.datetime | None = None
    performed_end: dt.datetime | None = None
    superseded_by_course: int | None = None
    extension: int | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class PlanWarning(msgspec.Struct, frozen=True, kw_only=True):
    """A scheduling message; ``rule_id`` and ``source`` cite domain-rtms."""

    code: str
    rule_id: str
    severity: WarningSeverity
    message_fr: str
    message_en: str
    source: str
    dates: list[dt.date] = msgspec.field(default_factory=list)
    month: str | None = None


class BlockProposal(msgspec.Struct, frozen=True, kw_only=True):
    """R-SCH-05: the first start giving ``days`` consecutive working days."""

    requested_start: dt.date
    proposed_start: dt.date
    proposed_end: dt.date
    days: int
    splitting_days: list[dt.date]


class Extension(msgspec.Struct, frozen=True, kw_only=True):
    """R-SCH-09: ``count`` sessions added with a reason (audited by the caller)."""

    number: int
    count: int
    reason: str
    session_ids: list[int]


class CoursePlan(msgspec.Struct, frozen=True, kw_only=True):
    """A course (*cure*) and its planned sessions, every phase included (§7.1).

    ``planned_sessions`` is the induction target: a postponed skip keeps it, a skip without
    replacement lowers it, an extension raises it. The slot policy (opening hours, first start,
    grid, ISI and its anchor) is kept so that replacements and extensions land on the same grid.
    ``course_weekdays`` restricts a lower-frequency course (R-SCH-10) to some weekdays.
    """

    course_number: int
    protocol_id: str
    protocol_ref: str
    session_seconds: int
    sessions_per_day: int
    min_isi_min: int | None
    isi_anchor: IsiAnchor | None
    consecutive_days_required: bool
    course_weekdays: list[int] | None
    opening: dt.time
    closing: dt.time
    first_start: dt.time
    slot_granularity_min: int
    calendar_zone: str
    requested_start: dt.date
    planned_sessions: int
    sessions: list[PlannedSession]
    next_id: int
    warnings: list[PlanWarning] = msgspec.field(default_factory=list)
    extensions: list[Extension] = msgspec.field(default_factory=list)
    block_proposal: BlockProposal | None = None
    ruleset_version: str = ""

    def active_sessions(self, phase: Phase | None = None) -> list[PlannedSession]:
        """Active sessions in (date, slot) order, optionally of one phase."""
        chosen = [s for s in self.sessions if s.active and (phase is None or s.phase == phase)]
        return sorted(chosen, key=lambda s: (s.date, s.slot))

    def session(self, session_id: int) -> PlannedSession:
        for candidate in self.sessions:
            if candidate.id == session_id:
                return candidate
        raise KeyError(session_id)

    def by_number(self, number: int) -> PlannedSession:
        """The active session with course rank ``number``."""
        for candidate in self.sessions:
            if candidate.active and candidate.number == number:
                return candidate
        raise KeyError(number)

    @property
    def induction_end(self) -> dt.date | None:
        """Date of the last active induction session."""
        induction = self.active_sessions("induction")
        return induction[-1].date if induction else None


class SessionCounts(msgspec.Struct, frozen=True, kw_only=True):
    """R-SCH-08 planned vs performed counts for one phase or the whole course."""

    target: int | None
    scheduled: int
    delivered: int
    partially_delivered: int
    performed: int
    remaining: int
    skipped: int
    cancelled: int
    superseded: int


class MissedSessionsAlert(msgspec.Struct, frozen=True, kw_only=True):
    """R-SCH-07: a run of consecutive planned days all missed."""

    rule_id: str
    days: list[dt.date]
    threshold: int
    message_fr: str
    message_en: str
    source: str


class MonthlyCount(msgspec.Struct, frozen=True, kw_only=True):
    """Maintenance sessions in one calendar month (``YYYY-MM``), R-SCH-12."""

    month: str
    sessions: int
    dose_low: bool


class RelapseWindow(msgspec.Struct, frozen=True, kw_only=True):
    """R-SCH-13: from ``opens_on`` the self-report cadence is every ``self_report_interval_days``."""

    rule_id: str
    induction_end: dt.date
    opens_on: dt.date
    self_report_interval_days: int
    message_fr: str
    message_en: str
    source: str


# --- motor threshold (§8.2) --------------------------------------------------------------------

MtMethod = Literal["emg_mep", "visual_twitch", "accelerometry", "algorithmic_pest", "algorithmic_samt"]
MtTrigger = Literal[
    "course_start",
    "weekly",
    "medication_change",
    "checkin_flag",
    "device_change",
    "physician_request",
    "daily_policy",
]


class MotorThresholdMeasurement(msgspec.Struct, frozen=True, kw_only=True):
    """§8.2 ``MotorThresholdMeasurement``; ``date_time`` is local (Europe/Paris) or aware."""

    date_time: dt.datetime
    value_pct_mso: float
    method: MtMethod
    mep_criterion: str = ""
    muscle: Literal["APB", "FDI", "other"] = "APB"
    hemisphere: Literal["left", "right"] = "left"
    coil_id: str = ""
    device_id: str = ""
    operator: str = ""
    trigger: MtTrigger = "course_start"


class CheckinFlags(msgspec.Struct, frozen=True, kw_only=True):
    """Check-in answers relevant to R-MT-03 (§3.4); ``medication_change`` means a §4 drug changed."""

    medication_change: bool = False
    sleep_deprivation: bool = False
    alcohol: bool = False
    physician_request: bool = False


class MtDecision(msgspec.Struct, frozen=True, kw_only=True):
    """Whether an MT measurement is due before a session, and why."""

    due: bool
    triggers: list[MtTrigger]
    rule_ids: list[str]
    interval_days: int
    days_since_last: int | None
    reasons_fr: list[str]
    reasons_en: list[str]


class MtAlert(msgspec.Struct, frozen=True, kw_only=True):
    """An MT alert or advice (R-MT-05, R-MT-06, R-MT-07)."""

    code: str
    rule_id: str
    message_fr: str
    message_en: str
    source: str
    options: list[str] = msgspec.field(default_factory=list)


class MtChangeCheck(msgspec.Struct, frozen=True, kw_only=True):
    """R-MT-06: relative change of the new MT against the previous one (exact fraction as text)."""

    relative_change: str
    relative_change_pct: float
    confirm_required: bool
    alert: MtAlert | None


class DeviceOutputCheck(msgspec.Struct, frozen=True, kw_only=True):
    """R-MT-05: the output a prescription needs against the device maximum. Never capped:
    ``required_pct_mso`` may exceed the maximum, and then ``alert`` is set."""

    required_pct_mso_exact: str
    required_pct_mso: int
    device_max_pct_mso: int
    exceeded: bool
    pct_mt_at_device_max: float | None
    alert: MtAlert | None


class MtTask(msgspec.Struct, frozen=True, kw_only=True):
    """An MT measurement to do before the given planned session (R-SCH-11)."""

    session_id: int
    number: int | None
    date: dt.date
    trigger: MtTrigger
    rule_id: str
