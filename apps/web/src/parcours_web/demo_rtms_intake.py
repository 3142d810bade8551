"""Demo data of the rTMS intake and after-course part: referrals at every stage, an end-of-course letter.

Referrals from adresseur@ and adresseur2@ (org-cabinet-demo) to org-centre-demo, one patient per
stage, P-DEMO00013..P-DEMO00025 only; P-DEMO00020's course is delivered and closed, so its referral
is completed and the referrer can read the letter. Then every course already ``completed`` when this
runs (the sessions demo runs first) gets its outcome summary, letter and follow-ups.
Deterministic (fixed answers, dates relative to today) and idempotent (a second run changes nothing).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from parcours_web.auth.tables import AppUser
from rtms_pathway import intake_service as intake
from rtms_pathway import outcome_service as outcomes
from rtms_pathway.intake_tables import CourseOutcome
from rtms_pathway.service import plan_course, record_triage
from rtms_pathway.tables import Course, PlannedSessionRow
from shared_core.actors import Actor
from shared_core.db import Database
from shared_core.scales import ScaleCatalogue, load_catalogue
from shared_core.services.assessments import record_assessment
from shared_core.services.organisations import centre_calendar
from shared_core.tables import Patient, Referral

CENTRE = "org-centre-demo"
PRACTICE = "org-cabinet-demo"
REFERRERS = {"meyer": "adresseur@demo.parcours.fr", "girard": "adresseur2@demo.parcours.fr"}
TRIAGE_BASE: dict[str, object] = {
    "diagnosis": "unipolar", "psychotic_features": False, "catatonia": False, "suicide_risk": "none",
    "failed_adequate_trials": 2, "episode_months": 9, "anxiety_comorbidity": False, "substance_use": [],
    "mood_stabilizer": False, "safety_findings": [], "medications": [], "patient_preference": "none",
}
# (patient, referrer, urgency, stage): one referral per stage of RTMS_REFERRAL_WORKFLOW.
REFERRALS = (
    ("P-DEMO00013", "meyer", "urgent", "received"),
    ("P-DEMO00014", "girard", "routine", "received"),
    ("P-DEMO00015", "meyer", "soon", "triage_scheduled"),
    ("P-DEMO00016", "girard", "routine", "more_information_requested"),
    ("P-DEMO00017", "meyer", "routine", "information_received"),
    ("P-DEMO00018", "meyer", "soon", "accepted"),
    ("P-DEMO00019", "girard", "urgent", "redirected"),
    ("P-DEMO00020", "meyer", "routine", "completed"),  # no earlier scales in the demo: the course's own decide
    ("P-DEMO00021", "girard", "routine", "cancelled"),
    ("P-DEMO00022", "meyer", "soon", "on_hold"),
    ("P-DEMO00023", "meyer", "routine", "declined"),
    ("P-DEMO00024", "girard", "soon", "accepted"),
    ("P-DEMO00025", None, "routine", "received"),  # entered by the centre's secretary from a paper letter
)
CLINICAL_TEXT = {
    "reason": "Épisode dépressif caractérisé persistant malgré deux traitements antidépresseurs bien conduits.",
    "clinical_summary": "Épisode débuté il y a environ neuf mois ; ralentissement, anhédonie, insomnie. "
                        "Pas d'antécédent de crise convulsive. Suivi en cabinet toutes les deux semaines.",
    "current_treatment": "Venlafaxine LP 225 mg/j depuis 10 semaines ; zopiclone 7,5 mg au coucher.",
    "past_trials": "Sertraline 150 mg/j pendant 8 semaines (non-réponse) ; TCC en cours.",
    "question": "Une cure de rTMS est-elle indiquée ? Quel protocole proposeriez-vous ?",
}


def _user(database: Database, email: str, role: str, organisation: str) -> Actor:
    with database.read() as session:
        user_id = session.scalar(select(AppUser.id).where(AppUser.email == email))
    return Actor(id=user_id or "demo", role=role, organisation_id=organisation)


def _display_name(database: Database, email: str) -> str:
    with database.read() as session:
        return session.scalar(select(AppUser.display_name).where(AppUser.email == email)) or email


def _input(patient: Patient, referrer_name: str, urgency: str) -> intake.ReferralInput:
    return intake.ReferralInput(
        recipient_organisation_id=CENTRE, patient_id=None, referrer_name=referrer_name,
        family_name=patient.family_name, given_names=patient.given_names, birth_date=patient.birth_date,
        sex=patient.sex, ins=patient.ins, episode_start=None, urgency=urgency, **CLINICAL_TEXT)


def _move(database: Database, actor: Actor, referral_id: str, target: str, reason: str | None = None,
          text: str | None = None) -> None:
    with database.read() as session:
        row = session.get(Referral, referral_id)
        version = row.version if row else 1
    if actor.role == "referrer":
        intake.referrer_transition(database, actor, referral_id, target=target, expected_version=version,
                                   reason_code=reason, reason_text=text)
    else:
        intake.centre_transition(database, actor, referral_id, target=target, expected_version=version,
                                 reason_code=reason, reason_text=text)


def _delivered_course(database: Database, doctor: Actor, catalogue: ScaleCatalogue, patient_id: str,
                      today: dt.date) -> None:
    """A 20-session course that ended last week, its scales, then closed: outcome, letter, follow-ups."""
    calendar = centre_calendar(database, CENTRE, "metropole")
    start = today - dt.timedelta(days=45)
    while not calendar.is_working_day(start):
        start += dt.timedelta(days=1)
    course = plan_course(database, doctor, patient_id, protocol="hf_left_10hz", start=start, induction_sessions=20,
                         calendar=calendar)
    with database.write() as session:
        for row in session.scalars(select(PlannedSessionRow).where(PlannedSessionRow.course_id == course.id)):
            if row.date < today:
                row.status = "delivered"
    noon = dt.time(11, tzinfo=dt.UTC)
    last = max(s.date for s in course.sessions if s.date < today)
    for code, day, total_items in (
        ("madrs", start - dt.timedelta(days=2), [4, 4, 3, 4, 2, 4, 3, 3, 3, 2]),
        ("phq9", start - dt.timedelta(days=2), [2, 3, 2, 2, 1, 2, 1, 1, 0]),
        ("gad7", start - dt.timedelta(days=2), [2, 2, 3, 2, 1, 1, 2]),
        ("phq9", start + dt.timedelta(days=14), [2, 2, 1, 2, 1, 1, 1, 1, 0]),
        ("madrs", last, [2, 2, 2, 2, 1, 2, 2, 1, 1, 1]),
        ("phq9", last, [1, 1, 1, 1, 1, 1, 1, 0, 0]),
        ("gad7", last, [2, 1, 2, 2, 1, 1, 1]),
    ):
        record_assessment(database, doctor, catalogue, patient_id, code, total_items,
                          administered_at=dt.datetime.combine(day, noon))
    with database.read() as session:
        version = session.get(Course, course.id).version  # type: ignore[union-attr]
    outcomes.close_course(database, doctor, catalogue, patient_id, course.id, outcomes.CloseCourseInput(
        "completed", None, "classic", "M-OREARDON", "Bonne tolérance, pas d'événement indésirable.", version), today)


def _close_completed_courses(database: Database, doctor: Actor, catalogue: ScaleCatalogue, today: dt.date) -> None:
    """Courses marked completed by the sessions demo get their outcome, letter and follow-ups."""
    with database.read() as session:
        pending = session.execute(
            select(Course.id, Course.patient_id, Course.version).join(Patient, Patient.id == Course.patient_id)
            .where(Course.status == "completed", Patient.organisation_id == CENTRE,
                   Course.id.not_in(select(CourseOutcome.course_id)))
            .order_by(Course.patient_id, Course.course_number)).all()
    for course_id, patient_id, version in pending:
        outcomes.close_course(database, doctor, catalogue, patient_id, course_id, outcomes.CloseCourseInput(
            "completed", None, "follow_up", None, None, version), today)


def seed_rtms_intake(database: Database, today: dt.date) -> None:
    with database.read() as session:
        done = session.scalar(select(Referral.id).where(Referral.workflow == intake.WORKFLOW.name,
                                                        Referral.patient_id.in_([r[0] for r in REFERRALS])))
    catalogue = load_catalogue()
    doctor = _user(database, "psychiatre@demo.parcours.fr", "psychiatrist", CENTRE)
    if done is None:
        secretary = _user(database, "infirmiere@demo.parcours.fr", "operator", CENTRE)
        referrers = {key: _user(database, email, "referrer", PRACTICE) for key, email in REFERRERS.items()}
        names = {key: _display_name(database, email) for key, email in REFERRERS.items()}
        for patient_id, who, urgency, stage in REFERRALS:
            with database.read() as session:
                patient = session.get(Patient, patient_id)
            if patient is None:
                continue
            sender = referrers[who] if who else secretary
            name = names[who] if who else "Dr Hélène Fabre, CMP Strasbourg-Est (courrier papier)"
            referral = intake.create_referral(database, sender, _input(patient, name, urgency),
                                              known_patient_id=patient_id)
            _advance(database, doctor, sender, catalogue, referral, patient_id, stage, today)
    _close_completed_courses(database, doctor, catalogue, today)


def _advance(database: Database, doctor: Actor, sender: Actor, catalogue: ScaleCatalogue, referral: str,
             patient_id: str, stage: str, today: dt.date) -> None:
    if stage == "triage_scheduled":
        _move(database, doctor, referral, "triage_scheduled")
    elif stage in ("more_information_requested", "information_received"):
        _move(database, doctor, referral, "more_information_requested", None,
              "Merci de préciser les doses et durées des traitements antérieurs.")
        if stage == "information_received":
            _move(database, sender, referral, "received", None,
                  "Sertraline 150 mg/j 8 semaines puis venlafaxine 225 mg/j depuis 10 semaines.")
    elif stage in ("accepted", "completed"):
        record_triage(database, doctor, patient_id, TRIAGE_BASE, override_orientation=None, override_reason=None,
                      referral_id=referral)
        if stage == "completed":
            _delivered_course(database, doctor, catalogue, patient_id, today)
    elif stage == "redirected":
        record_triage(database, doctor, patient_id, TRIAGE_BASE | {"psychotic_features": True},
                      override_orientation=None, override_reason=None, referral_id=referral)
    elif stage == "declined":
        _move(database, doctor, referral, "declined", "out_of_catchment_area")
    elif stage == "cancelled":
        _move(database, sender, referral, "cancelled", "patient_withdrew")
    elif stage == "on_hold":
        _move(database, doctor, referral, "on_hold", "precondition_pending",
              "Bilan neurologique demandé avant la consultation d'évaluation.")
