"""The patient's rTMS pathway after intake: course timeline, end of course, letter, follow-up, FHIR export.

Use cases (each one transaction, audited):

- :func:`pathway_overview` — courses (planned vs delivered), scale series, open safety alerts,
  outcomes and follow-ups, for the pathway page;
- :func:`close_course` — a psychiatrist closes a course (completed / stopped early with a reason):
  the outcome summary (``rules.course_outcome``), the maintenance plan reference, the follow-up
  appointments at 1, 3, 6 and 12 months (§10.1) and the letter to the referrer are stored together;
  the referral the course answers moves to ``completed`` (the letter is out);
- :func:`course_letter` / :func:`referrer_letter` — the letter, for the centre or the referrer who sent
  the referral (never another one);
- :func:`record_follow_up` — a follow-up marked done (with the scale administered) or missed;
- :func:`course_fhir_bundle` — the course as a FHIR R4 Bundle (``rtms_pathway.fhir``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from rtms_pathway.catalogue.loader_planning import load_planning_templates
from rtms_pathway.catalogue.loader_staging import load_mbc_settings
from rtms_pathway.fhir import (
    CourseExport,
    ExportAssessment,
    ExportCourse,
    ExportPatient,
    ExportReferral,
    ExportSession,
    build_course_bundle,
)
from rtms_pathway.intake_service import WORKFLOW, _move, _own_referral
from rtms_pathway.intake_tables import CourseOutcome, FollowUp, ReferralDetail
from rtms_pathway.model.mbc import Assessment as MbcAssessment
from rtms_pathway.rules.course_outcome import (
    CourseFacts,
    OutcomeSummary,
    baseline_for,
    follow_up_dates,
    summarise_course,
)
from rtms_pathway.rules.mbc import ScaleLookup
from rtms_pathway.session_tables import SessionRecordRow
from rtms_pathway.tables import Course, PlannedSessionRow, TriageRecord
from shared_core.actors import Actor
from shared_core.db import Database, utcnow
from shared_core.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from shared_core.ids import new_id
from shared_core.services import audit
from shared_core.services.assessments import AlertView, SeriesPoint, _alert_view
from shared_core.services.patients import PatientDetail, _detail, load_patient
from shared_core.tables import Assessment, Organisation, Patient, Referral, SafetyAlert

CLOSING_ROLES = frozenset({"psychiatrist"})
CLOSING_STATUSES = ("completed", "stopped_early")
MAINTENANCE_PLANS = ("none", "follow_up", "classic", "cluster")
FOLLOW_UP_STATUSES = ("done", "missed")
DELIVERED = ("delivered", "partially_delivered")
STOP_REASON_MIN = 10
COMMENT_MAX = 4000


# -- views -----------------------------------------------------------------------------------


class SessionMark(msgspec.Struct, frozen=True):
    number: int
    date: dt.date
    status: str


class FollowUpView(msgspec.Struct, frozen=True):
    id: str
    months_after_end: int
    due_on: dt.date
    status: str
    assessment_id: str | None
    note: str | None
    version: int


class OutcomeView(msgspec.Struct, frozen=True):
    course_status: str
    stop_reason: str | None
    outcome_status: str
    summary: OutcomeSummary
    maintenance_plan: str
    maintenance_template: str | None
    clinician_comment: str | None
    ended_on: dt.date
    decided_by: str
    decided_at: dt.datetime
    letter_issued_at: dt.datetime | None
    referral_id: str | None


class CourseTimeline(msgspec.Struct, frozen=True):
    id: str
    course_number: int
    protocol_ref: str
    status: str
    version: int
    start_date: dt.date
    planned: int
    delivered: int
    skipped: int
    first_date: dt.date | None
    last_date: dt.date | None
    checkpoint_date: dt.date | None  # date of session mbc.early.sessions (R-MBC-03), planned or delivered
    sessions: list[SessionMark]
    outcome: OutcomeView | None
    follow_ups: list[FollowUpView]
    baselines: dict[str, int]  # course baseline per scale (R-MBC-01), for the response line


class ScaleTrack(msgspec.Struct, frozen=True):
    scale_code: str
    points: list[SeriesPoint]


class AssessmentChoice(msgspec.Struct, frozen=True):
    id: str
    scale_code: str
    administered_at: dt.datetime
    total: int | None


class TemplateChoice(msgspec.Struct, frozen=True):
    id: str
    kind: str
    label_fr: str


class PathwayView(msgspec.Struct, frozen=True):
    patient: PatientDetail
    courses: list[CourseTimeline]
    tracks: list[ScaleTrack]
    open_alerts: list[AlertView]
    assessments: list[AssessmentChoice]
    templates: list[TemplateChoice]


class LetterView(msgspec.Struct, frozen=True):
    patient_id: str
    course_id: str
    family_name: str
    given_names: str
    birth_date: dt.date
    centre_name: str
    referrer_name: str | None
    course_number: int
    protocol_ref: str
    first_date: dt.date | None
    sessions_delivered: int
    sessions_planned: int
    outcome: OutcomeView
    template_label_fr: str | None
    follow_ups: list[FollowUpView]
    triage_orientation: str | None


def maintenance_templates() -> list[TemplateChoice]:
    """§7.5 templates a maintenance plan can refer to (rescue clusters are not a plan)."""
    return [TemplateChoice(t.id, t.kind, t.label_fr) for t in load_planning_templates().maintenance
            if t.kind in ("classic", "cluster")]


def _outcome_view(row: CourseOutcome) -> OutcomeView:
    return OutcomeView(row.course_status, row.stop_reason, row.outcome_status,
                       msgspec.convert(row.summary, OutcomeSummary), row.maintenance_plan, row.maintenance_template,
                       row.clinician_comment, row.ended_on, row.decided_by, row.decided_at, row.letter_issued_at,
                       row.referral_id)


def _follow_up_view(row: FollowUp) -> FollowUpView:
    return FollowUpView(row.id, row.months_after_end, row.due_on, row.status, row.assessment_id, row.note,
                        row.version)


def _mbc_assessments(rows: list[Assessment]) -> list[MbcAssessment]:
    return [MbcAssessment(r.scale_code, r.total, r.administered_at.date(), r.id) for r in rows if r.total is not None]


def _patient_assessments(session: Session, patient_id: str) -> list[Assessment]:
    return list(session.scalars(select(Assessment).where(Assessment.patient_id == patient_id)
                                .order_by(Assessment.administered_at, Assessment.created_at)))


def _planned(session: Session, course_id: str) -> list[PlannedSessionRow]:
    return list(session.scalars(select(PlannedSessionRow).where(PlannedSessionRow.course_id == course_id)
                                .order_by(PlannedSessionRow.date, PlannedSessionRow.slot, PlannedSessionRow.number)))


def _records(session: Session, course_id: str) -> list[SessionRecordRow]:
    return list(session.scalars(select(SessionRecordRow).where(SessionRecordRow.course_id == course_id)
                                .order_by(SessionRecordRow.performed_on, SessionRecordRow.session_number)))


def _delivered_dates(planned: list[PlannedSessionRow], records: list[SessionRecordRow]) -> list[dt.date]:
    """Dates of the sessions delivered: the session records when present, else planned rows marked delivered."""
    recorded = {r.planned_session_id for r in records}
    dates = [r.performed_on for r in records if r.status in DELIVERED]
    dates += [p.date for p in planned if p.status == "delivered" and p.id not in recorded]
    return sorted(dates)


def _course_timeline(session: Session, course: Course, assessments: list[MbcAssessment]) -> CourseTimeline:
    planned = _planned(session, course.id)
    records = _records(session, course.id)
    delivered = _delivered_dates(planned, records)
    active = [p for p in planned if p.status != "superseded"]
    by_number = sorted(active, key=lambda p: (p.date, p.slot))
    settings = load_mbc_settings()
    # R-MBC-03: the early-improvement checkpoint falls after session mbc.early.sessions (10).
    checkpoint = by_number[settings.early_sessions - 1].date if len(by_number) >= settings.early_sessions else None
    outcome = session.get(CourseOutcome, course.id)
    follow_ups = session.scalars(select(FollowUp).where(FollowUp.course_id == course.id)
                                 .order_by(FollowUp.months_after_end)).all()
    first = delivered[0] if delivered else (by_number[0].date if by_number else None)
    baselines: dict[str, int] = {}
    if first is not None:
        for code in {a.scale for a in assessments}:
            picked = baseline_for(assessments, code, first, settings)
            if picked is not None:
                baselines[code] = picked[0].total
    return CourseTimeline(
        course.id, course.course_number, course.protocol_ref, course.status, course.version, course.start_date,
        len(active), len(delivered), sum(1 for p in planned if p.status == "skipped"), first,
        (delivered[-1] if course.status in CLOSING_STATUSES and delivered else
         (by_number[-1].date if by_number else None)),
        checkpoint, [SessionMark(p.number, p.date, p.status) for p in by_number],
        _outcome_view(outcome) if outcome else None, [_follow_up_view(f) for f in follow_ups], baselines)


# -- pathway ---------------------------------------------------------------------------------


def pathway_overview(database: Database, actor: Actor, catalogue: ScaleLookup, patient_id: str) -> PathwayView:
    """Everything the pathway page shows, read and audited in one transaction."""
    with audit.audited_read(database) as session:
        patient = load_patient(session, actor, patient_id)
        rows = _patient_assessments(session, patient.id)
        assessments = _mbc_assessments(rows)
        courses = session.scalars(select(Course).where(Course.patient_id == patient.id)
                                  .order_by(Course.course_number.desc())).all()
        timelines = [_course_timeline(session, course, assessments) for course in courses]
        by_scale: dict[str, list[SeriesPoint]] = {}
        for row in rows:
            if row.total is not None and row.scale_code in catalogue:
                by_scale.setdefault(row.scale_code, []).append(
                    SeriesPoint(row.id, row.administered_at, row.total, row.band))
        alerts = session.scalars(select(SafetyAlert).where(SafetyAlert.patient_id == patient.id,
                                                           SafetyAlert.acknowledged_at.is_(None))
                                 .order_by(SafetyAlert.raised_at.desc())).all()
        audit.record(session, actor, "read", "rtms_pathway", None, patient_id=patient.id)
        return PathwayView(
            _detail(patient), timelines, [ScaleTrack(code, points) for code, points in by_scale.items()],
            [_alert_view(a) for a in alerts],
            [AssessmentChoice(r.id, r.scale_code, r.administered_at, r.total) for r in reversed(rows)][:50],
            maintenance_templates())


# -- closing a course ------------------------------------------------------------------------


class CloseCourseInput(msgspec.Struct, frozen=True):
    course_status: str
    stop_reason: str | None
    maintenance_plan: str
    maintenance_template: str | None
    clinician_comment: str | None
    expected_version: int


def parse_close_input(raw: dict[str, str | None]) -> CloseCourseInput:
    """Every bad field of the closing form at once (422)."""
    errors: list[FieldError] = []
    status = (raw.get("course_status") or "").strip()
    if status not in CLOSING_STATUSES:
        errors.append(FieldError("course_status", "Choose how the course ended: completed or stopped early."))
    reason = (raw.get("stop_reason") or "").strip() or None
    if status == "stopped_early" and (reason is None or len(reason) < STOP_REASON_MIN):
        errors.append(FieldError("stop_reason", "A course stopped early needs a reason of at least 10 characters."))
    plan = (raw.get("maintenance_plan") or "").strip()
    template = (raw.get("maintenance_template") or "").strip() or None
    if plan not in MAINTENANCE_PLANS:
        errors.append(FieldError("maintenance_plan", "Choose the plan after the course."))
    elif plan in ("classic", "cluster"):
        kinds = {t.id: t.kind for t in maintenance_templates()}
        if template is None or kinds.get(template) != plan:
            errors.append(FieldError("maintenance_template", "Choose a maintenance template of the kind chosen."))
    else:
        template = None
    comment = (raw.get("clinician_comment") or "").strip() or None
    if comment is not None and len(comment) > COMMENT_MAX:
        errors.append(FieldError("clinician_comment", f"At most {COMMENT_MAX} characters."))
    version_text = (raw.get("version") or "").strip()
    if not version_text.isdigit():
        errors.append(FieldError("version", "The form is out of date: reload the page."))
    if errors:
        raise ValidationFailed(errors)
    return CloseCourseInput(status, reason if status == "stopped_early" else None, plan, template, comment,
                            int(version_text))


def _answered_referral(session: Session, actor: Actor, patient_id: str) -> Referral | None:
    """The referral a course answers: the patient's newest rTMS referral at the centre that was accepted."""
    return session.scalars(select(Referral).where(
        Referral.workflow == WORKFLOW.name, Referral.patient_id == patient_id,
        Referral.recipient_organisation_id == actor.organisation_id,
        Referral.status.in_(("accepted", "on_hold", "completed")))
        .order_by(Referral.created_at.desc(), Referral.id.desc())).first()


