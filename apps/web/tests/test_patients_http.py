"""Patient pages over HTTP: create, validate, edit with version check, search, audit, isolation, escaping."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from markupsafe import escape
from sqlalchemy import func, select

from parcours_web.auth.tables import AppUser
from parcours_web.i18n import load_translators
from shared_core.actors import Actor
from shared_core.db import Database
from shared_core.rules.identifiers import nir_key
from shared_core.services.assessments import TIMELINE_PAGE
from shared_core.services.patients import PatientInput, create_patient
from shared_core.tables import AuditEvent, Patient, SafetyAlert

pytestmark = pytest.mark.db

Client = TestClient[Litestar]
ClientFor = Callable[..., tuple[Client, str]]

FR = load_translators()["fr"]
XSS = "<script>alert(1)</script>"
INS_FIRST13 = "2850567482123"  # woman born May 1985
VALID_INS = INS_FIRST13 + nir_key(INS_FIRST13)
PATIENT_LINK = re.compile(r'<a href="/patients/(P-[0-9A-Z]+)">')


def fr(message: str) -> str:
    """A message as the French page shows it (translated, then HTML-escaped)."""
    return str(escape(FR.gettext(message)))


def patient_form(**overrides: str) -> dict[str, str]:
    form = {"family_name": "Lambert", "given_names": "Camille", "birth_date": "1985-05-12", "sex": "F",
            "ins": "", "commune_insee": "67482", "phone": "0612345678", "email": "", "address_line": ""}
    form.update(overrides)
    return form


def create(client: Client, token: str, **overrides: str) -> str:
    response = client.post("/patients", data={**patient_form(**overrides), "_csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert re.fullmatch(r"/patients/P-[0-9A-Z]+", location), location
    return location.rsplit("/", 1)[1]


def stored_patient(database: Database, patient_id: str) -> Patient:
    with database.read() as session:
        patient = session.get(Patient, patient_id)
        assert patient is not None
        session.expunge(patient)
        return patient


def error_summary_targets(html: str) -> set[str]:
    summary = html.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    return set(re.findall(r'href="#field-([^"]+)"', summary))


@pytest.fixture
def clients(client_for: ClientFor) -> Iterator[ClientFor]:
    """client_for, closing the clients newest first.

    conftest closes them oldest first, and closing a Litestar TestClient while another one on the
    same app is still open hangs forever; closed here first, conftest's own close is a no-op.
    """
    opened: list[Client] = []

    def _open(*args: Any, **kwargs: Any) -> tuple[Client, str]:
        client, token = client_for(*args, **kwargs)
        opened.append(client)
        return client, token

    yield _open
    for client in reversed(opened):
        client.__exit__(None, None, None)


@pytest.fixture
def psychiatrist(clients: ClientFor) -> tuple[Client, str]:
    return clients("psychiatrist")


# --- create ------------------------------------------------------------------------------------

def test_create_patient_redirects_to_the_patient_page(psychiatrist: tuple[Client, str], database: Database) -> None:
    client, token = psychiatrist
    patient_id = create(client, token, ins=VALID_INS)
    stored = stored_patient(database, patient_id)
    assert (stored.family_name, stored.organisation_id, stored.ins) == ("Lambert", "org-centre-a", VALID_INS)
    page = client.get(f"/patients/{patient_id}")
    assert page.status_code == 200
    assert "Lambert Camille" in page.text


def test_empty_form_lists_every_missing_field(psychiatrist: tuple[Client, str], database: Database) -> None:
    client, token = psychiatrist
    empty = dict.fromkeys(patient_form(), "")
    response = client.post("/patients", data={**empty, "_csrf_token": token}, follow_redirects=False)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert fr("There is a problem") in response.text
    assert error_summary_targets(response.text) == {"family_name", "given_names", "birth_date", "sex"}
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(Patient)) == 0


def test_a_nul_character_is_refused_naming_its_field(psychiatrist: tuple[Client, str], database: Database) -> None:
    """PostgreSQL cannot store NUL in text: the write failed with a 500 until forms refused it."""
    client, token = psychiatrist
    response = client.post("/patients", data={**patient_form(family_name="Mar\x00tin"), "_csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 422
    assert "<code>family_name</code>" in response.text
    assert str(escape(fr("This field contains a NUL character, which cannot be stored."))) in response.text
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(Patient)) == 0


def test_invalid_ins_key_is_refused_naming_ins(psychiatrist: tuple[Client, str], database: Database) -> None:
    client, token = psychiatrist
    wrong_key = f"{(int(VALID_INS[-2:]) + 1) % 97:02d}"
    response = client.post("/patients", data={**patient_form(ins=INS_FIRST13 + wrong_key), "_csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 422
    assert error_summary_targets(response.text) == {"ins"}
    assert re.search(r'id="field-ins"[^>]*aria-invalid="true"', response.text.replace("\n", " "))


def test_a_second_patient_with_the_same_ins_is_refused(psychiatrist: tuple[Client, str],
                                                     database: Database) -> None:
    client, token = psychiatrist
    create(client, token, ins=VALID_INS)
    response = client.post("/patients", data={**patient_form(family_name="Doublon", ins=VALID_INS),
                                              "_csrf_token": token}, follow_redirects=False)
    assert response.status_code == 422
    assert error_summary_targets(response.text) == {"ins"}
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(Patient)) == 1


def test_inline_check_returns_only_the_field_messages(psychiatrist: tuple[Client, str]) -> None:
    client, token = psychiatrist
    response = client.post("/patients/check-field", params={"field": "ins"},
                           data={**patient_form(ins="123"), "birth_date": ""},
                           headers={"HX-Request": "true", "X-CSRF-Token": token})
    assert response.status_code == 200
    assert "<html" not in response.text
    assert response.text.lstrip().startswith('<div id="errors-ins"')
    assert response.text.count('class="error-message"') == 1  # the missing birth date is not reported here


def test_inline_check_of_a_valid_field_is_empty(psychiatrist: tuple[Client, str]) -> None:
    client, token = psychiatrist
    response = client.post("/patients/check-field", params={"field": "ins"}, data=patient_form(ins=VALID_INS),
                           headers={"HX-Request": "true", "X-CSRF-Token": token})
    assert response.status_code == 200
    assert 'class="error-message"' not in response.text


# --- edit ----------------------------------------------------------------------------------------

def test_edit_saves_with_the_current_version(psychiatrist: tuple[Client, str], database: Database) -> None:
    client, token = psychiatrist
    patient_id = create(client, token)
    response = client.post(f"/patients/{patient_id}/edit",
                           data={**patient_form(family_name="Lambert-Roux"), "version": "1", "_csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/patients/{patient_id}"
    assert stored_patient(database, patient_id).family_name == "Lambert-Roux"


def test_edit_with_a_stale_version_is_a_conflict(psychiatrist: tuple[Client, str], database: Database) -> None:
    client, token = psychiatrist
    patient_id = create(client, token)
    first = client.post(f"/patients/{patient_id}/edit",
                        data={**patient_form(family_name="Premier"), "version": "1", "_csrf_token": token},
                        follow_redirects=False)
    assert first.status_code == 303
    second = client.post(f"/patients/{patient_id}/edit",
                         data={**patient_form(family_name="Second"), "version": "1", "_csrf_token": token},
                         follow_redirects=False)
    assert second.status_code == 409
    assert fr("Someone else saved this patient first") in second.text
    assert stored_patient(database, patient_id).family_name == "Premier"


# --- list, search, paging -------------------------------------------------------------------------

def test_list_page_shows_the_centre_patients(psychiatrist: tuple[Client, str]) -> None:
    client, token = psychiatrist
    first = create(client, token, family_name="Lambert")
    second = create(client, token, family_name="Moreau", given_names="Hugo", sex="M")
    response = client.get("/patients")
    assert response.status_code == 200
    assert "<html" in response.text
    assert set(PATIENT_LINK.findall(response.text)) == {first, second}


def test_htmx_search_returns_only_the_results_fragment(psychiatrist: tuple[Client, str]) -> None:
    client, token = psychiatrist
    lambert = create(client, token, family_name="Lambert")
    create(client, token, family_name="Moreau", given_names="Hugo", sex="M")
    response = client.get("/patients", params={"q": "lamb"},
                          headers={"HX-Request": "true", "HX-Target": "patient-results"})
    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="patient-search"' not in response.text
    assert PATIENT_LINK.findall(response.text) == [lambert]


def test_plain_search_returns_the_whole_page(psychiatrist: tuple[Client, str]) -> None:
    client, token = psychiatrist
    lambert = create(client, token, family_name="Lambert")
    response = client.get("/patients", params={"q": "lamb"})
    assert "<html" in response.text
    assert PATIENT_LINK.findall(response.text) == [lambert]


def test_search_finds_a_patient_by_id(psychiatrist: tuple[Client, str]) -> None:
    client, token = psychiatrist
    create(client, token, family_name="Lambert")
    moreau = create(client, token, family_name="Moreau", given_names="Hugo", sex="M")
    response = client.get("/patients", params={"q": moreau.lower()})
    assert PATIENT_LINK.findall(response.text) == [moreau]


def test_list_is_paged_by_25(psychiatrist: tuple[Client, str], database: Database) -> None:
    client, _ = psychiatrist
    actor = Actor(id="test", role="psychiatrist", organisation_id="org-centre-a")
    for number in range(30):
        create_patient(database, actor, PatientInput(f"Nom{number:02d}", "Prénom", dt.date(1980, 1, 1), "U"))
    first = client.get("/patients")
    second = client.get("/patients", params={"page": 2})
    first_ids = PATIENT_LINK.findall(first.text)
    second_ids = PATIENT_LINK.findall(second.text)
    assert (len(first_ids), len(second_ids)) == (25, 5)
    assert not set(first_ids) & set(second_ids)
    assert 'rel="next"' in first.text and 'rel="prev"' not in first.text
    assert 'rel="prev"' in second.text and 'rel="next"' not in second.text


# --- audit of reads -------------------------------------------------------------------------------

def read_events(database: Database, patient_id: str) -> list[AuditEvent]:
    with database.read() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.patient_id == patient_id,
                                                        AuditEvent.action == "read",
                                                        AuditEvent.object_type == "patient")).all()
        for row in rows:
            session.expunge(row)
        return list(rows)


def test_every_read_of_a_patient_page_is_audited(psychiatrist: tuple[Client, str], database: Database) -> None:
    client, token = psychiatrist
    patient_id = create(client, token)
    assert read_events(database, patient_id) == []
    for _ in range(3):
        assert client.get(f"/patients/{patient_id}").status_code == 200
    events = read_events(database, patient_id)
    assert len(events) == 3
    assert {(e.actor_role, e.object_id) for e in events} == {("psychiatrist", patient_id)}


def test_a_long_timeline_shows_its_newest_page_and_loads_older_entries(psychiatrist: tuple[Client, str]) -> None:
    client, token = psychiatrist
    patient_id = create(client, token)
    items = {f"item_{n}": "0" for n in range(1, 10)}
    for _ in range(TIMELINE_PAGE + 5):
        assert client.post(f"/patients/{patient_id}/assessments", data={"scale": "phq9", **items, "_csrf_token": token},
                           follow_redirects=False).status_code == 303
    page = client.get(f"/patients/{patient_id}").text
    timeline = page.split('<ol class="timeline">', 1)[1].split("</ol>", 1)[0]
    assert timeline.count("<time ") == TIMELINE_PAGE
    older = re.search(r'hx-get="(/patients/[^"]+/timeline\?older_than=[^"]+)"', timeline)
    assert older, "no button to load older entries"
    fragment = client.get(older[1].replace("&amp;", "&"), headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert fragment.text.count("<time ") == 5 + 1  # the last administrations, then the record's creation
    assert "older_than" not in fragment.text  # that was the oldest page
    standalone = client.get(older[1].replace("&amp;", "&"))
    assert standalone.status_code == 200 and "<html" in standalone.text
    assert client.get(f"/patients/{patient_id}/timeline?older_than=yesterday").status_code == 422


# --- isolation between centres (IDOR) -------------------------------------------------------------

@pytest.fixture
def other_centre(clients: ClientFor) -> tuple[Client, str]:
    return clients("psychiatrist", email="b@test.parcours.fr", organisation_id="org-centre-b")


@pytest.fixture
def record_with_alert(psychiatrist: tuple[Client, str], database: Database) -> dict[str, str]:
    client, token = psychiatrist
    patient_id = create(client, token, family_name="Secretname")
    items = {f"item_{n}": "1" for n in range(1, 10)}
    response = client.post(f"/patients/{patient_id}/assessments",
                           data={"scale": "phq9", **items, "_csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assessment_id = response.headers["location"].rsplit("/", 1)[1]
    with database.read() as session:
        alert_id = session.scalar(select(SafetyAlert.id).where(SafetyAlert.patient_id == patient_id))
    assert alert_id
    return {"patient": patient_id, "assessment": assessment_id, "alert": alert_id}


# What centre B tries on centre A's record: method, path ({p} patient, {a} assessment, {al} alert), form.
IDOR_ROUTES: dict[str, tuple[str, str, dict[str, str] | None]] = {
    "patient page": ("GET", "/patients/{p}", None),
    "edit form": ("GET", "/patients/{p}/edit", None),
    "edit save": ("POST", "/patients/{p}/edit", {**patient_form(family_name="Pirate"), "version": "1"}),
    "assessment form": ("GET", "/patients/{p}/assessments/new", None),
    "assessment form with scale": ("GET", "/patients/{p}/assessments/new?scale=phq9", None),
    "assessment save": ("POST", "/patients/{p}/assessments", {"scale": "phq9", **{f"item_{n}": "0" for n in range(1, 10)}}),
    "assessment page": ("GET", "/patients/{p}/assessments/{a}", None),
    "alert acknowledge": ("POST", "/patients/{p}/alerts/{al}/acknowledge", {"note": "seen"}),
    "kiosk form": ("GET", "/patients/{p}/kiosk", None),
    "kiosk open": ("POST", "/patients/{p}/kiosk", {"scales": "phq9"}),
    "older timeline": ("GET", "/patients/{p}/timeline?older_than=2100-01-01T00:00:00", None),
}


def attempt(client: Client, token: str, ids: dict[str, str], route: str) -> Any:
    method, template, form = IDOR_ROUTES[route]
    path = template.format(p=ids["patient"], a=ids["assessment"], al=ids["alert"])
    data = None if form is None else {**form, "_csrf_token": token}
    return client.request(method, path, data=data, follow_redirects=False)


@pytest.mark.parametrize("route", list(IDOR_ROUTES))
def test_another_centre_gets_404_on_every_patient_route(route: str, record_with_alert: dict[str, str],
                                                         other_centre: tuple[Client, str]) -> None:
    client, token = other_centre
    response = attempt(client, token, record_with_alert, route)
    assert response.status_code == 404
    assert "Secretname" not in response.text


def test_another_centre_changes_nothing(record_with_alert: dict[str, str], other_centre: tuple[Client, str],
                                        database: Database) -> None:
    client, token = other_centre
    for route in IDOR_ROUTES:
        attempt(client, token, record_with_alert, route)
    assert stored_patient(database, record_with_alert["patient"]).family_name == "Secretname"
    with database.read() as session:
        alert = session.get(SafetyAlert, record_with_alert["alert"])
        assert alert is not None and alert.acknowledged_at is None
        intruder = session.scalar(select(AppUser.id).where(AppUser.email == "b@test.parcours.fr"))
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.patient_id == record_with_alert["patient"], AuditEvent.actor_id == intruder)) == 0


@pytest.mark.parametrize("query", ["secret", "Secretname", "patient-id"])
def test_another_centre_never_finds_the_patient(query: str, record_with_alert: dict[str, str],
                                                other_centre: tuple[Client, str]) -> None:
    client, _ = other_centre
    q = record_with_alert["patient"] if query == "patient-id" else query
    for headers in ({}, {"HX-Request": "true", "HX-Target": "patient-results"}):
        response = client.get("/patients", params={"q": q}, headers=headers)
        assert response.status_code == 200
        assert PATIENT_LINK.findall(response.text) == []
        assert f'href="/patients/{record_with_alert["patient"]}' not in response.text
        assert "Camille" not in response.text  # the given name: the query itself is echoed back


# --- escaping -------------------------------------------------------------------------------------

@pytest.fixture
def xss_patient(psychiatrist: tuple[Client, str]) -> str:
    client, token = psychiatrist
    return create(client, token, family_name=XSS)


@pytest.mark.parametrize("page", ["/patients", "/patients?q=%3Cscript", "/patients/{id}", "/patients/{id}/edit"])
def test_a_script_in_the_family_name_comes_back_escaped(page: str, xss_patient: str,
                                                        psychiatrist: tuple[Client, str]) -> None:
    client, _ = psychiatrist
    response = client.get(page.format(id=xss_patient))
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


def test_a_script_in_a_refused_form_comes_back_escaped(psychiatrist: tuple[Client, str]) -> None:
    client, token = psychiatrist
    response = client.post("/patients", data={**patient_form(family_name=XSS, birth_date=""), "_csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 422
    assert "<script>alert(1)" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
