"""The rTMS course planner: planning on the centre's working days, closures, errors, roles, iCalendar."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from rtms_pathway.tables import Course, PlannedSessionRow
from shared_core.actors import Actor
from shared_core.db import Database
from shared_core.services.organisations import add_closure
from shared_core.tables import AuditEvent

pytestmark = pytest.mark.db
Client = Callable[..., tuple[TestClient[Litestar], str]]
EXAMPLE_A = {"protocol": "hf_left_10hz", "start": "2026-04-27", "induction_sessions": "30"}


def _patient(client: TestClient[Litestar], token: str) -> str:
    response = client.post("/patients", data={"_csrf_token": token, "family_name": "Cure", "given_names": "Test",
                                              "birth_date": "1970-01-01", "sex": "F"}, follow_redirects=False)
    return str(response.headers["location"]).rsplit("/", 1)[1]


def _sessions(database: Database, patient: str) -> list[list[dt.date]]:
    with database.read() as session:
        courses = session.scalars(select(Course).where(Course.patient_id == patient)
                                  .order_by(Course.course_number)).all()
        return [[row.date for row in session.scalars(select(PlannedSessionRow).where(
            PlannedSessionRow.course_id == course.id).order_by(PlannedSessionRow.number))] for course in courses]


def test_example_a_plans_thirty_sessions_ending_on_11_june(client_for: Client, database: Database) -> None:
    client, token = client_for("psychiatrist")
    patient = _patient(client, token)
    assert "Planifier la cure" in client.get(f"/patients/{patient}/courses").text
    response = client.post(f"/patients/{patient}/courses", data=EXAMPLE_A | {"_csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/patients/{patient}/courses"
    [dates] = _sessions(database, patient)
    assert len(dates) == 30 and dates[0] == dt.date(2026, 4, 27) and dates[-1] == dt.date(2026, 6, 11)
    assert dt.date(2026, 5, 1) not in dates and dt.date(2026, 5, 25) not in dates  # 1 May, Whit Monday
    page = client.get(f"/patients/{patient}/courses").text
    assert "<caption>Avril 2026</caption>" in page and "<caption>Juin 2026</caption>" in page
    assert 'scope="col">Lundi</th>' in page and "<strong>S30</strong>" in page
    with database.read() as session:
        actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.patient_id == patient)))
    assert "course_planned" in actions


def test_a_closure_moves_the_end_and_course_numbers_increment(client_for: Client, database: Database) -> None:
    client, token = client_for("psychiatrist")
    patient = _patient(client, token)
    client.post(f"/patients/{patient}/courses", data=EXAMPLE_A | {"_csrf_token": token})
    add_closure(database, Actor("admin-test", "admin", "org-centre-a"), "org-centre-a",
                dt.date(2026, 5, 4), dt.date(2026, 5, 5), "Travaux")
    client.post(f"/patients/{patient}/courses", data=EXAMPLE_A | {"_csrf_token": token})
    first, second = _sessions(database, patient)
    assert first[-1] == dt.date(2026, 6, 11) and len(second) == 30
    assert dt.date(2026, 5, 4) not in second and second[-1] == dt.date(2026, 6, 15)
    with database.read() as session:
        assert sorted(session.scalars(select(Course.course_number).where(Course.patient_id == patient))) == [1, 2]
    page = client.get(f"/patients/{patient}/courses").text
    assert page.index(">Cure 2 ") < page.index(">Cure 1 ")


def test_invalid_input_names_each_field(client_for: Client, database: Database) -> None:
    client, token = client_for("psychiatrist")
    patient = _patient(client, token)
    blank = client.post(f"/patients/{patient}/courses", data={"_csrf_token": token, "induction_sessions": ""})
    assert blank.status_code == 422
    for field in ("protocol", "start", "induction_sessions"):
        assert f'href="#field-{field}"' in blank.text
    bad = client.post(f"/patients/{patient}/courses", data={
        "_csrf_token": token, "protocol": "nope", "start": "2026-02-30", "induction_sessions": "abc"})
    assert bad.status_code == 422
    for field in ("protocol", "start", "induction_sessions"):
        assert f'href="#field-{field}"' in bad.text
    out_of_range = client.post(f"/patients/{patient}/courses", data=EXAMPLE_A | {
        "_csrf_token": token, "induction_sessions": "99"})
    assert out_of_range.status_code == 422 and "must be between 20 and 30" in out_of_range.text
    assert 'href="#field-protocol"' not in out_of_range.text
    assert _sessions(database, patient) == []


def test_operators_see_but_cannot_plan(client_for: Client, database: Database) -> None:
    doctor, doctor_token = client_for("psychiatrist")
    patient = _patient(doctor, doctor_token)
    operator, token = client_for("operator", email="op@test.parcours.fr")
    page = operator.get(f"/patients/{patient}/courses")
    assert page.status_code == 200 and 'name="induction_sessions"' not in page.text
    assert operator.post(f"/patients/{patient}/courses", data=EXAMPLE_A | {"_csrf_token": token}).status_code == 403
    assert _sessions(database, patient) == []


def test_the_icalendar_export(client_for: Client, database: Database) -> None:
    client, token = client_for("psychiatrist")
    patient = _patient(client, token)
    client.post(f"/patients/{patient}/courses", data=EXAMPLE_A | {"_csrf_token": token})
    with database.read() as session:
        course_id = session.scalars(select(Course.id).where(Course.patient_id == patient)).one()
    response = client.get(f"/patients/{patient}/courses/{course_id}/calendar.ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    assert ".ics" in response.headers["content-disposition"]
    body = response.content.decode("utf-8")
    assert body.count("BEGIN:VEVENT") == 30 and body.count("\r\n") == body.count("\n")
    assert "DTSTART;TZID=Europe/Paris:20260611T" in body
    assert not re.search(r"hf_left_10hz", body)
    assert client.get(f"/patients/{patient}/courses/CO-unknown/calendar.ics").status_code == 404


def test_other_centres_get_404(client_for: Client, database: Database) -> None:
    owner, token = client_for("psychiatrist")
    patient = _patient(owner, token)
    owner.post(f"/patients/{patient}/courses", data=EXAMPLE_A | {"_csrf_token": token})
    with database.read() as session:
        course_id = session.scalars(select(Course.id).where(Course.patient_id == patient)).one()
    other, other_token = client_for("psychiatrist", email="b@test.parcours.fr", organisation_id="org-centre-b")
    assert other.get(f"/patients/{patient}/courses").status_code == 404
    assert other.post(f"/patients/{patient}/courses", data=EXAMPLE_A | {"_csrf_token": other_token}).status_code == 404
    assert other.get(f"/patients/{patient}/courses/{course_id}/calendar.ics").status_code == 404
    assert len(_sessions(database, patient)) == 1