def close_course(database: Database, actor: Actor, catalogue: ScaleLookup, patient_id: str, course_id: str,
                 data: CloseCourseInput, today: dt.date) -> OutcomeView:
    """Close the course, store the outcome, maintenance plan, follow-ups and issue the letter (one transaction).

    A course already closed in Parcours (an outcome exists) is a conflict; a course whose status was
    set to completed elsewhere without an outcome can still get one.
    """
    if actor.role not in CLOSING_ROLES:
        raise PermissionDenied("Only a physician of the centre can close an rTMS course.")
    settings = load_mbc_settings()
    now = utcnow()
    with database.write() as session:
        patient = load_patient(session, actor, patient_id)
        course = session.get(Course, course_id)
        if course is None or course.patient_id != patient.id:
            raise NotFound("Course not found.")
        if session.get(CourseOutcome, course.id) is not None:
            raise Conflict("This course is already closed.")
        if course.version != data.expected_version:
            raise Conflict("This course was changed by someone else. Reload the page and close it again.")
        planned = _planned(session, course.id)
        delivered = _delivered_dates(planned, _records(session, course.id))
        first = delivered[0] if delivered else course.start_date
        end = delivered[-1] if delivered else today
        protocol_id = course.protocol_ref.split("@", 1)[0]
        facts = CourseFacts(protocol_id, first, end, len(delivered),
                            sum(1 for p in planned if p.status != "superseded"))
        summary = summarise_course(_mbc_assessments(_patient_assessments(session, patient.id)), facts, catalogue,
                                   settings)
        referral = _answered_referral(session, actor, patient.id)
        outcome = CourseOutcome(
            course_id=course.id, patient_id=patient.id, referral_id=referral.id if referral else None,
            course_status=data.course_status, stop_reason=data.stop_reason, outcome_status=summary.status,
            summary=msgspec.to_builtins(summary), maintenance_plan=data.maintenance_plan,
            maintenance_template=data.maintenance_template, clinician_comment=data.clinician_comment, ended_on=end,
            decided_by=actor.id, decided_at=now, letter_issued_at=now)
        session.add(outcome)
        course.status = data.course_status
        for months, due in follow_up_dates(end, settings):
            session.add(FollowUp(id=new_id("FU"), course_id=course.id, patient_id=patient.id, months_after_end=months,
                                 due_on=due, status="planned"))
        session.flush()
        audit.record(session, actor, "course_closed", "rtms_course", course.id, patient_id=patient.id,
                     detail=f"{data.course_status}, outcome {summary.status}, plan {data.maintenance_plan}"
                            + (f" {data.maintenance_template}" if data.maintenance_template else ""))
        audit.record(session, actor, "letter_issued", "rtms_course_letter", course.id, patient_id=patient.id,
                     detail=f"referral {referral.id}" if referral else "no referral")
        if referral is not None and "completed" in WORKFLOW.allowed_targets(referral.status, "centre"):
            _move(session, actor, referral, "completed", "centre", None, "end-of-course letter issued")
        return _outcome_view(outcome)


