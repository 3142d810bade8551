"""Sport referral use cases (domain-sport §1-§4, §7, §8): the only place the referral rules meet the
database. Tables: :mod:`sport_referral.referral_tables` plus shared ``referral``/``referral_event``
(workflow ``sport_referral``) and ``consent``/``consent_withdrawal``.

Two sides, two scopes:

- the **prescriber side** (the patient's centre): :func:`load_patient` scopes every call to the
  actor's organisation; it sees the whole prescription, status changes with their reason codes
  (R-9) and the D.1172-5 reports only while ``share_reports_with_prescriber`` is in force (C-2);
- the **structure side** (role coordinator): a referral exists for a coordinator only when the
  target structure's ``organisation_id`` is the coordinator's organisation and it has been sent.
  The coordinator only ever receives :func:`coordinator_view` output (C-3): identity and contact
  as consented, the prescription's shareable fields, the limitation level; never diagnoses,
  eligibility basis, severe criteria, medical notes, rTMS data, scale scores or the INS (C-4).

Every read of a referral and every write is audited in its own transaction. Each write compares the
version the user saw with ``referral.version`` (409 when stale) and bumps it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Literal, TypeVarTuple

import msgspec
from sqlalchemy import Integer, Row, Select, and_, bindparam, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session

from shared_core.actors import Actor
from shared_core.db import Database, utcnow
from shared_core.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from shared_core.ids import new_id
from shared_core.rules.consent import COLLECTION_MODES, CONSENT_SCOPES, GRANTORS, ConsentEvent, active_consent
from shared_core.rules.workflow import (
    SPORT_CANCEL_REASONS,
    SPORT_DECLINE_REASONS,
    SPORT_LOST_REASONS,
    SPORT_ON_HOLD_REASONS,
    SPORT_REFERRAL_WORKFLOW,
    TransitionRecord,
)
from shared_core.scales import load_catalogue
from shared_core.services import audit
from shared_core.services.patients import check_patient_access, load_patient
from shared_core.tables import Consent, ConsentWithdrawal, Organisation, Patient, Referral, ReferralEvent
from shared_core.text import fold
from sport_referral.catalogue.loader import load_supervision_matrix
from sport_referral.catalogue.loader_sport import (
    load_consent_settings,
    load_limitation_catalogue,
    load_matching_settings,
    load_prescription_settings,
)
from sport_referral.geo.gazetteer import get_gazetteer
from sport_referral.model import Reason
from sport_referral.model.eligibility import EligibilityResult, LimitationAssessment
from sport_referral.model.matching import MatchRequest, MatchResult, PatientNeeds
from sport_referral.model.prescription import (
    ApaPrescription,
    CoordinatorReferralStub,
    CoordinatorReferralView,
    LintHit,
    PatientIdentity,
    PrescriberContact,
    ReferralFile,
    ReferralSettings,
)
from sport_referral.model.prescription import Referral as ReferralRecord
from sport_referral.model.structures import REFERRAL_TARGET_KINDS, Structure
from sport_referral.referral_forms import FormValues, ReportInput, read_prescription_form, read_report_form
from sport_referral.referral_tables import SportAttendance, SportPrescription, SportReferralDetail, SportReport
from sport_referral.rules.eligibility import evaluate_eligibility
from sport_referral.rules.limitation import assess_limitation
from sport_referral.rules.matching import match_structures
from sport_referral.rules.minimisation import coordinator_view
from sport_referral.rules.prescription import check_prescription, expiry_date
from sport_referral.rules.referral_flow import (
    apply_transition,
    cancel_on_consent_withdrawal,
    check_single_active,
    lost_to_follow_up_suggestion,
    response_reminders,
    send_referral,
)
from sport_referral.service import commune_points, nearest_structures
from sport_referral.tables import SportStructure

__all__ = [
    "CONSENT_NOTICE_VERSION",
    "PRESCRIBER_ROLES",
    "Assessment",
    "CoordinatorPage",
    "InboxRow",
    "PrescriberReferralPage",
    "PrescriptionPage",
    "SearchRow",
    "accept",
    "assess_form",
    "book_first_session",
    "cancel_by_prescriber",
    "complete",
    "coordinator_referral",
    "coordinator_report",
    "create_prescription",
    "create_referral_draft",
    "decline",
    "inbox",
    "patient_sport_overview",
    "prescriber_referral",
    "prescription_page",
    "record_attendance",
    "record_referral_consents",
    "record_report",
    "resume",
    "search_structures_for",
    "send",
    "stop",
    "withdraw_referral_consent",
]

WORKFLOW = SPORT_REFERRAL_WORKFLOW
PRESCRIBER_ROLES = frozenset({"psychiatrist"})
CONSENT_NOTICE_VERSION = "sport-2026.1"
# Consent scopes the referral page records for one structure (C-1, C-2, C-3).
REFERRAL_CONSENT_SCOPES: tuple[str, ...] = (
    "share_referral", "share_contact_phone", "share_contact_email", "share_address", "share_reports_with_prescriber",
)
STRUCTURE_BOUND_SCOPES = frozenset({"share_referral", "share_contact_phone", "share_contact_email", "share_address"})
OPEN_STATUSES: tuple[str, ...] = ("sent", "received", "accepted", "in_progress", "on_hold")
INBOX_PAGE = 25
# A name search reads the status's referrals in batches and checks consent on each (a name is only
# searchable where it may be shown); this bounds one search.
INBOX_SEARCH_LIMIT = 5000
INBOX_SEARCH_BATCH = 200
LINT_ACKNOWLEDGE = "This text will be visible to the structure: confirm it is needed, or reword it."


# --- views ---------------------------------------------------------------------------------------


class Assessment(msgspec.Struct, frozen=True, kw_only=True):
    """Live outcome of the prescription form: eligibility (E-11), limitation (L-1/L-2), C-5 lint."""

    eligibility: EligibilityResult | None
    limitation: LimitationAssessment | None
    level: str | None
    errors: list[FieldError]
    lint_hits: list[LintHit]
    warnings: list[Reason]


class EventRow(msgspec.Struct, frozen=True):
    """R-9: status, date and reason code; never the free text."""

    source: str | None
    target: str
    at: dt.datetime
    reason_code: str | None


class ReportRow(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    report_type: str
    performed_on: dt.date
    performer_profession: str
    six_minute_walk_m: int | None
    chair_stand_30s: int | None
    one_leg_stance_s: float | None
    handgrip_kg: float | None
    ricci_gagnon_score: int | None
    ricci_gagnon_band: str | None
    motivation_stage: str | None
    weekly_activity_minutes: int | None
    flags_risk: bool
    programme: str | None
    proposals: str | None
    notes: str | None


class AttendanceRow(msgspec.Struct, frozen=True):
    kind: str
    session_on: dt.date
    attended: bool | None


class ReferralSummary(msgspec.Struct, frozen=True, kw_only=True):
    referral_id: str
    prescription_id: str
    structure_id: str
    structure_name: str
    status: str
    created_at: dt.datetime
    sent_at: dt.datetime | None


class PrescriptionRow(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    prescribed_on: dt.date
    expires_on: dt.date
    limitation_level: str
    status: str


class SportOverview(msgspec.Struct, frozen=True, kw_only=True):
    patient_id: str
    patient_name: str
    commune_insee: str | None
    prescriptions: list[PrescriptionRow]
    referrals: list[ReferralSummary]


class SearchRow(msgspec.Struct, frozen=True, kw_only=True):
    structure_id: str
    name: str
    kind: str
    commune: str
    distance_km: float
    match_reasons: list[str]
    flags: list[str]
    coverage: str
    accessibility: list[str]
    referral_target: bool
    active_referral_id: str | None


class PrescriptionPage(msgspec.Struct, frozen=True, kw_only=True):
    patient_id: str
    patient_name: str
    patient_birth_date: dt.date
    patient_commune: str | None
    prescription: ApaPrescription
    prescriber_name: str
    prescriber_rpps: str | None
    expires_on: dt.date
    eligibility: dict[str, object]
    needs: PatientNeeds
    medical_notes: str | None
    lint_hits: list[LintHit]
    referrals: list[ReferralSummary]
    search: MatchResult | None
    search_rows: list[SearchRow]  # the nearest SEARCH_ROWS_SHOWN that fit (and match the name filter)
    search_error: list[FieldError]


class ConsentRow(msgspec.Struct, frozen=True):
    consent_id: str
    scope: str
    recipient: str | None
    granted_at: dt.datetime
    granted_by: str
    collection_mode: str
    withdrawn_at: dt.datetime | None
    in_force: bool


class PrescriberReferralPage(msgspec.Struct, frozen=True, kw_only=True):
    referral_id: str
    version: int
    status: str
    patient_id: str
    patient_name: str
    prescription_id: str
    structure_id: str
    structure_name: str
    structure_kind: str
    structure_contact: str | None
    referent_display_name: str | None
    first_session_planned_on: dt.date | None
    events: list[EventRow]
    consents: list[ConsentRow]
    share_referral_in_force: bool
    reports_shared: bool
    reports: list[ReportRow]
    reports_withheld: int
    risk_flagged: bool  # §4.5: without C-2 consent the prescriber only learns to contact the patient
    can_send: bool
    can_cancel: bool


class CoordinatorPage(msgspec.Struct, frozen=True, kw_only=True):
    referral_id: str
    version: int
    status: str
    structure_name: str
    view: CoordinatorReferralView | CoordinatorReferralStub
    events: list[EventRow]
    attendance: list[AttendanceRow]
    reports: list[ReportRow]
    first_session_planned_on: dt.date | None
    actions: list[str]
    has_final_assessment: bool
    suggestion: Reason | None  # a person confirms; never automatic


class InboxRow(msgspec.Struct, frozen=True, kw_only=True):
    referral_id: str
    structure_name: str
    status: str
    sent_at: dt.datetime | None
    patient_label: str | None  # None: no consent in force (C-7 stub)
    limitation_level: str | None
    first_session_planned_on: dt.date | None
    waiting_days: int | None  # awaiting a decision for cfg:sla.response_days or more


class InboxPage(msgspec.Struct, frozen=True, kw_only=True):
    rows: list[InboxRow]
    status: str
    query: str
    total: int  # referrals in this status; with a name search, those that match (up to INBOX_SEARCH_LIMIT read)
    after: str | None = None  # the referral this page follows (keyset paging, newest first)
    next_after: str | None = None  # where the next page starts, when there is one
    search_truncated: bool = False  # the name search stopped at INBOX_SEARCH_LIMIT referrals


# --- helpers -------------------------------------------------------------------------------------


def _aware(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def _events_of(session: Session, patient_id: str, scope: str | None = None,
               recipients: Sequence[str] | None = None) -> list[ConsentEvent]:
    return _events_of_patients(session, [patient_id], scope, recipients).get(patient_id, [])


# Columns, not entities: an inbox reads hundreds of consent rows. Built once: every referral move reads them.
_CONSENT_EVENTS = (
    select(Consent.id, Consent.patient_id, Consent.scope, Consent.recipient, Consent.granted_at, Consent.granted_by,
           Consent.collection_mode, ConsentWithdrawal.withdrawn_at)
    .outerjoin(ConsentWithdrawal, ConsentWithdrawal.consent_id == Consent.id)
    .where(Consent.patient_id.in_(bindparam("patient_ids", expanding=True))).order_by(Consent.granted_at, Consent.id))
_CONSENT_EVENTS_OF_SCOPE = _CONSENT_EVENTS.where(Consent.scope == bindparam("scope"))
_CONSENT_EVENTS_OF_SCOPE_TO = _CONSENT_EVENTS_OF_SCOPE.where(
    Consent.recipient.in_(bindparam("recipients", expanding=True)))


def _events_of_patients(session: Session, patient_ids: Sequence[str], scope: str | None = None,
                        recipients: Sequence[str] | None = None) -> dict[str, list[ConsentEvent]]:
    """Consent events per patient (of one scope, or all; to these recipients, or any), oldest first, in
    one query for a whole list. Leaving other recipients out changes no answer: a consent only ever
    answers for its own recipient (C-1)."""
    if recipients is not None and scope is None:
        raise ValueError("consent events are filtered by recipient within one scope only")
    statement = (_CONSENT_EVENTS if scope is None else _CONSENT_EVENTS_OF_SCOPE if recipients is None
                 else _CONSENT_EVENTS_OF_SCOPE_TO)
    found: dict[str, list[ConsentEvent]] = {}
    connection = session.connection()  # Core rows: loaded through the ORM, they cost twice as much
    for start in range(0, len(patient_ids), 500):  # bounded IN lists
        parameters = {"patient_ids": list(patient_ids[start:start + 500]), "scope": scope, "recipients": recipients}
        for row in connection.execute(statement, parameters):
            found.setdefault(row.patient_id, []).append(ConsentEvent(*row))
    return found


def _structure(row: SportStructure) -> Structure:
    return msgspec.convert(row.data, Structure)


def _prescription(row: SportPrescription) -> ApaPrescription:
    return msgspec.convert(row.data, ApaPrescription)


def _record(referral: Referral, detail: SportReferralDetail) -> ReferralRecord:
    return _record_of(referral.id, referral.status, detail)


def _record_of(referral_id: str, status: str, detail: SportReferralDetail | Row[*tuple[Any, ...]]
               ) -> ReferralRecord:
    return ReferralRecord(
        referral_id=referral_id, prescription_id=detail.prescription_id, patient_id=detail.patient_id,
        structure_id=detail.structure_id, status=status,  # type: ignore[arg-type]
        created_at=detail.created_at, sent_at=detail.sent_at, received_at=detail.received_at,
        accepted_at=detail.accepted_at, first_session_at=detail.first_session_at, closed_at=detail.closed_at,
        previous_referral_id=detail.previous_referral_id,
    )


def _event_rows(session: Session, referral_id: str) -> list[EventRow]:
    rows = session.scalars(select(ReferralEvent).where(ReferralEvent.referral_id == referral_id)
                           .order_by(ReferralEvent.id))
    return [EventRow(e.source, e.target, e.at, e.reason_code) for e in rows]


def _report_rows(session: Session, referral_id: str) -> list[ReportRow]:
    rows = session.scalars(select(SportReport).where(SportReport.referral_id == referral_id)
                           .order_by(SportReport.performed_on, SportReport.recorded_at))
    return [_report_row(r) for r in rows]


def _report_row(r: SportReport) -> ReportRow:
    return ReportRow(
        id=r.id, report_type=r.report_type, performed_on=r.performed_on, performer_profession=r.performer_profession,
        six_minute_walk_m=r.six_minute_walk_m, chair_stand_30s=r.chair_stand_30s, one_leg_stance_s=r.one_leg_stance_s,
        handgrip_kg=r.handgrip_kg, ricci_gagnon_score=r.ricci_gagnon_score, ricci_gagnon_band=r.ricci_gagnon_band,
        motivation_stage=r.motivation_stage, weekly_activity_minutes=r.weekly_activity_minutes,
        flags_risk=r.flags_risk, programme=r.data.get("programme"), proposals=r.data.get("proposals"),
        notes=r.data.get("notes"),
    )


def _detail_changes(moved: ReferralRecord, record: TransitionRecord) -> dict[str, Any]:
    """The detail columns one checked transition sets: the status and dates snapshot (R-12)."""
    changes: dict[str, Any] = {
        "status": moved.status, "updated_at": record.at, "sent_at": moved.sent_at, "received_at": moved.received_at,
        "accepted_at": moved.accepted_at, "first_session_at": moved.first_session_at}
    if record.target in ("accepted", "declined"):
        changes["decided_at"] = record.at
    if record.target == "declined":
        changes |= {"declined_at": record.at, "decline_reason": record.reason_code}
    if record.target in WORKFLOW.terminal_codes():
        changes |= {"closed_at": record.at, "close_reason": record.reason_code}
    return changes


def _event(referral_id: str, actor: Actor, record: TransitionRecord) -> dict[str, Any]:
    return {"referral_id": referral_id, "source": record.source, "target": record.target, "actor_id": actor.id,
            "actor_role": actor.role, "reason_code": record.reason_code, "reason_text": record.reason_text,
            "at": record.at}


def _audit_transition(session: Session, actor: Actor, referral_id: str, patient_id: str,
                      record: TransitionRecord) -> None:
    audit.record(session, actor, "transition", "sport_referral", referral_id, patient_id=patient_id,
                 detail=f"{record.source} -> {record.target}" + (f" ({record.reason_code})" if record.reason_code
                                                                   else ""))


def _apply(session: Session, actor: Actor, referral: Referral, detail: SportReferralDetail,
           change: tuple[ReferralRecord, TransitionRecord]) -> None:
    """Persist one checked transition on loaded rows: status, event, detail snapshot, audit (R-12)."""
    moved, record = change
    referral.status = moved.status
    referral.updated_at = record.at
    session.add(ReferralEvent(**_event(referral.id, actor, record)))
    for column, value in _detail_changes(moved, record).items():
        setattr(detail, column, value)
    _audit_transition(session, actor, referral.id, detail.patient_id, record)


_REFERRAL_UPDATED_ELSEWHERE = "This referral was updated by someone else. Reload it to see its current status."


_Columns = TypeVarTuple("_Columns")


def _sent_to_organisation(statement: Select[*_Columns]) -> Select[*_Columns]:
    """Only a sent referral to one of the organisation's structures: a coordinator's scope."""
    return (statement.join(SportReferralDetail, SportReferralDetail.referral_id == Referral.id)
            .join(SportStructure, SportStructure.id == SportReferralDetail.structure_id)
            .where(Referral.id == bindparam("referral_id"), Referral.workflow == WORKFLOW.name,
                   Referral.status != "draft", SportStructure.organisation_id == bindparam("organisation_id")))


# A coordinator's moves are the structure side's most frequent write: they read and write columns through
# Core, without loading the referral, its detail and its structure as objects (README, Performance).
_MOVE_STATE = _sent_to_organisation(select(
    Referral.version, Referral.status, SportReferralDetail.prescription_id, SportReferralDetail.patient_id,
    SportReferralDetail.structure_id, SportReferralDetail.created_at, SportReferralDetail.sent_at,
    SportReferralDetail.received_at, SportReferralDetail.accepted_at, SportReferralDetail.first_session_at,
    SportReferralDetail.closed_at, SportReferralDetail.previous_referral_id,
    exists().where(SportReport.referral_id == Referral.id,
                   SportReport.report_type == "final_assessment").label("has_final_assessment")))
# The version a move was checked against must still be the stored one: of two moves at once, the
# second updates nothing (PostgreSQL re-reads the row once the first commits) and is a conflict.
_MOVE_REFERRAL = (
    update(Referral).where(Referral.id == bindparam("moved_id"), Referral.version == bindparam("seen_version"))
    .values(status=bindparam("new_status"), updated_at=bindparam("moved_at"), version=Referral.version + 1))
# SET: the columns the transition changes, given as parameters. They come from the state read before the
# referral's guarded update; that holds because every write of them also moves the referral's version.
_MOVE_DETAIL = update(SportReferralDetail).where(SportReferralDetail.referral_id == bindparam("moved_id"))
_INSERT_EVENT = insert(ReferralEvent)


def _apply_moved(session: Session, actor: Actor, patient_id: str, version: int,
                 change: tuple[ReferralRecord, TransitionRecord]) -> int:
    """:func:`_apply` on a referral read as columns, checked against ``version``; returns its next version."""
    moved, record = change
    connection = session.connection()
    if connection.execute(_MOVE_REFERRAL, {"moved_id": moved.referral_id, "seen_version": version,
                                           "new_status": moved.status, "moved_at": record.at}).rowcount != 1:
        raise Conflict(_REFERRAL_UPDATED_ELSEWHERE)
    connection.execute(_MOVE_DETAIL, {"moved_id": moved.referral_id, **_detail_changes(moved, record)})
    connection.execute(_INSERT_EVENT, _event(moved.referral_id, actor, record))
    _audit_transition(session, actor, moved.referral_id, patient_id, record)
    return version + 1


def _check_version(referral: Referral, expected_version: int) -> None:
    if referral.version != expected_version:
        raise Conflict(_REFERRAL_UPDATED_ELSEWHERE)


def _touch(referral: Referral, now: dt.datetime) -> None:
    """Bump the referral's version (the mapper's version counter) on every write to it."""
    referral.updated_at = now


# --- prescriber side -----------------------------------------------------------------------------


def assess_form_for(database: Database, actor: Actor, patient_id: str, values: FormValues, *,
                    today: dt.date) -> Assessment:
    """The live preview on a patient's prescription form; the patient must be one of the actor's centre."""
    check_patient_access(database, actor, patient_id)
    return assess_form(values, today=today)


def assess_form(values: FormValues, *, today: dt.date) -> Assessment:
    """The live preview of the prescription form: E-11, L-1/L-2 and C-5, every problem listed."""
    form, errors = read_prescription_form(values, patient_id="preview", prescriber_id="preview",
                                          prescription_id="preview", signed_at=_aware(today))
    eligibility = None
    warnings: list[Reason] = []
    if form.eligibility is not None:
        try:
            eligibility = evaluate_eligibility(form.eligibility)
        except ValidationFailed as failure:
            errors.extend(failure.errors)
        else:
            warnings.extend(eligibility.warnings)
            if not eligibility.eligible:
                errors.append(FieldError("eligibility", "The patient is not eligible for an APA prescription."))
    limitation = None
    level = None
    try:
        limitation = assess_limitation(form.severe_criteria, form.chosen_level, load_limitation_catalogue())
        level = limitation.level
        warnings.extend(limitation.warnings)
    except ValidationFailed as failure:
        errors.extend(failure.errors)
        level = "severe" if form.severe_criteria else None
    draft = msgspec.structs.replace(
        form.draft, limitation_level=level,  # type: ignore[arg-type]
        eligibility_basis=tuple(eligibility.basis) if eligibility and eligibility.eligible else None,
        prescribed_on=form.draft.prescribed_on or today)
    check = check_prescription(draft, today=today, settings=load_prescription_settings(),
                               consent=load_consent_settings(), eligibility=eligibility)
    known = {(e.field, e.message) for e in errors}
    for error in check.errors:
        # eligibility_basis/limitation_level are derived: their absence is already explained above.
        if error.field in ("eligibility_basis", "limitation_level", "eligibility") and (eligibility is None
                                                                                      or level is None):
            continue
        if (error.field, error.message) not in known:
            errors.append(error)
    warnings.extend(check.warnings)
    return Assessment(eligibility=eligibility, limitation=limitation, level=level, errors=errors,
                      lint_hits=check.lint_hits, warnings=warnings)


def create_prescription(database: Database, actor: Actor, patient_id: str, values: FormValues, *,
                        prescriber_name: str, today: dt.date) -> str:
    """Sign an APA prescription (E-, L-, P-rules; C-5 warnings need an explicit acknowledgement)."""
    if actor.role not in PRESCRIBER_ROLES:
        raise PermissionDenied("Only a physician signs an APA prescription (E-1).")
    prescription_id = new_id("RX")
    now = utcnow()
    form, errors = read_prescription_form(values, patient_id=patient_id, prescriber_id=actor.id,
                                          prescription_id=prescription_id, signed_at=now)
    assessment = assess_form(values, today=today)
    errors = assessment.errors
    if assessment.lint_hits and not form.acknowledge_lint:
        errors = [*errors, FieldError("acknowledge_lint", LINT_ACKNOWLEDGE)]
    if errors or assessment.eligibility is None or assessment.limitation is None:
        raise ValidationFailed(errors or [FieldError("eligibility", "Answer every eligibility question.")],
                               "The prescription cannot be signed")
    draft = msgspec.structs.replace(form.draft, limitation_level=assessment.limitation.level,
                                    severe_criteria=tuple(assessment.limitation.severe_criteria),
                                    eligibility_basis=tuple(assessment.eligibility.basis),
                                    prescribed_on=form.draft.prescribed_on or today)
    check = check_prescription(draft, today=today, settings=load_prescription_settings(),
                               consent=load_consent_settings(), eligibility=assessment.eligibility)
    if check.prescription is None:
        raise ValidationFailed(check.errors, "The prescription cannot be signed")
    p = check.prescription
    with database.write() as session:
        patient = load_patient(session, actor, patient_id)
        assert actor.organisation_id is not None
        session.add(SportPrescription(
            id=p.prescription_id, patient_id=patient.id, organisation_id=actor.organisation_id,
            prescriber_id=actor.id, prescriber_name=prescriber_name, prescriber_rpps=None,
            prescribed_on=p.prescribed_on, signed_at=p.signed_at, expires_on=expiry_date(p),
            limitation_level=p.limitation_level, intensity=p.intensity, programme_months=p.programme_months,
            sessions_per_week_min=p.sessions_per_week_min, sessions_per_week_max=p.sessions_per_week_max,
            sessions_planned=p.sessions_planned, renews_prescription_id=None, status="active",
            disability_families=sorted(form.needs.disability_families),
            data=msgspec.to_builtins(p), needs=msgspec.to_builtins(form.needs),
            eligibility={"input": msgspec.to_builtins(form.eligibility), "outcome": assessment.eligibility.outcome,
                         "basis": list(assessment.eligibility.basis)},
            lint_hits=msgspec.to_builtins(check.lint_hits), medical_notes=form.medical_notes,
            created_by=actor.id, created_at=now, updated_at=now,
        ))
        audit.record(session, actor, "create", "sport_prescription", p.prescription_id, patient_id=patient.id,
                     detail=f"level {p.limitation_level}" + (f", C-5 warnings acknowledged: {len(check.lint_hits)}"
                                                              if check.lint_hits else ""))
    return p.prescription_id


def _summaries(session: Session, where: object) -> list[ReferralSummary]:
    rows = session.execute(
        select(SportReferralDetail, Referral, SportStructure.name)
        .join(Referral, Referral.id == SportReferralDetail.referral_id)
        .join(SportStructure, SportStructure.id == SportReferralDetail.structure_id)
        .where(where).order_by(SportReferralDetail.created_at.desc())  # type: ignore[arg-type]
    ).all()
    return [ReferralSummary(referral_id=r.id, prescription_id=d.prescription_id, structure_id=d.structure_id,
                            structure_name=name, status=r.status, created_at=d.created_at, sent_at=d.sent_at)
            for d, r, name in rows]


def patient_sport_overview(database: Database, actor: Actor, patient_id: str) -> SportOverview:
    with audit.audited_read(database) as session:
        patient = load_patient(session, actor, patient_id)
        prescriptions = session.scalars(select(SportPrescription).where(SportPrescription.patient_id == patient.id)
                                        .order_by(SportPrescription.signed_at.desc())).all()
        referrals = _summaries(session, SportReferralDetail.patient_id == patient.id)
        audit.record(session, actor, "read", "sport_overview", patient.id, patient_id=patient.id)
        return SportOverview(
            patient_id=patient.id, patient_name=f"{patient.family_name} {patient.given_names}",
            commune_insee=patient.commune_insee,
            prescriptions=[PrescriptionRow(id=p.id, prescribed_on=p.prescribed_on, expires_on=p.expires_on,
                                           limitation_level=p.limitation_level, status=p.status)
                           for p in prescriptions],
            referrals=referrals)


def _load_prescription(session: Session, actor: Actor, prescription_id: str) -> tuple[SportPrescription, Patient]:
    row = session.get(SportPrescription, prescription_id)
    if row is None:
        raise NotFound("Prescription not found.")
    patient = load_patient(session, actor, row.patient_id)  # another centre's prescription does not exist
    return row, patient


def _search(session: Session, row: SportPrescription, patient: Patient, today: dt.date, radius_km: float | None,
            name: str) -> tuple[MatchResult | None, list[SearchRow], list[FieldError]]:
    """M-rules for this prescription from the patient's commune point (M-8 ``commune_point``): the
    SEARCH_ROWS_SHOWN nearest structures that fit (and whose name contains ``name``)."""
    if not patient.commune_insee:
        return None, [], [FieldError("commune_insee", "Record the patient's commune to search for structures.")]
    origin = commune_points().get(patient.commune_insee)
    if origin is None:
        return None, [], [FieldError("commune_insee", "The patient's commune is not in the gazetteer.")]
    settings = load_matching_settings()
    if radius_km is not None and not 0 < radius_km <= settings.max_radius_km:
        return None, [], [FieldError("radius_km", "This radius is outside the allowed range.")]
    prescription = _prescription(row)
    needs = msgspec.convert(row.needs, PatientNeeds)
    request = MatchRequest(origin=origin, origin_department=get_gazetteer().department_code(patient.commune_insee),
                           limitation_level=prescription.limitation_level, today=today,
                           activity_types=frozenset(prescription.activity_types), needs=needs, radius_km=radius_km,
                           widen=radius_km is None, purpose="referral")
    reach = radius_km if radius_km is not None else settings.max_radius_km  # M-8 widens up to the maximum
    read: dict[str, Structure] = {}
    nearest = nearest_structures(session.connection(), origin, reach, settings.geo.earth_radius_km, name=name,
                                 rings=True)
    result = match_structures(request, (read.setdefault(s.structure_id, s) for s in nearest),
                              load_supervision_matrix(), settings, commune_points(), limit=SEARCH_ROWS_SHOWN)
    active = {d.structure_id: d.referral_id for d in session.scalars(
        select(SportReferralDetail).where(SportReferralDetail.prescription_id == row.id,
                                          SportReferralDetail.status.in_(("draft", *OPEN_STATUSES))))}
    rows = [SearchRow(structure_id=c.structure_id, name=c.name, kind=c.kind, commune=c.commune,
                      distance_km=c.distance_km, match_reasons=c.match_reasons, flags=c.flags, coverage=c.coverage,
                      accessibility=sorted(f for f, v in read[c.structure_id].accessibility.items() if v),
                      referral_target=c.referral_target, active_referral_id=active.get(c.structure_id))
            for c in result.candidates]
    return result, rows, []


# Structures listed on the prescription page, nearest first: a city has thousands within 30 km and a
# prescriber chooses among the closest, or looks one up by name.
SEARCH_ROWS_SHOWN = 30


def prescription_page(database: Database, actor: Actor, prescription_id: str, *, today: dt.date,
                      radius_km: float | None = None, name: str = "", with_search: bool = True) -> PrescriptionPage:
    """The signed prescription, its referrals and the structures that fit it (§7, M-10 reasons)."""
    with audit.audited_read(database) as session:
        row, patient = _load_prescription(session, actor, prescription_id)
        search, search_rows, search_error = (_search(session, row, patient, today, radius_km, name) if with_search
                                             else (None, [], []))
        audit.record(session, actor, "read", "sport_prescription", row.id, patient_id=patient.id)
        return PrescriptionPage(
            patient_id=patient.id, patient_name=f"{patient.family_name} {patient.given_names}",
            patient_birth_date=patient.birth_date, patient_commune=patient.commune_insee,
            prescription=_prescription(row), prescriber_name=row.prescriber_name, prescriber_rpps=row.prescriber_rpps,
            expires_on=row.expires_on, eligibility=row.eligibility, needs=msgspec.convert(row.needs, PatientNeeds),
            medical_notes=row.medical_notes, lint_hits=msgspec.convert(row.lint_hits, list[LintHit]),
            referrals=_summaries(session, SportReferralDetail.prescription_id == row.id),
            search=search, search_rows=search_rows, search_error=search_error)


def search_structures_for(database: Database, actor: Actor, prescription_id: str, *, today: dt.date,
                          radius_km: float | None = None) -> PrescriptionPage:
    return prescription_page(database, actor, prescription_id, today=today, radius_km=radius_km)


def _structure_organisation(session: Session, structure: SportStructure) -> str:
    """The recipient organisation: the structure's own, created and linked when it has none."""
    if structure.organisation_id is not None:
        return structure.organisation_id
    organisation_id = f"org-{structure.id}"[:64]
    if session.get(Organisation, organisation_id) is None:
        session.add(Organisation(id=organisation_id, kind=structure.kind, name=structure.name[:200],
                                 commune_insee=structure.commune_insee))
        session.flush()
    structure.organisation_id = organisation_id
    return organisation_id


