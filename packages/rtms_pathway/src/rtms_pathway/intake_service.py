"""rTMS referral intake (domain-rtms §1 stage 1-2, product journey 1) on shared_core's referral workflow.

Who sees what:

- A **referrer** creates referrals to a centre and reads only the referrals *they* sent
  (``ReferralDetail.referrer_user_id`` is their account: per user, not per practice). They never
  read the centre's Patient rows: their view shows the identity they sent, the status, the triage
  outcome in the clinician's words and the end-of-course letter once issued.
- The **centre** (psychiatrist, operator of the recipient organisation) sees its intake queue,
  moves referrals through ``RTMS_REFERRAL_WORKFLOW`` with reasons, and can enter a referral itself.

Patient at the centre (design decision): the centre owns Patient rows. A referral whose INS matches
a patient of the recipient centre is attached to that patient; otherwise a new Patient is created at
the recipient centre. An INS already used by a patient of another organisation is kept on the
referral only (the Patient row gets none), so a referral never reveals or steals another record.
No matching on names: homonyms are common, and linking records is the centre's decision.

Every read of a referral is audited with the patient id, like every write.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import msgspec
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from rtms_pathway.intake_tables import CourseOutcome, ReferralDetail
from rtms_pathway.tables import TriageRecord
from shared_core.actors import Actor
from shared_core.db import Database, utcnow
from shared_core.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from shared_core.ids import new_id
from shared_core.rules.workflow import RTMS_REFERRAL_WORKFLOW, check_transition
from shared_core.services import audit
from shared_core.services.patients import load_patient, parse_patient_input
from shared_core.tables import Organisation, Patient, Referral, ReferralEvent
from shared_core.text import fold, prefix_upper_bound

WORKFLOW = RTMS_REFERRAL_WORKFLOW
URGENCIES = ("routine", "soon", "urgent")
CENTRE_ROLES = frozenset({"psychiatrist", "operator"})
REFERRER_ROLE = "referrer"
OPEN_FILTER = "open"
# Statuses in which a signed triage decision answers the referral (domain-rtms §1 "Intake & triage").
AWAITING_TRIAGE = ("received", "triage_scheduled", "more_information_requested")
# §2.2 orientation -> the workflow move it implies, with its reason (redirect needs one).
ORIENTATION_MOVES: dict[str, tuple[str, str | None]] = {
    "rtms_indicated": ("accepted", None),
    "rtms_with_precautions": ("accepted", None),
    "ect_first": ("redirected", "ect_first"),
    "not_eligible_safety": ("redirected", "not_eligible_safety"),
    "needs_more_information": ("more_information_requested", None),
}
TEXT_LIMITS = {"reason": 2000, "clinical_summary": 5000, "current_treatment": 2000, "past_trials": 5000,
               "question": 2000, "referrer_name": 200, "reason_text": 2000}
REQUIRED_MESSAGES = {
    "recipient_organisation_id": "Choose the centre the referral is addressed to.",
    "referrer_name": "The referring physician's name is required.",
    "reason": "The reason for referral is required.",
    "clinical_summary": "The clinical summary is required.",
    "current_treatment": "The current treatment is required (write 'none' if there is none).",
    "question": "The question to the centre is required.",
    "urgency": "Choose the urgency: routine, soon or urgent.",
}
PAGE_SIZE = 25


# -- input -----------------------------------------------------------------------------------


class ReferralInput(msgspec.Struct, frozen=True):
    recipient_organisation_id: str | None
    patient_id: str | None
    referrer_name: str
    family_name: str
    given_names: str
    birth_date: dt.date
    sex: str
    ins: str | None
    episode_start: dt.date | None
    reason: str
    clinical_summary: str
    current_treatment: str
    past_trials: str | None
    question: str
    urgency: str


def _text(raw: Mapping[str, str | None], name: str) -> str:
    return (raw.get(name) or "").strip()


def _episode_start(value: str, today: dt.date, errors: list[FieldError]) -> dt.date | None:
    """§2.1: month precision allowed, so ``2026-03`` means 1 March 2026."""
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value + "-01" if len(value) == 7 else value)
    except ValueError:
        errors.append(FieldError("episode_start", "The episode start must be a date (YYYY-MM-DD or YYYY-MM)."))
        return None
    if day > today:
        errors.append(FieldError("episode_start", "The episode start cannot be in the future."))
    return day


def parse_referral_input(raw: Mapping[str, str | None], today: dt.date, *, by_centre: bool) -> ReferralInput:
    """Validate a referral form; every bad field is reported at once (422).

    A referrer names the recipient centre; the centre names the referring physician and may
    attach the referral to one of its patients (``patient_id``) instead of typing the identity.
    """
    errors: list[FieldError] = []
    values = {name: _text(raw, name) for name in (*REQUIRED_MESSAGES, "past_trials", "patient_id")}
    required = ["reason", "clinical_summary", "current_treatment", "question", "urgency"]
    required.append("referrer_name" if by_centre else "recipient_organisation_id")
    for name in required:
        if not values[name]:
            errors.append(FieldError(name, REQUIRED_MESSAGES[name]))
    for name, limit in TEXT_LIMITS.items():
        if len(values.get(name, "")) > limit:
            errors.append(FieldError(name, f"At most {limit} characters."))
    if values["urgency"] and values["urgency"] not in URGENCIES:
        errors.append(FieldError("urgency", REQUIRED_MESSAGES["urgency"]))
    patient_id = values["patient_id"].upper() or None if by_centre else None
    identity = {name: raw.get(name) for name in ("family_name", "given_names", "birth_date", "sex", "ins")}
    family, given, birth, sex, ins = "", "", dt.date.min, "U", None
    if patient_id is None:
        try:
            person = parse_patient_input(identity, today)
        except ValidationFailed as failure:
            errors.extend(failure.errors)
        else:
            family, given, birth, sex, ins = (person.family_name, person.given_names, person.birth_date, person.sex,
                                              person.ins)
    episode = _episode_start(_text(raw, "episode_start"), today, errors)
    if errors:
        raise ValidationFailed(errors)
    return ReferralInput(
        recipient_organisation_id=values["recipient_organisation_id"] or None, patient_id=patient_id,
        referrer_name=values["referrer_name"], family_name=family, given_names=given, birth_date=birth, sex=sex,
        ins=ins, episode_start=episode, reason=values["reason"], clinical_summary=values["clinical_summary"],
        current_treatment=values["current_treatment"], past_trials=values["past_trials"] or None,
        question=values["question"], urgency=values["urgency"],
    )


# -- views -----------------------------------------------------------------------------------


class CentreChoice(msgspec.Struct, frozen=True):
    id: str
    name: str


class DetailView(msgspec.Struct, frozen=True):
    referrer_name: str
    family_name: str
    given_names: str
    birth_date: dt.date
    sex: str
    ins: str | None
    episode_start: dt.date | None
    reason: str
    clinical_summary: str
    current_treatment: str
    past_trials: str | None
    question: str
    urgency: str
    created_at: dt.datetime


class EventView(msgspec.Struct, frozen=True):
    source: str | None
    target: str
    actor_role: str
    reason_code: str | None
    reason_text: str | None
    at: dt.datetime


class ReasonView(msgspec.Struct, frozen=True):
    code: str
    text: str
    source: str


class TriageOutcomeView(msgspec.Struct, frozen=True):
    """The answer to the referral in the clinician's words: no answers to the form, no audit data."""

    triage_id: str
    orientation: str
    decision: str
    decided_at: dt.datetime
    reasons: list[ReasonView]
    precautions: list[str]
    protocol_suggestions: list[str]
    physician_reason: str | None