# -- letters ---------------------------------------------------------------------------------


def _letter(session: Session, patient: Patient, course: Course) -> LetterView:
    outcome = session.get(CourseOutcome, course.id)
    if outcome is None or outcome.letter_issued_at is None:
        raise NotFound("No end-of-course letter has been issued for this course yet.")
    view = _outcome_view(outcome)
    centre = session.get(Organisation, patient.organisation_id)
    detail = session.get(ReferralDetail, outcome.referral_id) if outcome.referral_id else None
    triage = session.get(TriageRecord, detail.triage_id) if detail and detail.triage_id else None
    templates = {t.id: t.label_fr for t in maintenance_templates()}
    follow_ups = session.scalars(select(FollowUp).where(FollowUp.course_id == course.id)
                                 .order_by(FollowUp.months_after_end)).all()
    facts = view.summary.facts
    return LetterView(patient.id, course.id, patient.family_name, patient.given_names, patient.birth_date,
                      centre.name if centre else "", detail.referrer_name if detail else None, course.course_number,
                      course.protocol_ref, facts.first_session_on, facts.sessions_delivered, facts.sessions_planned,
                      view, templates.get(outcome.maintenance_template or ""),
                      [_follow_up_view(f) for f in follow_ups], triage.final_orientation if triage else None)


