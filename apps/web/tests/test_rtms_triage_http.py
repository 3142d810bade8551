"""The triage page: live proposal, the physician's decision, overrides with a reason, history."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from rtms_pathway.tables import TriageRecord
from shared_core.db import Database
from shared_core.tables import AuditEvent

pytestmark = pytest.mark.db
Client = Callable[..., tuple[TestClient[Litestar], str]]
ANSWERS = {"diagnosis": "unipolar", "psychotic_features": "no", "catatonia": "no", "anxiety_comorbidity": "no",
           "mood_stabilizer": "no", "suicide_risk": "none", "failed_adequate_trials": "1", "episode_months": "8",
           "patient_preference": "none", "medications": ""}


def _patient(client: TestClient[Litestar], token: str) -> str:
    response = client.post("/patients", data={"_csrf_token": token, "family_name": "Triage", "given_names": "Test",
                                              "birth_date": "1970-01-01", "sex": "F"}, follow_redirects=False)
    return str(response.headers["location"]).rsplit("/", 1)[1]


def test_live_proposal_follows_the_answers(client_for: Client) -> None:
    client, token = client_for("operator")
    patient = _patient(client, token)
    page = client.get(f"/patients/{patient}/triage")
    assert page.status_code == 200 and 'id="triage-result"' in page.text
    headers = {"HX-Request": "true", "X-CSRF-Token": token}
    indicated = client.post(f"/patients/{patient}/triage/preview", data=ANSWERS, headers=headers)
    assert "<html" not in indicated.text and "R-TRI-07" in indicated.text
    psychotic = client.post(f"/patients/{patient}/triage/preview", data=ANSWERS | {"psychotic_features": "yes"},
                            headers=headers)
    assert "orientation--ect_first" in psychotic.text and "R-TRI-02" in psychotic.text
    incomplete = client.post(f"/patients/{patient}/triage/preview", data={"diagnosis": "unipolar"}, headers=headers)
    assert incomplete.status_code == 200 and "catatonia" in incomplete.text


def test_the_physician_accepts_or_overrides_with_a_reason(client_for: Client, database: Database) -> None:
    client, token = client_for("psychiatrist")
    patient = _patient(client, token)
    accepted = client.post(f"/patients/{patient}/triage", data=ANSWERS | {"_csrf_token": token},
                           follow_redirects=False)
    assert accepted.status_code == 303
    short = client.post(f"/patients/{patient}/triage", data=ANSWERS | {
        "_csrf_token": token, "override_orientation": "ect_first", "override_reason": "too short"})
    assert short.status_code == 422 and 'href="#field-override_reason"' in short.text
    overridden = client.post(f"/patients/{patient}/triage", data=ANSWERS | {
        "_csrf_token": token, "override_orientation": "ect_first",
        "override_reason": "Mélancolie sévère avec refus alimentaire : ECT en priorité."}, follow_redirects=False)
    assert overridden.status_code == 303
    with database.read() as session:
        records = session.scalars(select(TriageRecord).order_by(TriageRecord.decided_at)).all()
        actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.patient_id == patient)))
    assert [(r.proposed_orientation, r.final_orientation, r.decision) for r in records] == [
        ("rtms_indicated", "rtms_indicated", "accepted"), ("rtms_indicated", "ect_first", "overridden")]
    assert {"triage_accepted", "triage_overridden"} <= actions
    history = client.get(f"/patients/{patient}/triage").text
    assert "Mélancolie sévère" in history


def test_operators_cannot_sign(client_for: Client, database: Database) -> None:
    client, token = client_for("operator")
    patient = _patient(client, token)
    response = client.post(f"/patients/{patient}/triage", data=ANSWERS | {"_csrf_token": token})
    assert response.status_code == 403
    with database.read() as session:
        assert session.scalars(select(TriageRecord)).all() == []


def test_other_centres_cannot_triage(client_for: Client) -> None:
    owner, token = client_for("psychiatrist")
    patient = _patient(owner, token)
    other, other_token = client_for("psychiatrist", email="b@test.parcours.fr", organisation_id="org-centre-b")
    assert other.get(f"/patients/{patient}/triage").status_code == 404
    assert other.post(f"/patients/{patient}/triage", data=ANSWERS | {"_csrf_token": other_token}).status_code == 404
