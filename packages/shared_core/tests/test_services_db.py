"""Services against a real database: patients, assessments and alerts, referrals, consents, audit."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from shared_core.actors import Actor
from shared_core.db import Database
from shared_core.errors import Conflict, NotFound, ValidationFailed
from shared_core.rules.workflow import SPORT_REFERRAL_WORKFLOW, TransitionRefused
from shared_core.scales import ScaleCatalogue
from shared_core.services import assessments, audit, consents, patients, referrals
from shared_core.services.audit import AuditFilter, search_audit
from shared_core.tables import Assessment, AuditEvent, SafetyAlert

pytestmark = pytest.mark.db
TODAY = dt.date(2026, 11, 21)


def _input(**overrides: str) -> patients.PatientInput:
    raw = {"family_name": "Dupont", "given_names": "Marie", "birth_date": "1980-05-17", "sex": "F"} | overrides
    return patients.parse_patient_input(raw, TODAY)


def _audit_actions(database: Database, patient_id: str) -> list[str]:
    with database.read() as session:
        return list(session.scalars(select(AuditEvent.action).where(AuditEvent.patient_id == patient_id)
                                    .order_by(AuditEvent.id)))


def test_create_then_read_is_audited(database: Database, clinician: Actor) -> None:
    created = patients.create_patient(database, clinician, _input())
    assert created.id.startswith("P-")
    detail = patients.get_patient(database, clinician, created.id)
    assert detail.family_name == "Dupont"
    assert _audit_actions(database, created.id) == ["create", "read"]


def test_patient_input_reports_every_bad_field() -> None:
    with pytest.raises(ValidationFailed) as failure:
        patients.parse_patient_input({"family_name": "", "given_names": "", "birth_date": "2030-01-01",
                                      "sex": "X", "phone": "12", "email": "nope", "commune_insee": "7505"}, TODAY)
    fields = {error.field for error in failure.value.errors}
    assert fields == {"family_name", "given_names", "birth_date", "sex", "phone", "email", "commune_insee"}


def test_ins_key_and_consistency_are_checked() -> None:
    with pytest.raises(ValidationFailed) as failure:
        _input(ins="280056748200123")  # key wrong
    assert failure.value.errors[0].field == "ins"
    first13 = "2800567482001"
    key = f"{97 - int(first13) % 97:02d}"
    assert _input(ins=first13 + key).ins == first13 + key
    with pytest.raises(ValidationFailed, match="Invalid input") as mismatch:
        _input(ins=first13 + key, sex="M")
    assert any("sex" in error.message for error in mismatch.value.errors)


def test_duplicate_ins_is_refused(database: Database, clinician: Actor) -> None:
    first13 = "2800567482001"
    ins = first13 + f"{97 - int(first13) % 97:02d}"
    patients.create_patient(database, clinician, _input(ins=ins))
    with pytest.raises(ValidationFailed) as failure:
        patients.create_patient(database, clinician, _input(ins=ins, given_names="Other"))
    assert failure.value.errors[0].field == "ins"


def test_second_writer_gets_a_conflict(database: Database, clinician: Actor) -> None:
    created = patients.create_patient(database, clinician, _input())
    patients.update_patient(database, clinician, created.id, created.version, _input(phone="0601020304"))
    with pytest.raises(Conflict):
        patients.update_patient(database, clinician, created.id, created.version, _input(phone="0699999999"))
    assert patients.get_patient(database, clinician, created.id).phone == "0601020304"


def test_other_centres_patients_do_not_exist(database: Database, clinician: Actor, other_centre_clinician: Actor,
                                             catalogue: ScaleCatalogue) -> None:
    created = patients.create_patient(database, clinician, _input())
    with pytest.raises(NotFound):
        patients.get_patient(database, other_centre_clinician, created.id)
    with pytest.raises(NotFound):
        assessments.record_assessment(database, other_centre_clinician, catalogue, created.id, "phq9", [0] * 9)
    assert patients.search_patients(database, other_centre_clinician, "dupont", 1).total == 0


def test_search_by_prefix_id_and_paging(database: Database, clinician: Actor) -> None:
    ids = [patients.create_patient(database, clinician, _input(family_name=f"Müller{i:02d}")).id for i in range(30)]
    patients.create_patient(database, clinician, _input(family_name="Zola"))
    page = patients.search_patients(database, clinician, "mull", 2, page_size=25)
    assert (page.total, len(page.rows), page.page) == (30, 5, 2)
    assert patients.search_patients(database, clinician, "MÜLLER05", 1).rows[0].family_name == "Müller05"
    assert patients.search_patients(database, clinician, ids[3].lower(), 1).rows[0].id == ids[3]


def test_search_by_ins_and_id_stays_in_the_centre(database: Database, clinician: Actor,
                                                  other_centre_clinician: Actor) -> None:
    first13 = "2800567482002"
    ins = first13 + f"{97 - int(first13) % 97:02d}"
    created = patients.create_patient(database, clinician, _input(ins=ins))
    spaced = " ".join((ins[:1], ins[1:3], ins[3:5], ins[5:7], ins[7:10], ins[10:13], ins[13:]))
    assert [row.id for row in patients.search_patients(database, clinician, spaced, 1).rows] == [created.id]
    assert patients.search_patients(database, other_centre_clinician, ins, 1).total == 0
    assert patients.search_patients(database, other_centre_clinician, created.id, 1).total == 0


def test_assessment_with_suicidal_item_records_an_alert(database: Database, clinician: Actor,
                                                        catalogue: ScaleCatalogue) -> None:
    patient = patients.create_patient(database, clinician, _input())
    view = assessments.record_assessment(database, clinician, catalogue, patient.id, "phq9", [2, 3, 2, 2, 1, 2, 1, 1, 1])
    assert (view.total, view.band, view.alerts) == (15, "moderately_severe", ["suicidal_ideation"])
    with database.read() as session:
        alert = session.scalars(select(SafetyAlert)).one()
    assert alert.assessment_id == view.id and alert.acknowledged_at is None
    overview = assessments.patient_overview(database, clinician, catalogue, patient.id)
    assert [a.code for a in overview.open_alerts] == ["suicidal_ideation"]
    assessments.acknowledge_alert(database, clinician, patient.id, alert.id, "C-SSRS done, low risk")
    assert assessments.patient_overview(database, clinician, catalogue, patient.id).open_alerts == []
    assert "alert_raised" in _audit_actions(database, patient.id)


def test_invalid_items_write_nothing(database: Database, clinician: Actor, catalogue: ScaleCatalogue) -> None:
    patient = patients.create_patient(database, clinician, _input())
    with pytest.raises(ValidationFailed) as failure:
        assessments.record_assessment(database, clinician, catalogue, patient.id, "phq9", [0, 4, 0, 0, 0, 0, 0, 0, 9])
    assert [e.field for e in failure.value.errors] == ["items[1]", "items[8]"]
    with database.read() as session:
        assert session.scalars(select(Assessment)).all() == []


def test_change_from_baseline_and_status(database: Database, clinician: Actor, catalogue: ScaleCatalogue) -> None:
    patient = patients.create_patient(database, clinician, _input())
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    madrs = catalogue.get("madrs")
    assessments.record_assessment(database, clinician, catalogue, patient.id, "madrs", [4, 4, 3, 4, 2, 4, 3, 3, 3, 2],
                                  administered_at=start)
    latest = assessments.record_assessment(database, clinician, catalogue, patient.id, "madrs",
                                           [1, 1, 2, 1, 1, 1, 1, 1, 0, 0])
    detail = assessments.get_assessment(database, clinician, catalogue, patient.id, latest.id)
    assert detail.change is not None
    assert (detail.change.baseline_total, detail.change.delta) == (32, -23)
    assert detail.change.improvement_pct == 71.9
    assert detail.change.status == "remission"  # 9 <= MADRS cut-off 10
    assert [p.total for p in detail.points] == [32, 9]
    assert madrs.remission_max == 10


def test_future_administration_is_refused(database: Database, clinician: Actor, catalogue: ScaleCatalogue) -> None:
    patient = patients.create_patient(database, clinician, _input())
    with pytest.raises(ValidationFailed):
        assessments.record_assessment(database, clinician, catalogue, patient.id, "gad7", [0] * 7,
                                      administered_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))


def test_referral_moves_along_the_workflow_with_history(database: Database, clinician: Actor) -> None:
    patient = patients.create_patient(database, clinician, _input())
    referral = referrals.create_referral(database, clinician, SPORT_REFERRAL_WORKFLOW, patient_id=patient.id,
                                         recipient_organisation_id="org-b", sender_organisation_id="org-a")
    assert referral.status == "draft"
    sent = referrals.transition_referral(database, clinician, SPORT_REFERRAL_WORKFLOW, referral.id, target="sent",
                                         workflow_actor="prescriber", expected_version=referral.version)
    with pytest.raises(ValidationFailed) as failure:
        referrals.transition_referral(database, clinician, SPORT_REFERRAL_WORKFLOW, referral.id, target="cancelled",
                                      workflow_actor="prescriber", expected_version=sent.version)
    assert failure.value.errors[0].field == "reason_code"
    with pytest.raises(TransitionRefused):
        referrals.transition_referral(database, clinician, SPORT_REFERRAL_WORKFLOW, referral.id, target="completed",
                                      workflow_actor="prescriber", expected_version=sent.version)
    with pytest.raises(Conflict):
        referrals.transition_referral(database, clinician, SPORT_REFERRAL_WORKFLOW, referral.id, target="cancelled",
                                      workflow_actor="prescriber", expected_version=referral.version,
                                      reason_code="duplicate")
    cancelled = referrals.transition_referral(database, clinician, SPORT_REFERRAL_WORKFLOW, referral.id,
                                              target="cancelled", workflow_actor="prescriber",
                                              expected_version=sent.version, reason_code="duplicate")
    assert [(e.source, e.target, e.reason_code) for e in cancelled.events] == [
        (None, "draft", None), ("draft", "sent", None), ("sent", "cancelled", "duplicate")]
    assert all(e.actor_id == clinician.id for e in cancelled.events)


def test_consent_grant_and_withdrawal(database: Database, clinician: Actor) -> None:
    patient = patients.create_patient(database, clinician, _input())
    with pytest.raises(ValidationFailed) as failure:
        consents.record_consent(database, clinician, patient.id, scope="share_referral", recipient=None,
                                granted_by="nobody", collection_mode="fax", notice_version="")
    assert {e.field for e in failure.value.errors} == {"recipient", "granted_by", "collection_mode", "notice_version"}
    granted = consents.record_consent(database, clinician, patient.id, scope="share_referral", recipient="org-mss",
                                      granted_by="patient", collection_mode="oral_recorded", notice_version="v1")
    assert consents.consent_in_force(database, clinician, patient.id, "share_referral", "org-mss") is not None
    assert consents.consent_in_force(database, clinician, patient.id, "share_referral", "org-other") is None
    consents.withdraw_consent(database, clinician, patient.id, granted.consent_id)
    assert consents.consent_in_force(database, clinician, patient.id, "share_referral", "org-mss") is None
    assert len(consents.patient_consents(database, clinician, patient.id)) == 1


def test_audit_search_filters(database: Database, clinician: Actor) -> None:
    first = patients.create_patient(database, clinician, _input())
    patients.create_patient(database, clinician, _input(family_name="Autre"))
    page = search_audit(database, Actor(id="U-ADMIN", role="admin"), AuditFilter(patient_id=first.id), 1)
    assert page.total == 1 and page.rows[0].patient_id == first.id
    tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    assert search_audit(database, Actor(id="U-ADMIN", role="admin"), AuditFilter(date_from=tomorrow), 1).total == 0


def test_an_audited_read_commits_its_rows_and_refuses_other_writes(database: Database, clinician: Actor) -> None:
    created = patients.create_patient(database, clinician, _input())
    with audit.audited_read(database) as session:
        audit.record(session, clinician, "read", "patient", created.id, patient_id=created.id)
        # Inside the read the row is not written yet; the caller gets its result only after the commit.
        assert _audit_actions(database, created.id) == ["create"]
    assert _audit_actions(database, created.id) == ["create", "read"]
    with pytest.raises(RuntimeError, match="must not write"), audit.audited_read(database) as session:
        session.add(AuditEvent(actor_id="U", actor_role="x", action="forged", object_type="patient"))
        session.flush()
    assert _audit_actions(database, created.id) == ["create", "read"]


def test_the_timeline_comes_in_pages_that_cover_every_entry_once(database: Database, clinician: Actor,
                                                                 catalogue: ScaleCatalogue) -> None:
    patient = patients.create_patient(database, clinician, _input())
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=200)
    total = assessments.TIMELINE_PAGE + 15
    for index in range(total):
        # Two administrations share each instant: a page must never split such a pair.
        assessments.record_assessment(database, clinician, catalogue, patient.id, "madrs", [1] * 10,
                                      administered_at=start + dt.timedelta(days=index // 2))
    overview = assessments.patient_overview(database, clinician, catalogue, patient.id)
    assert len(overview.series[0].points) == total  # the charts still get every administration
    first = overview.timeline
    assert len(first.entries) in (assessments.TIMELINE_PAGE, assessments.TIMELINE_PAGE + 1)
    assert first.older_than == first.entries[-1].at
    rest = assessments.patient_timeline(database, clinician, patient.id, first.older_than)
    assert rest.older_than is None
    seen = [e.assessment_id for e in first.entries + rest.entries if e.kind == "assessment"]
    assert len(seen) == len(set(seen)) == total
    assert [e.kind for e in first.entries + rest.entries].count("created") == 1
    at = [e.at for e in first.entries + rest.entries]
    assert at == sorted(at, reverse=True)
    assert _audit_actions(database, patient.id).count("read") == 2  # the overview, then the older page
