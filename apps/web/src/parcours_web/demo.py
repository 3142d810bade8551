"""`parcours demo seed`: a realistic, clearly fictitious data set a newcomer can explore at once.

Deterministic (fixed random seed) and idempotent: a second run finds the demo centre and stops.
Dates are placed relative to today so the demo always looks current.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import msgspec
from sqlalchemy import func, select

from parcours_web.auth.passwords import hash_password
from parcours_web.auth.tables import AppUser
from parcours_web.demo_directory import demo_structures
from parcours_web.demo_rtms_history import seed_rtms_history
from parcours_web.demo_rtms_intake import seed_rtms_intake
from parcours_web.demo_rtms_sessions import seed_rtms_sessions
from parcours_web.demo_sport_directory_admin import seed_directory_admin
from parcours_web.demo_sport_referrals import seed_sport_referrals
from rtms_pathway.service import plan_course, record_triage
from rtms_pathway.tables import Course
from shared_core.actors import Actor
from shared_core.db import Database, utcnow
from shared_core.ids import new_id
from shared_core.rules.identifiers import nir_key
from shared_core.scales import ScaleDefinition, load_catalogue, score
from shared_core.services import audit
from shared_core.services.organisations import centre_calendar
from shared_core.tables import (
    Assessment,
    CentreClosure,
    Organisation,
    Patient,
    Practitioner,
    Referral,
    SafetyAlert,
)
from shared_core.text import fold
from sport_referral.service import save_structures

DEMO_PASSWORD = "parcours-demo-2026"
CENTRE_ID = "org-centre-demo"
PATIENT_COUNT = 50

ORGANISATIONS = [
    (CENTRE_ID, "centre", "Centre de neuromodulation — Hôpital de démonstration", "67482"),
    ("org-centre-demo-b", "centre", "Centre de neuromodulation B (démonstration)", "69123"),
    ("org-cabinet-demo", "referrer_practice", "Cabinet de psychiatrie (démonstration)", "67218"),
    ("org-mss-demo", "mss", "Maison Sport-Santé de démonstration", "67482"),
    ("org-esms-demo", "esms", "IME de démonstration", "67218"),
]
PRACTITIONERS = [
    ("PR-DEMO-001", "Muller", "Claire", "psychiatrist", "10101010108"),
    ("PR-DEMO-002", "Benali", "Karim", "psychiatrist", "10101010116"),
    ("PR-DEMO-003", "Meyer", "Paul", "psychiatrist", None),
]

ACCOUNTS = [
    ("psychiatre@demo.parcours.fr", "Dr Claire Muller", "psychiatrist", CENTRE_ID),
    ("psychiatre2@demo.parcours.fr", "Dr Karim Benali", "psychiatrist", CENTRE_ID),
    ("infirmier@demo.parcours.fr", "Julien Schmitt (IDE)", "operator", CENTRE_ID),
    ("infirmiere@demo.parcours.fr", "Sophie Weber (IDE)", "operator", CENTRE_ID),
    ("psychiatre.b@demo.parcours.fr", "Dr Anne Roux (centre B)", "psychiatrist", "org-centre-demo-b"),
    ("adresseur@demo.parcours.fr", "Dr Paul Meyer (adresseur)", "referrer", "org-cabinet-demo"),
    ("adresseur2@demo.parcours.fr", "Dr Léa Girard (adresseuse)", "referrer", "org-cabinet-demo"),
    ("coordinateur@demo.parcours.fr", "Nadia Klein (MSS)", "coordinator", "org-mss-demo"),
    ("referent.esms@demo.parcours.fr", "Marc Haas (référent APS, IME)", "coordinator", "org-esms-demo"),
    ("observateur@demo.parcours.fr", "Observatoire régional (démo)", "observer", None),
    ("observateur.dep@demo.parcours.fr", "Pilotage départemental 67 (démo)", "observer", None),
    ("admin@demo.parcours.fr", "Administrateur démo", "admin", CENTRE_ID),
    ("admin2@demo.parcours.fr", "Administratrice démo (suppléante)", "admin", CENTRE_ID),
]

FAMILY_NAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
                "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
                "Vincent", "Fournier", "Morel", "Girard", "André", "Lefèvre", "Mercier", "Dupont", "Lambert",
                "Bonnet", "François", "Martinez", "Schneider", "Müller", "Keller", "Hoffmann", "Wagner"]
FEMALE_NAMES = ["Marie", "Camille", "Léa", "Manon", "Chloé", "Inès", "Sarah", "Julie", "Élodie", "Nathalie",
                "Isabelle", "Sandrine", "Émilie", "Céline", "Aurélie"]
MALE_NAMES = ["Lucas", "Hugo", "Louis", "Nathan", "Thomas", "Nicolas", "Julien", "Pierre", "Éric", "Stéphane",
              "Olivier", "Christophe", "Mathieu", "Antoine", "Frédéric"]
COMMUNES = ["67482", "67218", "68224", "57463", "69123", "75056", "31555", "44109", "59350", "13055", "33063"]

# (scale, baseline, relative end value) per trajectory type: responder, partial, non-responder, remitter.
TRAJECTORIES = {
    "remitter": 0.2, "responder": 0.45, "partial": 0.65, "non_responder": 0.95,
}


class SeedSummary(msgspec.Struct, frozen=True):
    message: str
    accounts: list[tuple[str, str]]


def _items_for_total(definition: ScaleDefinition, total: int, rng: random.Random,
                     fixed: dict[int, int] | None = None) -> list[int]:
    """Spread a target total over the items within their ranges (sum-scored scales)."""
    fixed = fixed or {}
    values = [fixed.get(item.number, item.min) for item in definition.items]
    remaining = total - sum(values)
    free = [i for i, item in enumerate(definition.items) if item.number not in fixed]
    while remaining > 0 and free:
        index = rng.choice(free)
        if values[index] < definition.items[index].max:
            values[index] += 1
            remaining -= 1
        else:
            free.remove(index)
    return values


def _patient(rng: random.Random, number: int, today: dt.date) -> Patient:
    sex = rng.choice("FM")
    given = rng.choice(FEMALE_NAMES if sex == "F" else MALE_NAMES)
    family = rng.choice(FAMILY_NAMES)
    birth = today - dt.timedelta(days=rng.randint(20 * 365, 78 * 365))
    commune = rng.choice(COMMUNES)
    ins: str | None = None
    if number % 3 != 0:
        first13 = f"{'2' if sex == 'F' else '1'}{birth.year % 100:02d}{birth.month:02d}{commune}{number:03d}"
        ins = first13 + nir_key(first13)
    now = utcnow()
    return Patient(
        id=f"P-DEMO{number:05d}", organisation_id=CENTRE_ID, family_name=family, given_names=given,
        birth_date=birth, sex=sex, ins=ins, commune_insee=commune, phone=f"06{rng.randint(10000000, 99999999)}",
        email=None, address_line=None, search_key=fold(f"{family} {given}"), created_by="demo",
        created_at=now - dt.timedelta(days=rng.randint(60, 200)), updated_at=now,
    )


# A low-resistance patient, a bipolar patient on lithium and a psychotic depression oriented to ECT,
# so the triage pages show each kind of decision.
TRIAGE_EXAMPLES: tuple[tuple[str, dict[str, object]], ...] = (
    ("P-DEMO00001", {}),
    ("P-DEMO00002", {"diagnosis": "bipolar_i", "mood_stabilizer": True, "medications": ["lithium"]}),
    ("P-DEMO00003", {"psychotic_features": True}),
)
TRIAGE_BASE: dict[str, object] = {
    "diagnosis": "unipolar", "psychotic_features": False, "catatonia": False, "suicide_risk": "none",
    "failed_adequate_trials": 1, "episode_months": 8, "anxiety_comorbidity": False, "substance_use": [],
    "mood_stabilizer": False, "safety_findings": [], "medications": [], "patient_preference": "none",
}


def _seed_rtms(database: Database, today: dt.date) -> None:
    """Triage decisions for three patients and a planned course for the first one."""
    with database.read() as session:
        physician_id = session.scalar(select(AppUser.id).where(AppUser.email == ACCOUNTS[0][0]))
    physician = Actor(id=physician_id or "demo", role="psychiatrist", organisation_id=CENTRE_ID)
    for patient_id, answers in TRIAGE_EXAMPLES:
        record_triage(database, physician, patient_id, TRIAGE_BASE | answers, override_orientation=None,
                      override_reason=None)
    calendar = centre_calendar(database, CENTRE_ID, "metropole")
    plan_course(database, physician, "P-DEMO00001", protocol="hf_left_10hz",
                start=calendar.next_working_day(today), induction_sessions=30, calendar=calendar)


def seed(database: Database) -> SeedSummary:
    with database.write() as session:
        if session.get(Organisation, CENTRE_ID) is not None:
            return SeedSummary("demo data already present: nothing changed", _accounts(database))
    catalogue = load_catalogue()
    rng = random.Random(2026)
    today = dt.date.today()
    now = utcnow()
    password_hash = hash_password(DEMO_PASSWORD)
    with database.write() as session:
        for org_id, kind, name, commune in ORGANISATIONS:
            session.add(Organisation(id=org_id, kind=kind, name=name, commune_insee=commune))
        session.flush()
        for practitioner_id, family, given, profession, rpps in PRACTITIONERS:
            session.add(Practitioner(id=practitioner_id, family_name=family, given_name=given,
                                     profession=profession, rpps=rpps, organisation_id=CENTRE_ID))
        year_end = dt.date(today.year, 12, 24)
        session.add(CentreClosure(organisation_id=CENTRE_ID, start_date=year_end,
                                  end_date=year_end + dt.timedelta(days=8), label="Fermeture de fin d'année"))
        for email, display_name, role, account_organisation in ACCOUNTS:
            if session.scalar(select(AppUser.id).where(AppUser.email == email)) is None:
                session.add(AppUser(id=new_id("U"), email=email, display_name=display_name, role=role,
                                    organisation_id=account_organisation, password_hash=password_hash,
                                    active=True))
        phq9, madrs, gad7 = catalogue.get("phq9"), catalogue.get("madrs"), catalogue.get("gad7")
        kinds = list(TRAJECTORIES)
        assessment_count = 0
        for number in range(1, PATIENT_COUNT + 1):
            patient = _patient(rng, number, today)
            session.add(patient)
            session.flush()
            if number % 10 == 0:
                continue  # newly referred: no assessment yet
            trajectory = kinds[number % len(kinds)]
            start = now - dt.timedelta(days=rng.randint(14, 120))
            weeks = rng.randint(2, 7)
            baselines = {"phq9": rng.randint(14, 24), "madrs": rng.randint(24, 40), "gad7": rng.randint(6, 17)}
            for week in range(weeks + 1):
                at = start + dt.timedelta(days=7 * week, hours=rng.randint(0, 6))
                if at > now:
                    break
                progress = 1 - (1 - TRAJECTORIES[trajectory]) * week / max(weeks, 1)
                for definition in (phq9, madrs, gad7):
                    if definition.code == "madrs" and week % 2:
                        continue  # clinician scale every other week
                    target = round(baselines[definition.code] * progress) + rng.randint(-1, 1)
                    target = max(definition.total_min or 0, min(target, definition.total_max or target))
                    fixed = {}
                    if definition.code == "phq9":
                        fixed = {9: 1 if (trajectory == "non_responder" and week == weeks) else 0}
                    items = _items_for_total(definition, target, rng, fixed)
                    result = score(definition, items)
                    row = Assessment(
                        id=new_id("A"), patient_id=patient.id, scale_code=definition.code,
                        scale_version=definition.version, administered_at=at,
                        source="kiosk" if definition.rater == "self" and week % 2 else "clinician",
                        entered_by="demo", items=list(result.items), total=result.total, band=result.band,
                        subscores=dict(result.subscores), alerts=list(result.alerts), prorated=result.prorated,
                        created_at=at,
                    )
                    session.add(row)
                    assessment_count += 1
                    for code in result.alerts:
                        session.add(SafetyAlert(id=new_id("AL"), patient_id=patient.id, assessment_id=row.id,
                                                code=code, scale_code=definition.code, raised_at=at))
        audit.record(session, Actor(id="cli", role="admin"), "create", "demo_data", None,
                     detail=f"{PATIENT_COUNT} patients, {assessment_count} assessments")
    directory = save_structures(database, Actor(id="cli", role="admin"), demo_structures(rng, today), "demo directory")
    _seed_rtms(database, today)
    seed_sport_referrals(database, today)
    seed_directory_admin(database, today)
    seed_rtms_sessions(database, today)
    seed_rtms_intake(database, today)
    seed_rtms_history(database, today)
    return SeedSummary(_loaded_message(database, directory.created), _accounts(database))


def _accounts(database: Database) -> list[tuple[str, str]]:
    """Every demo account, those the area modules add included, for the command's printout."""
    with database.read() as session:
        rows = session.execute(select(AppUser.email, AppUser.role).where(AppUser.email.like("%@demo.parcours.fr"))
                               .order_by(AppUser.role, AppUser.email)).all()
    return [(email, role) for email, role in rows]


def _loaded_message(database: Database, structures: int) -> str:
    with database.read() as session:
        def count(table: type, *conditions: Any) -> int:
            return session.scalar(select(func.count()).select_from(table).where(*conditions)) or 0
        return (f"demo data loaded: {count(Organisation)} organisations, {count(AppUser)} users, "
                f"{count(Patient)} patients, {count(Assessment)} assessments, {count(Course)} rTMS courses, "
                f"{count(Referral, Referral.workflow == 'rtms_referral')} rTMS referrals, "
                f"{count(Referral, Referral.workflow == 'sport_referral')} sport referrals, "
                f"{structures} sport-health structures")