def course_letter(database: Database, actor: Actor, patient_id: str, course_id: str) -> LetterView:
    """The letter to the referrer, for the centre (audited)."""
    with audit.audited_read(database) as session:
        patient = load_patient(session, actor, patient_id)
        course = session.get(Course, course_id)
        if course is None or course.patient_id != patient.id:
            raise NotFound("Course not found.")
        letter = _letter(session, patient, course)
        audit.record(session, actor, "read", "rtms_course_letter", course.id, patient_id=patient.id)
        return letter


def referrer_letter(database: Database, actor: Actor, referral_id: str) -> LetterView:
    """The letter answering one of the referrer's own referrals (audited); NotFound otherwise."""
    with audit.audited_read(database) as session:
        referral, _detail = _own_referral(session, actor, referral_id)
        outcome = session.scalars(select(CourseOutcome).where(CourseOutcome.referral_id == referral.id,
                                                              CourseOutcome.letter_issued_at.is_not(None))
                                  .order_by(CourseOutcome.decided_at.desc())).first()
        patient = session.get(Patient, referral.patient_id)
        course = session.get(Course, outcome.course_id) if outcome else None
        if outcome is None or patient is None or course is None:
            raise NotFound("No end-of-course letter has been issued for this referral yet.")
        letter = _letter(session, patient, course)
        audit.record(session, actor, "read", "rtms_course_letter", course.id, patient_id=patient.id,
                     detail=f"referrer, referral {referral.id}")
        return letter


