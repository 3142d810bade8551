"""rTMS intake and pathway over HTTP: referral in, centre queue, triage outcome back to the referrer,
closing a course with the letter and follow-ups, FHIR export; scoping per referrer, roles, audit, 422s."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from rtms_pathway.intake_tables import CourseOutcome, FollowUp, ReferralDetail
from rtms_pathway.tables import Course, PlannedSessionRow
from shared_core.actors import Actor
from shared_core.db import Database, utcnow
from shared_core.scales import load_catalogue
from shared_core.services.assessments import record_assessment
from shared_core.tables import AuditEvent, Patient, Referral

pytestmark = pytest.mark.db
Client = Callable[..., tuple[TestClient[Litestar], str]]
REFERRAL = {"recipient_organisation_id": "org-centre-a", "family_name": "Adressé", "given_names": "Jeanne",
            "birth_date": "1972-03-04", "sex": "F", "episode_start": "2026-01", "reason": "Épisode dépressif résistant",
            "clinical_summary": "Deux antidépresseurs à dose efficace sans réponse.",
            "current_treatment": "Venlafaxine 225 mg", "past_trials": "Sertraline 150 mg 8 semaines",
            "question": "Indication de rTMS ?", "urgency": "soon"}
TRIAGE = {"diagnosis": "unipolar", "psychotic_features": "no", "catatonia": "no", "anxiety_comorbidity": "no",
          "mood_stabilizer": "no", "suicide_risk": "none", "failed_adequate_trials": "2", "episode_months": "8",
          "patient_preference": "none", "medications": ""}
LOCATION = re.compile(r"/referrals/(R-[0-9A-Z]+)$")


def _send(client: TestClient[Litestar], token: str, **changes: str) -> str:
    response = client.post("/referrals", data=REFERRAL | changes | {"_csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303, response.text
    match = LOCATION.search(response.headers["location"])
    assert match
    return match.group(1)


def _patient_of(database: Database, referral_id: str) -> str:
    with database.read() as session:
        referral = session.get(Referral, referral_id)
        assert referral is not None
        return referral.patient_id


def _actions(database: Database, patient_id: str) -> list[tuple[str, str, str]]:
    with database.read() as session:
        return [(e.actor_role, e.action, e.object_type) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.patient_id == patient_id).order_by(AuditEvent.id))]


def test_referral_reaches_the_queue_and_the_triage_outcome_goes_back(client_for: Client, database: Database) -> None:
    referrer, r_token = client_for("referrer")
    referral = _send(referrer, r_token)
    page = referrer.get(f"/referrals/{referral}")
    assert page.status_code == 200 and "Jeanne" in page.text and "Reçue" in page.text
    patient = _patient_of(database, referral)
    with database.read() as session:
        stored = session.get(Patient, patient)
        assert stored is not None and stored.organisation_id == "org-centre-a"

    centre, c_token = client_for("psychiatrist")
    queue = centre.get("/intake")
    assert queue.status_code == 200 and f"/intake/{referral}" in queue.text and "rapide" in queue.text
    partial = centre.get("/intake?status=received&q=adre", headers={"HX-Request": "true", "HX-Target": "intake-results"})
    assert "<html" not in partial.text and f"/intake/{referral}" in partial.text
    assert f"/intake/{referral}" not in centre.get("/intake?status=declined").text
    detail = centre.get(f"/intake/{referral}")
    assert detail.status_code == 200 and f"/patients/{patient}/triage" in detail.text

    signed = centre.post(f"/patients/{patient}/triage", data=TRIAGE | {"_csrf_token": c_token},
                         follow_redirects=False)
    assert signed.status_code == 303
    with database.read() as session:
        referral_row = session.get(Referral, referral)
        detail_row = session.get(ReferralDetail, referral)
        assert referral_row is not None and referral_row.status == "accepted"
        assert detail_row is not None and detail_row.triage_id is not None

    outcome = referrer.get(f"/referrals/{referral}")
    assert "orientation--rtms_indicated" in outcome.text
    assert "Acceptée" in outcome.text and "(domain-rtms" in outcome.text
    assert "failed_adequate_trials" not in outcome.text  # the triage answers stay at the centre
    listing = referrer.get("/referrals")
    assert f"/referrals/{referral}" in listing.text and "Acceptée" in listing.text
    actions = _actions(database, patient)
    assert ("referrer", "create", "referral") in actions and ("referrer", "read", "referral") in actions
    assert ("psychiatrist", "read", "referral") in actions and ("psychiatrist", "transition", "referral") in actions


def test_a_referrer_never_sees_another_referrers_referrals(client_for: Client, database: Database) -> None:
    first, first_token = client_for("referrer", email="x@cabinet.fr")
    second, second_token = client_for("referrer", email="y@cabinet.fr")  # same practice, another person
    referral = _send(first, first_token)
    patient = _patient_of(database, referral)
    assert f"/referrals/{referral}" not in second.get("/referrals").text
    for path in (f"/referrals/{referral}", f"/referrals/{referral}/letter"):
        assert second.get(path).status_code == 404, path
    moved = second.post(f"/referrals/{referral}/transition", data={
        "_csrf_token": second_token, "target": "cancelled", "version": "1", "reason_code": "duplicate"})
    assert moved.status_code == 404
    for path in (f"/intake/{referral}", f"/patients/{patient}", f"/patients/{patient}/pathway", "/intake",
                 f"/patients/{patient}/triage", f"/patients/{patient}/courses"):
        assert second.get(path).status_code == 403, path
    with database.read() as session:
        referral_row = session.get(Referral, referral)
        assert referral_row is not None and referral_row.status == "received"
    # The other centre does not see it either.
    other_centre, _ = client_for("psychiatrist", email="b@centre-b.fr", organisation_id="org-centre-b")
    assert other_centre.get(f"/intake/{referral}").status_code == 404
    assert f"/intake/{referral}" not in other_centre.get("/intake?status=").text
    # The sender cancels their own referral with a reason.
    cancelled = first.post(f"/referrals/{referral}/transition", data={
        "_csrf_token": first_token, "target": "cancelled", "version": "1", "reason_code": "duplicate"},
        follow_redirects=False)
    assert cancelled.status_code == 303


def test_every_bad_field_is_named_with_422(client_for: Client, database: Database) -> None:
    referrer, token = client_for("referrer")
    blank = referrer.post("/referrals", data={"_csrf_token": token, "urgency": ""})
    assert blank.status_code == 422
    for field in ("recipient_organisation_id", "family_name", "given_names", "birth_date", "sex", "reason",
                  "clinical_summary", "current_treatment", "question", "urgency"):
        assert f'href="#field-{field}"' in blank.text, field
    bad = referrer.post("/referrals", data=REFERRAL | {"_csrf_token": token, "recipient_organisation_id": "org-mss",
                                                       "episode_start": "2099-01-01", "urgency": "tomorrow"})
    assert bad.status_code == 422
    assert 'href="#field-episode_start"' in bad.text and 'href="#field-urgency"' in bad.text
    wrong_centre = referrer.post("/referrals", data=REFERRAL | {"_csrf_token": token,
                                                                "recipient_organisation_id": "org-mss"})
    assert wrong_centre.status_code == 422 and 'href="#field-recipient_organisation_id"' in wrong_centre.text
    with database.read() as session:
        assert session.scalars(select(Referral)).all() == []

    centre, c_token = client_for("psychiatrist")
    missing = centre.post("/intake", data={"_csrf_token": c_token, "patient_id": "P-NOPE"})
    assert missing.status_code == 422 and 'href="#field-referrer_name"' in missing.text
    assert 'href="#field-patient_id"' not in missing.text  # checked only once the rest is valid
    referral = _send(referrer, token)
    no_reason = centre.post(f"/intake/{referral}/transition", data={
        "_csrf_token": c_token, "target": "redirected", "version": "1"})
    assert no_reason.status_code == 422 and 'href="#field-reason_code"' in no_reason.text
    other = centre.post(f"/intake/{referral}/transition", data={
        "_csrf_token": c_token, "target": "declined", "version": "1", "reason_code": "other", "reason_text": "non"})
    assert other.status_code == 422 and 'href="#field-reason_text"' in other.text
    stale = centre.post(f"/intake/{referral}/transition", data={
        "_csrf_token": c_token, "target": "triage_scheduled", "version": "7"})
    assert stale.status_code == 409
    scheduled = centre.post(f"/intake/{referral}/transition", data={
        "_csrf_token": c_token, "target": "triage_scheduled", "version": "1"}, follow_redirects=False)
    assert scheduled.status_code == 303
    refused = centre.post(f"/intake/{referral}/transition", data={
        "_csrf_token": c_token, "target": "completed", "version": "2"})
    assert refused.status_code == 409


def test_the_centre_enters_a_referral_for_its_own_patient(client_for: Client, database: Database) -> None:
    centre, token = client_for("operator")
    created = centre.post("/patients", data={"_csrf_token": token, "family_name": "Connu", "given_names": "Paul",
                                             "birth_date": "1960-05-05", "sex": "M"}, follow_redirects=False)
    patient = created.headers["location"].rsplit("/", 1)[1]
    form = {key: value for key, value in REFERRAL.items() if key not in ("family_name", "given_names", "birth_date",
                                                                         "sex", "recipient_organisation_id")}
    response = centre.post("/intake", data=form | {"_csrf_token": token, "patient_id": patient,
                                                   "referrer_name": "Dr Martin, cabinet du centre-ville"},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/intake/R-")
    with database.read() as session:
        referral = session.scalars(select(Referral)).one()
        detail = session.get(ReferralDetail, referral.id)
        assert referral.patient_id == patient and detail is not None and detail.referrer_user_id is None
        assert detail.family_name == "Connu"


@pytest.mark.parametrize("role", ["coordinator", "observer", "admin"])
def test_roles_outside_the_pathway_are_refused(client_for: Client, role: str) -> None:
    client, token = client_for(role)
    for path in ("/intake", "/intake/new", "/intake/R-X", "/referrals", "/referrals/new", "/referrals/R-X",
                 "/referrals/R-X/letter", "/patients/P-X/pathway", "/patients/P-X/pathway/courses/C-X/letter",
                 "/patients/P-X/pathway/courses/C-X/fhir.json", "/patients/P-X/triage", "/patients/P-X/courses"):
        assert client.get(path).status_code == 403, path
    for path in ("/intake", "/referrals", "/intake/R-X/transition", "/referrals/R-X/transition",
                 "/patients/P-X/pathway/courses/C-X/close", "/patients/P-X/pathway/follow-ups/F-X"):
        assert client.post(path, data={"_csrf_token": token}).status_code == 403, path


def _delivered_course(database: Database, patient: str, first: dt.date, sessions: int) -> str:
    """A 20-session course whose sessions were all delivered (what helper A's session pages record)."""
    with database.write() as session:
        course = Course(id="CO-TEST0001", patient_id=patient, course_number=1, protocol_ref="hf_left_10hz@1",
                        status="active", start_date=first, induction_sessions=sessions, created_by="test")
        session.add(course)
        session.flush()
        day = first
        for number in range(1, sessions + 1):
            while day.weekday() >= 5:
                day += dt.timedelta(days=1)
            session.add(PlannedSessionRow(id=f"PS-T{number:04d}", course_id=course.id, number=number, date=day,
                                          slot=1, phase="induction", status="delivered"))
            day += dt.timedelta(days=1)
    return "CO-TEST0001"


def test_closing_a_course_issues_the_letter_and_follow_ups(client_for: Client, database: Database) -> None:
    referrer, r_token = client_for("referrer")
    referral = _send(referrer, r_token)
    patient = _patient_of(database, referral)
    centre, token = client_for("psychiatrist")
    centre.post(f"/patients/{patient}/triage", data=TRIAGE | {"_csrf_token": token})
    first = (utcnow() - dt.timedelta(days=45)).date()
    course = _delivered_course(database, patient, first, 20)
    catalogue = load_catalogue()
    actor = Actor("test-physician", "psychiatrist", "org-centre-a")
    noon = dt.time(12, tzinfo=dt.UTC)
    record_assessment(database, actor, catalogue, patient, "madrs", [4, 4, 3, 4, 2, 4, 3, 3, 3, 2],
                      administered_at=dt.datetime.combine(first - dt.timedelta(days=2), noon))
    record_assessment(database, actor, catalogue, patient, "madrs", [1, 1, 2, 1, 1, 1, 1, 1, 0, 0],
                      administered_at=dt.datetime.combine(first + dt.timedelta(days=27), noon))
    gad = record_assessment(database, actor, catalogue, patient, "gad7", [2, 2, 2, 2, 1, 1, 2],
                            administered_at=dt.datetime.combine(first + dt.timedelta(days=27), noon))

    page = centre.get(f"/patients/{patient}/pathway")
    assert page.status_code == 200 and "Clore la cure" in page.text and "checkpoint-line" in page.text
    assert "response-line" in page.text
    operator, o_token = client_for("operator")
    assert "Clore la cure" not in operator.get(f"/patients/{patient}/pathway").text
    assert operator.post(f"/patients/{patient}/pathway/courses/{course}/close",
                         data={"_csrf_token": o_token}).status_code == 403

    bad = centre.post(f"/patients/{patient}/pathway/courses/{course}/close", data={
        "_csrf_token": token, "course_status": "stopped_early", "maintenance_plan": "classic", "version": "1"})
    assert bad.status_code == 422
    assert 'href="#field-stop_reason"' in bad.text and 'href="#field-maintenance_template"' in bad.text
    closed = centre.post(f"/patients/{patient}/pathway/courses/{course}/close", data={
        "_csrf_token": token, "course_status": "completed", "maintenance_plan": "classic",
        "maintenance_template": "M-OREARDON", "clinician_comment": "Bonne tolérance.", "version": "1"},
        follow_redirects=False)
    assert closed.status_code == 303
    again = centre.post(f"/patients/{patient}/pathway/courses/{course}/close", data={
        "_csrf_token": token, "course_status": "completed", "maintenance_plan": "none", "version": "2"})
    assert again.status_code == 409
    with database.read() as session:
        outcome = session.get(CourseOutcome, course)
        follow_ups = session.scalars(select(FollowUp).where(FollowUp.course_id == course)
                                     .order_by(FollowUp.months_after_end)).all()
        referral_row = session.get(Referral, referral)
        course_row = session.get(Course, course)
    assert outcome is not None and outcome.outcome_status == "remission" and outcome.referral_id == referral
    assert [f.months_after_end for f in follow_ups] == [1, 3, 6, 12]
    assert referral_row is not None and referral_row.status == "completed"
    assert course_row is not None and course_row.status == "completed"

    letter = centre.get(f"/patients/{patient}/pathway/courses/{course}/letter")
    assert letter.status_code == 200 and "rtms_pathway.css" in letter.text and "M-OREARDON" in letter.text
    assert "Psychiatrist, " in letter.text  # signed by the physician who closed the course
    assert "anxiété résiduelle" in letter.text  # R-MBC-08 paragraph: GAD-7 = 12 at the end
    assert 'style="' not in letter.text
    own = referrer.get(f"/referrals/{referral}")
    assert f"/referrals/{referral}/letter" in own.text
    assert referrer.get(f"/referrals/{referral}/letter").status_code == 200

    follow_up = follow_ups[0]
    missing = centre.post(f"/patients/{patient}/pathway/follow-ups/{follow_up.id}", data={
        "_csrf_token": token, "status": "done", "version": str(follow_up.version)})
    assert missing.status_code == 422 and 'href="#field-assessment_id"' in missing.text
    done = centre.post(f"/patients/{patient}/pathway/follow-ups/{follow_up.id}", data={
        "_csrf_token": token, "status": "done", "assessment_id": gad.id, "version": str(follow_up.version)},
        follow_redirects=False)
    assert done.status_code == 303

    export = centre.get(f"/patients/{patient}/pathway/courses/{course}/fhir.json")
    assert export.status_code == 200 and export.headers["content-type"].startswith("application/fhir+json")
    bundle = json.loads(export.text)
    kinds = [entry["resource"]["resourceType"] for entry in bundle["entry"]]
    assert kinds.count("Procedure") == 20 and {"CarePlan", "ServiceRequest", "Task", "Patient"} <= set(kinds)
    codes = {coding["code"] for entry in bundle["entry"] if entry["resource"]["resourceType"] == "Observation"
             for coding in entry["resource"]["code"]["coding"]}
    assert "70274-6" in codes and "madrs-total" in codes

    actions = _actions(database, patient)
    assert ("psychiatrist", "course_closed", "rtms_course") in actions
    assert ("psychiatrist", "read", "rtms_course_letter") in actions
    assert ("referrer", "read", "rtms_course_letter") in actions
    assert ("psychiatrist", "export_fhir", "rtms_course") in actions
    assert ("psychiatrist", "follow_up_done", "rtms_follow_up") in actions


def test_the_referrer_reads_the_request_for_information_but_no_internal_note(client_for: Client) -> None:
    referrer, r_token = client_for("referrer")
    referral = _send(referrer, r_token)
    centre, token = client_for("psychiatrist")
    centre.post(f"/intake/{referral}/transition", data={
        "_csrf_token": token, "target": "more_information_requested", "version": "1",
        "reason_text": "Merci de préciser les doses antérieures."})
    page = referrer.get(f"/referrals/{referral}")
    assert "Merci de préciser les doses antérieures." in page.text and "Transmettre les informations" in page.text
    empty = referrer.post(f"/referrals/{referral}/transition", data={
        "_csrf_token": r_token, "target": "received", "version": "2", "reason_text": ""})
    assert empty.status_code == 422 and 'href="#field-reason_text"' in empty.text
    replied = referrer.post(f"/referrals/{referral}/transition", data={
        "_csrf_token": r_token, "target": "received", "version": "2", "reason_text": "Sertraline 150 mg 8 semaines."},
        follow_redirects=False)
    assert replied.status_code == 303
    assert "Sertraline 150 mg 8 semaines." in centre.get(f"/intake/{referral}").text
    centre.post(f"/intake/{referral}/transition", data={
        "_csrf_token": token, "target": "on_hold", "version": "3", "reason_code": "precondition_pending",
        "reason_text": "Note interne confidentielle"})
    page = referrer.get(f"/referrals/{referral}")
    assert "En attente" in page.text and "précondition à lever" in page.text
    assert "confidentielle" not in page.text
