"""Every editable record: two people open the same form, the first save wins, the stale one gets 409.

quality.md, Reliability: "Concurrent edits of one record — second writer gets 409 with a clear
message; no lost update". ``test_concurrent_edits.py`` drives the patient record through real server
processes; this module covers every other record a page edits, in-process (Litestar test client) over
a fresh copy of the demo data set per case, so each case starts from the same records.

Each case: two logged-in browsers (two accounts of the role where the demo has two) load the page
holding the form, both see the same version; the first saves (success); the second submits its now
stale form: the answer is 409, the page carries a ``role="alert"`` with a French message, and the
database still holds the first writer's value.

SQLite only: the checks under test are in the services (version compared before any write), the
same code on both back ends; what PostgreSQL adds (two saves inside the server at the same moment)
is what ``test_concurrent_edits.py`` drives.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import text

from parcours_web.app import create_app
from parcours_web.demo import DEMO_PASSWORD, seed
from parcours_web.migrate import upgrade
from parcours_web.settings import Settings
from shared_core.actors import Actor
from shared_core.db import Database
from sport_referral import referral_service

pytestmark = pytest.mark.db

CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')
# Two accounts per role where the demo has two; a referrer sees only their own referrals and each
# structure has one coordinator, so there the "two people" are two sessions of one account.
PEOPLE: dict[str, tuple[str, str]] = {
    "psychiatrist": ("psychiatre@demo.parcours.fr", "psychiatre2@demo.parcours.fr"),
    "operator": ("infirmier@demo.parcours.fr", "infirmiere@demo.parcours.fr"),
    "admin": ("admin@demo.parcours.fr", "admin2@demo.parcours.fr"),
    "referrer": ("adresseur2@demo.parcours.fr", "adresseur2@demo.parcours.fr"),
    "coordinator": ("coordinateur@demo.parcours.fr", "coordinateur@demo.parcours.fr"),
}
# Words of the English conflict messages: none may reach a French page untranslated.
ENGLISH = ("someone else", "Reload", "already")

PARIS = ZoneInfo("Europe/Paris")
FormValues = Mapping[str, str | Sequence[str]]


# --------------------------------------------------------------------------- HTML forms


class _FormParser(HTMLParser):
    """The POST forms of a page as a browser would submit them (checked boxes, selected options)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, list[tuple[str, str]]]] = []
        self._fields: list[tuple[str, str]] | None = None
        self._select: list[str | None] | None = None  # name, selected value, first value
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form":
            self._fields = []
            if a.get("method", "get").lower() == "post":
                self.forms.append((a.get("action", ""), self._fields))
        elif self._fields is None:
            return
        elif tag == "input" and "name" in a and a.get("type", "text") not in ("submit", "button", "file", "reset"):
            kind = a.get("type", "text")
            if kind not in ("checkbox", "radio") or "checked" in a:
                self._fields.append((a["name"], a.get("value", "on")))
        elif tag == "select":
            self._select = [a.get("name"), None, None]
        elif tag == "option" and self._select is not None:
            if self._select[2] is None:
                self._select[2] = a.get("value", "")
            if "selected" in a:
                self._select[1] = a.get("value", "")
        elif tag == "textarea":
            self._textarea, self._text = a.get("name"), []

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._fields = None
        elif tag == "select" and self._select is not None:
            name, chosen, first = self._select
            if name and self._fields is not None:
                self._fields.append((name, chosen if chosen is not None else first or ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            if self._fields is not None:
                self._fields.append((self._textarea, "".join(self._text)))
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)


class _AlertParser(HTMLParser):
    """The text of every element with role="alert"."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.alerts: list[str] = []
        self._depth = 0  # > 0 inside an alert

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "img", "input", "meta", "link", "hr"):
            return
        if self._depth:
            self._depth += 1
        elif ("role", "alert") in attrs:
            self._depth = 1
            self.alerts.append("")

    def handle_endtag(self, tag: str) -> None:
        if self._depth and tag not in ("br", "img", "input", "meta", "link", "hr"):
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._depth:
            self.alerts[-1] += " " + data


def post_form(html: str, action: str) -> list[tuple[str, str]]:
    parser = _FormParser()
    parser.feed(html)
    for found, fields in parser.forms:
        if found == action:
            return fields
    raise AssertionError(f"no form posting to {action}; forms: {[found for found, _ in parser.forms]}")


def alert_text(html: str) -> str:
    parser = _AlertParser()
    parser.feed(html)
    return " ".join(" ".join(alert.split()) for alert in parser.alerts)


# --------------------------------------------------------------------------- people and cases


class Person:
    """One browser session of a demo account."""

    def __init__(self, app: Litestar, email: str) -> None:
        self.client = TestClient(app)
        self.client.__enter__()
        token = CSRF_INPUT.search(self.client.get("/login").text)
        assert token
        response = self.client.post("/login", data={"email": email, "password": DEMO_PASSWORD,
                                                     "_csrf_token": token.group(1)}, follow_redirects=False)
        assert response.status_code == 303, response.text[:500]

    def open(self, page: str, action: str) -> list[tuple[str, str]]:
        response = self.client.get(page)
        assert response.status_code == 200, f"{page}: {response.status_code}"
        return post_form(response.text, action)

    def submit(self, action: str, fields: list[tuple[str, str]], changes: FormValues) -> Any:
        data: dict[str, str | list[str]] = {}
        for name, value in fields:
            if name in changes:
                continue
            previous = data.get(name)
            data[name] = value if previous is None else [*([previous] if isinstance(previous, str) else previous),
                                                         value]
        for name, change in changes.items():
            data[name] = change if isinstance(change, str) else list(change)
        return self.client.post(action, data=data, follow_redirects=False)

    def close(self) -> None:
        self.client.__exit__(None, None, None)


@dataclass(frozen=True)
class Save:
    """A form as one writer submits it: the page it is read from, its action, the fields they change."""

    page: str
    action: str
    changes: FormValues


@dataclass(frozen=True)
class StaleEdit:
    first: Save
    second: Save
    stored: Callable[[], object]  # the value the first writer saved, read back from the database
    expected: object
    message: str  # French words of the conflict message
    first_status: int = 303
    same_version: bool = True  # both forms carry the same version field


@dataclass(frozen=True)
class Case:
    role: str
    build: Callable[[Database], StaleEdit]
    notes: str = field(default="")


def one(database: Database, query: str, **params: object) -> Any:
    with database.read() as session:
        row = session.execute(text(query), params).first()
    assert row is not None, f"the demo data has no row for: {query}"
    return row[0] if len(row) == 1 else tuple(row)


def reader(database: Database, query: str, **params: object) -> Callable[[], object]:
    return lambda: one(database, query, **params)


# --------------------------------------------------------------------------- the records


def patient_edit(db: Database) -> StaleEdit:
    patient = "P-DEMO00006"
    page = f"/patients/{patient}/edit"
    return StaleEdit(Save(page, page, {"family_name": "Premiere"}), Save(page, page, {"family_name": "Seconde"}),
                     reader(db, "SELECT family_name FROM patient WHERE id = :id", id=patient), "Premiere",
                     "Quelqu'un d'autre a enregistré ce dossier avant vous")


def user_edit(db: Database) -> StaleEdit:
    user = one(db, "SELECT id FROM app_user WHERE email = 'psychiatre2@demo.parcours.fr'")
    page = f"/admin/users/{user}/edit"
    return StaleEdit(Save(page, page, {"display_name": "Dr Premier"}), Save(page, page, {"display_name": "Dr Second"}),
                     reader(db, "SELECT display_name FROM app_user WHERE id = :id", id=user), "Dr Premier",
                     "Quelqu'un d'autre a enregistré ce compte avant vous")


def referrer_referral(db: Database) -> StaleEdit:
    referral = one(db, "SELECT r.id FROM referral r JOIN rtms_referral_detail d ON d.referral_id = r.id JOIN app_user u "
                       "ON u.id = d.referrer_user_id WHERE u.email = 'adresseur2@demo.parcours.fr' "
                       "AND r.status = 'more_information_requested'")
    page, action = f"/referrals/{referral}", f"/referrals/{referral}/transition"
    return StaleEdit(Save(page, action, {"target": "received", "reason_text": "Voici le complément."}),
                     Save(page, action, {"target": "cancelled", "reason_code": "duplicate"}),
                     reader(db, "SELECT status FROM referral WHERE id = :id", id=referral), "received",
                     "modifiée par quelqu'un d'autre")


def centre_referral(db: Database) -> StaleEdit:
    referral = one(db, "SELECT r.id FROM referral r WHERE r.workflow = 'rtms_referral' AND r.status = 'received' "
                       "ORDER BY r.id")
    page, action = f"/intake/{referral}", f"/intake/{referral}/transition"
    return StaleEdit(Save(page, action, {"target": "triage_scheduled"}),
                     Save(page, action, {"target": "more_information_requested", "reason_text": "Bilan ?"}),
                     reader(db, "SELECT status FROM referral WHERE id = :id", id=referral), "triage_scheduled",
                     "modifiée par quelqu'un d'autre")


def course_plan(db: Database) -> StaleEdit:
    patient, course, sessions = one(db, "SELECT patient_id, id, induction_sessions FROM rtms_course "
                                        "WHERE patient_id = 'P-DEMO00006'")
    page = f"/patients/{patient}/courses"
    extend = f"/patients/{patient}/courses/{course}/edit/extend"
    return StaleEdit(Save(page, extend, {"count": "5", "reason": "Réponse partielle"}),
                     Save(page, extend, {"count": "2", "reason": "Autre avis"}),
                     reader(db, "SELECT induction_sessions FROM rtms_course WHERE id = :id", id=course), sessions + 5,
                     "modifiée par quelqu'un d'autre", first_status=200)


def session_record(db: Database) -> StaleEdit:
    """A planned session is recorded once: the second operator's form, opened before, is refused."""
    patient, course, planned = one(
        db, "SELECT c.patient_id, c.id, p.id FROM rtms_planned_session p JOIN rtms_course c ON c.id = p.course_id "
            "WHERE c.patient_id = 'P-DEMO00006' AND p.status = 'planned' ORDER BY p.date, p.number")
    page = f"/patients/{patient}/courses/{course}/sessions/{planned}"
    yesterday = dt.datetime.now(PARIS).date() - dt.timedelta(days=1)  # a session is recorded once it took place
    common = {"performed_on": yesterday.isoformat(), "start_time": "09:00", "end_time": "09:40",
              "checkin_metal_removed": "on"}
    return StaleEdit(Save(page, page, {**common, "notes": "Séance de Julien"}),
                     Save(page, page, {**common, "notes": "Séance de Sophie"}),
                     reader(db, "SELECT group_concat(notes, '|') FROM rtms_session_record WHERE planned_session_id = :id",
                            id=planned), "Séance de Julien", "enregistrée ou modifiée par quelqu'un d'autre", same_version=False)


def adverse_event(db: Database) -> StaleEdit:
    patient, course, event = one(db, "SELECT patient_id, course_id, id FROM rtms_adverse_event ORDER BY id")
    page = f"/patients/{patient}/courses/{course}/adverse-events/{event}"
    return StaleEdit(Save(page, page, {"outcome": "Résolu (premier)"}), Save(page, page, {"outcome": "Résolu (second)"}),
                     reader(db, "SELECT outcome FROM rtms_adverse_event WHERE id = :id", id=event), "Résolu (premier)",
                     "modifié par quelqu'un d'autre")


def course_close(db: Database) -> StaleEdit:
    patient, course = one(db, "SELECT patient_id, id FROM rtms_course WHERE patient_id = 'P-DEMO00006'")
    page, action = f"/patients/{patient}/pathway", f"/patients/{patient}/pathway/courses/{course}/close"
    return StaleEdit(Save(page, action, {"course_status": "completed", "clinician_comment": "Clôture première"}),
                     Save(page, action, {"course_status": "completed", "clinician_comment": "Clôture seconde"}),
                     reader(db, "SELECT clinician_comment FROM rtms_course_outcome WHERE course_id = :id", id=course),
                     "Clôture première", "déjà close")


def follow_up(db: Database) -> StaleEdit:
    patient, follow = one(db, "SELECT patient_id, id FROM rtms_follow_up ORDER BY due_on, id")
    page, action = f"/patients/{patient}/pathway", f"/patients/{patient}/pathway/follow-ups/{follow}"
    return StaleEdit(Save(page, action, {"status": "missed", "note": "Suivi premier"}),
                     Save(page, action, {"status": "missed", "note": "Suivi second"}),
                     reader(db, "SELECT note FROM rtms_follow_up WHERE id = :id", id=follow), "Suivi premier",
                     "modifié par quelqu'un d'autre")


def episode(db: Database) -> StaleEdit:
    patient = "P-DEMO00001"
    page, action = f"/patients/{patient}/history", f"/patients/{patient}/history/episode"
    return StaleEdit(Save(page, action, {"started_on": "2025-06-01"}), Save(page, action, {"started_on": "2025-05-01"}),
                     reader(db, "SELECT started_on FROM rtms_episode WHERE patient_id = :id", id=patient), "2025-06-01",
                     "modifié par quelqu'un d'autre")


def trial_edit(db: Database) -> StaleEdit:
    patient, trial = one(db, "SELECT patient_id, id FROM rtms_treatment_trial WHERE patient_id = 'P-DEMO00001' "
                             "ORDER BY id")
    page = f"/patients/{patient}/history/trials/{trial}"
    return StaleEdit(Save(page, page, {"notes": "Essai premier"}), Save(page, page, {"notes": "Essai second"}),
                     reader(db, "SELECT notes FROM rtms_treatment_trial WHERE id = :id", id=trial), "Essai premier",
                     "modifié par quelqu'un d'autre")


def trial_delete(db: Database) -> StaleEdit:
    """The second person deletes the trial from a page opened before the first one's edit: refused."""
    patient, trial = one(db, "SELECT patient_id, id FROM rtms_treatment_trial WHERE patient_id = 'P-DEMO00001' "
                             "ORDER BY id")
    page = f"/patients/{patient}/history/trials/{trial}"
    return StaleEdit(Save(page, page, {"notes": "Essai corrigé"}),
                     Save(f"/patients/{patient}/history", f"{page}/delete", {}),
                     reader(db, "SELECT notes FROM rtms_treatment_trial WHERE id = :id", id=trial), "Essai corrigé",
                     "modifié par quelqu'un d'autre")


def medication_edit(db: Database) -> StaleEdit:
    patient, medication = one(db, "SELECT patient_id, id FROM rtms_medication WHERE patient_id = 'P-DEMO00001' "
                                   "ORDER BY id")
    page = f"/patients/{patient}/history/medications/{medication}"
    return StaleEdit(Save(page, page, {"notes": "Traitement premier"}),
                     Save(page, page, {"notes": "Traitement second"}),
                     reader(db, "SELECT notes FROM rtms_medication WHERE id = :id", id=medication),
                     "Traitement premier", "modifié par quelqu'un d'autre")


def medication_delete(db: Database) -> StaleEdit:
    patient, medication = one(db, "SELECT patient_id, id FROM rtms_medication WHERE patient_id = 'P-DEMO00001' "
                                   "ORDER BY id")
    page = f"/patients/{patient}/history/medications/{medication}"
    return StaleEdit(Save(page, page, {"notes": "Traitement corrigé"}),
                     Save(f"/patients/{patient}/history", f"{page}/delete", {}),
                     reader(db, "SELECT notes FROM rtms_medication WHERE id = :id", id=medication),
                     "Traitement corrigé", "modifié par quelqu'un d'autre")


def alert_acknowledgement(db: Database) -> StaleEdit:
    patient, alert = one(db, "SELECT patient_id, id FROM safety_alert WHERE acknowledged_at IS NULL ORDER BY id")
    page, action = f"/patients/{patient}", f"/patients/{patient}/alerts/{alert}/acknowledge"
    return StaleEdit(Save(page, action, {"note": "Patient rappelé"}), Save(page, action, {"note": "Vu en consultation"}),
                     reader(db, "SELECT acknowledgement_note FROM safety_alert WHERE id = :id", id=alert),
                     "Patient rappelé", "déjà été prise en compte par quelqu'un d'autre", same_version=False)


def _sport_referral(db: Database, status: str, organisation: str = "org-mss-demo") -> str:
    referral: str = one(db, "SELECT id FROM referral WHERE workflow = 'sport_referral' AND status = :status "
                            "AND recipient_organisation_id = :organisation ORDER BY id",
                        status=status, organisation=organisation)
    return referral


def _status(db: Database, referral: str) -> Callable[[], object]:
    return reader(db, "SELECT status FROM referral WHERE id = :id", id=referral)


def sport_send(db: Database) -> StaleEdit:
    referral = _sport_referral(db, "draft")
    prescriber = Actor(id=one(db, "SELECT id FROM app_user WHERE email = 'psychiatre@demo.parcours.fr'"),
                       role="psychiatrist", organisation_id="org-centre-demo")
    referral_service.record_referral_consents(db, prescriber, referral, scopes=["share_referral"],
                                              granted_by="patient", collection_mode="oral_recorded")  # sent with consent
    page = f"/sport/referrals/{referral}"
    return StaleEdit(Save(page, f"{page}/send", {}),
                     Save(page, f"{page}/cancel", {"reason_code": "patient_withdrew"}),
                     _status(db, referral), "sent", "modifiée par quelqu'un d'autre")


def sport_cancel(db: Database) -> StaleEdit:
    referral = _sport_referral(db, "sent")
    page = f"/sport/referrals/{referral}"
    return StaleEdit(Save(page, f"{page}/cancel", {"reason_code": "patient_withdrew"}),
                     Save(page, f"{page}/cancel", {"reason_code": "prescriber_cancelled"}),
                     reader(db, "SELECT close_reason FROM sport_referral_detail WHERE referral_id = :id", id=referral),
                     "patient_withdrew", "modifiée par quelqu'un d'autre")


def sport_accept(db: Database) -> StaleEdit:
    referral = _sport_referral(db, "sent")
    page = f"/sport/inbox/{referral}"
    return StaleEdit(Save(page, f"{page}/accept", {}), Save(page, f"{page}/decline", {"reason_code": "no_capacity"}),
                     _status(db, referral), "accepted", "modifiée par quelqu'un d'autre")


def _accepted_sport_referral(db: Database) -> str:
    """A referral to the demo MSS moved on to 'accepted' by its coordinator (the demo has none there)."""
    referral = _sport_referral(db, "sent")
    coordinator = Actor(id=one(db, "SELECT id FROM app_user WHERE email = 'coordinateur@demo.parcours.fr'"),
                        role="coordinator", organisation_id="org-mss-demo")
    referral_service.coordinator_referral(db, coordinator, referral)  # opening it marks it received
    referral_service.accept(db, coordinator, referral, one(db, "SELECT version FROM referral WHERE id = :id",
                                                           id=referral))
    return referral


def sport_booking(db: Database) -> StaleEdit:
    referral = _accepted_sport_referral(db)
    page = f"/sport/inbox/{referral}"
    return StaleEdit(Save(page, f"{page}/book", {"planned_on": "2099-01-05"}),
                     Save(page, f"{page}/book", {"planned_on": "2099-02-09"}),
                     reader(db, "SELECT first_session_planned_on FROM sport_referral_detail WHERE referral_id = :id",
                            id=referral), "2099-01-05", "modifiée par quelqu'un d'autre")


def sport_attendance(db: Database) -> StaleEdit:
    referral = _sport_referral(db, "in_progress")
    page = f"/sport/inbox/{referral}"
    return StaleEdit(Save(page, f"{page}/attendance", {"session_on": "2026-01-05", "attended": "yes"}),
                     Save(page, f"{page}/attendance", {"session_on": "2026-01-12", "attended": "no"}),
                     reader(db, "SELECT group_concat(session_on, '|') FROM sport_attendance WHERE referral_id = :id "
                                "AND session_on >= '2026-01-05' AND session_on <= '2026-01-12'", id=referral),
                     "2026-01-05", "modifiée par quelqu'un d'autre")


def sport_report(db: Database) -> StaleEdit:
    referral = _sport_referral(db, "in_progress")
    page = f"/sport/inbox/{referral}"
    report = {"report_type": "periodic_report", "performed_on": "2026-01-05", "performer_profession": "apa_teacher"}
    return StaleEdit(Save(page, f"{page}/reports", {**report, "notes": "Bilan premier"}),
                     Save(page, f"{page}/reports", {**report, "notes": "Bilan second"}),
                     reader(db, "SELECT count(*) FROM sport_report WHERE referral_id = :id AND performed_on = "
                                "'2026-01-05'", id=referral), 1, "modifiée par quelqu'un d'autre")


def sport_complete(db: Database) -> StaleEdit:
    referral = _sport_referral(db, "in_progress")
    page = f"/sport/inbox/{referral}"
    return StaleEdit(Save(page, f"{page}/complete", {"reason_text": "Programme suivi sans bilan final"}),
                     Save(page, f"{page}/stop", {"target": "on_hold", "reason_code": "patient_request"}),
                     _status(db, referral), "completed", "modifiée par quelqu'un d'autre")


def sport_resume(db: Database) -> StaleEdit:
    referral = _sport_referral(db, "on_hold")
    page = f"/sport/inbox/{referral}"
    return StaleEdit(Save(page, f"{page}/resume", {}),
                     Save(page, f"{page}/stop", {"target": "cancelled", "reason_code": "patient_withdrew"}),
                     _status(db, referral), "in_progress", "modifiée par quelqu'un d'autre")


def structure_profile(db: Database) -> StaleEdit:
    structure = "demo-mss-67482"
    page = f"/structure-profile/{structure}"

    def slots() -> object:
        return json.loads(one(db, "SELECT data FROM sport_structure WHERE id = :id", id=structure)).get(
            "capacity_open_slots")

    return StaleEdit(Save(page, page, {"capacity_open_slots": "3"}), Save(page, page, {"capacity_open_slots": "9"}),
                     slots, 3, "modifiée par quelqu'un d'autre")


def structure_organisation(db: Database) -> StaleEdit:
    structure = "demo-club-67482"
    page = f"/admin/sport/structures/{structure}"
    action = f"{page}/organisation"
    return StaleEdit(Save(page, action, {"organisation_id": "org-mss-demo"}),
                     Save(page, action, {"organisation_id": "org-esms-demo"}),
                     reader(db, "SELECT organisation_id FROM sport_structure WHERE id = :id", id=structure),
                     "org-mss-demo", "modifiée par quelqu'un d'autre")


CASES: dict[str, Case] = {
    "patient": Case("operator", patient_edit),
    "user account (admin)": Case("admin", user_edit),
    "rTMS referral, referrer side": Case("referrer", referrer_referral),
    "rTMS referral, centre intake": Case("psychiatrist", centre_referral),
    "course plan edit": Case("psychiatrist", course_plan),
    "session record": Case("operator", session_record),
    "adverse event": Case("operator", adverse_event),
    "course closing": Case("psychiatrist", course_close),
    "follow-up": Case("operator", follow_up),
    "episode": Case("psychiatrist", episode),
    "treatment trial": Case("psychiatrist", trial_edit),
    "treatment trial deleted from a stale page": Case("psychiatrist", trial_delete),
    "medication": Case("psychiatrist", medication_edit),
    "medication deleted from a stale page": Case("psychiatrist", medication_delete),
    "safety alert acknowledgement": Case("operator", alert_acknowledgement),
    "sport referral sent vs cancelled": Case("psychiatrist", sport_send),
    "sport referral cancelled twice": Case("psychiatrist", sport_cancel),
    "sport referral accepted vs declined": Case("coordinator", sport_accept),
    "sport first-session booking": Case("coordinator", sport_booking),
    "sport attendance": Case("coordinator", sport_attendance),
    "sport report": Case("coordinator", sport_report),
    "sport referral completed vs stopped": Case("coordinator", sport_complete),
    "sport referral resumed vs cancelled": Case("coordinator", sport_resume),
    "structure profile (coordinator)": Case("coordinator", structure_profile),
    "structure organisation (admin)": Case("admin", structure_organisation),
}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo data set once per module; each case works on a copy of the file."""
    path = tmp_path_factory.mktemp("stale-template") / "demo.db"
    database = Database(f"sqlite:///{path}")
    try:
        upgrade(database)
        seed(database)
    finally:
        database.dispose()
    return path


@pytest.fixture
def demo_database(demo_template: Path, tmp_path: Path) -> Iterator[Database]:
    target = tmp_path / "demo.db"
    shutil.copyfile(demo_template, target)
    database = Database(f"sqlite:///{target}")
    yield database
    database.dispose()


@pytest.fixture
def people(demo_database: Database, tmp_path: Path) -> Iterator[Callable[[str], tuple[Person, Person]]]:
    settings = Settings(database_url="unused", secret_key=secrets.token_urlsafe(32), cookie_secure=False,
                        var_dir=tmp_path / "var")
    app = create_app(settings, demo_database)
    opened: list[Person] = []

    def _pair(role: str) -> tuple[Person, Person]:
        first, second = (Person(app, email) for email in PEOPLE[role])
        opened.extend((first, second))
        return first, second

    yield _pair
    for person in reversed(opened):  # newest first: closing an older test client first never returns
        person.close()


def _version(fields: list[tuple[str, str]]) -> str | None:
    return next((value for name, value in fields if name == "version"), None)


# --------------------------------------------------------------------------- the test


@pytest.mark.parametrize("name", list(CASES))
def test_the_stale_save_is_refused_with_409_and_the_first_save_stays(
        name: str, demo_database: Database, people: Callable[[str], tuple[Person, Person]]) -> None:
    case = CASES[name]
    edit = case.build(demo_database)
    alice, bruno = people(case.role)
    form_a = alice.open(edit.first.page, edit.first.action)
    form_b = bruno.open(edit.second.page, edit.second.action)
    if edit.same_version:
        assert _version(form_a) is not None and _version(form_a) == _version(form_b), (form_a, form_b)

    first = alice.submit(edit.first.action, form_a, edit.first.changes)
    assert first.status_code == edit.first_status, f"{first.status_code}: {alert_text(first.text) or first.text[:800]}"
    assert edit.stored() == edit.expected, "the first save did not store its value"

    second = bruno.submit(edit.second.action, form_b, edit.second.changes)
    assert second.status_code == 409, f"{second.status_code}: {alert_text(second.text) or second.text[:800]}"
    alert = alert_text(second.text)
    assert edit.message in alert, f"no French conflict message in the alert: {alert!r}"
    assert not any(word in alert for word in ENGLISH), f"English text in the alert: {alert!r}"
    assert edit.stored() == edit.expected, "the stale save overwrote the first one"


def test_every_template_with_a_version_field_has_a_case() -> None:
    """A new edit form (a template posting a ``version``) needs a stale-edit case here."""
    templates = Path(__file__).resolve().parents[2] / "apps" / "web" / "src" / "parcours_web" / "templates"
    versioned = {path.relative_to(templates).as_posix() for path in templates.rglob("*.html")
                 if 'name="version"' in path.read_text(encoding="utf-8")}
    assert versioned == set(COVERED_TEMPLATES), "add a stale-edit case for the form and list its template here"
    assert {case for cases in COVERED_TEMPLATES.values() for case in cases} <= set(CASES)


# The templates whose forms post a version -> the cases that submit those forms.
COVERED_TEMPLATES: dict[str, tuple[str, ...]] = {
    "admin/user_form.html": ("user account (admin)",),
    "patients/form.html": ("patient",),
    "rtms/history/medication_form.html": ("medication", "medication deleted from a stale page"),
    "rtms/history/page.html": ("episode", "treatment trial deleted from a stale page",
                               "medication deleted from a stale page"),
    "rtms/history/trial_form.html": ("treatment trial", "treatment trial deleted from a stale page"),
    "rtms/intake/centre_page.html": ("rTMS referral, centre intake",),
    "rtms/intake/referrer_page.html": ("rTMS referral, referrer side",),
    "rtms/pathway/page.html": ("course closing", "follow-up"),
    "rtms/sessions/_course_board.html": ("course plan edit",),
    "rtms/sessions/adverse_event_form.html": ("adverse event",),
    "sport/inbox_referral.html": ("sport referral accepted vs declined", "sport first-session booking",
                                  "sport attendance", "sport report", "sport referral completed vs stopped",
                                  "sport referral resumed vs cancelled"),
    "sport/referral.html": ("sport referral sent vs cancelled", "sport referral cancelled twice"),
    "sport_admin/profile.html": ("structure profile (coordinator)",),
    "sport_admin/structure.html": ("structure organisation (admin)",),
}