# -- follow-up -------------------------------------------------------------------------------


def record_follow_up(database: Database, actor: Actor, patient_id: str, follow_up_id: str, *,
                     raw: dict[str, str | None]) -> None:
    """Mark a follow-up done (with the scale administered, one of the patient's assessments) or missed."""
    errors: list[FieldError] = []
    status = (raw.get("status") or "").strip()
    if status not in FOLLOW_UP_STATUSES:
        errors.append(FieldError("status", "Choose done or missed."))
    assessment_id = (raw.get("assessment_id") or "").strip() or None
    if status == "done" and assessment_id is None:
        errors.append(FieldError("assessment_id", "A follow-up done needs the rating scale administered."))
    note = (raw.get("note") or "").strip() or None
    if note is not None and len(note) > COMMENT_MAX:
        errors.append(FieldError("note", f"At most {COMMENT_MAX} characters."))
    version_text = (raw.get("version") or "").strip()
    if not version_text.isdigit():
        errors.append(FieldError("version", "The form is out of date: reload the page."))
    if errors:
        raise ValidationFailed(errors)
    with database.write() as session:
        patient = load_patient(session, actor, patient_id)
        row = session.get(FollowUp, follow_up_id)
        if row is None or row.patient_id != patient.id:
            raise NotFound("Follow-up not found.")
        if row.version != int(version_text):
            raise Conflict("This follow-up was updated by someone else. Reload the page.")
        if assessment_id is not None:
            assessment = session.get(Assessment, assessment_id)
            if assessment is None or assessment.patient_id != patient.id:
                raise ValidationFailed([FieldError("assessment_id", "Choose one of the patient's rating scales.")])
        row.status = status
        row.assessment_id = assessment_id if status == "done" else None
        row.note = note
        row.recorded_by = actor.id
        row.recorded_at = utcnow()
        session.flush()
        audit.record(session, actor, "follow_up_" + status, "rtms_follow_up", row.id, patient_id=patient.id,
                     detail=f"{row.months_after_end} months" + (f", {assessment_id}" if assessment_id else ""))


