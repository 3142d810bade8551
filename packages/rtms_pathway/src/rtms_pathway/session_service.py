"""Session-day use cases (domain-rtms §8, §10.2 R-MBC-03): the centre's sessions of a day, recording a
delivered session, a motor threshold, an adverse event, and the course board with its checkpoint prompt.

Every function loads through ``load_patient`` (the actor's centre only), runs the pure rules, writes
and audits in one transaction. Operators and psychiatrists record; plan changes are in ``course_edits``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast, get_args
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import Connection, Row, Select, bindparam, insert, select, update
from sqlalchemy.orm import Session

from rtms_pathway.catalogue.loader_planning import load_planning_settings, load_protocol_catalogue
from rtms_pathway.catalogue.loader_staging import load_mbc_settings, load_session_settings
from rtms_pathway.course_edits import (
    SKIP_REASONS,
    LoadedPlan,
    WarningView,
    load_course,
    load_plan,
)
from rtms_pathway.form_reader import FormReader
from rtms_pathway.model.mbc import Assessment as MbcAssessment
from rtms_pathway.model.planning import CheckinFlags, MotorThresholdMeasurement, MtMethod, MtTrigger
from rtms_pathway.model.protocols import ProtocolDefinition, TargetingMethod
from rtms_pathway.model.sessions import (
    AdverseEvent,
    AdverseEventAction,
    AdverseEventOnset,
    AdverseEventSeverity,
    AdverseEventType,
    Interruption,
    InterruptionReason,
    MtReference,
    Relatedness,
    SeizureSyncopeForm,
    SessionDelivery,
    SessionPrescription,
)
from rtms_pathway.model.staging import Explanation
from rtms_pathway.rules.mbc import course_baseline, early_checkpoint
from rtms_pathway.rules.motor_threshold import check_device_max, check_mt_change, mt_due, visual_twitch_advice
from rtms_pathway.rules.protocols import session_seconds_int
from rtms_pathway.rules.scheduling import missed_sessions_alerts
from rtms_pathway.rules.sessions import (
    FORM_CLOSURE_FIELDS,
    FORM_INITIAL_FIELDS,
    check_delivery,
    check_seizure_syncope_form,
    expected_intensity_pct_mso,
    sae_decision,
    seizure_syncope_form_required,
)
from rtms_pathway.session_tables import AdverseEventRow, MotorThresholdRow, SessionRecordRow
from rtms_pathway.tables import Course, PlannedSessionRow
from shared_core.actors import Actor
from shared_core.calendar import WorkingCalendar
from shared_core.db import Database, utcnow
from shared_core.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from shared_core.ids import new_id
from shared_core.scales import load_catalogue
from shared_core.services import audit
from shared_core.services.patients import load_patient
from shared_core.tables import Assessment, Patient

PARIS = ZoneInfo("Europe/Paris")
RECORDING_ROLES = frozenset({"psychiatrist", "operator"})
OPEN_COURSE_STATUSES = ("planned", "active", "suspended")
TARGETING_METHODS: tuple[str, ...] = get_args(TargetingMethod)
MT_METHODS: tuple[str, ...] = get_args(MtMethod)
MT_TRIGGERS: tuple[str, ...] = get_args(MtTrigger)
INTERRUPTION_REASONS: tuple[str, ...] = get_args(InterruptionReason)
AE_TYPES: tuple[str, ...] = get_args(AdverseEventType)
AE_ONSETS: tuple[str, ...] = get_args(AdverseEventOnset)
AE_SEVERITIES: tuple[str, ...] = get_args(AdverseEventSeverity)
AE_ACTIONS: tuple[str, ...] = get_args(AdverseEventAction)
RELATEDNESS: tuple[str, ...] = get_args(Relatedness)
SEMIOLOGIES = ("focal", "generalised", "tonic_clonic")
ADJUDICATIONS = ("seizure", "convulsive_syncope", "non_epileptic", "uncertain")
CONTINUATIONS = ("continue", "continue_modified", "stop")
# Check-in answers that hold the session for a physician (R-SAF-04), plus the two IFCN screening items
# (new implant, possible pregnancy) that must be reviewed by a physician before stimulating (§3.2).
HOLD_FLAGS = ("checkin_medication_change", "checkin_sleep_deprivation", "checkin_alcohol",
              "checkin_seizure_or_syncope", "checkin_new_device", "checkin_possible_pregnancy")
CHECKIN_FLAGS = (*HOLD_FLAGS, "checkin_metal_removed")


# --- views ------------------------------------------------------------------------------------------


class ExplanationView(msgspec.Struct, frozen=True):
    rule_id: str
    source: str
    text_fr: str
    text_en: str


class AlertView(msgspec.Struct, frozen=True):
    code: str
    rule_id: str
    message_fr: str
    message_en: str
    source: str


class PrescriptionView(msgspec.Struct, frozen=True):
    protocol_ref: str
    label_fr: str
    label_en: str
    frequency_hz: str | None
    intensity_pct_mt: int
    pulses: int
    trains: int
    duration_s: int
    targeting_method: str
    coil_type: str


class MtView(msgspec.Struct, frozen=True):
    id: str
    measured_at: dt.datetime
    value_pct_mso: int
    method: str
    device_id: str
    coil_id: str
    trigger: str
    measured_by: str
    relative_change_pct: float | None
    confirm_required: bool
    alerts: list[AlertView]


class MtDueView(msgspec.Struct, frozen=True):
    due: bool
    rule_ids: list[str]
    reasons_fr: list[str]
    reasons_en: list[str]


class DeviceCheckView(msgspec.Struct, frozen=True):
    required_pct_mso: int
    device_max_pct_mso: int
    exceeded: bool
    alert: AlertView | None


class CourseSummary(msgspec.Struct, frozen=True):
    id: str
    patient_id: str
    course_number: int
    protocol_ref: str
    status: str
    version: int


class PlannedView(msgspec.Struct, frozen=True):
    id: str
    number: int
    date: dt.date
    slot: int
    phase: str
    status: str


class SessionRecordView(msgspec.Struct, frozen=True):
    id: str
    planned_session_id: str
    session_number: int
    status: str
    performed_on: dt.date
    performed_start: dt.datetime
    intensity_pct_mt: int
    intensity_pct_mso: int
    pulses_delivered: int
    trains_delivered: int
    frequency_hz: str | None
    duration_s: int | None
    device_id: str
    coil_id: str
    mt_value_pct_mso: int | None
    operator_id: str
    held_checkin: list[str]
    released_by: str | None
    notes: str | None
    version: int
    explanations: list[ExplanationView]


class CheckpointView(msgspec.Struct, frozen=True):
    """R-MBC-03 at the course's current count. ``state``: not_reached | review_protocol | no_prompt |
    assessment_due | baseline_missing. A prompt to review, never a stop."""

    state: str
    sessions_delivered: int
    threshold: int
    scale: str | None
    baseline: int | None
    current: int | None
    improvement_pct: float | None
    text_fr: str
    text_en: str
    source: str

    @property
    def reached(self) -> bool:
        return self.state != "not_reached"


class SessionForm(msgspec.Struct, frozen=True):
    patient_id: str
    patient_name: str
    course: CourseSummary
    planned: PlannedView
    prescription: PrescriptionView
    last_mt: MtView | None
    mt_due: MtDueView
    device_check: DeviceCheckView | None
    record: SessionRecordView | None
    defaults: dict[str, str]
    checkpoint: CheckpointView


class TodayEntry(msgspec.Struct, frozen=True):
    patient_id: str
    patient_name: str
    course_id: str
    course_number: int
    course_status: str
    protocol_ref: str
    planned_session_id: str
    number: int
    slot: int
    phase: str
    status: str
    delivered: bool
    mt_due: bool
    checkpoint: CheckpointView


class TodayView(msgspec.Struct, frozen=True):
    day: dt.date
    entries: list[TodayEntry]

    @property
    def remaining(self) -> int:
        return sum(1 for e in self.entries if not e.delivered and e.status == "planned")


class AdverseEventView(msgspec.Struct, frozen=True):
    id: str
    type: str
    onset: str
    severity: str
    serious: bool
    action: str
    relatedness: str
    session_number: int | None
    reported_at: dt.datetime
    sae_required: bool
    form_required: bool
    form_initial_complete: bool
    form_complete: bool
    missing_initial: list[str]
    missing_closure: list[str]
    form: dict[str, Any] | None
    version: int
    decision: ExplanationView | None


class BoardSession(msgspec.Struct, frozen=True):
    """One planned session beside what was performed (R-SCH-08)."""

    id: str
    number: int
    date: dt.date
    slot: int
    phase: str
    status: str
    skip_reason: str | None
    replaced_by_date: dt.date | None
    replaces_date: dt.date | None
    extension: int | None
    record: SessionRecordView | None


class CourseBoard(msgspec.Struct, frozen=True):
    course: CourseSummary
    induction_sessions: int
    start_date: dt.date
    sessions: list[BoardSession]
    delivered: int
    skipped: int
    remaining: int
    checkpoint: CheckpointView
    motor_thresholds: list[MtView]
    adverse_events: list[AdverseEventView]
    alerts: list[WarningView]

    @property
    def end_date(self) -> dt.date | None:
        dates = [s.date for s in self.sessions if s.status not in ("skipped", "superseded", "cancelled")]
        return max(dates) if dates else None


# --- prescription -----------------------------------------------------------------------------------


def _definition(course: Course) -> ProtocolDefinition:
    return load_protocol_catalogue().by_ref(course.protocol_ref)


def _decimal_text(value: float | None) -> str | None:
    if value is None:
        return None
    return format(Decimal(str(value)).normalize(), "f")


def prescription_of(definition: ProtocolDefinition) -> tuple[SessionPrescription, PrescriptionView]:
    """The session prescription snapshot from the protocol version (every block summed)."""
    first = definition.blocks[0]
    pulses = sum(b.pulses for b in definition.blocks)
    trains = sum(b.n_trains if b.n_trains is not None else 1 for b in definition.blocks)
    intensity = round(first.intensity_pct_mt)
    frequency = _decimal_text(first.frequency_hz)
    prescription = SessionPrescription(
        protocol_id=definition.id, protocol_version=str(definition.version), trains=trains, pulses=pulses,
        intensity_pct_mt=intensity, pattern=definition.pattern,
        frequency_hz=Decimal(frequency) if frequency is not None else None)
    view = PrescriptionView(definition.ref, definition.label_fr, definition.name, frequency, intensity, pulses,
                            trains, definition.declared_duration_s or session_seconds_int(definition),
                            first.targeting_method, first.coil_type)
    return prescription, view


# --- motor thresholds -------------------------------------------------------------------------------


def _alert(code: str, rule_id: str, fr: str, en: str, source: str) -> AlertView:
    return AlertView(code, rule_id, fr, en, source)


def _mt_view(row: MotorThresholdRow) -> MtView:
    change = None
    if row.relative_change is not None:
        numerator, _, denominator = row.relative_change.partition("/")
        change = round(int(numerator) * 100 / int(denominator or "1"), 1)
    alerts = [msgspec.convert(a, AlertView) for a in row.alerts]
    return MtView(row.id, row.measured_at, row.value_pct_mso, row.method, row.device_id, row.coil_id, row.trigger,
                  row.measured_by, change, row.confirm_required, alerts)


def _course_mts(session: Session, course_id: str) -> list[MotorThresholdRow]:
    return list(session.scalars(select(MotorThresholdRow).where(MotorThresholdRow.course_id == course_id)
                                .order_by(MotorThresholdRow.measured_at, MotorThresholdRow.id)))


def _latest_mt_before(*columns: Any) -> Select[*tuple[Any, ...]]:
    return (select(*columns)
            .where(MotorThresholdRow.course_id == bindparam("course_id"),
                   MotorThresholdRow.measured_at < bindparam("before"))
            .order_by(MotorThresholdRow.measured_at.desc(), MotorThresholdRow.id.desc()).limit(1))


_LAST_MT = _latest_mt_before(MotorThresholdRow)
# What a session record keeps of its MT, without loading the row: recording sessions is the write a
# centre makes most.
_LAST_MT_REFERENCE = _latest_mt_before(MotorThresholdRow.id, MotorThresholdRow.value_pct_mso,
                                       MotorThresholdRow.measured_at, MotorThresholdRow.method)


def _end_of_local_day(on: dt.date) -> dt.datetime:
    """The first instant after ``on`` in Paris (midnight exists on every French DST change day)."""
    return dt.datetime.combine(on + dt.timedelta(days=1), dt.time(), PARIS).astimezone(dt.UTC)


def _last_mt(session: Session, course_id: str, on: dt.date) -> MotorThresholdRow | None:
    """The course's latest MT measured on or before ``on`` (local day)."""
    return session.scalars(_LAST_MT, {"course_id": course_id, "before": _end_of_local_day(on)}).first()