def create_referral_draft(database: Database, actor: Actor, prescription_id: str, structure_id: str) -> str:
    """A draft referral of one prescription to one structure (invisible to the structure, §1.3)."""
    now = utcnow()
    with database.write() as session:
        row, patient = _load_prescription(session, actor, prescription_id)
        if row.status != "active":
            raise Conflict("This prescription is no longer active.")
        structure_row = session.get(SportStructure, structure_id)
        if structure_row is None:
            raise ValidationFailed([FieldError("structure_id", "Choose a structure from the search results.")])
        structure = _structure(structure_row)
        if structure.kind not in REFERRAL_TARGET_KINDS and not (structure.kind == "venue"
                                                                and structure.referral_email):
            raise ValidationFailed([FieldError("structure_id", "This place receives no referral (M-6).")])
        existing = [_record(r, d) for d, r in session.execute(
            select(SportReferralDetail, Referral).join(Referral, Referral.id == SportReferralDetail.referral_id)
            .where(SportReferralDetail.prescription_id == row.id)).all()]
        check_single_active(row.id, structure_id, existing)
        previous = next((r.referral_id for r in sorted(existing, key=lambda r: r.created_at, reverse=True)
                         if r.structure_id != structure_id and r.status == "declined"), None)
        recipient = _structure_organisation(session, structure_row)
        referral = Referral(id=new_id("R"), workflow=WORKFLOW.name, patient_id=patient.id,
                            sender_organisation_id=actor.organisation_id, recipient_organisation_id=recipient,
                            status=WORKFLOW.initial, created_by=actor.id, created_at=now, updated_at=now)
        session.add(referral)
        session.flush()
        session.add(ReferralEvent(referral_id=referral.id, source=None, target=WORKFLOW.initial, actor_id=actor.id,
                                  actor_role=actor.role, at=now))
        gazetteer = get_gazetteer()
        commune = patient.commune_insee
        assert actor.organisation_id is not None
        session.add(SportReferralDetail(
            referral_id=referral.id, prescription_id=row.id, structure_id=structure_id, patient_id=patient.id,
            prescriber_id=row.prescriber_id, prescriber_organisation_id=actor.organisation_id,
            recipient_organisation_id=recipient, status=WORKFLOW.initial, structure_kind=structure.kind,
            structure_department_code=structure.department_code, structure_region_code=structure.region_code,
            patient_department_code=gazetteer.department_code(commune) if commune else None,
            patient_region_code=gazetteer.region_code(commune) if commune else None,
            disability_families=list(row.disability_families), limitation_level=row.limitation_level,
            sessions_per_week_min=row.sessions_per_week_min, programme_months=row.programme_months,
            sessions_planned=row.sessions_planned, created_at=now, previous_referral_id=previous, updated_at=now))
        audit.record(session, actor, "create", "sport_referral", referral.id, patient_id=patient.id,
                     detail=f"draft to {structure_id}")
        return referral.id


