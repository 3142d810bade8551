"""FHIR download of a sport referral, prescriber side: scoped to the prescriber's centre, audited,
reports only under the share_reports_with_prescriber consent (C-2)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from shared_core.actors import Actor
from shared_core.db import Database
from shared_core.tables import AuditEvent, Consent, Patient, Referral, ReferralEvent
from sport_referral.model.structures import Structure
from sport_referral.referral_tables import SportPrescription, SportReferralDetail, SportReport
from sport_referral.service import save_structures

pytestmark = pytest.mark.db
Client = Callable[..., tuple[TestClient[Litestar], str]]
AT = dt.datetime(2026, 1, 10, 9, 0, tzinfo=dt.UTC)


def _seed(database: Database, *, reports_consent: bool) -> None:
    save_structures(database, Actor(id="t", role="admin"), [msgspec.convert({
        "structure_id": "mss-fhir", "kind": "mss", "name": "MSS FHIR", "postcode": "67000", "commune_insee": "67482",
        "accepting_referrals": True, "source": "manual", "source_licence": "own", "finess_et": "670012345",
        "referral_email": "mss@example.fr", "mss_habilitated_from": "2024-01-01"}, Structure)], "t")
    with database.write() as session:
        session.add(Patient(id="P-FHIR1", organisation_id="org-centre-a", family_name="Martin", given_names="Marie",
                            birth_date=dt.date(1985, 5, 1), sex="F", ins="285057512345678", search_key="martin",
                            created_by="t"))
        session.add(SportPrescription(
            id="SP-FHIR1", patient_id="P-FHIR1", organisation_id="org-centre-a", prescriber_id="u1",
            prescriber_name="Dr Claire Muller", prescriber_rpps="10101010108", prescribed_on=dt.date(2026, 1, 5),
            signed_at=AT, expires_on=dt.date(2026, 4, 5), limitation_level="moderate", intensity="moderate",
            programme_months=3, sessions_per_week_min=2, sessions_per_week_max=3, disability_families=["moteur"],
            data={"activity_types": ["endurance"], "session_minutes_min": 45, "session_minutes_max": 60,
                  "precautions": "Pas de sauts", "goals": "Marcher", "eligibility_basis": ["chronic_disease"]},
            eligibility={}, needs={}, lint_hits=[], medical_notes="Épisode dépressif F33.1", created_by="u1"))
        session.add(Referral(id="R-FHIR1", workflow="sport_referral", patient_id="P-FHIR1",
                             sender_organisation_id="org-centre-a", recipient_organisation_id="org-mss",
                             status="declined", created_by="u1"))
        session.flush()
        session.add(ReferralEvent(referral_id="R-FHIR1", source="received", target="declined", actor_id="c",
                                  actor_role="coordinator", reason_code="no_capacity", at=AT + dt.timedelta(days=2)))
        session.add(SportReferralDetail(
            referral_id="R-FHIR1", prescription_id="SP-FHIR1", structure_id="mss-fhir", patient_id="P-FHIR1",
            prescriber_id="u1", prescriber_organisation_id="org-centre-a", recipient_organisation_id="org-mss",
            status="declined", structure_kind="mss", disability_families=["moteur"], limitation_level="moderate",
            sessions_per_week_min=2, programme_months=3, sent_at=AT, declined_at=AT + dt.timedelta(days=2)))
        session.add(SportReport(id="REP-FHIR1", referral_id="R-FHIR1", report_type="initial_assessment",
                                performed_on=dt.date(2026, 1, 12), performer_profession="apa_teacher",
                                six_minute_walk_m=410, data={}, recorded_by="c"))
        if reports_consent:
            session.add(Consent(id="C-FHIR1", patient_id="P-FHIR1", scope="share_reports_with_prescriber",
                                recipient=None, granted_at=AT - dt.timedelta(days=1), granted_by="patient",
                                collection_mode="oral_recorded", notice_version="1", recorded_by="u1"))


def test_the_prescriber_downloads_the_referral_as_fhir(client_for: Client, database: Database) -> None:
    _seed(database, reports_consent=True)
    client, _ = client_for("psychiatrist")
    response = client.get("/sport/referrals/R-FHIR1/fhir.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    bundle = json.loads(response.text)
    types = [entry["resource"]["resourceType"] for entry in bundle["entry"]]
    assert {"ServiceRequest", "Task", "DiagnosticReport", "Observation", "Patient", "Organization"} <= set(types)
    task = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Task")
    assert task["status"] == "rejected" and task["statusReason"]["coding"][0]["code"] == "no_capacity"
    assert "urn:oid:1.2.250.1.213.1.4.8" in response.text  # INS on the prescriber side
    assert "F33" not in response.text and "dépressif" not in response.text and "chronic_disease" not in response.text
    with database.read() as session:
        audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).all()
    assert [(row.object_id, row.patient_id) for row in audit] == [("R-FHIR1", "P-FHIR1")]


def test_reports_are_withheld_without_consent(client_for: Client, database: Database) -> None:
    _seed(database, reports_consent=False)
    client, _ = client_for("psychiatrist")
    bundle = json.loads(client.get("/sport/referrals/R-FHIR1/fhir.json").text)
    assert not [e for e in bundle["entry"] if e["resource"]["resourceType"] in ("DiagnosticReport", "Observation")]


def test_another_centre_or_role_never_gets_the_export(client_for: Client, database: Database) -> None:
    _seed(database, reports_consent=True)
    other, _ = client_for("psychiatrist", email="other@test.parcours.fr", organisation_id="org-centre-b")
    assert other.get("/sport/referrals/R-FHIR1/fhir.json").status_code == 404
    for role in ("coordinator", "observer", "referrer", "admin"):
        client, _ = client_for(role)
        assert client.get("/sport/referrals/R-FHIR1/fhir.json").status_code == 403
    psychiatrist, _ = client_for("psychiatrist")
    assert psychiatrist.get("/sport/referrals/R-NOPE/fhir.json").status_code == 404
