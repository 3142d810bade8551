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