def _prescriber_referral(session: Session, actor: Actor, referral_id: str
                         ) -> tuple[Referral, SportReferralDetail, Patient]:
    detail = session.get(SportReferralDetail, referral_id)
    referral = session.get(Referral, referral_id)
    if detail is None or referral is None or referral.workflow != WORKFLOW.name:
        raise NotFound("Referral not found.")
    patient = load_patient(session, actor, detail.patient_id)
    return referral, detail, patient


def _consent_rows(events: Sequence[ConsentEvent], structure_id: str, now: dt.datetime) -> list[ConsentRow]:
    rows = []
    for e in events:
        if e.recipient not in (structure_id, None):
            continue
        in_force = active_consent(events, e.scope, e.recipient, now)
        rows.append(ConsentRow(e.consent_id, e.scope, e.recipient, e.granted_at, e.granted_by, e.collection_mode,
                               e.withdrawn_at, in_force is not None and in_force.consent_id == e.consent_id))
    return rows


def prescriber_referral(database: Database, actor: Actor, referral_id: str) -> PrescriberReferralPage:
    """The prescriber's view: status and events (R-9); reports only under C-2."""
    now = utcnow()
    with audit.audited_read(database) as session:
        referral, detail, patient = _prescriber_referral(session, actor, referral_id)
        structure_row = session.get(SportStructure, detail.structure_id)
        assert structure_row is not None
        structure = _structure(structure_row)
        events = _events_of(session, patient.id)
        reports_shared = active_consent(events, "share_reports_with_prescriber", None, now) is not None
        reports = _report_rows(session, referral.id)
        audit.record(session, actor, "read", "sport_referral", referral.id, patient_id=patient.id,
                     detail="prescriber view" + ("" if reports_shared else ", reports withheld (C-2)"))
        return PrescriberReferralPage(
            referral_id=referral.id, version=referral.version, status=referral.status, patient_id=patient.id,
            patient_name=f"{patient.family_name} {patient.given_names}", prescription_id=detail.prescription_id,
            structure_id=structure.structure_id, structure_name=structure.name, structure_kind=structure.kind,
            structure_contact=structure.referral_email or structure.phone,
            referent_display_name=structure.referent_display_name,
            first_session_planned_on=detail.first_session_planned_on, events=_event_rows(session, referral.id),
            consents=_consent_rows(events, structure.structure_id, now),
            share_referral_in_force=active_consent(events, "share_referral", structure.structure_id, now) is not None,
            reports_shared=reports_shared, reports=reports if reports_shared else [],
            reports_withheld=0 if reports_shared else len(reports),
            risk_flagged=any(r.flags_risk for r in reports),
            can_send=referral.status == "draft",
            can_cancel=referral.status not in WORKFLOW.terminal_codes())