class TransitionChoice(msgspec.Struct, frozen=True):
    target: str
    reason_codes: tuple[str, ...]


class QueueRow(msgspec.Struct, frozen=True):
    referral_id: str
    patient_id: str
    family_name: str
    given_names: str
    birth_date: dt.date
    referrer_name: str
    urgency: str
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime


class QueuePage(msgspec.Struct, frozen=True):
    rows: list[QueueRow]
    total: int
    page: int
    page_size: int
    status: str
    query: str

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


class CentreReferralView(msgspec.Struct, frozen=True):
    referral_id: str
    version: int
    status: str
    patient_id: str
    detail: DetailView
    events: list[EventView]
    transitions: list[TransitionChoice]
    triage: TriageOutcomeView | None
    outcome_course_id: str | None
    letter_issued_at: dt.datetime | None


class ReferrerRow(msgspec.Struct, frozen=True):
    referral_id: str
    family_name: str
    given_names: str
    recipient_name: str
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime
    orientation: str | None
    letter_available: bool


class ReferrerReferralView(msgspec.Struct, frozen=True):
    referral_id: str
    version: int
    status: str
    recipient_name: str
    detail: DetailView
    events: list[EventView]
    triage: TriageOutcomeView | None
    letter_available: bool
    can_cancel: bool
    can_reply: bool


