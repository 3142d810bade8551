"""CSRF: every state-changing route refuses a request without the session's token, or with a wrong one.

quality.md, Security: "CSRF on every state-changing request". Routes are taken from the application, so
a new form is covered the day it is added. Each unsafe route is sent, by a signed-in account of a role
it admits, first with no token and then with a forged one: the answer is 403 and nothing changes. (The
login form and the language switch have their own token checks; bearer-token API calls carry no cookie
and are exempt by design.)
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from route_index import Endpoint, endpoints
from sqlalchemy import func, select, text

from shared_core.db import Database
from shared_core.tables import AuditEvent

pytestmark = pytest.mark.db

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Identifiers that exist in the demo data and belong to the demo centre, so the guard is what refuses.
SAMPLE_VALUES = {
    "patient_id": "SELECT MIN(id) FROM patient WHERE organisation_id = 'org-centre-demo'",
    "assessment_id": "SELECT MIN(id) FROM assessment",
    "alert_id": "SELECT MIN(id) FROM safety_alert",
    "course_id": "SELECT MIN(id) FROM rtms_course",
    "user_id": "SELECT MIN(id) FROM app_user",
    "organisation_id": "SELECT 'org-centre-demo'",
    "closure_id": "SELECT COALESCE(MIN(id), 1) FROM centre_closure",
    "code": "SELECT 'phq9'",
    "planned_id": "SELECT MIN(id) FROM rtms_planned_session",
    "mt_id": "SELECT MIN(id) FROM rtms_motor_threshold",
    "event_id": "SELECT MIN(id) FROM rtms_adverse_event",
    "kind": "SELECT 'extend'",
    "follow_up_id": "SELECT MIN(id) FROM rtms_follow_up",
    "trial_id": "SELECT MIN(id) FROM rtms_treatment_trial",
    "medication_id": "SELECT MIN(id) FROM rtms_medication",
    "prescription_id": "SELECT MIN(id) FROM sport_prescription",
    "referral_id": "SELECT MIN(id) FROM referral",
    "consent_id": "SELECT MIN(id) FROM consent",
    "report_id": "SELECT MIN(id) FROM sport_report",
    "structure_id": "SELECT MIN(id) FROM sport_structure",
    "job_id": "SELECT MIN(id) FROM sport_import_job",
    "token": "SELECT 'no-such-token'",
}


def _role_for(endpoint: Endpoint) -> str | None:
    for role in ("psychiatrist", "operator", "admin", "referrer", "coordinator", "observer"):
        if role in endpoint.roles:
            return role
    return None


def _path(endpoint: Endpoint, database: Database) -> str:
    values = {}
    with database.read() as session:
        for name in endpoint.parameters:
            assert name in SAMPLE_VALUES, f"{endpoint.path}: add a sample value for {name} to SAMPLE_VALUES"
            values[name] = str(session.execute(text(SAMPLE_VALUES[name])).scalar())
    return endpoint.fill(values)


def _audit_rows(database: Database) -> int:
    with database.read() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def test_every_unsafe_route_refuses_a_missing_or_forged_token(
        demo_app: Litestar, demo_database: Database,
        logged_in: Callable[[str], tuple[TestClient[Litestar], str]]) -> None:
    unsafe = [e for e in endpoints(demo_app) if e.method in UNSAFE and e.path not in {"/login", "/language"}
              and _role_for(e) is not None and not e.path.startswith("/api/")]
    assert len(unsafe) > 10, "route discovery is broken"
    accepted = []
    for role in {_role_for(endpoint) for endpoint in unsafe}:
        logged_in(str(role))  # signing in writes audit rows: done before counting them
    before = _audit_rows(demo_database)
    for endpoint in unsafe:
        role = _role_for(endpoint)
        assert role is not None
        client, _ = logged_in(role)
        path = _path(endpoint, demo_database)
        for headers, data in (({}, {}), ({"X-CSRF-Token": "forged"}, {"_csrf_token": "forged"})):
            status = client.request(endpoint.method, path, headers=headers, data=data,
                                    follow_redirects=False).status_code
            if status != 403:
                accepted.append(f"{endpoint.method} {path} as {role}: {status}")
    assert accepted == [], "\n".join(accepted)
    assert _audit_rows(demo_database) == before, "a refused request wrote something"


def test_the_api_with_a_session_cookie_needs_the_token_too(
        logged_in: Callable[[str], tuple[TestClient[Litestar], str]]) -> None:
    client, _ = logged_in("psychiatrist")
    response = client.post("/api/v1/scales/phq9/score", json={"items": [0] * 9})
    assert response.status_code == 403
