"""Sport referral services on a real database: prescription, consent, send, coordinator scope,
minimised view, reports and consent withdrawal (domain-sport §1, §4, §8)."""

from __future__ import annotations

import datetime as dt
import threading

import msgspec
import pytest
from sqlalchemy import select

import sport_referral.referral_tables  # noqa: F401  (registers the tables on the shared metadata)
from shared_core.actors import Actor
from shared_core.db import Database, utcnow
from shared_core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from shared_core.tables import AuditEvent, Organisation, Patient, Referral, ReferralEvent
from shared_core.testing import row_held_for_writes
from shared_core.text import fold
from sport_referral import referral_service as sport
from sport_referral.model.prescription import CoordinatorReferralStub, CoordinatorReferralView
from sport_referral.model.structures import Structure
from sport_referral.referral_forms import read_prescription_form, read_report_form
from sport_referral.referral_tables import SportPrescription, SportReferralDetail
from sport_referral.service import save_structures
from sport_referral.tables import SportStructure

pytestmark = pytest.mark.db

TODAY = dt.date.today()
PRESCRIBER = Actor(id="U-PRES", role="psychiatrist", organisation_id="org-centre", address="127.0.0.1")
OPERATOR = Actor(id="U-OPER", role="operator", organisation_id="org-centre")
OTHER_CENTRE = Actor(id="U-OTHER", role="psychiatrist", organisation_id="org-other-centre")
COORD_A = Actor(id="U-CA", role="coordinator", organisation_id="org-a")
COORD_B = Actor(id="U-CB", role="coordinator", organisation_id="org-b")

FORM: dict[str, list[str]] = {
    "prescriber_is_physician": ["yes"], "prescriber_involved_in_care": ["yes"], "below_who_recommendations": ["yes"],
    "cannot_progress_alone": ["yes"], "ald": ["no"], "chronic_disease": ["yes"], "patient_agrees": ["yes"],
    "limitation_level": ["moderate"], "activity_types": ["endurance", "balance"], "intensity": ["light"],
    "sessions_per_week_min": ["2"], "sessions_per_week_max": ["3"], "session_minutes_min": ["45"],
    "session_minutes_max": ["60"], "programme_months": ["3"], "renewable": ["on"],
    "goals": ["Marcher 30 minutes"], "disability_families": ["moteur"],
    "medical_notes": ["Épisode dépressif récurrent, rTMS en cours"],
}


@pytest.fixture
def database(database: Database) -> Database:
    """The shared empty database (shared_core.testing_fixtures), with this module's rows."""
    with database.write() as session:
        for org in ("org-centre", "org-other-centre", "org-a", "org-b"):
            session.add(Organisation(id=org, kind="centre" if "centre" in org else "mss", name=org))
        now = utcnow()
        session.add(Patient(id="P-1", organisation_id="org-centre", family_name="Durand", given_names="Léa",
                            birth_date=dt.date(1980, 4, 2), sex="F", ins=None, commune_insee="67482",
                            phone="0600000000", email=None, address_line=None, search_key=fold("Durand Léa"),
                            created_by="t", created_at=now, updated_at=now))
    records = [msgspec.convert({
        "structure_id": sid, "kind": "mss", "name": f"MSS {sid}", "postcode": "67000", "commune_insee": "67482",
        "department_code": "67", "region_code": "44", "latitude": 48.58 + i / 100, "longitude": 7.75,
        "accepting_referrals": True, "source": "manual", "source_licence": "test", "source_ref": sid,
        "mss_habilitated_from": "2024-01-01", "referral_email": f"{sid}@example.org",
        "professions": ["apa_teacher"], "disability_families": ["moteur"],
        "activity_types": ["endurance", "balance"], "accessibility": {"motor_reception": True}}, Structure)
        for i, sid in enumerate(("s-a", "s-b", "s-none"))]
    save_structures(database, Actor(id="t", role="admin"), records, "test")
    with database.write() as session:
        for sid, org in (("s-a", "org-a"), ("s-b", "org-b")):
            row = session.get(SportStructure, sid)
            assert row is not None
            row.organisation_id = org
    return database


