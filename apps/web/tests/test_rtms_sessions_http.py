"""Session day over HTTP: today's list, recording a session, the device-maximum alert, validation,
course edits with version checks, and who may do what (domain-rtms §7.3, §8)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from rtms_pathway.session_tables import SessionRecordRow
from rtms_pathway.tables import Course, PlannedSessionRow
from shared_core.db import Database

pytestmark = pytest.mark.db
Client = Callable[..., tuple[TestClient[Litestar], str]]
TODAY = dt.datetime.now(ZoneInfo("Europe/Paris")).date()
PAST = TODAY - dt.timedelta(days=12)  # sessions are recorded after they took place


def _patient(client: TestClient[Litestar], token: str) -> str:
    response = client.post("/patients", data={"_csrf_token": token, "family_name": "Seance", "given_names": "Test",
                                              "birth_date": "1970-01-01", "sex": "F"}, follow_redirects=False)
    return str(response.headers["location"]).rsplit("/", 1)[1]


def _course(client: TestClient[Litestar], token: str, database: Database, start: dt.date) -> tuple[str, str, list[PlannedSessionRow]]:
    patient = _patient(client, token)
    client.post(f"/patients/{patient}/courses", data={"_csrf_token": token, "protocol": "hf_left_10hz",
                                                      "start": start.isoformat(), "induction_sessions": "30"})
    with database.read() as session:
        course = session.scalars(select(Course.id).where(Course.patient_id == patient)).one()
        rows = list(session.scalars(select(PlannedSessionRow).where(PlannedSessionRow.course_id == course)
                                    .order_by(PlannedSessionRow.date)))
    return patient, course, rows


def _version(database: Database, course: str) -> str:
    with database.read() as session:
        row = session.get(Course, course)
        assert row is not None
        return str(row.version)


def _mt(client: TestClient[Litestar], token: str, patient: str, course: str, day: dt.date, value: int) -> str:
    response = client.post(f"/patients/{patient}/courses/{course}/mt", data={
        "_csrf_token": token, "measured_on": day.isoformat(), "measured_time": "08:00", "value_pct_mso": str(value),
        "method": "emg_mep", "muscle": "APB", "hemisphere": "left", "trigger": "course_start",
        "device_id": "MagPro-1", "coil_id": "Cool-B65"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return client.get(str(response.headers["location"])).text


def _session_data(token: str, day: dt.date, **changes: str) -> dict[str, str]:
    return {"_csrf_token": token, "performed_on": day.isoformat(), "start_time": "08:30", "intensity_pct_mt": "120",
            "intensity_pct_mso": "72", "pulses_delivered": "3000", "trains_delivered": "75", "frequency_hz": "10",
            "device_id": "MagPro-1", "coil_id": "Cool-B65", "targeting_method": "beam_f3",
            "checkin_metal_removed": "on"} | changes


def test_operator_records_a_session_from_the_today_list(client_for: Client, database: Database) -> None:
    doctor, doctor_token = client_for("psychiatrist")
    patient, course, rows = _course(doctor, doctor_token, database, PAST)
    first = rows[0]
    operator, token = client_for("operator", email="op@test.parcours.fr")
    day = operator.get(f"/today?day={first.date.isoformat()}")
    assert day.status_code == 200 and f"/sessions/{first.id}" in day.text and "Seuil moteur à mesurer" in day.text
    assert 'href="/today"' in day.text  # the nav entry
    _mt(operator, token, patient, course, first.date, 60)
    form = operator.get(f"/patients/{patient}/courses/{course}/sessions/{first.id}")
    assert form.status_code == 200 and 'value="72"' in form.text and "Questionnaire avant la séance" in form.text
    response = operator.post(f"/patients/{patient}/courses/{course}/sessions/{first.id}",
                             data=_session_data(token, first.date), follow_redirects=False)
    assert response.status_code == 303
    page = operator.get(str(response.headers["location"])).text
    assert "Séance délivrée" in page and "R-SES-03" in page
    with database.read() as session:
        assert session.scalars(select(PlannedSessionRow.status).where(PlannedSessionRow.id == first.id)).one() == "delivered"
        assert session.scalars(select(Course.status).where(Course.id == course)).one() == "active"
    board = operator.get(f"/patients/{patient}/courses").text
    assert "Séances faites" in board and "72 % MSO" in board


def test_device_maximum_alert_and_confirmation(client_for: Client, database: Database) -> None:
    doctor, token = client_for("psychiatrist")
    patient, course, rows = _course(doctor, token, database, PAST)
    result = _mt(doctor, token, patient, course, rows[0].date, 88)
    assert "DEVICE_MAX_EXCEEDED" in result
    form = doctor.get(f"/patients/{patient}/courses/{course}/sessions/{rows[0].id}").text
    assert 'id="device-max-alert"' in form and 'name="device_max_acknowledged"' in form
    data = _session_data(token, rows[0].date, intensity_pct_mt="113", intensity_pct_mso="99",
                         deviation_reason="Sortie maximale atteinte")
    refused = doctor.post(f"/patients/{patient}/courses/{course}/sessions/{rows[0].id}", data=data)
    assert refused.status_code == 422 and 'href="#field-device_max_acknowledged"' in refused.text
    accepted = doctor.post(f"/patients/{patient}/courses/{course}/sessions/{rows[0].id}",
                           data=data | {"device_max_acknowledged": "on"}, follow_redirects=False)
    assert accepted.status_code == 303


def test_validation_names_each_bad_field(client_for: Client, database: Database) -> None:
    doctor, token = client_for("psychiatrist")
    patient, course, rows = _course(doctor, token, database, PAST)
    _mt(doctor, token, patient, course, rows[0].date, 60)
    response = doctor.post(f"/patients/{patient}/courses/{course}/sessions/{rows[0].id}", data={
        "_csrf_token": token, "performed_on": "2026-02-30", "start_time": "", "intensity_pct_mt": "abc",
        "intensity_pct_mso": "140", "pulses_delivered": "", "trains_delivered": "x", "device_id": "",
        "coil_id": "", "targeting_method": "nowhere", "checkin_sleep_deprivation": "on"})
    assert response.status_code == 422
    for field in ("performed_on", "start_time", "intensity_pct_mt", "intensity_pct_mso", "pulses_delivered",
                  "trains_delivered", "device_id", "coil_id", "targeting_method", "checkin_metal_removed",
                  "released_by"):
        assert f'href="#field-{field}"' in response.text, field
    with database.read() as session:
        assert session.scalars(select(SessionRecordRow)).all() == []


def test_skip_undo_extend_and_a_stale_edit(client_for: Client, database: Database) -> None:
    doctor, token = client_for("psychiatrist")
    start = TODAY + dt.timedelta(days=7)
    patient, course, rows = _course(doctor, token, database, start)
    version = _version(database, course)
    skipped = doctor.post(f"/patients/{patient}/courses/{course}/edit/skip", data={
        "_csrf_token": token, "version": version, "planned_session_id": rows[3].id, "reason": "patient_ill",
        "action": "postpone"})
    assert skipped.status_code == 200 and "Le plan de la cure a été modifié" in skipped.text
    assert "Annuler le report" in skipped.text
    stale = doctor.post(f"/patients/{patient}/courses/{course}/edit/extend", data={
        "_csrf_token": token, "version": version, "count": "5", "reason": "réponse tardive"})
    assert stale.status_code == 409 and "modifiée par quelqu" in stale.text
    undone = doctor.post(f"/patients/{patient}/courses/{course}/edit/undo", data={
        "_csrf_token": token, "version": _version(database, course), "planned_session_id": rows[3].id})
    assert undone.status_code == 200
    bad = doctor.post(f"/patients/{patient}/courses/{course}/edit/extend", data={
        "_csrf_token": token, "version": _version(database, course), "count": "0", "reason": ""})
    assert bad.status_code == 422 and f'href="#edit-{course}-extend-count"' in bad.text
    extended = doctor.post(f"/patients/{patient}/courses/{course}/edit/extend", data={
        "_csrf_token": token, "version": _version(database, course), "count": "5", "reason": "réponse tardive"})
    assert extended.status_code == 200
    with database.read() as session:
        statuses = list(session.scalars(select(PlannedSessionRow.status).where(PlannedSessionRow.course_id == course)))
    assert len(statuses) == 35 and set(statuses) == {"planned"}


def test_other_centres_and_other_roles(client_for: Client, database: Database) -> None:
    doctor, token = client_for("psychiatrist")
    patient, course, rows = _course(doctor, token, database, PAST)
    stranger, stranger_token = client_for("psychiatrist", email="b@test.parcours.fr", organisation_id="org-centre-b")
    session_path = f"/patients/{patient}/courses/{course}/sessions/{rows[0].id}"
    assert stranger.get(session_path).status_code == 404
    assert stranger.post(session_path, data=_session_data(stranger_token, TODAY)).status_code == 404
    assert stranger.post(f"/patients/{patient}/courses/{course}/edit/extend", data={
        "_csrf_token": stranger_token, "version": "1", "count": "5", "reason": "x"}).status_code == 404
    assert f"/sessions/{rows[0].id}" not in stranger.get(f"/today?day={rows[0].date.isoformat()}").text
    operator, operator_token = client_for("operator", email="op2@test.parcours.fr")
    assert operator.post(f"/patients/{patient}/courses/{course}/edit/extend", data={
        "_csrf_token": operator_token, "version": "1", "count": "5", "reason": "x"}).status_code == 403
    for role in ("referrer", "coordinator", "observer"):
        client, role_token = client_for(role, email=f"{role}2@test.parcours.fr")
        assert client.get("/today").status_code == 403
        assert client.get(session_path).status_code == 403
        assert client.post(session_path, data=_session_data(role_token, TODAY)).status_code == 403
        assert client.post(f"/patients/{patient}/courses/{course}/mt", data={"_csrf_token": role_token}).status_code == 403
        assert client.post(f"/patients/{patient}/courses/{course}/adverse-events",
                           data={"_csrf_token": role_token}).status_code == 403


def test_adverse_event_with_the_syncope_form(client_for: Client, database: Database) -> None:
    doctor, token = client_for("psychiatrist")
    patient, course, _ = _course(doctor, token, database, PAST)
    page = doctor.get(f"/patients/{patient}/courses/{course}/adverse-events/new")
    assert page.status_code == 200 and "Formulaire crise/syncope" in page.text
    response = doctor.post(f"/patients/{patient}/courses/{course}/adverse-events", data={
        "_csrf_token": token, "type": "syncope", "onset": "during_session", "severity": "moderate",
        "action": "session_stopped", "relatedness": "possible", "form_semiology": "focal",
        "form_loss_of_consciousness": "yes"}, follow_redirects=False)
    assert response.status_code == 303
    event_page = doctor.get(str(response.headers["location"])).text
    assert "Signalement initial incomplet" in event_page
    version = re.search(r'name="version" value="(\d+)"', event_page)
    assert version is not None
    stale = doctor.post(str(response.headers["location"]), data={
        "_csrf_token": token, "type": "syncope", "onset": "during_session", "severity": "moderate",
        "action": "session_stopped", "relatedness": "possible", "version": "99"})
    assert stale.status_code == 409
    missing = doctor.post(f"/patients/{patient}/courses/{course}/adverse-events", data={"_csrf_token": token})
    assert missing.status_code == 422 and 'href="#field-type"' in missing.text