def _detail_view(row: ReferralDetail) -> DetailView:
    return DetailView(row.referrer_name, row.family_name, row.given_names, row.birth_date, row.sex, row.ins,
                      row.episode_start, row.reason, row.clinical_summary, row.current_treatment, row.past_trials,
                      row.question, row.urgency, row.created_at)


def _events(session: Session, referral_id: str, *, with_text: bool) -> list[EventView]:
    """The history; without ``with_text`` (the referrer's view) a note is kept only when it is addressed
    to the referrer (the centre's request for information) or written by them; the rest stays internal."""
    rows = session.scalars(select(ReferralEvent).where(ReferralEvent.referral_id == referral_id)
                           .order_by(ReferralEvent.id)).all()
    return [EventView(e.source, e.target, e.actor_role, e.reason_code,
                      e.reason_text if with_text or e.target == "more_information_requested"
                      or e.actor_role == REFERRER_ROLE else None, e.at)
            for e in rows]


def _triage_view(session: Session, triage_id: str | None) -> TriageOutcomeView | None:
    if triage_id is None:
        return None
    row = session.get(TriageRecord, triage_id)
    if row is None:
        return None
    proposal = row.proposal
    reasons = [ReasonView(str(r.get("code", "")), str(r.get("text", "")), str(r.get("source", "")))
               for r in proposal.get("reasons", [])]
    return TriageOutcomeView(row.id, row.final_orientation, row.decision, row.decided_at, reasons,
                             list(proposal.get("precautions", [])), list(proposal.get("protocol_suggestions", [])),
                             row.override_reason)


def _letter_issued(session: Session, referral_id: str) -> CourseOutcome | None:
    return session.scalars(select(CourseOutcome).where(CourseOutcome.referral_id == referral_id,
                                                       CourseOutcome.letter_issued_at.is_not(None))
                           .order_by(CourseOutcome.decided_at.desc())).first()


# -- recipients ------------------------------------------------------------------------------


def recipient_centres(database: Database) -> list[CentreChoice]:
    """The centres a referral can be addressed to."""
    with database.read() as session:
        rows = session.scalars(select(Organisation).where(Organisation.kind == "centre")
                               .order_by(Organisation.name)).all()
        return [CentreChoice(row.id, row.name) for row in rows]


# -- create ----------------------------------------------------------------------------------


def _patient_for(session: Session, actor: Actor, data: ReferralInput, centre_id: str,
                 known_patient_id: str | None) -> Patient:
    if known_patient_id is not None:
        known = session.get(Patient, known_patient_id)
        if known is None or known.organisation_id != centre_id:
            raise NotFound("Patient not found.")
        return known
    if data.patient_id is not None:
        try:
            return load_patient(session, actor, data.patient_id)
        except NotFound:
            raise ValidationFailed([FieldError("patient_id", "No patient of the centre has this id.")]) from None
    if data.ins is not None:
        known = session.scalar(select(Patient).where(Patient.ins == data.ins))
        if known is not None and known.organisation_id == centre_id:
            return known
    ins_free = data.ins is not None and session.scalar(select(Patient.id).where(Patient.ins == data.ins)) is None
    now = utcnow()
    patient = Patient(id=new_id("P"), organisation_id=centre_id, family_name=data.family_name,
                      given_names=data.given_names, birth_date=data.birth_date, sex=data.sex,
                      ins=data.ins if ins_free else None, search_key=fold(f"{data.family_name} {data.given_names}"),
                      created_by=actor.id, created_at=now, updated_at=now)
    session.add(patient)
    session.flush()
    audit.record(session, actor, "create", "patient", patient.id, patient_id=patient.id, detail="from an rTMS referral")
    return patient