def _sent(database: Database, structure_id: str = "s-a",
          scopes: tuple[str, ...] = ("share_referral", "share_contact_phone"), patient_id: str = "P-1") -> str:
    prescription_id = sport.create_prescription(database, PRESCRIBER, patient_id, FORM, prescriber_name="Dr Test",
                                                today=TODAY)
    referral_id = sport.create_referral_draft(database, PRESCRIBER, prescription_id, structure_id)
    sport.record_referral_consents(database, PRESCRIBER, referral_id, scopes=list(scopes), granted_by="patient",
                                   collection_mode="electronic")
    sport.send(database, PRESCRIBER, referral_id, sport.prescriber_referral(database, PRESCRIBER, referral_id).version)
    return referral_id


def test_the_form_reader_names_every_blank_answer() -> None:
    _form, errors = read_prescription_form({}, patient_id="P", prescriber_id="U", prescription_id="RX",
                                           signed_at=utcnow())
    fields = {e.field for e in errors}
    assert {"prescriber_is_physician", "patient_agrees", "chronic_disease"} <= fields


def test_a_ticked_severe_criterion_makes_the_level_severe_and_lint_warns() -> None:
    values = FORM | {"severe_criteria": ["loco_walking"], "limitation_level": [],
                     "precautions": ["Attention à la dépression"]}
    assessment = sport.assess_form(values, today=TODAY)
    assert assessment.level == "severe"
    assert any(hit.field == "precautions" for hit in assessment.lint_hits)


def test_signing_needs_a_physician_and_the_lint_acknowledged(database: Database) -> None:
    with pytest.raises(PermissionDenied):
        sport.create_prescription(database, OPERATOR, "P-1", FORM, prescriber_name="x", today=TODAY)
    linted = FORM | {"goals": ["Sortir de la dépression"]}
    with pytest.raises(ValidationFailed) as failure:
        sport.create_prescription(database, PRESCRIBER, "P-1", linted, prescriber_name="x", today=TODAY)
    assert [e.field for e in failure.value.errors] == ["acknowledge_lint"]
    prescription_id = sport.create_prescription(database, PRESCRIBER, "P-1", linted | {"acknowledge_lint": ["on"]},
                                                prescriber_name="x", today=TODAY)
    with database.read() as session:
        row = session.get(SportPrescription, prescription_id)
        assert row is not None and row.limitation_level == "moderate" and row.lint_hits
        assert row.expires_on > row.prescribed_on and row.disability_families == ["moteur"]
    with pytest.raises(NotFound):
        sport.prescription_page(database, OTHER_CENTRE, prescription_id, today=TODAY)


def test_send_needs_the_consent_for_that_structure(database: Database) -> None:
    prescription_id = sport.create_prescription(database, PRESCRIBER, "P-1", FORM, prescriber_name="x", today=TODAY)
    page = sport.prescription_page(database, PRESCRIBER, prescription_id, today=TODAY)
    assert [row.structure_id for row in page.search_rows] == ["s-a", "s-b", "s-none"]
    referral_id = sport.create_referral_draft(database, PRESCRIBER, prescription_id, "s-a")
    with pytest.raises(Conflict):  # one active referral per (prescription, structure)
        sport.create_referral_draft(database, PRESCRIBER, prescription_id, "s-a")
    with pytest.raises(ValidationFailed) as failure:
        sport.send(database, PRESCRIBER, referral_id, 1)
    assert [e.field for e in failure.value.errors] == ["consent"]
    other = sport.create_referral_draft(database, PRESCRIBER, prescription_id, "s-none")
    sport.record_referral_consents(database, PRESCRIBER, other, scopes=["share_referral"], granted_by="patient",
                                   collection_mode="electronic")
    with pytest.raises(ValidationFailed):
        sport.send(database, PRESCRIBER, referral_id, 1)
    with database.read() as session:
        detail = session.get(SportReferralDetail, other)
        structure = session.get(SportStructure, "s-none")
        assert detail is not None and structure is not None
        assert detail.recipient_organisation_id == structure.organisation_id == "org-s-none"


