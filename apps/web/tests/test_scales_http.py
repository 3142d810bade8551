"""Scale calculators over the API (contract shape, 4xx answers) and rating scales entered on patient pages."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from markupsafe import escape
from sqlalchemy import select

from parcours_web.auth.service import issue_token
from parcours_web.i18n import load_translators
from shared_core.db import Database
from shared_core.tables import Assessment, SafetyAlert

pytestmark = pytest.mark.db

Client = TestClient[Litestar]
ClientFor = Callable[..., tuple[Client, str]]
PROBLEM_JSON = "application/problem+json"
FR = load_translators()["fr"]


def fr(message: str) -> str:
    return str(escape(FR.gettext(message)))


# --- API ---------------------------------------------------------------------------------------------

@pytest.fixture
def api(app: Litestar, make_user: Callable[..., str], database: Database) -> Iterator[Callable[..., Any]]:
    """POST a body to /api/v1/scales/{code}/score with a psychiatrist's bearer token."""
    token = issue_token(database, make_user("psychiatrist"), None)
    with TestClient(app) as client:
        def _score(code: str, body: Any = None, *, content: bytes | None = None) -> Any:
            headers = {"Authorization": f"Bearer {token}"}
            if content is not None:
                return client.post(f"/api/v1/scales/{code}/score", content=content,
                                   headers={**headers, "Content-Type": "application/json"})
            return client.post(f"/api/v1/scales/{code}/score", json=body, headers=headers)
        yield _score


def items_for(total: int, count: int, maximum: int) -> list[int]:
    """Answers adding up to ``total``, each within 0..maximum."""
    values = []
    for _ in range(count):
        value = min(maximum, total)
        values.append(value)
        total -= value
    assert total == 0
    return values


def assert_contract(body: dict[str, Any]) -> None:
    assert set(body) == {"scale", "total", "band", "subscores", "alerts"}
    assert isinstance(body["subscores"], dict) and isinstance(body["alerts"], list)


def test_phq9_score_follows_the_contract(api: Callable[..., Any]) -> None:
    response = api("phq9", {"items": [2, 3, 2, 2, 1, 2, 1, 1, 1]})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert_contract(body)
    assert (body["scale"], body["total"], body["band"], body["alerts"]) == (
        "phq9", 15, "moderately_severe", ["suicidal_ideation"])


def test_phq9_without_item_9_raises_no_alert(api: Callable[..., Any]) -> None:
    body = api("phq9", {"items": [3, 3, 3, 3, 3, 3, 3, 3, 0]}).json()
    assert (body["total"], body["band"], body["alerts"]) == (24, "severe", [])


def test_qids_sr16_total_is_the_sum_of_nine_domains(api: Callable[..., Any]) -> None:
    body = api("qids_sr16", {"items": [2, 1, 3, 0, 2, 1, 0, 2, 0, 2, 2, 1, 2, 3, 1, 2]}).json()
    assert_contract(body)
    assert (body["scale"], body["total"], body["band"], body["alerts"]) == ("qids_sr16", 19, "severe", [])
    assert len(body["subscores"]) == 9
    assert sum(body["subscores"].values()) == 19


def test_qids_sr16_item_12_at_2_raises_the_alert(api: Callable[..., Any]) -> None:
    items = [0] * 16
    items[11] = 2
    assert api("qids_sr16", {"items": items}).json()["alerts"] == ["suicidal_ideation"]


def test_hamd17_score(api: Callable[..., Any]) -> None:
    body = api("hamd17", {"items": [3, 2, 1, 2, 1, 2, 3, 2, 1, 2, 2, 1, 2, 1, 1, 1, 0]}).json()
    assert_contract(body)
    assert (body["scale"], body["total"], body["band"]) == ("hamd17", 27, "very_severe")


def test_hamd17_refuses_3_on_a_0_to_2_item(api: Callable[..., Any]) -> None:
    items = [0] * 17
    items[3] = 3  # item 4 is 0-2
    response = api("hamd17", {"items": items})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["items[3]"]


@pytest.mark.parametrize(("item_10", "alerts"), [(3, []), (4, ["suicidal_ideation"]), (6, ["suicidal_ideation"])])
def test_madrs_item_10_alert_threshold(api: Callable[..., Any], item_10: int, alerts: list[str]) -> None:
    body = api("madrs", {"items": [2] * 9 + [item_10]}).json()
    assert_contract(body)
    assert (body["scale"], body["total"], body["alerts"]) == ("madrs", 18 + item_10, alerts)