def _last_mt_reference(connection: Connection, course_id: str, on: dt.date) -> MtReference | None:
    """:func:`_last_mt` as the session rules take it."""
    found = connection.execute(_LAST_MT_REFERENCE, {"course_id": course_id, "before": _end_of_local_day(on)}).first()
    return _mt_reference(found) if found is not None else None


def _mt_reference(row: MotorThresholdRow | Row[*tuple[Any, ...]]) -> MtReference:
    return MtReference(value_pct_mso=row.value_pct_mso, measured_on=row.measured_at.astimezone(PARIS).date(),
                       method=cast(MtMethod, row.method), measurement_id=row.id)


def _measurement(row: MotorThresholdRow) -> MotorThresholdMeasurement:
    return MotorThresholdMeasurement(date_time=row.measured_at.astimezone(PARIS), value_pct_mso=row.value_pct_mso,
                                     method=cast(MtMethod, row.method), coil_id=row.coil_id, device_id=row.device_id)


def _mt_due(session: Session, course: Course, on: dt.date, flags: CheckinFlags | None = None) -> MtDueView:
    last = _last_mt(session, course.id, on)
    delivered_before = session.scalar(select(SessionRecordRow.id).where(SessionRecordRow.course_id == course.id)
                                      .limit(1))
    decision = mt_due(session_date=on, last_mt=_measurement(last) if last else None,
                      first_session_of_course=delivered_before is None and last is None,
                      settings=load_planning_settings(), checkin=flags)
    # An MT measured on the session day answers every trigger of that day.
    if last is not None and last.measured_at.astimezone(PARIS).date() == on and not (flags and _flagged(flags)):
        return MtDueView(False, [], [], [])
    return MtDueView(decision.due, decision.rule_ids, decision.reasons_fr, decision.reasons_en)