def test_the_coordinator_scope_and_the_minimised_view(database: Database) -> None:
    referral_id = _sent(database)
    with database.read() as session:
        detail = session.get(SportReferralDetail, referral_id)
        assert detail is not None
        assert (detail.status, detail.patient_department_code, detail.patient_region_code, detail.structure_kind) == (
            "sent", "67", "44", "mss")
        assert detail.sent_at is not None and detail.consent_id is not None
    with pytest.raises(NotFound):
        sport.coordinator_referral(database, COORD_B, referral_id)
    with pytest.raises(NotFound):
        sport.accept(database, COORD_B, referral_id, 1)
    assert sport.inbox(database, COORD_B, status="all").rows == []
    page = sport.coordinator_referral(database, COORD_A, referral_id)
    assert page.status == "received" and isinstance(page.view, CoordinatorReferralView)
    encoded = msgspec.json.encode(page).decode()
    assert "dépressif" not in encoded and "rTMS" not in encoded and "chronic_disease" not in encoded
    assert page.view.patient.phone == "0600000000" and page.view.patient.email is None
    with pytest.raises(Conflict):  # stale version
        sport.accept(database, COORD_A, referral_id, page.version - 1)
    with pytest.raises(ValidationFailed) as failure:
        sport.decline(database, COORD_A, referral_id, page.version, reason_code=None, reason_text=None)
    assert failure.value.errors[0].field == "reason_code"
    sport.accept(database, COORD_A, referral_id, page.version)
    with database.read() as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == referral_id)).all()
    assert {"create", "read", "transition"} <= set(actions)


def test_deciding_from_the_list_receives_then_decides_and_leaves_both_steps(database: Database) -> None:
    """R-2: accepting or declining a referral never opened marks it received first; each step is an event,
    an audit row and a new version, and the detail keeps the dates of both."""
    accepted, declined = _sent(database), _sent(database, structure_id="s-b")
    sent_version = _version(database, accepted)
    assert _version(database, declined) == sent_version
    sport.accept(database, COORD_A, accepted, sent_version)
    sport.decline(database, COORD_B, declined, sent_version, reason_code="no_capacity", reason_text=None)
    with database.read() as session:
        for referral_id, final in ((accepted, "accepted"), (declined, "declined")):
            referral, detail = session.get(Referral, referral_id), session.get(SportReferralDetail, referral_id)
            assert referral is not None and detail is not None
            assert (referral.status, referral.version, detail.status) == (final, sent_version + 2, final)
            steps = session.execute(select(ReferralEvent.source, ReferralEvent.target).where(
                ReferralEvent.referral_id == referral_id).order_by(ReferralEvent.id)).all()
            assert [tuple(step) for step in steps] == [(None, "draft"), ("draft", "sent"), ("sent", "received"),
                                                   ("received", final)]
            assert detail.received_at is not None and detail.decided_at is not None
            assert session.scalars(select(AuditEvent.detail).where(
                AuditEvent.object_id == referral_id, AuditEvent.action == "transition")).all()[-2:] == [
                "sent -> received", f"received -> {final}" + (" (no_capacity)" if final == "declined" else "")]
        detail = session.get(SportReferralDetail, accepted)
        assert detail is not None and detail.accepted_at is not None and detail.closed_at is None
        detail = session.get(SportReferralDetail, declined)
        assert detail is not None and (detail.decline_reason, detail.close_reason) == ("no_capacity", "no_capacity")