@pytest.mark.parametrize(("total", "band"), [
    (0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"), (14, "moderate"),
    (15, "severe"), (21, "severe"),
])
def test_gad7_band_boundaries(api: Callable[..., Any], total: int, band: str) -> None:
    body = api("gad7", {"items": items_for(total, 7, 3)}).json()
    assert_contract(body)
    assert (body["scale"], body["total"], body["band"], body["alerts"]) == ("gad7", total, band, [])


def test_wrong_item_count_is_422_naming_items(api: Callable[..., Any]) -> None:
    response = api("phq9", {"items": [1] * 8})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert body["status"] == 422 and body["title"] and body["detail"]
    assert [e["field"] for e in body["errors"]] == ["items"]


def test_every_out_of_range_item_is_named(api: Callable[..., Any]) -> None:
    response = api("phq9", {"items": [4, 0, 0, 0, 0, 0, 0, -1, 0]})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == ["items[0]", "items[7]"]
    assert all(e["message"] for e in errors)


@pytest.mark.parametrize("bad", ["2", 1.5, True, [1]])
def test_a_non_integer_item_is_named(api: Callable[..., Any], bad: Any) -> None:
    response = api("phq9", {"items": [0, 0, bad, 0, 0, 0, 0, 0, 0]})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert [e["field"] for e in response.json()["errors"]] == ["items[2]"]


def test_a_missing_items_field_is_422(api: Callable[..., Any]) -> None:
    response = api("phq9", {"answers": [0] * 9})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM_JSON)


def test_unparseable_json_is_400_problem(api: Callable[..., Any]) -> None:
    response = api("phq9", content=b'{"items": [1, 2,')
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert response.json()["status"] == 400


@pytest.mark.parametrize("content", [b"{\"items\": [0, 0, 0, 0, 0, 0, 0, 0, 0]} trailing", b"\xff\xfe", b"{'items': []}"])
def test_other_unparseable_bodies_are_400(api: Callable[..., Any], content: bytes) -> None:
    response = api("phq9", content=content)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(PROBLEM_JSON)


def test_an_empty_body_is_400(api: Callable[..., Any]) -> None:
    response = api("phq9", content=b"")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(PROBLEM_JSON)


@pytest.mark.parametrize("body", [{"items": None}, {"items": "0,0,0"}, {"items": {"1": 0}}, [], None])
def test_well_formed_json_of_the_wrong_shape_is_422(api: Callable[..., Any], body: Any) -> None:
    response = api("phq9", content=json.dumps(body).encode())
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert response.json()["errors"]


def test_unknown_scale_is_404_problem(api: Callable[..., Any]) -> None:
    response = api("nope", {"items": [0]})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert response.json()["status"] == 404


def test_no_authentication_is_401_problem(app: Litestar) -> None:
    with TestClient(app) as client:
        response = client.post("/api/v1/scales/phq9/score", json={"items": [0] * 9})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert response.json()["status"] == 401


def test_an_unknown_bearer_token_is_401(app: Litestar) -> None:
    with TestClient(app) as client:
        response = client.post("/api/v1/scales/phq9/score", json={"items": [0] * 9},
                               headers={"Authorization": "Bearer prc_not-a-real-token"})
    assert response.status_code == 401