def _flagged(flags: CheckinFlags) -> bool:
    return flags.medication_change or flags.sleep_deprivation or flags.alcohol


def _device_check(mt_value: int | None, prescription: SessionPrescription) -> DeviceCheckView | None:
    if mt_value is None:
        return None
    check = check_device_max(mt_value, prescription.intensity_pct_mt, load_planning_settings())
    alert = check.alert
    return DeviceCheckView(check.required_pct_mso, check.device_max_pct_mso, check.exceeded,
                           _alert(alert.code, alert.rule_id, alert.message_fr, alert.message_en, alert.source)
                           if alert else None)


# --- form parsing -------------------------------------------------------------------------------------


def _local(day: dt.date, at: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, at, PARIS).astimezone(dt.UTC)


# --- reading helpers ----------------------------------------------------------------------------------


def _summary(course: Course) -> CourseSummary:
    return CourseSummary(course.id, course.patient_id, course.course_number, course.protocol_ref, course.status,
                         course.version)


def _record_view(row: SessionRecordRow | SimpleNamespace) -> SessionRecordView:
    held = [flag for flag in HOLD_FLAGS if getattr(row, flag)]
    return SessionRecordView(
        row.id, row.planned_session_id, row.session_number, row.status, row.performed_on, row.performed_start,
        row.intensity_pct_mt, row.intensity_pct_mso, row.pulses_delivered, row.trains_delivered, row.frequency_hz,
        row.duration_s, row.device_id, row.coil_id, row.mt_value_pct_mso, row.operator_id, held, row.released_by,
        row.notes, row.version, [msgspec.convert(e, ExplanationView) for e in row.explanations])


def _records(session: Session, course_id: str) -> list[SessionRecordRow]:
    return list(session.scalars(select(SessionRecordRow).where(SessionRecordRow.course_id == course_id)
                                .order_by(SessionRecordRow.performed_start)))


def _counted(records: list[SessionRecordRow]) -> list[SessionRecordRow]:
    """Sessions that count towards the course: delivered, or partial ones the physician counted (R-SES-02)."""
    return [r for r in records if r.status == "delivered" or r.counts_towards_course]


def _checkpoint(session: Session, patient_id: str, records: list[SessionRecordRow]) -> CheckpointView:
    """R-MBC-03 on the primary scale, else on the self-report scale, against the course baseline."""
    settings = load_mbc_settings()
    counted = _counted(records)
    threshold = settings.early_sessions
    source = "domain-rtms §10.2 R-MBC-03"
    if len(counted) < threshold:
        return CheckpointView("not_reached", len(counted), threshold, None, None, None, None,
                              f"Point d'étape après {threshold} séances ({len(counted)} faites).",
                              f"Checkpoint after {threshold} sessions ({len(counted)} done).", source)
    first_on = min(r.performed_on for r in records)
    checkpoint_on = sorted(r.performed_on for r in counted)[threshold - 1]
    catalogue = load_catalogue()
    rows = session.scalars(select(Assessment).where(Assessment.patient_id == patient_id,
                                                    Assessment.total.is_not(None))
                           .order_by(Assessment.administered_at)).all()
    assessments = [MbcAssessment(r.scale_code, cast(int, r.total), r.administered_at.astimezone(PARIS).date(), r.id)
                   for r in rows]
    due_scale: str | None = None
    for scale in (settings.primary_scale, settings.self_report_scale):
        baseline = course_baseline(assessments, first_on, settings, scale=scale).assessment
        if baseline is None:
            continue
        after = [a for a in assessments if a.scale == scale and a.administered_on >= checkpoint_on]
        if not after:
            due_scale = due_scale or scale
            continue
        current = after[-1]
        definition = catalogue.get(scale)
        decision = early_checkpoint(len(counted), definition, baseline.total, current.total, settings)
        improvement = (round((baseline.total - current.total) * 100 / baseline.total, 1)
                       if baseline.total > 0 else None)
        state = "review_protocol" if decision.code == "review_protocol" else "no_prompt"
        return CheckpointView(state, len(counted), threshold, scale, baseline.total, current.total, improvement,
                              decision.reason_fr, decision.reason_en, decision.source)
    if due_scale is not None:
        return CheckpointView(
            "assessment_due", len(counted), threshold, due_scale, None, None, None,
            f"{threshold} séances faites : saisir l'évaluation du point d'étape ({due_scale.upper()}) pour "
            "mesurer l'amélioration.",
            f"{threshold} sessions done: enter the checkpoint assessment ({due_scale.upper()}) to measure "
            "the improvement.", source)
    return CheckpointView(
        "baseline_missing", len(counted), threshold, None, None, None, None,
        "Pas d'évaluation de ligne de base dans la fenêtre de la cure (R-MBC-01) : l'amélioration ne peut pas "
        "être calculée.",
        "No baseline assessment in the course window (R-MBC-01): improvement cannot be computed.", source)


def _patient_name(patient: Patient) -> str:
    return f"{patient.family_name.upper()} {patient.given_names}"


# --- today -----------------------------------------------------------------------------------------------


