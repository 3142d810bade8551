"""rTMS use cases: load, apply the rules, persist and audit in one transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import msgspec
from sqlalchemy import func, select

from rtms_pathway.catalogue.loader_clinical import load_clinical_catalogues
from rtms_pathway.catalogue.loader_planning import load_planning_settings, load_protocol_catalogue
from rtms_pathway.intake_service import link_triage
from rtms_pathway.model.planning import CoursePlan, Phase, PlannedSession, SessionStatus
from rtms_pathway.rules.course_plan_api import to_icalendar, validate_contract_preview
from rtms_pathway.rules.scheduling import plan_induction
from rtms_pathway.rules.triage_api import ContractTriageAnswer, run_contract_triage
from rtms_pathway.tables import Course, PlannedSessionRow, TriageRecord
from shared_core.actors import Actor
from shared_core.calendar import WorkingCalendar
from shared_core.db import Database, utcnow
from shared_core.errors import FieldError, NotFound, PermissionDenied, ValidationFailed
from shared_core.ids import new_id
from shared_core.services import audit
from shared_core.services.patients import check_patient_access, load_patient

ORIENTATIONS = ("rtms_indicated", "rtms_with_precautions", "ect_first", "not_eligible_safety",
                "needs_more_information")
# domain-rtms §3.5: an override carries a written reason of at least 20 characters.
OVERRIDE_REASON_MIN = 20
SIGNING_ROLES = frozenset({"psychiatrist"})


class TriageView(msgspec.Struct, frozen=True):
    id: str
    inputs: dict[str, Any]
    proposal: ContractTriageAnswer
    final_orientation: str
    decision: str
    override_reason: str | None
    ruleset_version: str
    decided_by: str
    decided_at: dt.datetime


def propose_triage(raw: dict[str, Any]) -> ContractTriageAnswer:
    """What Parcours proposes for these answers (pure; raises ValidationFailed naming each bad field)."""
    return run_contract_triage(raw, load_clinical_catalogues())


def propose_triage_for(database: Database, actor: Actor, patient_id: str, raw: dict[str, Any]) -> ContractTriageAnswer:
    """The live proposal on a patient's triage form; the patient must be one of the actor's centre.

    Nothing of the record is read beyond ownership, so no audit row per keystroke.
    """
    check_patient_access(database, actor, patient_id)
    return propose_triage(raw)


def _view(row: TriageRecord) -> TriageView:
    return TriageView(row.id, dict(row.inputs), msgspec.convert(row.proposal, ContractTriageAnswer),
                      row.final_orientation, row.decision, row.override_reason, row.ruleset_version,
                      row.decided_by, row.decided_at)


def record_triage(database: Database, actor: Actor, patient_id: str, raw: dict[str, Any], *,
                  override_orientation: str | None, override_reason: str | None,
                  referral_id: str | None = None) -> TriageView:
    """The physician accepts the proposal, or overrides it with a written reason (audited).

    The proposal is recomputed here from the answers: what the browser displayed is never trusted.
    The decision answers ``referral_id``, or else the patient's newest referral awaiting triage at the
    centre, if any (``intake_service.link_triage``: the referral shows the outcome and moves on).
    """
    if actor.role not in SIGNING_ROLES:
        raise PermissionDenied("Only a physician of the centre can sign a triage decision.")
    proposal = propose_triage(raw)
    reason = (override_reason or "").strip() or None
    errors: list[FieldError] = []
    if override_orientation and override_orientation != proposal.orientation:
        if override_orientation not in ORIENTATIONS:
            errors.append(FieldError("override_orientation", "Unknown orientation."))
        if reason is None or len(reason) < OVERRIDE_REASON_MIN:
            errors.append(FieldError("override_reason",
                                     "An override needs a written reason of at least 20 characters."))
        decision, final = "overridden", override_orientation
    else:
        decision, final = "accepted", proposal.orientation
        reason = None
    if errors:
        raise ValidationFailed(errors)
    settings = load_clinical_catalogues().settings
    with database.write() as session:
        patient = load_patient(session, actor, patient_id)
        row = TriageRecord(id=new_id("TR"), patient_id=patient.id, inputs=raw,
                           proposal=msgspec.to_builtins(proposal), proposed_orientation=proposal.orientation,
                           final_orientation=final, decision=decision, override_reason=reason,
                           ruleset_version=settings.version, decided_by=actor.id, decided_at=utcnow())
        session.add(row)
        audit.record(session, actor, "triage_" + decision, "rtms_triage", row.id, patient_id=patient.id,
                     detail=f"proposed {proposal.orientation}, decided {final}")
        session.flush()
        link_triage(session, actor, patient.id, row.id, final, referral_id)
        return _view(row)


def triage_history(database: Database, actor: Actor, patient_id: str) -> list[TriageView]:
    with audit.audited_read(database) as session:
        patient = load_patient(session, actor, patient_id)
        rows = session.scalars(select(TriageRecord).where(TriageRecord.patient_id == patient.id)
                               .order_by(TriageRecord.decided_at.desc())).all()
        audit.record(session, actor, "read", "rtms_triage", None, patient_id=patient.id)
        return [_view(row) for row in rows]


# --- course planning (domain-rtms §7) -----------------------------------------------------------

PLANNING_ROLES = frozenset({"psychiatrist"})


class PlannedSessionView(msgspec.Struct, frozen=True):
    number: int
    date: dt.date
    slot: int
    phase: str
    status: str


class CourseView(msgspec.Struct, frozen=True):
    id: str
    course_number: int
    protocol_ref: str
    status: str
    start_date: dt.date
    induction_sessions: int
    created_by: str
    created_at: dt.datetime
    sessions: list[PlannedSessionView]

    @property
    def end_date(self) -> dt.date | None:
        """Date of the last planned session (None when the course has none left)."""
        dates = [s.date for s in self.sessions if s.status != "superseded"]
        return max(dates) if dates else None


def _course_view(row: Course, sessions: list[PlannedSessionRow]) -> CourseView:
    ordered = sorted(sessions, key=lambda s: (s.date, s.slot))
    return CourseView(row.id, row.course_number, row.protocol_ref, row.status, row.start_date,
                      row.induction_sessions, row.created_by, row.created_at,
                      [PlannedSessionView(s.number, s.date, s.slot, s.phase, s.status) for s in ordered])


def course_input_errors(protocol: Any, start: Any, induction_sessions: Any, holiday_zone: str) -> list[FieldError]:
    """Every bad field of a course request, with the contract validator's messages (empty = valid)."""
    raw: dict[str, Any] = {"holiday_zone": holiday_zone}
    for key, value in (("protocol", protocol), ("start", start), ("induction_sessions", induction_sessions)):
        if value is not None and value != "":  # a blank answer is left out so the validator says "is required"
            raw[key] = value.isoformat() if isinstance(value, dt.date) else value
    return validate_contract_preview(raw, load_protocol_catalogue())