@pytest.mark.parametrize("role", ["observer", "admin"])
def test_roles_without_calculators_get_403(app: Litestar, make_user: Callable[..., str], database: Database,
                                           role: str) -> None:
    token = issue_token(database, make_user(role), None)
    with TestClient(app) as client:
        response = client.post("/api/v1/scales/phq9/score", json={"items": [0] * 9},
                               headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith(PROBLEM_JSON)


@pytest.mark.parametrize("role", ["operator", "referrer", "coordinator"])
def test_other_care_roles_may_score(app: Litestar, make_user: Callable[..., str], database: Database,
                                    role: str) -> None:
    token = issue_token(database, make_user(role), None)
    with TestClient(app) as client:
        response = client.post("/api/v1/scales/phq9/score", json={"items": [0] * 9},
                               headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_the_catalogue_lists_the_shipped_scales(app: Litestar, make_user: Callable[..., str],
                                                database: Database) -> None:
    token = issue_token(database, make_user("psychiatrist"), None)
    with TestClient(app) as client:
        response = client.get("/api/v1/scales", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    codes = {scale["code"] for scale in response.json()}
    assert codes >= {"phq9", "gad7", "madrs", "hamd17", "qids_sr16", "bdi2", "hads", "ymrs", "cssrs_screen",
                     "who5", "ricci_gagnon"}


def test_a_browser_session_may_score_with_its_csrf_header(client_for: ClientFor) -> None:
    client, token = client_for("psychiatrist")
    refused = client.post("/api/v1/scales/phq9/score", json={"items": [0] * 9})
    accepted = client.post("/api/v1/scales/phq9/score", json={"items": [0] * 9}, headers={"X-CSRF-Token": token})
    assert refused.status_code == 403
    assert accepted.status_code == 200


# --- pages ---------------------------------------------------------------------------------------------

@pytest.fixture
def clinician(client_for: ClientFor) -> tuple[Client, str]:
    return client_for("psychiatrist")


@pytest.fixture
def patient_id(clinician: tuple[Client, str]) -> str:
    client, token = clinician
    response = client.post("/patients", data={"family_name": "Durand", "given_names": "Léa", "birth_date": "1979-03-02",
                                              "sex": "F", "_csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    return str(response.headers["location"].rsplit("/", 1)[1])


def phq9_form(items: Sequence[int | None], token: str) -> dict[str, str]:
    form = {"scale": "phq9", "_csrf_token": token}
    form.update({f"item_{n}": "" if value is None else str(value) for n, value in enumerate(items, start=1)})
    return form


def record(client: Client, token: str, patient_id: str, items: Sequence[int | None]) -> httpx.Response:
    return client.post(f"/patients/{patient_id}/assessments", data=phq9_form(items, token), follow_redirects=False)


def open_alert_ids(database: Database, patient_id: str) -> list[str]:
    with database.read() as session:
        return list(session.scalars(select(SafetyAlert.id).where(SafetyAlert.patient_id == patient_id,
                                                                 SafetyAlert.acknowledged_at.is_(None))))


def test_recording_a_phq9_redirects_to_its_result(clinician: tuple[Client, str], patient_id: str,
                                                  database: Database) -> None:
    client, token = clinician
    response = record(client, token, patient_id, [2, 3, 2, 2, 1, 2, 1, 1, 0])
    assert response.status_code == 303
    match = re.fullmatch(rf"/patients/{patient_id}/assessments/(A-[0-9A-Z]+)", response.headers["location"])
    assert match
    with database.read() as session:
        stored = session.get(Assessment, match.group(1))
        assert stored is not None
        assert (stored.total, stored.band, stored.source, stored.items) == (
            14, "moderate", "clinician", [2, 3, 2, 2, 1, 2, 1, 1, 0])


def test_item_9_shows_the_alert_and_total_on_the_result_page(clinician: tuple[Client, str], patient_id: str) -> None:
    client, token = clinician
    response = record(client, token, patient_id, [2, 3, 2, 2, 1, 2, 1, 1, 1])
    page = client.get(response.headers["location"])
    assert page.status_code == 200
    assert 'role="alert"' in page.text
    assert "3114" in page.text
    assert re.search(r'<dd class="score">\s*15 / 27', page.text)


def test_item_9_stores_a_safety_alert(clinician: tuple[Client, str], patient_id: str, database: Database) -> None:
    client, token = clinician
    record(client, token, patient_id, [0, 0, 0, 0, 0, 0, 0, 0, 1])
    with database.read() as session:
        alerts = session.scalars(select(SafetyAlert).where(SafetyAlert.patient_id == patient_id)).all()
        assert [(a.code, a.scale_code, a.acknowledged_at) for a in alerts] == [("suicidal_ideation", "phq9", None)]


def test_no_alert_without_item_9(clinician: tuple[Client, str], patient_id: str, database: Database) -> None:
    client, token = clinician
    page = client.get(record(client, token, patient_id, [3, 3, 3, 3, 3, 3, 3, 3, 0]).headers["location"])
    assert 'role="alert"' not in page.text
    assert open_alert_ids(database, patient_id) == []


def test_the_patient_page_lists_the_open_alert(clinician: tuple[Client, str], patient_id: str,
                                               database: Database) -> None:
    client, token = clinician
    record(client, token, patient_id, [0, 0, 0, 0, 0, 0, 0, 0, 2])
    [alert_id] = open_alert_ids(database, patient_id)
    page = client.get(f"/patients/{patient_id}")
    assert f'action="/patients/{patient_id}/alerts/{alert_id}/acknowledge"' in page.text
    assert 'role="alert"' in page.text


def test_acknowledging_removes_the_alert_from_the_patient_page(clinician: tuple[Client, str], patient_id: str,
                                                               database: Database) -> None:
    client, token = clinician
    record(client, token, patient_id, [0, 0, 0, 0, 0, 0, 0, 0, 2])
    [alert_id] = open_alert_ids(database, patient_id)
    response = client.post(f"/patients/{patient_id}/alerts/{alert_id}/acknowledge",
                           data={"note": "Entretien C-SSRS fait, risque faible", "_csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 303
    page = client.get(f"/patients/{patient_id}")
    assert f"/alerts/{alert_id}/acknowledge" not in page.text
    assert fr("No open safety alert.") in page.text
    with database.read() as session:
        alert = session.get(SafetyAlert, alert_id)
        assert alert is not None and alert.acknowledgement_note == "Entretien C-SSRS fait, risque faible"


def test_an_acknowledgement_note_comes_back_escaped(clinician: tuple[Client, str], patient_id: str,
                                                    database: Database) -> None:
    client, token = clinician
    record(client, token, patient_id, [0, 0, 0, 0, 0, 0, 0, 0, 1])
    [alert_id] = open_alert_ids(database, patient_id)
    client.post(f"/patients/{patient_id}/alerts/{alert_id}/acknowledge",
                data={"note": "<img src=x onerror=alert(1)>", "_csrf_token": token}, follow_redirects=False)
    page = client.get(f"/patients/{patient_id}").text
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_missing_items_rerender_the_form_naming_them(clinician: tuple[Client, str], patient_id: str,
                                                     database: Database) -> None:
    client, token = clinician
    response = record(client, token, patient_id, [1, 1, None, 1, 1, 1, None, 1, 0])
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    summary = response.text.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert set(re.findall(r'href="#field-([^"]+)"', summary)) == {"items-2", "items-6"}
    assert 'name="item_1" value="1" checked' in response.text  # the answers given are kept
    with database.read() as session:
        assert session.scalars(select(Assessment.id)).all() == []


def test_a_non_numeric_item_is_named(clinician: tuple[Client, str], patient_id: str) -> None:
    client, token = clinician
    form = phq9_form([0] * 9, token)
    form["item_4"] = "beaucoup"
    response = client.post(f"/patients/{patient_id}/assessments", data=form, follow_redirects=False)
    assert response.status_code == 422
    summary = response.text.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert set(re.findall(r'href="#field-([^"]+)"', summary)) == {"items-3"}


def test_an_out_of_range_item_is_named(clinician: tuple[Client, str], patient_id: str) -> None:
    client, token = clinician
    response = record(client, token, patient_id, [0, 0, 0, 0, 0, 7, 0, 0, 0])
    assert response.status_code == 422
    summary = response.text.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert set(re.findall(r'href="#field-([^"]+)"', summary)) == {"items-5"}


def test_an_alert_is_acknowledged_only_through_its_own_patient(clinician: tuple[Client, str], patient_id: str,
                                                               database: Database) -> None:
    client, token = clinician
    record(client, token, patient_id, [0, 0, 0, 0, 0, 0, 0, 0, 3])
    [alert_id] = open_alert_ids(database, patient_id)
    other = client.post("/patients", data={"family_name": "Autre", "given_names": "Patient", "sex": "M",
                                           "birth_date": "1960-01-01", "_csrf_token": token}, follow_redirects=False)
    other_id = other.headers["location"].rsplit("/", 1)[1]
    response = client.post(f"/patients/{other_id}/alerts/{alert_id}/acknowledge",
                           data={"note": "wrong patient", "_csrf_token": token}, follow_redirects=False)
    assert response.status_code == 404
    assert open_alert_ids(database, patient_id) == [alert_id]


def test_an_assessment_is_shown_only_under_its_own_patient(clinician: tuple[Client, str], patient_id: str) -> None:
    client, token = clinician
    assessment_path = record(client, token, patient_id, [0] * 9).headers["location"]
    other = client.post("/patients", data={"family_name": "Autre", "given_names": "Patient", "sex": "M",
                                           "birth_date": "1960-01-01", "_csrf_token": token}, follow_redirects=False)
    other_id = other.headers["location"].rsplit("/", 1)[1]
    wrong_path = assessment_path.replace(patient_id, other_id)
    assert client.get(assessment_path).status_code == 200
    assert client.get(wrong_path).status_code == 404


def test_second_administration_shows_the_change_from_baseline(clinician: tuple[Client, str], patient_id: str) -> None:
    client, token = clinician
    baseline = client.get(record(client, token, patient_id, [3, 3, 3, 3, 2, 2, 2, 2, 0]).headers["location"])
    assert fr("this is the first administration (baseline)") in baseline.text
    second = client.get(record(client, token, patient_id, [1, 1, 1, 1, 1, 1, 1, 1, 0]).headers["location"])
    assert fr("this is the first administration (baseline)") not in second.text
    assert "-12" in second.text  # 20 -> 8
    assert "60.0 %" in second.text


def test_the_patient_page_draws_a_chart_once_there_are_assessments(clinician: tuple[Client, str],
                                                                   patient_id: str) -> None:
    client, token = clinician
    svg = re.compile(r"<svg[^>]*role=\"img\"")
    assert not svg.search(client.get(f"/patients/{patient_id}").text)
    record(client, token, patient_id, [1] * 8 + [0])
    assert svg.search(client.get(f"/patients/{patient_id}").text)