# -- FHIR ------------------------------------------------------------------------------------


def course_fhir_bundle(database: Database, actor: Actor, catalogue: ScaleLookup, patient_id: str, course_id: str,
                       base_url: str, now: dt.datetime) -> dict[str, Any]:
    """The course as a FHIR R4 Bundle (audited export): delivered sessions from the session records
    (planned rows marked delivered otherwise), scales from the baseline window to the end window."""
    settings = load_mbc_settings()
    with audit.audited_read(database) as session:
        patient = load_patient(session, actor, patient_id)
        course = session.get(Course, course_id)
        if course is None or course.patient_id != patient.id:
            raise NotFound("Course not found.")
        planned = _planned(session, course.id)
        records = _records(session, course.id)
        recorded = {r.planned_session_id for r in records}
        sessions = [ExportSession(r.id, r.session_number, r.performed_on, r.status, r.performed_start, r.performed_end,
                                  r.protocol_ref, r.pulses_delivered, r.intensity_pct_mt)
                    for r in records if r.status in DELIVERED]
        sessions += [ExportSession(p.id, p.number, p.date, "delivered") for p in planned
                     if p.status == "delivered" and p.id not in recorded]
        outcome = session.get(CourseOutcome, course.id)
        dates = sorted(s.date for s in sessions) or sorted(p.date for p in planned if p.status != "superseded")
        start = (dates[0] if dates else course.start_date) - dt.timedelta(days=settings.baseline_window_days)
        end = outcome.ended_on if outcome else (dates[-1] if dates else course.start_date)
        last = end + dt.timedelta(days=settings.end_window_days)
        assessments = [ExportAssessment(a.id, a.scale_code, a.scale_version, a.administered_at, list(a.items), a.total,
                                        a.band) for a in _patient_assessments(session, patient.id)
                       if start <= a.administered_at.date() <= last]
        referral_export = None
        referral_id = outcome.referral_id if outcome and outcome.referral_id else None
        if referral_id is None:
            found = _answered_referral(session, actor, patient.id)
            referral_id = found.id if found else None
        if referral_id is not None:
            referral = session.get(Referral, referral_id)
            detail = session.get(ReferralDetail, referral_id)
            centre = session.get(Organisation, patient.organisation_id)
            triage = session.get(TriageRecord, detail.triage_id) if detail and detail.triage_id else None
            if referral is not None and detail is not None:
                referral_export = ExportReferral(referral.id, referral.status, referral.created_at, detail.reason,
                                                 detail.question, detail.urgency, detail.referrer_name,
                                                 referral.recipient_organisation_id, centre.name if centre else "",
                                                 triage.final_orientation if triage else None)
        export = CourseExport(
            base_url, now,
            ExportPatient(patient.id, patient.family_name, patient.given_names, patient.birth_date, patient.sex,
                          patient.ins),
            ExportCourse(course.id, course.course_number, course.protocol_ref, course.status, course.start_date,
                         outcome.ended_on if outcome else (dates[-1] if dates else None),
                         sum(1 for p in planned if p.status != "superseded") or course.induction_sessions,
                         outcome.outcome_status if outcome else None),
            sessions, assessments, referral_export)
        audit.record(session, actor, "export_fhir", "rtms_course", course.id, patient_id=patient.id,
                     detail=f"{len(sessions)} sessions, {len(assessments)} assessments")
        return build_course_bundle(export, catalogue)