def create_referral(database: Database, actor: Actor, data: ReferralInput, *,
                    known_patient_id: str | None = None) -> str:
    """Store a referral in the intake queue of its centre; returns the referral id.

    A referrer addresses any centre; the centre's own staff enter referrals for their centre.
    ``known_patient_id`` (never set from a form: imports and the demo data) attaches the referral
    to an existing patient of the recipient centre instead of the INS rule above.
    """
    if actor.role == REFERRER_ROLE:
        centre_id = data.recipient_organisation_id
        sender = actor.organisation_id
    elif actor.role in CENTRE_ROLES:
        centre_id = actor.organisation_id
        sender = None
    else:
        raise PermissionDenied("Only a referrer or the centre's clinicians can create an rTMS referral.")
    now = utcnow()
    with database.write() as session:
        centre = session.get(Organisation, centre_id) if centre_id else None
        if centre is None or centre.kind != "centre":
            raise ValidationFailed([FieldError("recipient_organisation_id",
                                               REQUIRED_MESSAGES["recipient_organisation_id"])])
        patient = _patient_for(session, actor, data, centre.id, known_patient_id)
        referral = Referral(id=new_id("R"), workflow=WORKFLOW.name, patient_id=patient.id,
                            sender_organisation_id=sender, recipient_organisation_id=centre.id,
                            status=WORKFLOW.initial, created_by=actor.id, created_at=now, updated_at=now)
        session.add(referral)
        session.flush()
        session.add(ReferralEvent(referral_id=referral.id, source=None, target=WORKFLOW.initial, actor_id=actor.id,
                                  actor_role=actor.role, at=now))
        session.add(ReferralDetail(
            referral_id=referral.id, referrer_user_id=actor.id if actor.role == REFERRER_ROLE else None,
            referrer_name=data.referrer_name, family_name=data.family_name or patient.family_name,
            given_names=data.given_names or patient.given_names,
            birth_date=patient.birth_date if data.patient_id else data.birth_date,
            sex=patient.sex if data.patient_id else data.sex, ins=patient.ins if data.patient_id else data.ins,
            episode_start=data.episode_start, reason=data.reason, clinical_summary=data.clinical_summary,
            current_treatment=data.current_treatment, past_trials=data.past_trials, question=data.question,
            urgency=data.urgency, created_at=now,
        ))
        audit.record(session, actor, "create", "referral", referral.id, patient_id=patient.id,
                     detail=f"{WORKFLOW.name} -> {WORKFLOW.initial}, to {centre.id}, {data.urgency}")
        return referral.id


# -- centre side -----------------------------------------------------------------------------


def _centre_referral(session: Session, actor: Actor, referral_id: str) -> tuple[Referral, ReferralDetail]:
    """A referral addressed to the actor's centre, or NotFound (other centres' referrals do not exist)."""
    if actor.role not in CENTRE_ROLES:
        raise NotFound("Referral not found.")
    referral = session.get(Referral, referral_id)
    detail = session.get(ReferralDetail, referral_id)
    if (referral is None or detail is None or referral.workflow != WORKFLOW.name
            or referral.recipient_organisation_id != actor.organisation_id):
        raise NotFound("Referral not found.")
    return referral, detail