def test_two_moves_of_one_referral_at_once_keep_one_and_answer_the_other_with_a_conflict(database: Database) -> None:
    """Two coordinators answer the same referral at once, from the same version. PostgreSQL lets both past the
    version check (read committed), SQLite runs them one after the other: one move is kept, the other is
    a conflict, and the referral moved once."""
    referral_id = _sent(database)
    version = sport.coordinator_referral(database, COORD_A, referral_id).version
    outcomes: list[str] = []

    def move(target: str) -> None:
        try:
            if target == "accepted":
                sport.accept(database, COORD_A, referral_id, version)
            else:
                sport.decline(database, COORD_A, referral_id, version, reason_code="no_capacity", reason_text=None)
            outcomes.append(target)
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=move, args=(target,)) for target in ("accepted", "declined")]
    with row_held_for_writes(database, "referral", referral_id) as held:
        for thread in threads:
            thread.start()
        held.wait_for_writers()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) in (["accepted", "conflict"], ["conflict", "declined"])
    with database.read() as session:
        referral = session.get(Referral, referral_id)
        assert referral is not None and referral.status == next(o for o in outcomes if o != "conflict")
        assert referral.version == version + 1
        assert len(session.scalars(select(ReferralEvent.id).where(ReferralEvent.referral_id == referral_id)).all()) == 4


def _version(database: Database, referral_id: str) -> int:
    with database.read() as session:
        referral = session.get(Referral, referral_id)
        assert referral is not None
        return referral.version


def test_reports_reach_the_prescriber_only_with_consent(database: Database) -> None:
    referral_id = _sent(database, scopes=("share_referral",))
    version = sport.coordinator_referral(database, COORD_A, referral_id).version
    sport.accept(database, COORD_A, referral_id, version)
    version = sport.coordinator_referral(database, COORD_A, referral_id).version
    sport.record_attendance(database, COORD_A, referral_id, version, kind="session", session_on=TODAY, attended=True,
                            today=TODAY)
    version = sport.coordinator_referral(database, COORD_A, referral_id).version
    sport.record_report(database, COORD_A, referral_id, version, {
        "report_type": ["initial_assessment"], "performed_on": [TODAY.isoformat()],
        "performer_profession": ["apa_teacher"], "ricci_gagnon_score": ["40"], "flags_risk": ["on"]}, today=TODAY)
    page = sport.prescriber_referral(database, PRESCRIBER, referral_id)
    assert page.status == "in_progress" and page.reports == [] and page.reports_withheld == 1
    assert page.risk_flagged  # §4.5: only "contact the patient", no content
    sport.record_referral_consents(database, PRESCRIBER, referral_id, scopes=["share_reports_with_prescriber"],
                                   granted_by="patient", collection_mode="electronic")
    page = sport.prescriber_referral(database, PRESCRIBER, referral_id)
    assert [r.ricci_gagnon_band for r in page.reports] == ["very_active"]


def test_withdrawing_share_referral_cancels_and_leaves_a_stub(database: Database) -> None:
    referral_id = _sent(database)
    page = sport.prescriber_referral(database, PRESCRIBER, referral_id)
    consent = next(c for c in page.consents if c.scope == "share_referral")
    sport.withdraw_referral_consent(database, PRESCRIBER, referral_id, consent.consent_id)
    assert sport.prescriber_referral(database, PRESCRIBER, referral_id).status == "cancelled"
    view = sport.coordinator_referral(database, COORD_A, referral_id)
    assert isinstance(view.view, CoordinatorReferralStub) and view.view.consent_withdrawn and view.actions == []
    assert [row.patient_label for row in sport.inbox(database, COORD_A, status="all").rows] == [None]


def test_report_form_bounds() -> None:
    report, errors = read_report_form({"report_type": ["final_assessment"], "performed_on": ["2999-01-01"],
                                       "performer_profession": ["nobody"], "ricci_gagnon_score": ["50"]},
                                      today=TODAY)
    assert report is None
    assert {e.field for e in errors} == {"performed_on", "performer_profession", "ricci_gagnon_score"}


