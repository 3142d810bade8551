"""The rTMS calculators over HTTP, exactly as api-contract.md specifies them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from parcours_web.auth.service import issue_token
from shared_core.db import Database

pytestmark = pytest.mark.db


@pytest.fixture
def bearer(database: Database, make_user: Callable[..., str]) -> Callable[[str], dict[str, str]]:
    tokens: dict[str, str] = {}

    def _headers(role: str) -> dict[str, str]:
        if role not in tokens:
            tokens[role] = issue_token(database, make_user(role), None)
        return {"Authorization": f"Bearer {tokens[role]}"}
    return _headers


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"scale": "madrs", "baseline": 32, "current": 26, "sessions_completed": 10},
         {"improvement_pct": 18.8, "status": "non_response", "checkpoint": "review_protocol"}),
        ({"scale": "madrs", "baseline": 32, "current": 9, "sessions_completed": 20},
         {"improvement_pct": 71.9, "status": "remission", "checkpoint": "none"}),
        ({"scale": "hamd17", "baseline": 27, "current": 14, "sessions_completed": 20},
         {"improvement_pct": 48.1, "status": "partial_response", "checkpoint": "none"}),
        ({"scale": "phq9", "baseline": 20, "current": 10, "sessions_completed": 9},
         {"improvement_pct": 50.0, "status": "response", "checkpoint": "none"}),
    ],
)
def test_progress(app: Litestar, bearer: Callable[[str], dict[str, str]], body: dict[str, object],
                  expected: dict[str, object]) -> None:
    with TestClient(app) as client:
        response = client.post("/api/v1/rtms/progress", json=body, headers=bearer("psychiatrist"))
    assert response.status_code == 200, response.text
    assert response.json() == expected


def test_progress_names_every_bad_field(app: Litestar, bearer: Callable[[str], dict[str, str]]) -> None:
    with TestClient(app) as client:
        response = client.post("/api/v1/rtms/progress", headers=bearer("operator"),
                               json={"scale": "madrs", "baseline": 0, "current": 70, "sessions_completed": -1})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert {e["field"] for e in response.json()["errors"]} == {"baseline", "current", "sessions_completed"}


def test_course_plan_preview(app: Litestar, bearer: Callable[[str], dict[str, str]]) -> None:
    body = {"protocol": "itbs_left", "start": "2026-03-23", "induction_sessions": 20, "holiday_zone": "metropole"}
    with TestClient(app) as client:
        national = client.post("/api/v1/rtms/course-plans/preview", json=body, headers=bearer("psychiatrist"))
        alsace = client.post("/api/v1/rtms/course-plans/preview", json=body | {"holiday_zone": "alsace_moselle"},
                             headers=bearer("psychiatrist"))
        accelerated = client.post("/api/v1/rtms/course-plans/preview", headers=bearer("psychiatrist"), json={
            "protocol": "accelerated_itbs", "start": "2026-05-18", "induction_sessions": 50,
            "holiday_zone": "metropole"})
    assert national.json()["induction_end"] == "2026-04-20"
    assert alsace.json()["induction_end"] == "2026-04-21"
    assert national.json()["sessions"][0] == {"number": 1, "date": "2026-03-23", "slot": 1, "phase": "induction"}
    sessions = accelerated.json()["sessions"]
    assert len(sessions) == 50 and {s["slot"] for s in sessions} == set(range(1, 11))
    assert accelerated.json()["induction_end"] == "2026-05-22"


def test_course_plan_preview_errors(app: Litestar, bearer: Callable[[str], dict[str, str]]) -> None:
    with TestClient(app) as client:
        invalid = client.post("/api/v1/rtms/course-plans/preview", headers=bearer("psychiatrist"), json={
            "protocol": "nope", "start": "2026-13-01", "induction_sessions": 0, "holiday_zone": "mars"})
        malformed = client.post("/api/v1/rtms/course-plans/preview", content=b"{", headers=bearer("psychiatrist")
                                | {"content-type": "application/json"})
    assert invalid.status_code == 422
    assert {e["field"] for e in invalid.json()["errors"]} >= {"protocol", "start", "holiday_zone"}
    assert malformed.status_code == 400


@pytest.mark.parametrize("role", ["coordinator", "observer", "admin"])
def test_other_roles_cannot_use_the_rtms_calculators(app: Litestar, bearer: Callable[[str], dict[str, str]],
                                                     role: str) -> None:
    with TestClient(app) as client:
        response = client.post("/api/v1/rtms/progress", headers=bearer(role),
                               json={"scale": "madrs", "baseline": 32, "current": 26, "sessions_completed": 10})
    assert response.status_code == 403


TRIAGE_BASE = {
    "diagnosis": "unipolar", "psychotic_features": False, "catatonia": False, "suicide_risk": "none",
    "failed_adequate_trials": 1, "episode_months": 8, "anxiety_comorbidity": False, "substance_use": [],
    "mood_stabilizer": False, "safety_findings": [], "medications": [], "patient_preference": "none",
}


@pytest.mark.parametrize(
    ("changes", "orientation", "precautions"),
    [
        ({}, "rtms_indicated", set()),
        ({"psychotic_features": True}, "ect_first", set()),
        ({"suicide_risk": "high_urgent"}, "ect_first", set()),
        ({"safety_findings": ["cochlear_implant"], "psychotic_features": True}, "not_eligible_safety", None),
        ({"diagnosis": "bipolar_i"}, "rtms_with_precautions", {"mood_stabilizer_required", "monitor_manic_switch"}),
        ({"diagnosis": "bipolar_ii", "mood_stabilizer": True}, "rtms_with_precautions", {"monitor_manic_switch"}),
        ({"medications": ["clozapine"]}, "rtms_with_precautions", None),
        ({"substance_use": ["alcohol"]}, "rtms_with_precautions", None),
    ],
)
def test_triage(app: Litestar, bearer: Callable[[str], dict[str, str]], changes: dict[str, object],
                orientation: str, precautions: set[str] | None) -> None:
    with TestClient(app) as client:
        response = client.post("/api/v1/rtms/triage", json=TRIAGE_BASE | changes, headers=bearer("psychiatrist"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["orientation"] == orientation
    if precautions is not None:
        assert set(body["precautions"]) == precautions
    assert all({"code", "text", "source"} <= set(reason) for reason in body["reasons"])
    if "clozapine" in changes.get("medications", []):  # type: ignore[operator]
        assert "seizure_threshold_medication" in body["precautions"]
    if changes.get("substance_use") == ["alcohol"]:
        assert "alcohol_lowers_seizure_threshold" in body["precautions"]


def test_triage_lists_every_bad_field(app: Litestar, bearer: Callable[[str], dict[str, str]]) -> None:
    body = TRIAGE_BASE | {"diagnosis": "schizo", "suicide_risk": "maybe", "failed_adequate_trials": -1,
                          "substance_use": ["alcohol", "sugar"], "surprise": 1}
    del body["catatonia"]
    with TestClient(app) as client:
        response = client.post("/api/v1/rtms/triage", json=body, headers=bearer("referrer"))
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"diagnosis", "suicide_risk", "failed_adequate_trials", "substance_use[1]", "catatonia", "surprise"} <= fields