def record_referral_consents(database: Database, actor: Actor, referral_id: str, *, scopes: Sequence[str],
                             granted_by: str | None, collection_mode: str | None) -> None:
    """C-6: one append-only consent row per scope; structure-bound scopes name the structure (C-1)."""
    errors: list[FieldError] = []
    chosen = [s for s in REFERRAL_CONSENT_SCOPES if s in scopes]
    if not chosen or any(s not in CONSENT_SCOPES for s in scopes):
        errors.append(FieldError("scopes", "Tick what the patient agrees to share."))
    if granted_by not in GRANTORS:
        errors.append(FieldError("granted_by", "Say who gave the consent."))
    if collection_mode not in COLLECTION_MODES:
        errors.append(FieldError("collection_mode", "Say how the consent was collected."))
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    with database.write() as session:
        referral, detail, patient = _prescriber_referral(session, actor, referral_id)
        if referral.status in WORKFLOW.terminal_codes():
            raise Conflict("This referral is closed.")
        for scope in chosen:
            recipient = detail.structure_id if scope in STRUCTURE_BOUND_SCOPES else None
            row = Consent(id=new_id("C"), patient_id=patient.id, scope=scope, recipient=recipient, granted_at=now,
                          granted_by=granted_by or "", collection_mode=collection_mode or "",
                          notice_version=CONSENT_NOTICE_VERSION, recorded_by=actor.id, recorded_at=now)
            session.add(row)
            audit.record(session, actor, "create", "consent", row.id, patient_id=patient.id,
                         detail=f"{scope} for {recipient or '-'} (referral {referral.id})")