def sessions_of_day(database: Database, actor: Actor, day: dt.date) -> TodayView:
    """The centre's planned sessions of ``day`` across its patients, in slot order (audited per patient)."""
    if actor.role not in RECORDING_ROLES:
        raise PermissionDenied("Only the centre's clinical team sees the day's sessions.")
    with audit.audited_read(database) as session:
        rows = session.execute(
            select(PlannedSessionRow, Course, Patient)
            .join(Course, Course.id == PlannedSessionRow.course_id)
            .join(Patient, Patient.id == Course.patient_id)
            .where(Patient.organisation_id == actor.organisation_id, PlannedSessionRow.date == day,
                   PlannedSessionRow.status.in_(("planned", "delivered", "partially_delivered")),
                   Course.status.in_(OPEN_COURSE_STATUSES))
            .order_by(PlannedSessionRow.slot, Patient.family_name, PlannedSessionRow.number)).all()
        entries: list[TodayEntry] = []
        checkpoints: dict[str, CheckpointView] = {}
        for planned, course, patient in rows:
            if course.id not in checkpoints:
                checkpoints[course.id] = _checkpoint(session, patient.id, _records(session, course.id))
            delivered = planned.status != "planned"
            due = False if delivered else _mt_due(session, course, day).due
            entries.append(TodayEntry(patient.id, _patient_name(patient), course.id, course.course_number,
                                      course.status, course.protocol_ref, planned.id, planned.number, planned.slot,
                                      planned.phase, planned.status, delivered, due, checkpoints[course.id]))
        for patient_id in sorted({e.patient_id for e in entries}):
            audit.record(session, actor, "read", "rtms_sessions_of_day", day.isoformat(), patient_id=patient_id)
        return TodayView(day, entries)


# --- the session form and recording ---------------------------------------------------------------


def _planned(session: Session, course: Course, planned_session_id: str) -> PlannedSessionRow:
    planned = session.get(PlannedSessionRow, planned_session_id)
    if planned is None or planned.course_id != course.id:
        raise NotFound("Planned session not found.")
    return planned


def _planned_view(row: PlannedSessionRow) -> PlannedView:
    return PlannedView(row.id, row.number, row.date, row.slot, row.phase, row.status)


def session_form(database: Database, actor: Actor, patient_id: str, course_id: str, planned_session_id: str,
                 today: dt.date) -> SessionForm:
    """What the operator needs to deliver a planned session: the prescription, the MT and whether one is
    due, the device-maximum check (R-MT-05), the record if already delivered (audited read)."""
    if actor.role not in RECORDING_ROLES:
        raise PermissionDenied("Only the centre's clinical team records sessions.")
    with audit.audited_read(database) as session:
        course = load_course(session, actor, patient_id, course_id)
        patient = load_patient(session, actor, patient_id)
        planned = _planned(session, course, planned_session_id)
        _, view = prescription_of(_definition(course))
        prescription, _ = prescription_of(_definition(course))
        on = min(planned.date, today)
        last = _last_mt(session, course.id, on)
        record = session.scalar(select(SessionRecordRow).where(SessionRecordRow.planned_session_id == planned.id))
        previous = session.scalars(select(SessionRecordRow).where(SessionRecordRow.course_id == course.id)
                                   .order_by(SessionRecordRow.performed_start.desc())).first()
        expected = expected_intensity_pct_mso(_mt_reference(last), prescription.intensity_pct_mt) if last else None
        defaults = {
            "performed_on": on.isoformat(), "start_time": "09:00",
            "intensity_pct_mt": str(prescription.intensity_pct_mt),
            "intensity_pct_mso": str(min(expected, 100)) if expected is not None else "",
            "pulses_delivered": str(prescription.pulses), "trains_delivered": str(prescription.trains),
            "frequency_hz": view.frequency_hz or "", "duration_s": str(view.duration_s),
            "device_id": previous.device_id if previous else (last.device_id if last else ""),
            "coil_id": previous.coil_id if previous else (last.coil_id if last else ""),
            "targeting_method": previous.targeting_method if previous else view.targeting_method,
        }
        audit.record(session, actor, "read", "rtms_session", planned.id, patient_id=patient.id)
        return SessionForm(
            patient.id, _patient_name(patient), _summary(course), _planned_view(planned), view,
            _mt_view(last) if last else None, _mt_due(session, course, on),
            _device_check(last.value_pct_mso if last else None, prescription),
            _record_view(record) if record else None, defaults,
            _checkpoint(session, patient.id, _records(session, course.id)))


_CHANGED_SINCE_OPENED = ("This session was recorded or changed by someone else since you opened it: reload the page "
                         "to see it.")
# The course, its planned session and the patient's centre, in one read. The course row stays locked
# until the record commits (PostgreSQL; SQLite runs one writer at a time): a suspension or a closure
# saved meanwhile waits, or is seen here, and a session is never recorded on a course that stopped.
_TO_RECORD = (
    select(Course.id, Course.patient_id, Course.course_number, Course.protocol_ref, Course.status, Course.version,
           PlannedSessionRow.number.label("planned_number"), PlannedSessionRow.phase,
           PlannedSessionRow.status.label("planned_status"))
    .join(Patient, Patient.id == Course.patient_id)
    .join(PlannedSessionRow, PlannedSessionRow.course_id == Course.id)
    .where(Course.id == bindparam("course_id"), Course.patient_id == bindparam("patient_id"),
           Patient.organisation_id == bindparam("organisation_id"), PlannedSessionRow.id == bindparam("planned_id"))
    .with_for_update(of=Course))
_ACTIVATE_COURSE = (update(Course)
                    .where(Course.id == bindparam("course_id"), Course.version == bindparam("seen_version"))
                    .values(status="active", version=Course.version + 1))
_INSERT_RECORD = insert(SessionRecordRow)
# Only a session still planned becomes delivered. Of two recordings of one session, the second updates
# nothing: SQLite ran them one after the other, PostgreSQL re-reads the row once the first commits.
_DELIVER_PLANNED = (update(PlannedSessionRow)
                    .where(PlannedSessionRow.id == bindparam("planned_id"), PlannedSessionRow.status == "planned")
                    .values(status="delivered"))


