"""Sport referral lifecycle over HTTP (product journeys 7-8; domain-sport §1, §8).

A coordinator of structure A can never read or act on a referral to structure B, by any route;
psychiatric data planted on the prescriber side never reaches a coordinator response; nothing is
sent without consent; a decline needs its reason; a stale form answers 409.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from rtms_pathway.service import record_triage
from shared_core.actors import Actor
from shared_core.db import Database, utcnow
from shared_core.ids import new_id
from shared_core.rules.identifiers import nir_key
from shared_core.tables import Assessment, AuditEvent, Organisation, Patient
from shared_core.text import fold
from sport_referral.model.structures import Structure
from sport_referral.referral_tables import SportReferralDetail, SportReport
from sport_referral.service import save_structures
from sport_referral.tables import SportStructure

pytestmark = pytest.mark.db

Client = TestClient[Litestar]
ClientFor = Callable[..., tuple[Client, str]]

# Markers planted in every psychiatric / clinical field of the prescriber side (C-4).
MARK_INS_PREFIX = "2850567482"
MARK_TRIAGE = "MARKERTRIAGEOVERRIDE"
MARK_BAND = "MARKERASSESSMENTBAND"
MARK_NOTES = "MARKERMEDICALNOTES"
MARK_RISK = "MARKERRISKFACTOR"
MARKERS = (MARK_TRIAGE, MARK_BAND, MARK_NOTES, MARK_RISK, "bipolar", "Bipolar", "rTMS")
SEVERE_ITEM_WORDS = ("anxiété", "Anxiété", "dépression", "cereb_anxiety_depression", "Severe manifestations")


def _structure(structure_id: str, name: str, **extra: object) -> Structure:
    record = {
        "structure_id": structure_id, "kind": "mss", "name": name, "postcode": "67000", "commune_insee": "67482",
        "department_code": "67", "region_code": "44", "latitude": 48.58, "longitude": 7.75,
        "accepting_referrals": True, "source": "manual", "source_licence": "test", "source_ref": structure_id,
        "mss_habilitated_from": "2024-01-01", "referral_email": f"{structure_id}@test.parcours.fr",
        "professions": ["physiotherapist", "apa_teacher"], "disability_families": ["moteur", "psychique"],
        "activity_types": ["endurance", "strength", "balance"], "accessibility": {"motor_reception": True},
    } | extra
    return msgspec.convert(record, Structure)


@dataclass
class World:
    patient_id: str
    prescriber: Client
    prescriber_token: str
    coordinator_a: Client
    token_a: str
    coordinator_b: Client
    token_b: str
    database: Database


@pytest.fixture
def world(database: Database, client_for: ClientFor) -> Iterator[World]:
    with database.write() as session:
        session.add(Organisation(id="org-mss-b", kind="mss", name="MSS B"))
    save_structures(database, Actor(id="test", role="admin"), [
        _structure("struct-a", "Maison Sport-Santé A (test)"),
        _structure("struct-b", "Maison Sport-Santé B (test)", latitude=48.59, longitude=7.76),
        _structure("struct-c", "Cabinet C sans organisation (test)", kind="apa_practice", latitude=48.6,
                   longitude=7.74),
    ], "test")
    with database.write() as session:
        a = session.get(SportStructure, "struct-a")
        b = session.get(SportStructure, "struct-b")
        assert a is not None and b is not None
        a.organisation_id, b.organisation_id = "org-mss", "org-mss-b"
        first13 = MARK_INS_PREFIX + "123"
        now = utcnow()
        session.add(Patient(id="P-SPORT0001", organisation_id="org-centre-a", family_name="Lefort",
                            given_names="Aline", birth_date=dt.date(1985, 5, 3), sex="F", ins=first13 + nir_key(first13),
                            commune_insee="67482", phone="0612345678", email="aline@example.org",
                            address_line="1 rue du Test", search_key=fold("Lefort Aline"), created_by="test",
                            created_at=now, updated_at=now))
        session.flush()
        session.add(Assessment(id=new_id("A"), patient_id="P-SPORT0001", scale_code="phq9", scale_version="1",
                               administered_at=now, source="clinician", entered_by="test", items=[3] * 9, total=27,
                               band=MARK_BAND, subscores={}, alerts=[], prorated=False, created_at=now))
    prescriber, token = client_for("psychiatrist")
    record_triage(database, Actor(id="U-test", role="psychiatrist", organisation_id="org-centre-a"), "P-SPORT0001",
                  {"diagnosis": "bipolar_ii", "psychotic_features": False, "catatonia": False, "suicide_risk": "none",
                   "failed_adequate_trials": 1, "episode_months": 8, "anxiety_comorbidity": False,
                   "substance_use": [], "mood_stabilizer": True, "safety_findings": [], "medications": ["lithium"],
                   "patient_preference": "none"},
                  override_orientation="not_eligible_safety",
                  override_reason=f"{MARK_TRIAGE} written reason long enough for the override")
    coordinator_a, token_a = client_for("coordinator", email="coord-a@test.parcours.fr", organisation_id="org-mss")
    coordinator_b, token_b = client_for("coordinator", email="coord-b@test.parcours.fr", organisation_id="org-mss-b")
    yield World("P-SPORT0001", prescriber, token, coordinator_a, token_a, coordinator_b, token_b, database)


PRESCRIPTION_FORM = {
    "prescriber_is_physician": "yes", "prescriber_involved_in_care": "yes", "below_who_recommendations": "yes",
    "cannot_progress_alone": "yes", "ald": "no", "chronic_disease": "yes", "patient_agrees": "yes",
    "risk_factors": ["sedentary", "other"], "risk_factor_other_text": f"{MARK_RISK} sommeil",
    "severe_criteria": ["cereb_anxiety_depression"], "prescribed_on": dt.date.today().isoformat(),
    "activity_types": ["endurance", "strength"], "intensity": "moderate", "sessions_per_week_min": "2",
    "sessions_per_week_max": "3", "session_minutes_min": "45", "session_minutes_max": "60", "programme_months": "3",
    "renewable": "on", "goals": "Marcher 30 minutes sans s'arrêter", "precautions": "Reprise progressive",
    "disability_families": ["psychique"], "medical_notes": f"{MARK_NOTES} trouble bipolaire de type II, rTMS en cours",
}


def _post(client: Client, token: str, path: str, data: dict[str, object] | None = None,
          headers: dict[str, str] | None = None) -> object:
    return client.post(path, data={"_csrf_token": token, **(data or {})}, headers=headers or {},
                       follow_redirects=False)


def _prescribe(world: World) -> str:
    response = world.prescriber.post(f"/patients/{world.patient_id}/sport/prescribe",
                                     data={"_csrf_token": world.prescriber_token, **PRESCRIPTION_FORM},
                                     follow_redirects=False)
    assert response.status_code == 303, response.text
    return response.headers["location"].rsplit("/", 1)[1]


def _draft(world: World, prescription_id: str, structure_id: str = "struct-a") -> str:
    response = world.prescriber.post(f"/sport/prescriptions/{prescription_id}/referrals",
                                     data={"_csrf_token": world.prescriber_token, "structure_id": structure_id},
                                     follow_redirects=False)
    assert response.status_code == 303, response.text
    return response.headers["location"].rsplit("/", 1)[1]


def _version(client: Client, path: str) -> str:
    match = re.search(r'name="version" value="(\d+)"', client.get(path).text)
    assert match, f"no version on {path}"
    return match.group(1)


def _consent(world: World, referral_id: str, scopes: list[str]) -> None:
    response = world.prescriber.post(f"/sport/referrals/{referral_id}/consent",
                                     data={"_csrf_token": world.prescriber_token, "scopes": scopes,
                                           "granted_by": "patient", "collection_mode": "oral_recorded"},
                                     follow_redirects=False)
    assert response.status_code == 303, response.text


def _send(world: World, referral_id: str) -> int:
    version = _version(world.prescriber, f"/sport/referrals/{referral_id}")
    response = world.prescriber.post(f"/sport/referrals/{referral_id}/send",
                                     data={"_csrf_token": world.prescriber_token, "version": version},
                                     follow_redirects=False)
    return response.status_code


def _sent_referral(world: World, scopes: list[str] | None = None) -> str:
    prescription_id = _prescribe(world)
    referral_id = _draft(world, prescription_id)
    _consent(world, referral_id, scopes or ["share_referral", "share_contact_phone", "share_reports_with_prescriber"])
    assert _send(world, referral_id) == 303
    return referral_id


def _coord_post(client: Client, token: str, referral_id: str, action: str, data: dict[str, object]) -> int:
    response = client.post(f"/sport/inbox/{referral_id}/{action}", data={"_csrf_token": token, **data},
                           follow_redirects=False)
    return response.status_code


def test_the_prescription_page_lists_fitting_structures_with_reasons(world: World) -> None:
    prescription_id = _prescribe(world)
    page = world.prescriber.get(f"/sport/prescriptions/{prescription_id}")
    assert page.status_code == 200
    assert "Maison Sport-Santé A (test)" in page.text and "m1_supervision_ok" in page.text
    assert world.prescriber.get(f"/sport/prescriptions/{prescription_id}/print").status_code == 200
    preview = world.prescriber.post(f"/patients/{world.patient_id}/sport/prescribe/preview",
                                    data={"_csrf_token": world.prescriber_token, **PRESCRIPTION_FORM},
                                    headers={"HX-Request": "true"})
    assert preview.status_code == 200 and 'id="live-level"' in preview.text


def test_signing_an_incomplete_prescription_names_every_field(world: World) -> None:
    response = world.prescriber.post(f"/patients/{world.patient_id}/sport/prescribe",
                                     data={"_csrf_token": world.prescriber_token, "prescribed_on": "2020-01-01"})
    assert response.status_code == 422
    for field in ("prescriber_is_physician", "patient_agrees", "goals", "intensity"):
        assert f'href="#field-{field}"' in response.text


def test_no_referral_leaves_without_consent(world: World) -> None:
    referral_id = _draft(world, _prescribe(world))
    assert _send(world, referral_id) == 422
    page = world.prescriber.get(f"/sport/referrals/{referral_id}")
    assert "Draft" in page.text or "Brouillon" in page.text or "draft" in page.text
    # Neither coordinator sees a draft, by any route.
    for client in (world.coordinator_a, world.coordinator_b):
        assert referral_id not in client.get("/sport/inbox?status=all").text
        assert client.get(f"/sport/inbox/{referral_id}").status_code == 404
    # A consent for another structure does not count (C-1).
    other = _draft(world, _prescribe(world), "struct-b")
    _consent(world, other, ["share_referral"])
    assert _send(world, referral_id) == 422
    with world.database.read() as session:
        detail = session.get(SportReferralDetail, referral_id)
        assert detail is not None and detail.status == "draft" and detail.sent_at is None


def test_a_referral_to_a_structure_without_organisation_gets_one(world: World) -> None:
    referral_id = _draft(world, _prescribe(world), "struct-c")
    with world.database.read() as session:
        detail = session.get(SportReferralDetail, referral_id)
        assert detail is not None and detail.recipient_organisation_id == "org-struct-c"
        assert session.get(Organisation, "org-struct-c") is not None


def test_coordinator_of_another_structure_cannot_read_or_act(world: World) -> None:
    referral_id = _sent_referral(world)
    b, token = world.coordinator_b, world.token_b
    assert referral_id not in b.get("/sport/inbox?status=all").text
    assert referral_id not in b.get("/sport/inbox?status=all&q=Lefort", headers={"HX-Request": "true",
                                                                               "HX-Target": "inbox-results"}).text
    assert b.get(f"/sport/inbox/{referral_id}").status_code == 404
    for action, data in (("accept", {"version": "1"}), ("decline", {"version": "1", "reason_code": "no_capacity"}),
                         ("book", {"version": "1", "planned_on": dt.date.today().isoformat()}),
                         ("attendance", {"version": "1", "kind": "session", "attended": "yes",
                                         "session_on": dt.date.today().isoformat()}),
                         ("reports", {"version": "1", "report_type": "initial_assessment"}),
                         ("complete", {"version": "1"}), ("stop", {"version": "1", "target": "cancelled",
                                                                   "reason_code": "duplicate"}),
                         ("resume", {"version": "1"})):
        assert _coord_post(b, token, referral_id, action, data) == 404, action
    # Coordinator A accepts and records a report; B still cannot download it.
    a = world.coordinator_a
    assert a.get(f"/sport/inbox/{referral_id}").status_code == 200
    assert _coord_post(a, world.token_a, referral_id, "accept",
                       {"version": _version(a, f"/sport/inbox/{referral_id}")}) == 303
    report = {"version": _version(a, f"/sport/inbox/{referral_id}"), "report_type": "initial_assessment",
              "performed_on": dt.date.today().isoformat(), "performer_profession": "physiotherapist",
              "six_minute_walk_m": "420"}
    assert _coord_post(a, world.token_a, referral_id, "reports", report) == 303
    with world.database.read() as session:
        report_id = session.scalar(select(SportReport.id).where(SportReport.referral_id == referral_id))
    assert a.get(f"/sport/inbox/{referral_id}/reports/{report_id}").status_code == 200
    assert b.get(f"/sport/inbox/{referral_id}/reports/{report_id}").status_code == 404
    # Prescriber routes are closed to coordinators (guard) whatever the referral.
    assert a.get(f"/sport/referrals/{referral_id}").status_code == 403


def test_psychiatric_data_never_reaches_a_coordinator(world: World) -> None:
    referral_id = _sent_referral(world, ["share_referral", "share_contact_phone", "share_address",
                                         "share_contact_email", "share_reports_with_prescriber"])
    a, token = world.coordinator_a, world.token_a
    pages = [a.get("/sport/inbox"), a.get("/sport/inbox?status=all&q=lef",
                                            headers={"HX-Request": "true", "HX-Target": "inbox-results"}),
             a.get(f"/sport/inbox/{referral_id}")]
    assert _coord_post(a, token, referral_id, "accept", {"version": _version(a, f"/sport/inbox/{referral_id}")}) == 303
    assert _coord_post(a, token, referral_id, "decline", {"version": "1"}) in (404, 409, 422)
    report = {"version": _version(a, f"/sport/inbox/{referral_id}"), "report_type": "initial_assessment",
              "performed_on": dt.date.today().isoformat(), "performer_profession": "physiotherapist"}
    assert _coord_post(a, token, referral_id, "reports", report) == 303
    with world.database.read() as session:
        report_id = session.scalar(select(SportReport.id).where(SportReport.referral_id == referral_id))
    pages += [a.get(f"/sport/inbox/{referral_id}"), a.get(f"/sport/inbox/{referral_id}/reports/{report_id}")]
    ins = MARK_INS_PREFIX
    for response in pages:
        assert response.status_code == 200
        body = response.text
        assert "Lefort" in body or "/reports/" in str(response.request.url)
        for marker in (*MARKERS, *SEVERE_ITEM_WORDS, ins):
            assert marker not in body, f"{marker!r} leaked into {response.request.url}"
    # The consented contact channel is there; the full birth date is not (C-3).
    detail = pages[-2].text
    assert "0612345678" in detail and "1985" in detail and "03/05/1985" not in detail and "3 mai 1985" not in detail


def test_decline_without_reason_is_422_naming_the_field(world: World) -> None:
    referral_id = _sent_referral(world)
    a = world.coordinator_a
    version = _version(a, f"/sport/inbox/{referral_id}")
    response = a.post(f"/sport/inbox/{referral_id}/decline", data={"_csrf_token": world.token_a, "version": version})
    assert response.status_code == 422
    assert 'href="#field-reason_code"' in response.text
    other = a.post(f"/sport/inbox/{referral_id}/decline",
                   data={"_csrf_token": world.token_a, "version": version, "reason_code": "other", "reason_text": "x"})
    assert other.status_code == 422 and 'href="#field-reason_text"' in other.text
    ok = a.post(f"/sport/inbox/{referral_id}/decline",
                data={"_csrf_token": world.token_a, "version": version, "reason_code": "no_capacity"},
                follow_redirects=False)
    assert ok.status_code == 303
    with world.database.read() as session:
        detail = session.get(SportReferralDetail, referral_id)
        assert detail is not None and detail.status == "declined" and detail.decline_reason == "no_capacity"
        assert detail.decided_at is not None and detail.closed_at is not None
    prescriber_page = world.prescriber.get(f"/sport/referrals/{referral_id}").text
    assert "No capacity" in prescriber_page or "Pas de place" in prescriber_page


def test_a_stale_form_is_refused_with_409(world: World) -> None:
    referral_id = _sent_referral(world)
    a = world.coordinator_a
    stale = _version(a, f"/sport/inbox/{referral_id}")
    assert _coord_post(a, world.token_a, referral_id, "accept", {"version": stale}) == 303
    assert _coord_post(a, world.token_a, referral_id, "book",
                       {"version": stale, "planned_on": dt.date.today().isoformat()}) == 409
    cancel = world.prescriber.post(f"/sport/referrals/{referral_id}/cancel",
                                   data={"_csrf_token": world.prescriber_token, "version": "1",
                                         "reason_code": "patient_withdrew"}, follow_redirects=False)
    assert cancel.status_code == 409


def test_full_lifecycle_closes_the_loop_only_with_consent(world: World) -> None:
    referral_id = _sent_referral(world, ["share_referral"])
    a, token = world.coordinator_a, world.token_a
    path = f"/sport/inbox/{referral_id}"
    assert _coord_post(a, token, referral_id, "accept", {"version": _version(a, path)}) == 303
    today = dt.date.today().isoformat()
    assert _coord_post(a, token, referral_id, "book", {"version": _version(a, path), "planned_on": today}) == 303
    assert _coord_post(a, token, referral_id, "attendance", {"version": _version(a, path), "kind": "session",
                                                             "attended": "yes", "session_on": today}) == 303
    for kind in ("initial_assessment", "final_assessment"):
        assert _coord_post(a, token, referral_id, "reports", {
            "version": _version(a, path), "report_type": kind, "performed_on": today,
            "performer_profession": "apa_teacher", "six_minute_walk_m": "400", "ricci_gagnon_score": "20",
            "motivation_stage": "action", "weekly_activity_minutes": "90"}) == 303
    assert _coord_post(a, token, referral_id, "complete", {"version": _version(a, path)}) == 303
    with world.database.read() as session:
        detail = session.get(SportReferralDetail, referral_id)
        assert detail is not None and detail.status == "completed" and detail.first_session_at is not None
        reports = session.scalars(select(SportReport).where(SportReport.referral_id == referral_id)).all()
        assert {r.ricci_gagnon_band for r in reports} == {"active"}
        assert not any(r.shared_with_prescriber for r in reports)
        audited = session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == referral_id)).all()
        assert "read" in audited and "transition" in audited
    page = world.prescriber.get(f"/sport/referrals/{referral_id}").text
    assert "400" not in page  # reports withheld without share_reports_with_prescriber (C-2)
    _consent_reports = world.prescriber.post(
        f"/sport/referrals/{referral_id}/consent",
        data={"_csrf_token": world.prescriber_token, "scopes": ["share_reports_with_prescriber"],
              "granted_by": "patient", "collection_mode": "electronic"}, follow_redirects=False)
    # A closed referral takes no new consent; the patient's report consent is recorded on an open one.
    assert _consent_reports.status_code == 409


def test_withdrawing_the_sharing_consent_cancels_and_hides_the_referral(world: World) -> None:
    referral_id = _sent_referral(world)
    page = world.prescriber.get(f"/sport/referrals/{referral_id}").text
    consent_ids = re.findall(r"/consents/(C-[0-9A-Z]+)/withdraw", page)
    assert consent_ids
    for consent_id in consent_ids:
        response = world.prescriber.post(f"/sport/referrals/{referral_id}/consents/{consent_id}/withdraw",
                                         data={"_csrf_token": world.prescriber_token}, follow_redirects=False)
        assert response.status_code == 303
    with world.database.read() as session:
        detail = session.get(SportReferralDetail, referral_id)
        assert detail is not None and detail.status == "cancelled" and detail.close_reason == "consent_withdrawn"
    stub = world.coordinator_a.get(f"/sport/inbox/{referral_id}")
    assert stub.status_code == 200 and "Lefort" not in stub.text and "0612345678" not in stub.text
    assert "Lefort" not in world.coordinator_a.get("/sport/inbox?status=all").text


def test_every_sport_label_has_french_text() -> None:
    from parcours_web import sport_labels
    from parcours_web.i18n import load_translators

    french = load_translators()["fr"]
    missing = [label for labels in sport_labels.OWN_LABELS for label in labels.values()
               if french.gettext(label) == label]
    assert missing == []


def test_an_operator_reads_but_cannot_sign_or_send(world: World, client_for: ClientFor) -> None:
    prescription_id = _prescribe(world)
    operator, token = client_for("operator")
    page = operator.get(f"/sport/prescriptions/{prescription_id}")
    assert page.status_code == 200 and "Maison Sport-Santé A (test)" in page.text
    assert 'name="structure_id"' not in page.text  # no referral button for a non-physician
    refused = operator.post(f"/sport/prescriptions/{prescription_id}/referrals",
                            data={"_csrf_token": token, "structure_id": "struct-a"}, follow_redirects=False)
    assert refused.status_code == 403


def test_the_inbox_shows_a_page_and_appends_the_next_one(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from sport_referral import referral_service

    monkeypatch.setattr(referral_service, "INBOX_PAGE", 2)
    sent = [_sent_referral(world) for _ in range(3)]
    a = world.coordinator_a
    first = a.get("/sport/inbox")
    assert first.status_code == 200 and "3 orientations" in first.text
    assert sent[2] in first.text and sent[1] in first.text and sent[0] not in first.text
    next_url = f"/sport/inbox?status=open&q=&after={sent[1]}"
    assert html.escape(next_url) in first.text and "Afficher les orientations suivantes" in first.text
    appended = a.get(next_url, headers={"HX-Request": "true"})
    assert appended.status_code == 200 and "<html" not in appended.text and "<tr>" in appended.text
    assert sent[0] in appended.text and sent[1] not in appended.text and "orientations suivantes" not in appended.text
    page_of_its_own = a.get(next_url)
    assert "<html" in page_of_its_own.text and sent[0] in page_of_its_own.text
    assert "Revenir aux plus récentes" in page_of_its_own.text