def send(database: Database, actor: Actor, referral_id: str, expected_version: int) -> None:
    """R-1: sent only with an active ``share_referral`` consent for this structure (422 ``consent``)."""
    now = utcnow()
    with database.write() as session:
        referral, detail, patient = _prescriber_referral(session, actor, referral_id)
        _check_version(referral, expected_version)
        structure_row = session.get(SportStructure, detail.structure_id)
        prescription = session.get(SportPrescription, detail.prescription_id)
        assert structure_row is not None and prescription is not None
        structure = _structure(structure_row)
        events = _events_of(session, patient.id)
        settings = load_matching_settings()
        change = send_referral(_record(referral, detail), structure, events, actor_id=actor.id, at=now,
                               limitation_level=prescription.limitation_level,  # type: ignore[arg-type]
                               matrix=load_supervision_matrix(),
                               moderate_conditional=settings.moderate_sport_educator_conditional)
        consent = active_consent(events, "share_referral", structure.structure_id, now)
        detail.consent_id = consent.consent_id if consent else None
        _apply(session, actor, referral, detail, change)


def cancel_by_prescriber(database: Database, actor: Actor, referral_id: str, expected_version: int, *,
                         reason_code: str | None, reason_text: str | None) -> None:
    now = utcnow()
    with database.write() as session:
        referral, detail, _patient = _prescriber_referral(session, actor, referral_id)
        _check_version(referral, expected_version)
        _apply(session, actor, referral, detail, apply_transition(
            _record(referral, detail), "cancelled", actor_role="prescriber", actor_id=actor.id, at=now,
            reason_code=reason_code, reason_text=reason_text))