def record_session(database: Database, actor: Actor, patient_id: str, course_id: str, planned_session_id: str,
                   raw: Mapping[str, str | None], now: dt.datetime) -> SessionRecordView:
    """Record a delivered session: check-in hold (R-SAF-04), device maximum (R-MT-05), R-SES-01..03.

    Bad or missing fields, an unreleased hold, an unconfirmed device-maximum alert and every problem
    ``check_delivery`` reports are refused together (:class:`ValidationFailed`); nothing is written.
    The planned session becomes ``delivered``, a planned course ``active``.
    """
    if actor.role not in RECORDING_ROLES:
        raise PermissionDenied("Only the centre's clinical team records sessions.")
    form = FormReader(raw)
    performed_on = form.date("performed_on", required=True)
    start_time = form.time("start_time", required=True)
    end_time = form.time("end_time")
    intensity_mt = form.integer("intensity_pct_mt", required=True, low=1, high=200)
    intensity_mso = form.integer("intensity_pct_mso", required=True, low=1, high=100)
    pulses = form.integer("pulses_delivered", required=True, low=0, high=100_000)
    trains = form.integer("trains_delivered", required=True, low=0, high=10_000)
    frequency = form.decimal("frequency_hz", low=Decimal(0), low_inclusive=False)
    duration = form.integer("duration_s", low=1, high=36_000)
    device_id = form.text("device_id", required=True, max_length=80)
    coil_id = form.text("coil_id", required=True, max_length=80)
    targeting = form.choice("targeting_method", TARGETING_METHODS, required=True)
    pain = form.integer("pain_vas", low=0, high=10)
    flags = {name: form.flag(name) for name in CHECKIN_FLAGS}
    released_by = form.text("released_by", max_length=120)
    interruption: Interruption | None = None
    if form.flag("interrupted"):
        reason = form.choice("interruption_reason", INTERRUPTION_REASONS, required=True)
        so_far = form.integer("interruption_pulses", required=True, low=0, high=100_000)
        if reason is not None and so_far is not None:
            interruption = Interruption(pulses_so_far=so_far, reason=cast(InterruptionReason, reason),
                                        resumed=form.flag("interruption_resumed"))
    deviation_reason = form.text("deviation_reason")
    deviation_physician = form.text("deviation_physician", max_length=120)
    mso_override_reason = form.text("mso_override_reason")
    supervising = form.text("supervising_physician", max_length=120)
    notes = form.text("notes", max_length=4000)
    acknowledged = form.flag("device_max_acknowledged")
    errors = form.errors
    start_at = _local(performed_on, start_time) if performed_on and start_time else None
    end_at = _local(performed_on, end_time) if performed_on and end_time else None
    if start_at is not None and start_at > now + dt.timedelta(minutes=5):
        errors.append(FieldError("performed_on", "A session cannot be recorded before it took place."))
    if start_at is not None and end_at is not None and end_at < start_at:
        errors.append(FieldError("end_time", "The session ends before it starts."))
    if not flags["checkin_metal_removed"]:
        errors.append(FieldError("checkin_metal_removed", "Confirm that metal objects were removed (nothing "
                                                          "within 30 cm of the coil)."))
    if any(flags[name] for name in HOLD_FLAGS) and not released_by:
        errors.append(FieldError("released_by", "The check-in puts the session on hold: a physician must "
                                                "release it before stimulation (R-SAF-04)."))
    with database.write() as session:
        # Core statements, not the unit of work: this is the write a centre makes most, and the ORM's
        # bookkeeping was a third of its cost (README, Performance).
        connection = session.connection()
        course_row = connection.execute(_TO_RECORD, {
            "course_id": course_id, "patient_id": patient_id, "organisation_id": actor.organisation_id,
            "planned_id": planned_session_id}).first()
        if course_row is None:  # the ORM's lookups name what is missing (patient, course or session)
            _planned(session, load_course(session, actor, patient_id, course_id), planned_session_id)
            raise NotFound("Planned session not found.")
        if course_row.status not in ("planned", "active"):
            # A fixed sentence so the page can translate it; the course page shows the status itself.
            raise Conflict("This course is suspended, stopped or closed: no session can be recorded until a "
                           "physician decides (R-SES-04).")
        if course_row.planned_status != "planned":  # someone else recorded, skipped or moved it since the form opened
            raise Conflict(_CHANGED_SINCE_OPENED)
        prescription, view = prescription_of(load_protocol_catalogue().by_ref(course_row.protocol_ref))
        mt = _last_mt_reference(connection, course_row.id, performed_on) if performed_on else None
        device = _device_check(mt.value_pct_mso if mt else None, prescription)
        if device is not None and device.exceeded and not acknowledged:
            errors.append(FieldError("device_max_acknowledged", "The prescription exceeds the device maximum "
                                                                "(R-MT-05): confirm the physician's decision."))
        if errors or intensity_mt is None or intensity_mso is None or pulses is None or trains is None:
            raise ValidationFailed(errors or [FieldError("intensity_pct_mt", "This field is required.")])
        assert performed_on is not None and start_at is not None
        delivery = SessionDelivery(
            trains_delivered=trains, pulses_delivered=pulses, intensity_pct_mt=intensity_mt,
            intensity_pct_mso=intensity_mso, frequency_hz=frequency, duration_s=duration,
            interruptions=(interruption,) if interruption else (), deviation_reason=deviation_reason,
            deviation_physician=deviation_physician, mso_override_reason=mso_override_reason)
        check = check_delivery(prescription, delivery, mt, load_session_settings())
        if check.problems:
            raise ValidationFailed(list(check.problems))
        explanations: list[Explanation] = list(check.explanations)
        if device is not None and device.alert is not None:
            explanations.append(Explanation(device.alert.rule_id, device.alert.source, device.alert.message_fr,
                                            device.alert.message_en))
        values: dict[str, Any] = dict(
            id=new_id("SE"), version=1, course_id=course_row.id, planned_session_id=planned_session_id,
            patient_id=course_row.patient_id, session_number=course_row.planned_number, phase=course_row.phase,
            status=check.status,
            counts_towards_course=check.counts_towards_course, performed_on=performed_on,
            performed_start=start_at, performed_end=end_at, protocol_ref=course_row.protocol_ref,
            prescribed_frequency_hz=view.frequency_hz, prescribed_intensity_pct_mt=prescription.intensity_pct_mt,
            prescribed_pulses=prescription.pulses, prescribed_trains=prescription.trains,
            prescribed_duration_s=view.duration_s,
            frequency_hz=format(frequency.normalize(), "f") if frequency is not None else None,
            intensity_pct_mt=intensity_mt, intensity_pct_mso=intensity_mso, pulses_delivered=pulses,
            trains_delivered=trains, duration_s=duration, device_id=device_id or "", coil_id=coil_id or "",
            targeting_method=targeting or "", mt_measurement_id=mt.measurement_id if mt else None,
            mt_value_pct_mso=mt.value_pct_mso if mt else None, device_max_acknowledged=acknowledged,
            operator_id=actor.id, supervising_physician=supervising, released_by=released_by, pain_vas=pain,
            interruptions=[msgspec.to_builtins(interruption)] if interruption else [],
            deviation_reason=deviation_reason, deviation_physician=deviation_physician,
            mso_override_reason=mso_override_reason, notes=notes,
            explanations=[msgspec.to_builtins(e) for e in explanations], recorded_by=actor.id, recorded_at=utcnow(),
            **flags,
        )
        if connection.execute(_DELIVER_PLANNED, {"planned_id": planned_session_id}).rowcount != 1:
            raise Conflict(_CHANGED_SINCE_OPENED)  # PostgreSQL: recorded by someone else since it was read
        connection.execute(_INSERT_RECORD, values)
        if course_row.status == "planned" and connection.execute(_ACTIVATE_COURSE, {
                "course_id": course_row.id, "seen_version": course_row.version}).rowcount != 1:
            raise Conflict(_CHANGED_SINCE_OPENED)  # not while the row is locked: the version check is a backstop
        audit.record(session, actor, "session_recorded", "rtms_session", values["id"],
                     patient_id=course_row.patient_id,
                     detail=f"course {course_row.course_number} session {course_row.planned_number}: "
                            f"{check.status}, {intensity_mso} % MSO")
        # The row as inserted, without an ORM instance: building one cost a twentieth of the request.
        return _record_view(SimpleNamespace(**values))