def intake_queue(database: Database, actor: Actor, status: str, query: str, page: int) -> QueuePage:
    """The centre's referrals, urgent first then oldest first; ``status`` is a state code, ``open``
    (not final) or empty (all). The search matches names (prefix), a patient id or a referral id."""
    if status not in ("", OPEN_FILTER) and not WORKFLOW.has_state(status):
        raise ValidationFailed([FieldError("status", "Unknown status.")])
    page = max(page, 1)
    conditions = [Referral.workflow == WORKFLOW.name, Referral.recipient_organisation_id == actor.organisation_id]
    if status == OPEN_FILTER:
        conditions.append(Referral.status.not_in(sorted(WORKFLOW.terminal_codes())))
    elif status:
        conditions.append(Referral.status == status)
    folded = fold(query)
    if folded:
        compact = query.strip().upper().replace(" ", "")
        conditions.append(or_((Patient.search_key >= folded) & (Patient.search_key < prefix_upper_bound(folded)),
                              Patient.id == compact, Referral.id == compact))
    urgency_rank = case({"urgent": 0, "soon": 1}, value=ReferralDetail.urgency, else_=2)
    base = (select(Referral, ReferralDetail, Patient).join(ReferralDetail, ReferralDetail.referral_id == Referral.id)
            .join(Patient, Patient.id == Referral.patient_id).where(*conditions))
    with audit.audited_read(database) as session:
        total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
        found = session.execute(base.order_by(urgency_rank, Referral.created_at, Referral.id)
                                .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
        rows = [QueueRow(r.id, p.id, p.family_name, p.given_names, p.birth_date, d.referrer_name, d.urgency, r.status,
                         r.created_at, r.updated_at) for r, d, p in found]
        audit.record(session, actor, "search", "referral_list", None,
                     detail=f"intake: status={status or 'all'}, {len(rows)} of {total} shown, page {page}")
        return QueuePage(rows, total, page, PAGE_SIZE, status, query)


def centre_referral(database: Database, actor: Actor, referral_id: str) -> CentreReferralView:
    with audit.audited_read(database) as session:
        referral, detail = _centre_referral(session, actor, referral_id)
        letter = _letter_issued(session, referral.id)
        outcome = letter or session.scalars(select(CourseOutcome).where(CourseOutcome.referral_id == referral.id)
                                            .order_by(CourseOutcome.decided_at.desc())).first()
        transitions = [TransitionChoice(target, WORKFLOW.transition(referral.status, target).reason_codes  # type: ignore[union-attr]
                                        ) for target in WORKFLOW.allowed_targets(referral.status, "centre")]
        audit.record(session, actor, "read", "referral", referral.id, patient_id=referral.patient_id)
        return CentreReferralView(referral.id, referral.version, referral.status, referral.patient_id,
                                  _detail_view(detail), _events(session, referral.id, with_text=True), transitions,
                                  _triage_view(session, detail.triage_id), outcome.course_id if outcome else None,
                                  letter.letter_issued_at if letter else None)


def _move(session: Session, actor: Actor, referral: Referral, target: str, workflow_actor: str,
          reason_code: str | None, reason_text: str | None) -> None:
    check_transition(WORKFLOW, referral.status, target, workflow_actor, reason_code, reason_text)
    now = utcnow()
    source = referral.status
    session.add(ReferralEvent(referral_id=referral.id, source=source, target=target, actor_id=actor.id,
                              actor_role=actor.role, reason_code=(reason_code or "").strip() or None,
                              reason_text=(reason_text or "").strip() or None, at=now))
    referral.status = target
    referral.updated_at = now
    session.flush()
    audit.record(session, actor, "transition", "referral", referral.id, patient_id=referral.patient_id,
                 detail=f"{source} -> {target}" + (f" ({reason_code})" if reason_code else ""))


def _reason_text_errors(reason_text: str | None) -> None:
    if reason_text is not None and len(reason_text.strip()) > TEXT_LIMITS["reason_text"]:
        raise ValidationFailed([FieldError("reason_text", f"At most {TEXT_LIMITS['reason_text']} characters.")])


def centre_transition(database: Database, actor: Actor, referral_id: str, *, target: str, expected_version: int,
                      reason_code: str | None, reason_text: str | None) -> None:
    """Move a referral of the centre (409 on a stale version or a move the workflow refuses)."""
    _reason_text_errors(reason_text)
    with database.write() as session:
        referral, _detail = _centre_referral(session, actor, referral_id)
        if referral.version != expected_version:
            raise Conflict("This referral was updated by someone else. Reload it to see its current status.")
        _move(session, actor, referral, target, "centre", reason_code, reason_text)


def link_triage(session: Session, actor: Actor, patient_id: str, triage_id: str, orientation: str,
                referral_id: str | None = None) -> str | None:
    """Attach a signed triage decision to the referral it answers and move the referral accordingly.

    Called inside ``record_triage``'s transaction. Without ``referral_id`` the answered referral is
    the patient's newest referral at the actor's centre still awaiting triage; none is fine (a
    triage without referral). The move follows the orientation (accepted, redirected with the
    orientation as reason, more information requested) when the workflow allows it from the
    current status; otherwise only the link is kept. Returns the referral id linked, if any.
    """
    if referral_id is not None:
        referral, detail = _centre_referral(session, actor, referral_id)
        if referral.patient_id != patient_id:
            raise ValidationFailed([FieldError("referral_id", "This referral is for another patient.")])
    else:
        found = session.execute(
            select(Referral, ReferralDetail).join(ReferralDetail, ReferralDetail.referral_id == Referral.id)
            .where(Referral.workflow == WORKFLOW.name, Referral.patient_id == patient_id,
                   Referral.recipient_organisation_id == actor.organisation_id,
                   Referral.status.in_(AWAITING_TRIAGE))
            .order_by(Referral.created_at.desc(), Referral.id.desc())).first()
        if found is None:
            return None
        referral, detail = found
    detail.triage_id = triage_id
    target, reason = ORIENTATION_MOVES[orientation]
    if target != referral.status and target in WORKFLOW.allowed_targets(referral.status, "centre"):
        _move(session, actor, referral, target, "centre", reason, "triage " + triage_id)
    else:
        audit.record(session, actor, "triage_linked", "referral", referral.id, patient_id=patient_id,
                     detail=f"triage {triage_id} ({orientation})")
    return referral.id


# -- referrer side ---------------------------------------------------------------------------


def _own_referral(session: Session, actor: Actor, referral_id: str) -> tuple[Referral, ReferralDetail]:
    """A referral this referrer sent, or NotFound: another referrer's referrals do not exist for them."""
    referral = session.get(Referral, referral_id)
    detail = session.get(ReferralDetail, referral_id)
    if (actor.role != REFERRER_ROLE or referral is None or detail is None or referral.workflow != WORKFLOW.name
            or detail.referrer_user_id != actor.id):
        raise NotFound("Referral not found.")
    return referral, detail


def referrer_referrals(database: Database, actor: Actor) -> list[ReferrerRow]:
    """The referrals this referrer sent, newest first (audited)."""
    with audit.audited_read(database) as session:
        found = session.execute(
            select(Referral, ReferralDetail, Organisation)
            .join(ReferralDetail, ReferralDetail.referral_id == Referral.id)
            .join(Organisation, Organisation.id == Referral.recipient_organisation_id)
            .where(Referral.workflow == WORKFLOW.name, ReferralDetail.referrer_user_id == actor.id)
            .order_by(Referral.created_at.desc(), Referral.id.desc())).all()
        orientations: dict[str, str] = {row.id: row.final_orientation for row in session.scalars(
            select(TriageRecord).where(TriageRecord.id.in_([d.triage_id for _, d, _ in found if d.triage_id])))}
        letters = set(session.scalars(select(CourseOutcome.referral_id).where(
            CourseOutcome.referral_id.in_([r.id for r, _, _ in found]), CourseOutcome.letter_issued_at.is_not(None))))
        audit.record(session, actor, "read", "referral_list", None, detail=f"own referrals: {len(found)}")
        return [ReferrerRow(r.id, d.family_name, d.given_names, o.name, r.status, r.created_at, r.updated_at,
                            orientations.get(d.triage_id) if d.triage_id else None, r.id in letters)
                for r, d, o in found]


def referrer_referral(database: Database, actor: Actor, referral_id: str) -> ReferrerReferralView:
    with audit.audited_read(database) as session:
        referral, detail = _own_referral(session, actor, referral_id)
        centre = session.get(Organisation, referral.recipient_organisation_id)
        audit.record(session, actor, "read", "referral", referral.id, patient_id=referral.patient_id)
        targets = WORKFLOW.allowed_targets(referral.status, REFERRER_ROLE)
        return ReferrerReferralView(
            referral.id, referral.version, referral.status, centre.name if centre else "", _detail_view(detail),
            # The centre's internal notes stay internal; the referrer sees statuses, reason codes and requests.
            _events(session, referral.id, with_text=False), _triage_view(session, detail.triage_id),
            _letter_issued(session, referral.id) is not None, "cancelled" in targets, "received" in targets)


def referrer_transition(database: Database, actor: Actor, referral_id: str, *, target: str, expected_version: int,
                        reason_code: str | None, reason_text: str | None) -> None:
    """The referrer cancels their referral, or answers a request for more information (text required)."""
    _reason_text_errors(reason_text)
    if target == "received" and not (reason_text or "").strip():
        raise ValidationFailed([FieldError("reason_text", "Write the information the centre asked for.")])
    with database.write() as session:
        referral, _detail = _own_referral(session, actor, referral_id)
        if referral.version != expected_version:
            raise Conflict("This referral was updated by someone else. Reload it to see its current status.")
        _move(session, actor, referral, target, REFERRER_ROLE, reason_code, reason_text)


def referral_patient_for_letter(database: Database, actor: Actor, referral_id: str) -> tuple[str, str]:
    """(patient id, course id) of the issued letter of one of the referrer's own referrals, or NotFound."""
    with database.read() as session:
        referral, _detail = _own_referral(session, actor, referral_id)
        outcome = _letter_issued(session, referral.id)
        if outcome is None:
            raise NotFound("No end-of-course letter has been issued for this referral yet.")
        return referral.patient_id, outcome.course_id