def withdraw_referral_consent(database: Database, actor: Actor, referral_id: str, consent_id: str) -> None:
    """C-7: effective at once; a withdrawn ``share_referral`` cancels the open referrals to that structure."""
    now = utcnow()
    with database.write() as session:
        _referral, _detail, patient = _prescriber_referral(session, actor, referral_id)
        consent = session.get(Consent, consent_id)
        if consent is None or consent.patient_id != patient.id:
            raise NotFound("Consent not found.")
        if session.get(ConsentWithdrawal, consent_id) is not None:
            return
        session.add(ConsentWithdrawal(consent_id=consent_id, withdrawn_at=now, recorded_by=actor.id, recorded_at=now))
        audit.record(session, actor, "withdraw", "consent", consent_id, patient_id=patient.id, detail=consent.scope)
        if consent.scope != "share_referral" or consent.recipient is None:
            return
        session.flush()
        if active_consent(_events_of(session, patient.id, "share_referral"), "share_referral", consent.recipient,
                          now) is not None:
            return  # another grant for the same structure is still in force
        open_rows = session.execute(
            select(SportReferralDetail, Referral).join(Referral, Referral.id == SportReferralDetail.referral_id)
            .where(SportReferralDetail.patient_id == patient.id,
                   SportReferralDetail.structure_id == consent.recipient)).all()
        by_id = {r.id: (r, d) for d, r in open_rows}
        system = Actor(id="system:consent", role="system", organisation_id=actor.organisation_id,
                       address=actor.address)
        for moved, record in cancel_on_consent_withdrawal([_record(r, d) for d, r in open_rows], consent.recipient,
                                                          at=now):
            referral, referral_detail = by_id[moved.referral_id]
            _apply(session, system, referral, referral_detail, (moved, record))


# --- structure side --------------------------------------------------------------------------------


_COORDINATOR_REFERRAL = _sent_to_organisation(select(Referral, SportReferralDetail, SportStructure.name))


def _coordinator_check(actor: Actor) -> None:
    if actor.role != "coordinator" or actor.organisation_id is None:
        raise NotFound("Referral not found.")


def _coordinator_referral(session: Session, actor: Actor, referral_id: str
                          ) -> tuple[Referral, SportReferralDetail, str]:
    """A sent referral to one of the actor's structures and the structure's name, or NotFound (never a hint
    that it exists)."""
    _coordinator_check(actor)
    row = session.execute(_COORDINATOR_REFERRAL, {"referral_id": referral_id,
                                                  "organisation_id": actor.organisation_id}).first()
    if row is None:
        raise NotFound("Referral not found.")
    return row[0], row[1], row[2]


def _file(session: Session, referral: Referral, detail: SportReferralDetail) -> ReferralFile:
    patient = session.get(Patient, detail.patient_id)
    prescription = session.get(SportPrescription, detail.prescription_id)
    assert patient is not None and prescription is not None
    commune_name = None
    if patient.commune_insee:
        entry = get_gazetteer().commune(patient.commune_insee)
        commune_name = entry.name if entry else None
    # Only identity and contact fields are copied; coordinator_view decides what leaves (C-3).
    identity = PatientIdentity(
        family_name=patient.family_name, given_names=patient.given_names, birth_date=patient.birth_date,
        commune_insee=patient.commune_insee or "", sex={"F": "female", "M": "male"}.get(patient.sex),  # type: ignore[arg-type]
        commune_name=commune_name, phone=patient.phone, email=patient.email, address_line=patient.address_line)
    return ReferralFile(
        referral=_record(referral, detail), patient=identity, prescription=_prescription(prescription),
        # The centre's name is left out on purpose: "centre de neuromodulation" would tell the structure
        # what care the patient receives (C-4). The prescriber's own name is the contact (C-3).
        prescriber=PrescriberContact(display_name=prescription.prescriber_name),
        needs=msgspec.convert(prescription.needs, PatientNeeds))


def _actions(status: str, consented: bool) -> list[str]:
    if not consented:
        return []
    return {
        "sent": ["accept", "decline"], "received": ["accept", "decline"],
        "accepted": ["book", "attendance", "report", "stop"],
        "in_progress": ["attendance", "report", "complete", "stop"],
        "on_hold": ["resume", "report", "stop"],
    }.get(status, [])


def coordinator_referral(database: Database, actor: Actor, referral_id: str) -> CoordinatorPage:
    """The minimised view (C-3). The first opening of a sent referral marks it received (R-2)."""
    now = utcnow()
    with database.write() as session:
        referral, detail, structure_name = _coordinator_referral(session, actor, referral_id)
        if referral.status == "sent":
            _apply(session, actor, referral, detail, apply_transition(
                _record(referral, detail), "received", actor_role="coordinator", actor_id=actor.id, at=now))
            session.flush()
        view = coordinator_view(_file(session, referral, detail), _events_of(session, detail.patient_id), now,
                                load_consent_settings())
        consented = isinstance(view, CoordinatorReferralView)
        reports = _report_rows(session, referral.id) if consented else []
        attendance = [AttendanceRow(a.kind, a.session_on, a.attended) for a in session.scalars(
            select(SportAttendance).where(SportAttendance.referral_id == referral.id)
            .order_by(SportAttendance.session_on))] if consented else []
        has_final = any(r.report_type == "final_assessment" for r in reports)
        attended_days = [a.session_on for a in attendance if a.kind == "session" and a.attended]
        suggestion = lost_to_follow_up_suggestion(
            _record(referral, detail), last_attended_on=max(attended_days, default=None),
            contact_attempts=sum(1 for a in attendance if a.kind == "contact_attempt"), today=now.date(),
            settings=load_prescription_settings().referral) if consented else None
        audit.record(session, actor, "read", "sport_referral", referral.id, patient_id=detail.patient_id,
                     detail="coordinator view" + ("" if consented else " (stub, no consent in force)"))
        return CoordinatorPage(
            referral_id=referral.id, version=referral.version, status=referral.status, structure_name=structure_name,
            view=view, events=_event_rows(session, referral.id), attendance=attendance, reports=reports,
            first_session_planned_on=detail.first_session_planned_on,
            actions=_actions(referral.status, consented), has_final_assessment=has_final, suggestion=suggestion)


def coordinator_report(database: Database, actor: Actor, referral_id: str, report_id: str) -> tuple[str, ReportRow]:
    """One D.1172-5 document, printable (structure side)."""
    with audit.audited_read(database) as session:
        referral, detail, structure_name = _coordinator_referral(session, actor, referral_id)
        events = _events_of(session, detail.patient_id, "share_referral")
        if active_consent(events, "share_referral", detail.structure_id, utcnow()) is None:
            raise NotFound("Report not found.")
        report = session.get(SportReport, report_id)
        if report is None or report.referral_id != referral.id:
            raise NotFound("Report not found.")
        audit.record(session, actor, "read", "sport_report", report.id, patient_id=detail.patient_id)
        return structure_name, _report_row(report)