def plan_course(database: Database, actor: Actor, patient_id: str, *, protocol: str | None,
                start: dt.date | str | None, induction_sessions: int | str | None,
                calendar: WorkingCalendar) -> CourseView:
    """Plan a new induction course on the centre's working days (closures included), store and audit it.

    Only a psychiatrist plans. Every bad field is reported at once (:class:`ValidationFailed`); the
    course number is the patient's previous highest plus one.
    """
    if actor.role not in PLANNING_ROLES:
        raise PermissionDenied("Only a physician of the centre can plan an rTMS course.")
    errors = course_input_errors(protocol, start, induction_sessions, calendar.zone)
    if errors:
        raise ValidationFailed(errors)
    assert isinstance(protocol, str) and isinstance(induction_sessions, int) and start is not None
    first = start if isinstance(start, dt.date) else dt.date.fromisoformat(start)
    definition = load_protocol_catalogue().get(protocol)
    settings = load_planning_settings()
    with database.write() as session:
        patient = load_patient(session, actor, patient_id)
        previous = session.scalar(select(func.max(Course.course_number)).where(Course.patient_id == patient.id))
        number = (previous or 0) + 1
        plan = plan_induction(definition, first, calendar, settings, sessions=induction_sessions,
                              course_number=number, ruleset_version=settings.version)
        row = Course(id=new_id("CO"), patient_id=patient.id, course_number=number, protocol_ref=definition.ref,
                     status="planned", start_date=first, induction_sessions=induction_sessions,
                     created_by=actor.id, created_at=utcnow())
        session.add(row)
        session.flush()
        rows = [PlannedSessionRow(id=new_id("PS"), course_id=row.id, number=index, date=planned.date,
                                  slot=planned.slot, phase=planned.phase, status="planned")
                for index, planned in enumerate(plan.active_sessions(), start=1)]
        session.add_all(rows)
        audit.record(session, actor, "course_planned", "rtms_course", row.id, patient_id=patient.id,
                     detail=f"course {number}, {definition.ref}, {len(rows)} sessions from {first.isoformat()}")
        return _course_view(row, rows)