# --- motor threshold --------------------------------------------------------------------------------


class MtForm(msgspec.Struct, frozen=True):
    patient_id: str
    patient_name: str
    course: CourseSummary
    prescription: PrescriptionView
    last_mt: MtView | None
    mt_due: MtDueView
    defaults: dict[str, str]


def mt_form(database: Database, actor: Actor, patient_id: str, course_id: str, today: dt.date) -> MtForm:
    if actor.role not in RECORDING_ROLES:
        raise PermissionDenied("Only the centre's clinical team records motor thresholds.")
    with audit.audited_read(database) as session:
        course = load_course(session, actor, patient_id, course_id)
        patient = load_patient(session, actor, patient_id)
        _, view = prescription_of(_definition(course))
        last = _last_mt(session, course.id, today)
        defaults = {"measured_on": today.isoformat(), "measured_time": "08:45", "method": "emg_mep",
                    "muscle": "APB", "hemisphere": "left", "mep_criterion": "≥ 50 µV, ≥ 5/10",
                    "device_id": last.device_id if last else "", "coil_id": last.coil_id if last else "",
                    "trigger": "course_start" if last is None else "weekly"}
        audit.record(session, actor, "read", "rtms_motor_threshold", course.id, patient_id=patient.id)
        return MtForm(patient.id, _patient_name(patient), _summary(course), view, _mt_view(last) if last else None,
                      _mt_due(session, course, today), defaults)


def record_motor_threshold(database: Database, actor: Actor, patient_id: str, course_id: str,
                           raw: Mapping[str, str | None], now: dt.datetime) -> MtView:
    """Store an MT measurement with its alerts: R-MT-06 change against the previous one, R-MT-07 visual
    twitch advice, R-MT-05 device maximum for the course's prescription. Alerts inform; none blocks."""
    if actor.role not in RECORDING_ROLES:
        raise PermissionDenied("Only the centre's clinical team records motor thresholds.")
    form = FormReader(raw)
    day = form.date("measured_on", required=True)
    at = form.time("measured_time", required=True)
    value = form.integer("value_pct_mso", required=True, low=1, high=100)
    method = form.choice("method", MT_METHODS, required=True)
    muscle = form.choice("muscle", ("APB", "FDI", "other"), required=True)
    hemisphere = form.choice("hemisphere", ("left", "right"), required=True)
    trigger = form.choice("trigger", MT_TRIGGERS, required=True)
    device_id = form.text("device_id", required=True, max_length=80)
    coil_id = form.text("coil_id", required=True, max_length=80)
    criterion = form.text("mep_criterion", max_length=120) or ""
    notes = form.text("notes", max_length=2000)
    measured_at = _local(day, at) if day and at else None
    if measured_at is not None and measured_at > now + dt.timedelta(minutes=5):
        form.errors.append(FieldError("measured_on", "A measurement cannot be dated in the future."))
    if form.errors:
        raise ValidationFailed(form.errors)
    assert measured_at is not None and value is not None and method is not None and day is not None
    settings = load_planning_settings()
    with database.write() as session:
        course = load_course(session, actor, patient_id, course_id)
        prescription, _ = prescription_of(_definition(course))
        previous = _last_mt(session, course.id, day) or session.scalars(
            select(MotorThresholdRow).where(MotorThresholdRow.patient_id == course.patient_id)
            .order_by(MotorThresholdRow.measured_at.desc())).first()
        alerts: list[AlertView] = []
        relative: str | None = None
        confirm = False
        if previous is not None:
            change = check_mt_change(previous.value_pct_mso, value, settings)
            relative, confirm = change.relative_change, change.confirm_required
            if change.alert:
                alerts.append(_alert(change.alert.code, change.alert.rule_id, change.alert.message_fr,
                                     change.alert.message_en, change.alert.source))
        advice = visual_twitch_advice(cast(MtMethod, method), prescription.intensity_pct_mt, settings)
        if advice:
            alerts.append(_alert(advice.code, advice.rule_id, advice.message_fr, advice.message_en, advice.source))
        device = _device_check(value, prescription)
        if device is not None and device.alert is not None:
            alerts.append(device.alert)
        row = MotorThresholdRow(
            id=new_id("MT"), patient_id=course.patient_id, course_id=course.id, measured_at=measured_at,
            value_pct_mso=value, method=method, mep_criterion=criterion, muscle=muscle or "APB",
            hemisphere=hemisphere or "left", device_id=device_id or "", coil_id=coil_id or "",
            trigger=trigger or "physician_request", measured_by=actor.id, relative_change=relative,
            confirm_required=confirm, alerts=[msgspec.to_builtins(a) for a in alerts], notes=notes,
            recorded_at=utcnow())
        session.add(row)
        session.flush()
        audit.record(session, actor, "mt_recorded", "rtms_motor_threshold", row.id, patient_id=course.patient_id,
                     detail=f"{value} % MSO ({method})" + ("; " + ", ".join(a.code for a in alerts) if alerts else ""))
        return _mt_view(row)


def get_motor_threshold(database: Database, actor: Actor, patient_id: str, course_id: str,
                        mt_id: str) -> tuple[CourseSummary, str, MtView]:
    with audit.audited_read(database) as session:
        course = load_course(session, actor, patient_id, course_id)
        patient = load_patient(session, actor, patient_id)
        row = session.get(MotorThresholdRow, mt_id)
        if row is None or row.course_id != course.id:
            raise NotFound("Measurement not found.")
        audit.record(session, actor, "read", "rtms_motor_threshold", row.id, patient_id=patient.id)
        return _summary(course), _patient_name(patient), _mt_view(row)


# --- adverse events -----------------------------------------------------------------------------------