def _coordinator_write(session: Session, actor: Actor, referral_id: str, expected_version: int
                       ) -> tuple[Referral, SportReferralDetail]:
    referral, detail, _structure_name = _coordinator_referral(session, actor, referral_id)
    _check_share_consent(session, detail.patient_id, detail.structure_id)
    _check_version(referral, expected_version)
    return referral, detail


def _check_share_consent(session: Session, patient_id: str, structure_id: str) -> None:
    if active_consent(_events_of(session, patient_id, "share_referral", [structure_id]), "share_referral",
                      structure_id, utcnow()) is None:
        raise Conflict("The patient's consent to share this referral is no longer in force.")


def _transition(database: Database, actor: Actor, referral_id: str, expected_version: int, target: str, *,
                reason_code: str | None = None, reason_text: str | None = None) -> None:
    now = utcnow()
    _coordinator_check(actor)
    with database.write() as session:
        state = session.connection().execute(_MOVE_STATE, {"referral_id": referral_id,
                                                           "organisation_id": actor.organisation_id}).first()
        if state is None:
            raise NotFound("Referral not found.")
        _check_share_consent(session, state.patient_id, state.structure_id)
        if state.version != expected_version:
            raise Conflict(_REFERRAL_UPDATED_ELSEWHERE)
        record, version = _record_of(referral_id, state.status, state), state.version
        if target in ("accepted", "declined") and record.status == "sent":
            # The coordinator may decide straight from the list: receiving is implied.
            received = apply_transition(record, "received", actor_role="coordinator", actor_id=actor.id, at=now)
            version = _apply_moved(session, actor, state.patient_id, version, received)
            record = received[0]
        _apply_moved(session, actor, state.patient_id, version, apply_transition(
            record, target, actor_role="coordinator", actor_id=actor.id, at=now,  # type: ignore[arg-type]
            reason_code=reason_code, reason_text=reason_text, has_final_assessment=state.has_final_assessment))


def accept(database: Database, actor: Actor, referral_id: str, expected_version: int) -> None:
    _transition(database, actor, referral_id, expected_version, "accepted")


def decline(database: Database, actor: Actor, referral_id: str, expected_version: int, *,
            reason_code: str | None, reason_text: str | None) -> None:
    """R-3/R-4: a reason code is required (422 ``reason_code``); ``other`` needs 10 characters of text."""
    if not (reason_code or "").strip():
        raise ValidationFailed([FieldError("reason_code", "Choose the reason for declining.")])
    _transition(database, actor, referral_id, expected_version, "declined", reason_code=reason_code,
                reason_text=reason_text)


StopTarget = Literal["on_hold", "lost_to_follow_up", "cancelled"]
STOP_REASONS: dict[str, tuple[str, ...]] = {
    "on_hold": SPORT_ON_HOLD_REASONS, "lost_to_follow_up": SPORT_LOST_REASONS, "cancelled": SPORT_CANCEL_REASONS,
}
DECLINE_REASONS = SPORT_DECLINE_REASONS


def stop(database: Database, actor: Actor, referral_id: str, expected_version: int, *, target: str | None,
         reason_code: str | None, reason_text: str | None) -> None:
    """Pause, lost to follow-up (R-7, confirmed by a person) or cancel; a reason is required (R-3)."""
    if target not in STOP_REASONS:
        raise ValidationFailed([FieldError("target", "Choose what happens to the referral.")])
    if not (reason_code or "").strip():
        raise ValidationFailed([FieldError("reason_code", "Choose the reason.")])
    _transition(database, actor, referral_id, expected_version, target, reason_code=reason_code,
                reason_text=reason_text)


def resume(database: Database, actor: Actor, referral_id: str, expected_version: int) -> None:
    _transition(database, actor, referral_id, expected_version, "in_progress")


def complete(database: Database, actor: Actor, referral_id: str, expected_version: int, *,
             reason_code: str | None, reason_text: str | None) -> None:
    """R-8: a final assessment, or ``completed_without_final_assessment`` with an explanation."""
    _transition(database, actor, referral_id, expected_version, "completed", reason_code=reason_code,
                reason_text=reason_text)


def book_first_session(database: Database, actor: Actor, referral_id: str, expected_version: int,
                       planned_on: dt.date | None, *, today: dt.date) -> None:
    if planned_on is None:
        raise ValidationFailed([FieldError("planned_on", "Enter a date as YYYY-MM-DD.")])
    if planned_on < today - dt.timedelta(days=1):
        raise ValidationFailed([FieldError("planned_on", "The first session cannot be booked in the past.")])
    now = utcnow()
    with database.write() as session:
        referral, detail = _coordinator_write(session, actor, referral_id, expected_version)
        if referral.status != "accepted":
            raise Conflict("A first session is booked once the referral is accepted.")
        detail.first_session_planned_on = planned_on
        detail.updated_at = now
        _touch(referral, now)
        audit.record(session, actor, "update", "sport_referral", referral.id, patient_id=detail.patient_id,
                     detail=f"first session booked for {planned_on.isoformat()}")


def record_attendance(database: Database, actor: Actor, referral_id: str, expected_version: int, *,
                      kind: str | None, session_on: dt.date | None, attended: bool | None, today: dt.date) -> None:
    """A session (attended or missed) or a contact attempt (R-7). The first attended session of an
    accepted referral starts the programme (R-6: ``in_progress``, not before the acceptance)."""
    errors: list[FieldError] = []
    if kind not in ("session", "contact_attempt"):
        errors.append(FieldError("kind", "Choose a session or a contact attempt."))
    if session_on is None:
        errors.append(FieldError("session_on", "Enter a date as YYYY-MM-DD."))
    elif session_on > today:
        errors.append(FieldError("session_on", "The date cannot be in the future."))
    if kind == "session" and attended is None:
        errors.append(FieldError("attended", "Say whether the patient attended."))
    if errors or session_on is None:
        raise ValidationFailed(errors)
    now = utcnow()
    with database.write() as session:
        referral, detail = _coordinator_write(session, actor, referral_id, expected_version)
        if referral.status not in ("accepted", "in_progress", "on_hold"):
            raise Conflict("Attendance is recorded once the referral is accepted.")
        duplicate = session.scalar(select(SportAttendance.id).where(
            SportAttendance.referral_id == referral.id, SportAttendance.kind == kind,
            SportAttendance.session_on == session_on))
        if duplicate is not None:
            raise ValidationFailed([FieldError("session_on", "Already recorded for this date.")])
        session.add(SportAttendance(referral_id=referral.id, kind=kind or "", session_on=session_on,
                                    attended=attended if kind == "session" else None, recorded_by=actor.id,
                                    recorded_at=now))
        if kind == "session" and attended and referral.status == "accepted":
            _apply(session, actor, referral, detail, apply_transition(
                _record(referral, detail), "in_progress", actor_role="coordinator", actor_id=actor.id, at=now,
                first_session_at=_aware(session_on)))
        else:
            _touch(referral, now)
        audit.record(session, actor, "create", "sport_attendance", referral.id, patient_id=detail.patient_id,
                     detail=f"{kind} {session_on.isoformat()}" + ("" if attended is None else f" attended={attended}"))


def _ricci_band(total: int | None) -> str | None:
    if total is None:
        return None
    for band in load_catalogue().get("ricci_gagnon").bands:
        if band.min <= total <= band.max:
            return str(band.code)
    return None


def record_report(database: Database, actor: Actor, referral_id: str, expected_version: int, values: FormValues, *,
                  today: dt.date) -> str:
    """A D.1172-5 document. It reaches the prescriber only under ``share_reports_with_prescriber`` (C-2)."""
    report, errors = read_report_form(values, today=today)
    if errors or report is None:
        raise ValidationFailed(errors)
    return _save_report(database, actor, referral_id, expected_version, report)