def _sessions_by_course(session: Any, course_ids: list[str]) -> dict[str, list[PlannedSessionRow]]:
    grouped: dict[str, list[PlannedSessionRow]] = {course_id: [] for course_id in course_ids}
    if course_ids:
        for planned in session.scalars(select(PlannedSessionRow).where(PlannedSessionRow.course_id.in_(course_ids))):
            grouped[planned.course_id].append(planned)
    return grouped


def patient_courses(database: Database, actor: Actor, patient_id: str, *, audited: bool = True) -> list[CourseView]:
    """The patient's courses, newest first, each with its planned sessions (audited read; ``audited=False``
    only where the same request records its own read of the patient, as :func:`get_patient`)."""
    with audit.audited_read(database) as session:
        patient = load_patient(session, actor, patient_id)
        rows = session.scalars(select(Course).where(Course.patient_id == patient.id)
                               .order_by(Course.course_number.desc())).all()
        grouped = _sessions_by_course(session, [row.id for row in rows])
        if audited:
            audit.record(session, actor, "read", "rtms_course", None, patient_id=patient.id)
        return [_course_view(row, grouped[row.id]) for row in rows]


def _plan_for_export(row: Course, sessions: list[PlannedSessionRow]) -> CoursePlan:
    """The stored course as a :class:`CoursePlan`, slot times from the protocol's day grid."""
    definition = load_protocol_catalogue().by_ref(row.protocol_ref)
    settings = load_planning_settings()
    # One day of the protocol's slots gives the times; the dates are the stored ones.
    template = plan_induction(definition, row.start_date, WorkingCalendar("metropole"), settings,
                              sessions=definition.sessions_per_day, course_number=row.course_number)
    times = {s.slot: (s.start, s.end) for s in template.sessions}
    planned = [PlannedSession(id=s.number, phase=cast(Phase, s.phase), date=s.date, slot=s.slot,
                              start=times[s.slot][0], end=times[s.slot][1], protocol_ref=row.protocol_ref,
                              number=s.number, status=cast(SessionStatus, s.status))
               for s in sorted(sessions, key=lambda s: (s.date, s.slot)) if s.slot in times]
    return msgspec.structs.replace(template, sessions=planned, planned_sessions=row.induction_sessions,
                                   next_id=len(planned) + 1, warnings=[])


def course_icalendar(database: Database, actor: Actor, patient_id: str, course_id: str, now: dt.datetime) -> str:
    """The course's sessions as RFC 5545 text for the patient's calendar (audited export)."""
    with audit.audited_read(database) as session:
        patient = load_patient(session, actor, patient_id)
        row = session.get(Course, course_id)
        if row is None or row.patient_id != patient.id:
            raise NotFound("Course not found.")
        sessions = _sessions_by_course(session, [row.id])[row.id]
        audit.record(session, actor, "export_icalendar", "rtms_course", row.id, patient_id=patient.id)
        return to_icalendar(_plan_for_export(row, sessions), course_uid=row.id, dtstamp=now)