_BOOL_FORM_FIELDS = ("loss_of_consciousness", "incontinence", "tongue_bite", "pallor", "brief_jerks",
                     "rapid_recovery", "sleep_deprivation", "alcohol", "medication_change",
                     "recent_intensity_increase", "stimulation_stopped", "recovery_position", "emergency_call",
                     "eeg_done")
FORM_FIELDS: tuple[tuple[str, str], ...] = (*FORM_INITIAL_FIELDS, *FORM_CLOSURE_FIELDS)


def _seizure_form(form: FormReader) -> SeizureSyncopeForm:
    """The §8.3 form fields (prefixed ``form_``); every field may still be empty."""
    values: dict[str, Any] = {}
    for name in _BOOL_FORM_FIELDS:
        values[name] = form.tristate(f"form_{name}")
    for name in ("session_index", "delivered_pct_mso", "delivered_pct_mt", "duration_seconds",
                 "post_event_confusion_minutes"):
        values[name] = form.integer(f"form_{name}", low=0, high=100_000)
    values["time_relative_to_train"] = form.text("form_time_relative_to_train", max_length=200)
    values["last_mt_date"] = form.date("form_last_mt_date")
    values["last_mt_method"] = form.choice("form_last_mt_method", MT_METHODS, required=False)
    values["semiology"] = form.choice("form_semiology", SEMIOLOGIES, required=False)
    values["adjudication"] = form.choice("form_adjudication", ADJUDICATIONS, required=False)
    values["adjudicated_by"] = form.text("form_adjudicated_by", max_length=120)
    values["continuation_decision"] = form.choice("form_continuation_decision", CONTINUATIONS, required=False)
    vitals = {key: form.integer(f"form_{key}", low=0, high=400)
              for key in ("heart_rate_bpm", "systolic_mmhg", "diastolic_mmhg", "spo2_pct")}
    values["vital_signs"] = vitals if any(v is not None for v in vitals.values()) else None
    return msgspec.convert(values, SeizureSyncopeForm)


def _ae_view(row: AdverseEventRow, numbers: dict[str, int]) -> AdverseEventView:
    missing_initial: list[str] = []
    missing_closure: list[str] = []
    if row.form_required:
        check = check_seizure_syncope_form(msgspec.convert(row.seizure_form or {}, SeizureSyncopeForm))
        missing_initial, missing_closure = list(check.missing_initial), list(check.missing_closure)
    event = _ae_struct(row)
    decision = sae_decision([event], load_session_settings()).explanation
    return AdverseEventView(row.id, row.type, row.onset, row.severity, row.serious, row.action, row.relatedness,
                            numbers.get(row.session_record_id or ""), row.reported_at, row.sae_required,
                            row.form_required, row.form_initial_complete, row.form_complete, missing_initial,
                            missing_closure, row.seizure_form, row.version,
                            ExplanationView(decision.rule_id, decision.source, decision.text_fr, decision.text_en))


def _ae_struct(row: AdverseEventRow) -> AdverseEvent:
    return AdverseEvent(course_id=row.course_id, type=cast(AdverseEventType, row.type),
                        onset=cast(AdverseEventOnset, row.onset), severity=cast(AdverseEventSeverity, row.severity),
                        serious=row.serious, action=cast(AdverseEventAction, row.action),
                        relatedness=cast(Relatedness, row.relatedness), session_id=row.session_record_id,
                        loss_of_consciousness=row.loss_of_consciousness)


class AdverseEventForm(msgspec.Struct, frozen=True):
    patient_id: str
    patient_name: str
    course: CourseSummary
    sessions: list[tuple[str, int, dt.date]]  # record id, session number, date
    event: AdverseEventView | None
    defaults: dict[str, str]


def adverse_event_form(database: Database, actor: Actor, patient_id: str, course_id: str,
                       event_id: str | None = None) -> AdverseEventForm:
    if actor.role not in RECORDING_ROLES:
        raise PermissionDenied("Only the centre's clinical team reports adverse events.")
    with audit.audited_read(database) as session:
        course = load_course(session, actor, patient_id, course_id)
        patient = load_patient(session, actor, patient_id)
        records = _records(session, course.id)
        numbers = {r.id: r.session_number for r in records}
        event: AdverseEventView | None = None
        defaults: dict[str, str] = {"onset": "during_session", "severity": "mild", "action": "none",
                                    "relatedness": "possible"}
        if event_id is not None:
            row = session.get(AdverseEventRow, event_id)
            if row is None or row.course_id != course.id:
                raise NotFound("Adverse event not found.")
            event = _ae_view(row, numbers)
            defaults = _ae_defaults(row)
        elif records:
            last = records[-1]
            defaults |= {"session_record_id": last.id, "form_session_index": str(last.session_number),
                         "form_delivered_pct_mso": str(last.intensity_pct_mso),
                         "form_delivered_pct_mt": str(last.intensity_pct_mt)}
            if last.mt_measurement_id:
                mt = session.get(MotorThresholdRow, last.mt_measurement_id)
                if mt is not None:
                    defaults |= {"form_last_mt_date": mt.measured_at.astimezone(PARIS).date().isoformat(),
                                 "form_last_mt_method": mt.method}
        audit.record(session, actor, "read", "rtms_adverse_event", event_id or course.id, patient_id=patient.id)
        return AdverseEventForm(patient.id, _patient_name(patient), _summary(course),
                                [(r.id, r.session_number, r.performed_on) for r in records], event, defaults)


def _ae_defaults(row: AdverseEventRow) -> dict[str, str]:
    values: dict[str, str] = {"type": row.type, "onset": row.onset, "severity": row.severity,
                              "action": row.action, "relatedness": row.relatedness,
                              "session_record_id": row.session_record_id or "", "outcome": row.outcome or "",
                              "serious_criteria": row.serious_criteria or "",
                              "duration_minutes": "" if row.duration_minutes is None else str(row.duration_minutes),
                              "version": str(row.version)}
    if row.serious:
        values["serious"] = "on"
    if row.loss_of_consciousness is not None:
        values["loss_of_consciousness"] = "yes" if row.loss_of_consciousness else "no"
    for key, value in (row.seizure_form or {}).items():
        if key == "vital_signs" and isinstance(value, dict):
            values |= {f"form_{k}": str(v) for k, v in value.items() if v is not None}
        elif isinstance(value, bool):
            values[f"form_{key}"] = "yes" if value else "no"
        elif value is not None:
            values[f"form_{key}"] = str(value)
    return values