def _save_report(database: Database, actor: Actor, referral_id: str, expected_version: int,
                 report: ReportInput) -> str:
    now = utcnow()
    with database.write() as session:
        referral, detail = _coordinator_write(session, actor, referral_id, expected_version)
        if referral.status not in ("accepted", "in_progress", "on_hold"):
            raise Conflict("Reports are recorded while the programme runs.")
        scope = "share_reports_with_prescriber"
        shared = active_consent(_events_of(session, detail.patient_id, scope), scope, None, now) is not None
        row = SportReport(
            id=new_id("RP"), referral_id=referral.id, report_type=report.report_type, performed_on=report.performed_on,
            performer_profession=report.performer_profession, six_minute_walk_m=report.six_minute_walk_m,
            chair_stand_30s=report.chair_stand_30s, one_leg_stance_s=report.one_leg_stance_s,
            handgrip_kg=report.handgrip_kg, ricci_gagnon_score=report.ricci_gagnon_score,
            ricci_gagnon_band=_ricci_band(report.ricci_gagnon_score), motivation_stage=report.motivation_stage,
            weekly_activity_minutes=report.weekly_activity_minutes, flags_risk=report.flags_risk,
            shared_with_prescriber=shared,
            data={"programme": report.programme, "proposals": report.proposals, "notes": report.notes},
            recorded_by=actor.id, recorded_at=now)
        session.add(row)
        _touch(referral, now)
        audit.record(session, actor, "create", "sport_report", row.id, patient_id=detail.patient_id,
                     detail=f"{report.report_type} for {referral.id}" + (", shared with the prescriber" if shared
                                                                         else ""))
        return row.id


_INBOX_COLUMNS = (
    SportReferralDetail.referral_id.label("id"), SportReferralDetail.status, SportStructure.name,
    Patient.family_name, Patient.given_names,
    SportReferralDetail.structure_id, SportReferralDetail.patient_id, SportReferralDetail.prescription_id,
    SportReferralDetail.limitation_level, SportReferralDetail.first_session_planned_on,
    SportReferralDetail.created_at, SportReferralDetail.sent_at, SportReferralDetail.received_at,
    SportReferralDetail.accepted_at, SportReferralDetail.first_session_at, SportReferralDetail.closed_at,
    SportReferralDetail.previous_referral_id,
)


def _inbox_statuses(status: str) -> tuple[str, ...]:
    if status == "open":
        return OPEN_STATUSES
    if status == "all":
        return tuple(s.code for s in WORKFLOW.states if s.code != "draft")
    return (status,)


# The actor's structures' referrals in the wanted statuses. The detail row mirrors the referral's status
# (``_apply``), so the (structure, status) index answers alone. These statements are built once and run on
# the connection: an inbox is opened all day, and building them and loading their rows through the ORM
# cost a third of its time.
_IN_INBOX = (
    SportReferralDetail.structure_id.in_(
        select(SportStructure.id).where(SportStructure.organisation_id == bindparam("organisation_id"))),
    SportReferralDetail.status.in_(bindparam("statuses", expanding=True)),
)
_INBOX_COUNT = select(func.count()).select_from(SportReferralDetail).where(*_IN_INBOX)
# Newest sent first, keyset-paged on (sent_at, referral id): a later page costs what the first does.
_NEWEST_SENT_FIRST = (SportReferralDetail.sent_at.desc(), SportReferralDetail.referral_id.desc())
_INBOX_IDS = select(SportReferralDetail.referral_id).where(*_IN_INBOX).order_by(*_NEWEST_SENT_FIRST)
_CURSOR_SENT_AT = (select(SportReferralDetail.sent_at)
                   .where(SportReferralDetail.referral_id == bindparam("after")).scalar_subquery())


def _inbox_page_of(page_ids: Select[str]) -> Select[*tuple[Any, ...]]:
    """The page's ids are chosen on the detail table alone; only they are joined to their patient and
    structure (joined first, every referral of the structures read its patient's row before the sort)."""
    return (select(*_INBOX_COLUMNS)
            .join(SportStructure, SportStructure.id == SportReferralDetail.structure_id)
            .join(Patient, Patient.id == SportReferralDetail.patient_id)
            .where(SportReferralDetail.referral_id.in_(page_ids.limit(bindparam("limit", type_=Integer))))
            .order_by(*_NEWEST_SENT_FIRST))


_INBOX_FIRST_PAGE = _inbox_page_of(_INBOX_IDS)
_INBOX_PAGE_AFTER = _inbox_page_of(_INBOX_IDS.where(or_(
    SportReferralDetail.sent_at < _CURSOR_SENT_AT,
    and_(SportReferralDetail.sent_at == _CURSOR_SENT_AT, SportReferralDetail.referral_id < bindparam("after")))))


def _in_inbox(actor: Actor, statuses: tuple[str, ...]) -> dict[str, Any]:
    return {"organisation_id": actor.organisation_id, "statuses": list(statuses)}


def _inbox_count(session: Session, actor: Actor, statuses: tuple[str, ...]) -> int:
    count: int = session.connection().execute(_INBOX_COUNT, _in_inbox(actor, statuses)).scalar_one()
    return count


def _inbox_rows(session: Session, actor: Actor, statuses: tuple[str, ...], after: str | None,
                limit: int) -> Sequence[Any]:
    parameters = _in_inbox(actor, statuses) | {"limit": limit, "after": after}
    return session.connection().execute(_INBOX_FIRST_PAGE if after is None else _INBOX_PAGE_AFTER, parameters).all()


def _inbox_row(row: Any, events: list[ConsentEvent], now: dt.datetime,
               settings: ReferralSettings) -> InboxRow:
    consented = active_consent(events, "share_referral", row.structure_id, now) is not None
    # The row carries the referral's id and status and the detail's columns under their own names.
    reminders = response_reminders(_record(row, row), today=now.date(), settings=settings)
    return InboxRow(referral_id=row.id, structure_name=row.name, status=row.status, sent_at=row.sent_at,
                    patient_label=f"{row.family_name} {row.given_names}" if consented else None,
                    limitation_level=row.limitation_level if consented else None,
                    first_session_planned_on=row.first_session_planned_on,
                    waiting_days=reminders[0].days_waiting if reminders else None)


def inbox(database: Database, actor: Actor, *, status: str = "open", query: str = "",
          after: str | None = None) -> InboxPage:
    """Referrals sent to the actor's structures, a page at a time; names only where ``share_referral``
    is in force, and a name search finds a referral only by what it may show."""
    if actor.role != "coordinator" or actor.organisation_id is None:
        return InboxPage(rows=[], status=status, query=query, total=0)
    now = utcnow()
    statuses = _inbox_statuses(status)
    settings = load_prescription_settings().referral
    folded = fold(query)
    with audit.audited_read(database) as session:
        def shown(rows: Sequence[Any]) -> list[InboxRow]:
            events = _events_of_patients(session, sorted({row.patient_id for row in rows}), "share_referral",
                                         sorted({row.structure_id for row in rows}))
            return [_inbox_row(row, events.get(row.patient_id, []), now, settings) for row in rows]

        truncated = False
        if not folded:
            rows = _inbox_rows(session, actor, statuses, after, INBOX_PAGE + 1)
            page = shown(rows[:INBOX_PAGE])
            more = len(rows) > INBOX_PAGE
            total = _inbox_count(session, actor, statuses)
        else:
            matches: list[InboxRow] = []
            cursor, read = None, 0
            while read < INBOX_SEARCH_LIMIT:
                batch = _inbox_rows(session, actor, statuses, cursor, INBOX_SEARCH_BATCH)
                matches += [row for row in shown(batch)
                            if folded in fold(f"{row.patient_label or ''} {row.referral_id}")]
                read += len(batch)
                if len(batch) < INBOX_SEARCH_BATCH:
                    break
                cursor = batch[-1].id
            else:
                truncated = True
            total = len(matches)
            # A cursor that is no longer among the matches (the referral moved on) ends the list.
            start = next((index + 1 for index, row in enumerate(matches) if row.referral_id == after),
                         len(matches)) if after else 0
            page = matches[start:start + INBOX_PAGE]
            more = len(matches) > start + INBOX_PAGE
        audit.record(session, actor, "search", "sport_inbox", None,
                     detail=f"{len(page)} of {total} referrals, status {status}" + (" after " + after if after else ""))
        return InboxPage(rows=page, status=status, query=query, total=total, after=after,
                         next_after=page[-1].referral_id if more and page else None, search_truncated=truncated)
