"""Demo sport referrals: APA prescriptions and referrals at every stage of the lifecycle, for patients
P-DEMO00026 to P-DEMO00050, spread over the last 12 months and several departments, so the
coordinator inboxes, the prescriber pages and the observer indicators all show data.

The demo structures of Strasbourg are linked to the demo coordinators' organisations (org-mss-demo,
org-esms-demo, and org-kine-demo created here with its own coordinator account). Rows are written
directly with past dates (the services stamp "now"); each prescription still goes through the
P-rules (``check_prescription``) and each move through the workflow rules (``apply_transition``).
Deterministic (fixed seed) and idempotent (a second run finds the first prescription and stops).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

import msgspec
from sqlalchemy import select

from parcours_web.auth.passwords import hash_password
from parcours_web.auth.tables import AppUser
from shared_core.db import Database, utcnow
from shared_core.ids import new_id
from shared_core.rules.workflow import TransitionRecord
from shared_core.tables import Consent, Organisation, Patient, Referral, ReferralEvent
from sport_referral.catalogue.loader_sport import load_consent_settings, load_prescription_settings
from sport_referral.geo.gazetteer import get_gazetteer
from sport_referral.model.prescription import ApaPrescription, PrescriptionDraft
from sport_referral.model.prescription import Referral as ReferralRecord
from sport_referral.referral_tables import SportAttendance, SportPrescription, SportReferralDetail, SportReport
from sport_referral.rules.prescription import check_prescription, expiry_date
from sport_referral.rules.referral_flow import apply_transition
from sport_referral.tables import SportStructure

FIRST_PATIENT, LAST_PATIENT = 26, 50
PRESCRIBER_EMAIL = "psychiatre@demo.parcours.fr"
PRESCRIBER_NAME = "Dr Claire Muller"
CENTRE_ID = "org-centre-demo"
# structure id -> organisation of its coordinator accounts
STRUCTURE_ORGANISATIONS = {
    "demo-mss-67482": "org-mss-demo",
    "demo-esms-67482": "org-esms-demo",
    "demo-kine-67482": "org-kine-demo",
}
EXTRA_ORGANISATION = ("org-kine-demo", "apa_practice", "Cabinet de kinésithérapie de démonstration", "67482")
EXTRA_ACCOUNT = ("coordinateur.kine@demo.parcours.fr", "Lucie Brun (cabinet APA)", "coordinator", "org-kine-demo")
HOME_CITY = "67482"
# Patient commune -> city of the demo directory whose structures receive the referral.
CITY_OF = {"67482": "67482", "67218": "67482", "68224": "67482", "57463": "67482", "69123": "69123",
           "75056": "59350", "31555": "31555", "44109": "44109", "59350": "59350", "13055": "13055",
           "33063": "33063"}
# (stage, limitation level, structure kind, youngest age of the referral in days)
STAGES: tuple[tuple[str, str, str, int], ...] = (
    ("completed", "moderate", "mss", 150), ("in_progress", "minimal", "mss", 40),
    ("accepted", "none", "club", 12), ("declined", "moderate", "esms", 30), ("sent", "minimal", "mss", 3),
    ("completed", "severe", "apa_practice", 200), ("received", "moderate", "esms", 8), ("booked", "minimal", "mss", 9),
    ("lost_to_follow_up", "moderate", "mss", 120), ("cancelled", "none", "mss", 60),
    ("in_progress", "severe", "apa_practice", 35), ("draft", "minimal", "mss", 1),
    ("completed", "minimal", "esms", 220),
    ("on_hold", "moderate", "mss", 70), ("in_progress", "moderate", "esms", 50), ("completed", "none", "club", 300),
    ("declined", "severe", "mss", 90), ("in_progress", "minimal", "apa_practice", 25),
    ("completed", "moderate", "mss", 330), ("accepted", "moderate", "apa_practice", 15), ("sent", "none", "mss", 2),
    ("completed", "minimal", "mss", 250), ("lost_to_follow_up", "minimal", "club", 180),
    ("in_progress", "none", "mss", 60), ("completed", "moderate", "esms", 280),
)
KIND_PREFIX = {"mss": "demo-mss", "esms": "demo-esms", "club": "demo-club", "apa_practice": "demo-kine"}
SEVERE_ITEMS = ("loco_walking", "loco_endurance", "sens_proprioception")
DECLINE = ("no_capacity", "out_of_catchment_area")
GOALS = ("Marcher 30 minutes sans pause", "Reprendre les escaliers sans essoufflement",
         "Retrouver une activité régulière en groupe", "Améliorer l'équilibre pour les courses")


@dataclass
class _Step:
    referral: ReferralRecord
    events: list[TransitionRecord]


def _prescription(patient: Patient, level: str, prescribed_on: dt.date, signed_at: dt.datetime,
                  prescriber_id: str, rng: random.Random) -> ApaPrescription:
    settings = load_prescription_settings()
    draft = PrescriptionDraft(
        prescription_id=new_id("RX"), patient_id=patient.id, prescriber_id=prescriber_id, prescribed_on=prescribed_on,
        eligibility_basis=("chronic_disease", "risk_factor"), limitation_level=level,  # type: ignore[arg-type]
        severe_criteria=(rng.choice(SEVERE_ITEMS),) if level == "severe" else (),
        activity_types=frozenset({"endurance", "strength", "balance"} if level != "none" else {"endurance"}),
        intensity="light" if level in ("moderate", "severe") else "moderate", sessions_per_week_min=2,
        sessions_per_week_max=3, session_minutes_min=45, session_minutes_max=60,
        programme_months=3 if level != "severe" else 6, renewable=True, goals=rng.choice(GOALS),
        precautions="Reprise progressive, hydratation" if level != "none" else None,
        recommended_structure_kinds=frozenset({"mss", "apa_practice"}) if level == "severe" else frozenset(),
        signed_at=signed_at, signed_by=prescriber_id)
    check = check_prescription(draft, today=prescribed_on, settings=settings, consent=load_consent_settings())
    assert check.prescription is not None, check.errors
    return check.prescription


def _move(step: _Step, target: str, at: dt.datetime, actor: str, role: str, **kwargs: object) -> None:
    moved, record = apply_transition(step.referral, target, actor_role=role, actor_id=actor, at=at,  # type: ignore[arg-type]
                                     **kwargs)  # type: ignore[arg-type]
    step.referral = moved
    step.events.append(record)


def _lifecycle(stage: str, sent_at: dt.datetime, now: dt.datetime, rng: random.Random, coordinator: str,
               prescriber: str, step: _Step) -> tuple[dt.date | None, list[dt.date]]:
    """Moves the draft along to ``stage``; returns the booked first-session date and attended days."""
    if stage == "draft":
        return None, []
    step.referral = msgspec.structs.replace(step.referral, status="sent", sent_at=sent_at, status_changed_at=sent_at)
    step.events.append(TransitionRecord("sport_referral", "draft", "sent", "prescriber", prescriber, None, None,
                                        sent_at))
    if stage == "sent":
        return None, []
    received = sent_at + dt.timedelta(days=1, hours=rng.randint(1, 8))
    _move(step, "received", received, coordinator, "coordinator")
    if stage == "received":
        return None, []
    decided = received + dt.timedelta(days=rng.randint(1, 5))
    if stage == "declined":
        _move(step, "declined", decided, coordinator, "coordinator", reason_code=rng.choice(DECLINE))
        return None, []
    if stage == "cancelled":
        _move(step, "cancelled", decided, prescriber, "prescriber", reason_code="patient_moved")
        return None, []
    _move(step, "accepted", decided, coordinator, "coordinator")
    booked = (decided + dt.timedelta(days=rng.randint(5, 12))).date()
    if stage in ("accepted", "booked"):
        return (booked if stage == "booked" else None), []
    first = dt.datetime.combine(booked, dt.time(10), tzinfo=dt.UTC)
    _move(step, "in_progress", first + dt.timedelta(hours=2), coordinator, "coordinator", first_session_at=first)
    # Sessions twice a week until the end (completed: 12 weeks; lost: 5 weeks; otherwise today).
    weeks = {"completed": 12, "lost_to_follow_up": 5, "on_hold": 4}.get(stage, 52)
    end = min(now, first + dt.timedelta(weeks=weeks))
    attended: list[dt.date] = []
    day = first
    while day <= end:
        attended.append(day.date())
        day += dt.timedelta(days=3 if len(attended) % 2 else 4)
    last = dt.datetime.combine(attended[-1], dt.time(12), tzinfo=dt.UTC)
    if stage == "completed":
        _move(step, "completed", last + dt.timedelta(days=1), coordinator, "coordinator", has_final_assessment=True)
    elif stage == "lost_to_follow_up":
        _move(step, "lost_to_follow_up", last + dt.timedelta(days=43), coordinator, "coordinator",
              reason_code="repeated_no_show")
    elif stage == "on_hold":
        _move(step, "on_hold", last + dt.timedelta(days=1), coordinator, "coordinator", reason_code="medical_event")
    return booked, attended


def _report(referral_id: str, report_type: str, on: dt.date, baseline: dict[str, int], gain: float, shared: bool,
            recorded_by: str) -> SportReport:
    return SportReport(
        id=new_id("RP"), referral_id=referral_id, report_type=report_type, performed_on=on,
        performer_profession="apa_teacher", six_minute_walk_m=round(baseline["walk"] * gain),
        chair_stand_30s=round(baseline["chair"] * gain), one_leg_stance_s=round(baseline["stance"] * gain, 1),
        handgrip_kg=round(baseline["grip"] * min(gain, 1.1), 1),
        ricci_gagnon_score=min(45, round(baseline["ricci"] * gain)),
        ricci_gagnon_band="active" if baseline["ricci"] * gain >= 18 else "inactive",
        motivation_stage="maintenance" if gain > 1 else "preparation",
        weekly_activity_minutes=round(baseline["minutes"] * gain * gain), flags_risk=False,
        shared_with_prescriber=shared,
        data={"programme": "2 séances par semaine : marche nordique et renforcement", "proposals":
              "Poursuivre en club avec un créneau sport-santé" if gain > 1 else None, "notes": None},
        recorded_by=recorded_by, recorded_at=dt.datetime.combine(on, dt.time(17), tzinfo=dt.UTC))


def seed_sport_referrals(database: Database, today: dt.date) -> int:
    """Link the demo structures, add the third coordinator, and write the referrals. Returns their count."""
    from parcours_web.demo import DEMO_PASSWORD as demo_password  # the shared demo password (demo.py calls us)

    rng = random.Random(2027)  # noqa: S311 - a reproducible demo, not a secret
    now = utcnow()
    with database.write() as session:
        first = f"P-DEMO{FIRST_PATIENT:05d}"
        if session.scalar(select(SportPrescription.id).where(SportPrescription.patient_id == first)) is not None:
            return 0
        org_id, kind, name, commune = EXTRA_ORGANISATION
        if session.get(Organisation, org_id) is None:
            session.add(Organisation(id=org_id, kind=kind, name=name, commune_insee=commune))
        email, display, role, account_org = EXTRA_ACCOUNT
        if session.scalar(select(AppUser.id).where(AppUser.email == email)) is None:
            session.add(AppUser(id=new_id("U"), email=email, display_name=display, role=role,
                                organisation_id=account_org, password_hash=hash_password(demo_password), active=True))
        session.flush()
        for structure_id, organisation in STRUCTURE_ORGANISATIONS.items():
            structure = session.get(SportStructure, structure_id)
            if structure is not None and structure.organisation_id is None:
                structure.organisation_id = organisation
        prescriber_id = session.scalar(select(AppUser.id).where(AppUser.email == PRESCRIBER_EMAIL)) or "demo"
        gazetteer = get_gazetteer()
        count = 0
        for index, number in enumerate(range(FIRST_PATIENT, LAST_PATIENT + 1)):
            patient = session.get(Patient, f"P-DEMO{number:05d}")
            if patient is None:
                continue
            stage, level, structure_kind, youngest = STAGES[index % len(STAGES)]
            # Every other referral goes to a Strasbourg structure so the demo coordinators' inboxes fill up;
            # the others stay near the patient's home (the residence department varies either way).
            city = HOME_CITY if index % 2 == 0 else CITY_OF.get(patient.commune_insee or "", HOME_CITY)
            structure = session.get(SportStructure, f"{KIND_PREFIX[structure_kind]}-{city}")
            if structure is None:
                continue
            recipient = structure.organisation_id or f"org-{structure.id}"[:64]
            if session.get(Organisation, recipient) is None:
                session.add(Organisation(id=recipient, kind=structure.kind, name=structure.name[:200],
                                         commune_insee=structure.commune_insee))
                session.flush()
            structure.organisation_id = recipient
            days_ago = min(youngest + rng.randint(0, 25), 360)
            sent_at = now - dt.timedelta(days=days_ago, hours=rng.randint(0, 6))
            signed_at = sent_at - dt.timedelta(days=rng.randint(1, 4))
            prescription = _prescription(patient, level, signed_at.date(), signed_at, prescriber_id, rng)
            families = sorted(set(structure.data.get("disability_families", [])) & {"moteur", "psychique", "visuel",
                                                                                     "mental", "auditif"})[:2]
            session.add(SportPrescription(
                id=prescription.prescription_id, patient_id=patient.id, organisation_id=CENTRE_ID,
                prescriber_id=prescriber_id, prescriber_name=PRESCRIBER_NAME, prescriber_rpps=None,
                prescribed_on=prescription.prescribed_on, signed_at=signed_at, expires_on=expiry_date(prescription),
                limitation_level=level, intensity=prescription.intensity,
                programme_months=prescription.programme_months,
                sessions_per_week_min=2, sessions_per_week_max=3, sessions_planned=None, renews_prescription_id=None,
                status="active", disability_families=families, data=msgspec.to_builtins(prescription),
                eligibility={"input": None, "outcome": "eligible", "basis": ["chronic_disease", "risk_factor"]},
                needs={"disability_families": families}, lint_hits=[], medical_notes=None, created_by=prescriber_id,
                created_at=signed_at, updated_at=signed_at))
            referral_id = new_id("R")
            created = signed_at + dt.timedelta(minutes=20)
            step = _Step(ReferralRecord(referral_id=referral_id, prescription_id=prescription.prescription_id,
                                        patient_id=patient.id, structure_id=structure.id, status="draft",
                                        created_at=created), [])
            coordinator = f"demo-coordinator:{recipient}"
            booked, attended = _lifecycle(stage, sent_at, now, rng, coordinator, prescriber_id, step)
            moved = step.referral
            session.add(Referral(id=referral_id, workflow="sport_referral", patient_id=patient.id,
                                 sender_organisation_id=CENTRE_ID, recipient_organisation_id=recipient,
                                 status=moved.status, created_by=prescriber_id, created_at=created,
                                 updated_at=step.events[-1].at if step.events else created))
            session.flush()
            session.add(ReferralEvent(referral_id=referral_id, source=None, target="draft", actor_id=prescriber_id,
                                      actor_role="psychiatrist", at=created))
            for record in step.events:
                session.add(ReferralEvent(referral_id=referral_id, source=record.source, target=record.target,
                                          actor_id=record.actor_id,
                                          actor_role="psychiatrist" if record.actor_role == "prescriber"
                                          else record.actor_role,
                                          reason_code=record.reason_code, reason_text=record.reason_text,
                                          at=record.at))
            consent_id: str | None = None
            share_reports = index % 3 != 1
            if stage != "draft":
                granted = sent_at - dt.timedelta(hours=1)
                for scope in ("share_referral", "share_contact_phone", "share_reports_with_prescriber"):
                    if scope == "share_reports_with_prescriber" and not share_reports:
                        continue
                    consent = Consent(id=new_id("C"), patient_id=patient.id, scope=scope,
                                      recipient=None if scope == "share_reports_with_prescriber" else structure.id,
                                      granted_at=granted, granted_by="patient", collection_mode="oral_recorded",
                                      notice_version="sport-2026.1", recorded_by=prescriber_id, recorded_at=granted)
                    session.add(consent)
                    if scope == "share_referral":
                        consent_id = consent.id
            decision = next((r for r in step.events if r.target in ("accepted", "declined")), None)
            declined = next((r for r in step.events if r.target == "declined"), None)
            terminal = next((r for r in step.events if r.target in ("declined", "completed", "lost_to_follow_up",
                                                                     "cancelled")), None)
            residence = patient.commune_insee
            session.add(SportReferralDetail(
                referral_id=referral_id, prescription_id=prescription.prescription_id, structure_id=structure.id,
                patient_id=patient.id, prescriber_id=prescriber_id, prescriber_organisation_id=CENTRE_ID,
                recipient_organisation_id=recipient, status=moved.status, structure_kind=structure.kind,
                structure_department_code=structure.department_code, structure_region_code=structure.region_code,
                patient_department_code=gazetteer.department_code(residence) if residence else None,
                patient_region_code=gazetteer.region_code(residence) if residence else None,
                disability_families=families, limitation_level=level, sessions_per_week_min=2,
                programme_months=prescription.programme_months, sessions_planned=None, created_at=created,
                sent_at=moved.sent_at, received_at=moved.received_at, decided_at=decision.at if decision else None,
                accepted_at=moved.accepted_at, declined_at=declined.at if declined else None,
                decline_reason=declined.reason_code if declined else None, first_session_planned_on=booked,
                first_session_at=moved.first_session_at, closed_at=terminal.at if terminal else None,
                close_reason=terminal.reason_code if terminal else None, consent_id=consent_id,
                updated_at=step.events[-1].at if step.events else created))
            for day in attended:
                session.add(SportAttendance(referral_id=referral_id, kind="session", session_on=day,
                                            attended=rng.random() > 0.15, recorded_by=coordinator,
                                            recorded_at=dt.datetime.combine(day, dt.time(18), tzinfo=dt.UTC)))
            if attended:
                baseline = {"walk": rng.randint(280, 450), "chair": rng.randint(7, 13), "stance": rng.randint(4, 20),
                            "grip": rng.randint(18, 35), "ricci": rng.randint(12, 20), "minutes": rng.randint(30, 90)}
                session.add(_report(referral_id, "initial_assessment", attended[0], baseline, 1.0, share_reports,
                                    coordinator))
                if len(attended) > 12:
                    session.add(_report(referral_id, "periodic_report", attended[12], baseline, 1.08, share_reports,
                                        coordinator))
                if stage == "completed":
                    session.add(_report(referral_id, "final_assessment", attended[-1], baseline,
                                        1.1 + rng.random() * 0.2, share_reports, coordinator))
            count += 1
    return count