def save_adverse_event(database: Database, actor: Actor, patient_id: str, course_id: str,
                       raw: Mapping[str, str | None], event_id: str | None = None) -> AdverseEventView:
    """Report (or complete, version-checked) an adverse event. R-SES-04: a serious event or a seizure creates
    an SAE record and suspends the course until a physician decides; the seizure/syncope form is kept with
    the event and its missing fields are listed (initial report, then closure), never silently dropped."""
    if actor.role not in RECORDING_ROLES:
        raise PermissionDenied("Only the centre's clinical team reports adverse events.")
    form = FormReader(raw)
    kind = form.choice("type", AE_TYPES, required=True)
    onset = form.choice("onset", AE_ONSETS, required=True)
    severity = form.choice("severity", AE_SEVERITIES, required=True)
    action = form.choice("action", AE_ACTIONS, required=True)
    relatedness = form.choice("relatedness", RELATEDNESS, required=True)
    serious = form.flag("serious")
    criteria = form.text("serious_criteria", max_length=2000)
    duration = form.integer("duration_minutes", low=0, high=100_000)
    outcome = form.text("outcome", max_length=2000)
    consciousness = form.tristate("loss_of_consciousness")
    record_id = form.text("session_record_id", max_length=32)
    seizure = _seizure_form(form)
    if serious and not criteria:
        form.errors.append(FieldError("serious_criteria", "A serious event needs its seriousness criteria."))
    if form.errors:
        raise ValidationFailed(form.errors)
    assert kind and onset and severity and action and relatedness
    with database.write() as session:
        course = load_course(session, actor, patient_id, course_id)
        numbers = {r.id: r.session_number for r in _records(session, course.id)}
        if record_id is not None and record_id not in numbers:
            raise ValidationFailed([FieldError("session_record_id", "Choose one of the proposed values.")])
        if event_id is None:
            row = AdverseEventRow(id=new_id("AE"), patient_id=course.patient_id, course_id=course.id,
                                  reported_by=actor.id, reported_at=utcnow())
            session.add(row)
        else:
            found = session.get(AdverseEventRow, event_id)
            if found is None or found.course_id != course.id:
                raise NotFound("Adverse event not found.")
            version = raw.get("version")
            if version is None or not version.isdigit() or int(version) != found.version:
                raise Conflict("This adverse event was changed by someone else since you opened it: reload "
                               "the page before saving again.")
            row = found
        row.type, row.onset, row.severity, row.action, row.relatedness = kind, onset, severity, action, relatedness
        row.serious, row.serious_criteria, row.duration_minutes, row.outcome = serious, criteria, duration, outcome
        row.loss_of_consciousness, row.session_record_id = consciousness, record_id
        event = _ae_struct(row)
        decision = sae_decision([event], load_session_settings())
        row.form_required = seizure_syncope_form_required(event)
        row.sae_required = decision.sae_required
        if row.form_required:
            check = check_seizure_syncope_form(seizure)
            row.seizure_form = msgspec.to_builtins(seizure)
            row.form_initial_complete, row.form_complete = check.initial_complete, check.complete
        else:
            row.seizure_form, row.form_initial_complete, row.form_complete = None, False, False
        if decision.suspend_course and course.status in ("planned", "active"):
            course.status = "suspended"
        session.flush()
        audit.record(session, actor, "adverse_event_reported" if event_id is None else "adverse_event_updated",
                     "rtms_adverse_event", row.id, patient_id=course.patient_id,
                     detail=f"{kind} {severity}" + (", SAE: course suspended" if decision.sae_required else ""))
        return _ae_view(row, numbers)


# --- the course board (course page) -----------------------------------------------------------------


def _board(session: Session, course: Course, loaded: LoadedPlan) -> CourseBoard:
    records = _records(session, course.id)
    by_planned = {r.planned_session_id: r for r in records}
    numbers = {r.id: r.session_number for r in records}
    plan = loaded.plan
    row_of = dict(loaded.rows.items())
    sessions: list[BoardSession] = []
    for plan_id, row in sorted(row_of.items(), key=lambda item: (item[1].date, item[1].slot)):
        planned = plan.session(plan_id)
        replaced = plan.session(planned.replaced_by).date if planned.replaced_by is not None else None
        replaces = plan.session(planned.replaces).date if planned.replaces is not None else None
        record = by_planned.get(row.id)
        sessions.append(BoardSession(row.id, row.number, row.date, row.slot, row.phase, row.status,
                                     planned.skip_reason, replaced, replaces, planned.extension,
                                     _record_view(record) if record else None))
    events = session.scalars(select(AdverseEventRow).where(AdverseEventRow.course_id == course.id)
                             .order_by(AdverseEventRow.reported_at)).all()
    alerts = [WarningView("missed_sessions", a.rule_id, "alert", a.message_fr, a.message_en, a.source)
              for a in missed_sessions_alerts(plan, load_planning_settings())]
    return CourseBoard(
        _summary(course), course.induction_sessions, course.start_date, sessions, len(_counted(records)),
        sum(1 for s in sessions if s.status == "skipped"),
        sum(1 for s in sessions if s.status == "planned"), _checkpoint(session, course.patient_id, records),
        [_mt_view(m) for m in reversed(_course_mts(session, course.id))],
        [_ae_view(e, numbers) for e in events], alerts)


def course_boards(database: Database, actor: Actor, patient_id: str, calendar: WorkingCalendar) -> list[CourseBoard]:
    """Every course of the patient, newest first, with planned vs performed sessions, skips and their
    replacements, MTs, adverse events and the checkpoint prompt (audited read)."""
    with audit.audited_read(database) as session:
        patient = load_patient(session, actor, patient_id)
        courses = session.scalars(select(Course).where(Course.patient_id == patient.id)
                                  .order_by(Course.course_number.desc())).all()
        boards = [_board(session, course, load_plan(session, course, calendar)) for course in courses]
        audit.record(session, actor, "read", "rtms_course_board", None, patient_id=patient.id)
        return boards


__all__ = [
    "ADJUDICATIONS",
    "AE_ACTIONS",
    "AE_ONSETS",
    "AE_SEVERITIES",
    "AE_TYPES",
    "CHECKIN_FLAGS",
    "CONTINUATIONS",
    "FORM_FIELDS",
    "HOLD_FLAGS",
    "INTERRUPTION_REASONS",
    "MT_METHODS",
    "MT_TRIGGERS",
    "RELATEDNESS",
    "SEMIOLOGIES",
    "SKIP_REASONS",
    "TARGETING_METHODS",
    "AdverseEventForm",
    "AdverseEventView",
    "CheckpointView",
    "CourseBoard",
    "MtForm",
    "MtView",
    "SessionForm",
    "SessionRecordView",
    "TodayView",
    "adverse_event_form",
    "course_boards",
    "get_motor_threshold",
    "mt_form",
    "record_motor_threshold",
    "record_session",
    "save_adverse_event",
    "session_form",
    "sessions_of_day",
]