def test_the_prescription_page_lists_the_nearest_structures_and_finds_one_by_name(
        database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sport, "SEARCH_ROWS_SHOWN", 2)
    prescription_id = sport.create_prescription(database, PRESCRIBER, "P-1", FORM, prescriber_name="x", today=TODAY)
    page = sport.prescription_page(database, PRESCRIBER, prescription_id, today=TODAY)
    assert [row.structure_id for row in page.search_rows] == ["s-a", "s-b"]
    assert page.search is not None and page.search.more  # a third one fits
    by_name = sport.prescription_page(database, PRESCRIBER, prescription_id, today=TODAY, name="mss S-NONE")
    assert [row.structure_id for row in by_name.search_rows] == ["s-none"]
    assert by_name.search is not None and not by_name.search.more


def test_the_inbox_pages_newest_first_and_searches_only_what_it_may_show(database: Database,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sport, "INBOX_PAGE", 4)
    monkeypatch.setattr(sport, "INBOX_SEARCH_BATCH", 3)
    with database.write() as session:
        session.add(Patient(id="P-2", organisation_id="org-centre", family_name="Martin", given_names="Paul",
                            birth_date=dt.date(1975, 1, 2), sex="M", search_key=fold("Martin Paul"), created_by="t"))
    sent = [_sent(database, patient_id="P-2" if index == 4 else "P-1") for index in range(9)]
    hidden = sent[4]
    consent = next(c for c in sport.prescriber_referral(database, PRESCRIBER, hidden).consents
                   if c.scope == "share_referral")
    sport.withdraw_referral_consent(database, PRESCRIBER, hidden, consent.consent_id)

    pages, after = [], None
    while True:
        page = sport.inbox(database, COORD_A, status="all", after=after)
        assert page.total == 9
        pages.append([row.referral_id for row in page.rows])
        if page.next_after is None:
            break
        after = page.next_after
    assert pages == [sent[8:4:-1], sent[4:0:-1], sent[:1]]  # newest first, each once
    assert sport.inbox(database, COORD_A, status="open").total == 8
    assert sport.inbox(database, COORD_A, status="all", query="martin").rows == []

    found = sport.inbox(database, COORD_A, status="all", query="durand")
    following = sport.inbox(database, COORD_A, status="all", query="durand", after=found.next_after)
    names = [row.referral_id for row in found.rows + following.rows]
    # The name is searchable only where it may be shown: not on the referral whose consent was withdrawn.
    assert found.total == 8 and hidden not in names and len(names) == 8 and following.next_after is None
    by_number = sport.inbox(database, COORD_A, status="all", query=hidden)
    assert [(row.referral_id, row.patient_label) for row in by_number.rows] == [(hidden, None)]
    assert sport.inbox(database, COORD_A, status="all", after="R-UNKNOWN").rows == []


def test_consent_events_are_filtered_by_recipient_only_within_one_scope(database: Database) -> None:
    # A recipient filter across scopes would drop the unbound consents of other scopes (C-1) unnoticed.
    with database.read() as session, pytest.raises(ValueError, match="within one scope"):
        sport._events_of_patients(session, ["P-1"], None, ["S-1"])


def test_the_inbox_flags_a_referral_awaiting_an_answer_past_the_response_delay(database: Database) -> None:
    waiting, recent = _sent(database), _sent(database)
    with database.write() as session:
        detail = session.get(SportReferralDetail, waiting)
        assert detail is not None
        detail.sent_at = utcnow() - dt.timedelta(days=12)  # cfg:sla.response_days is 10
    rows = {row.referral_id: row for row in sport.inbox(database, COORD_A).rows}
    assert rows[waiting].waiting_days == 12 and rows[recent].waiting_days is None
    assert list(rows) == [recent, waiting]  # newest sent first
