"""Session-day services on a real database: today's list, recording sessions, MT, adverse events,
course edits on the stored plan, and the 10-session checkpoint (domain-rtms §7.3, §8, §10.2)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select, text

import rtms_pathway.session_tables
import rtms_pathway.tables
from rtms_pathway.course_edits import apply_course_edit
from rtms_pathway.service import plan_course
from rtms_pathway.session_service import (
    course_boards,
    record_motor_threshold,
    record_session,
    save_adverse_event,
    session_form,
    sessions_of_day,
)
from rtms_pathway.session_tables import SessionRecordRow
from rtms_pathway.tables import Course, PlannedSessionRow
from shared_core.actors import Actor
from shared_core.calendar import WorkingCalendar
from shared_core.db import Database
from shared_core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from shared_core.tables import Assessment, AuditEvent
from shared_core.testing import row_held_for_writes

pytestmark = pytest.mark.db
assert rtms_pathway.tables and rtms_pathway.session_tables  # the tables are on the metadata

CALENDAR = WorkingCalendar("metropole")
START = dt.date(2026, 4, 27)  # domain-rtms §7.7 example A
NOW = dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)
DOCTOR = Actor(id="U-DOC", role="psychiatrist", organisation_id="org-a", address="127.0.0.1")
NURSE = Actor(id="U-NURSE", role="operator", organisation_id="org-a", address="127.0.0.1")
OTHER = Actor(id="U-OTHER", role="psychiatrist", organisation_id="org-b", address="127.0.0.1")


@pytest.fixture
def course(database: Database) -> str:
    return plan_course(database, DOCTOR, "P1", protocol="hf_left_10hz", start=START, induction_sessions=30,
                       calendar=CALENDAR).id


def _planned(database: Database, course_id: str) -> list[PlannedSessionRow]:
    with database.read() as session:
        return list(session.scalars(select(PlannedSessionRow).where(PlannedSessionRow.course_id == course_id)
                                    .order_by(PlannedSessionRow.date, PlannedSessionRow.slot)))


def _version(database: Database, course_id: str) -> str:
    with database.read() as session:
        course = session.get(Course, course_id)
        assert course is not None
        return str(course.version)


def _mt(database: Database, course_id: str, day: dt.date, value: int = 60, method: str = "emg_mep") -> None:
    record_motor_threshold(database, NURSE, "P1", course_id, {
        "measured_on": day.isoformat(), "measured_time": "08:30", "value_pct_mso": str(value), "method": method,
        "muscle": "APB", "hemisphere": "left", "trigger": "course_start", "device_id": "MagPro-1",
        "coil_id": "Cool-B65"}, NOW)


def _session_form(day: dt.date, **changes: str) -> dict[str, str | None]:
    values: dict[str, str | None] = {
        "performed_on": day.isoformat(), "start_time": "09:00", "intensity_pct_mt": "120",
        "intensity_pct_mso": "72", "pulses_delivered": "3000", "trains_delivered": "75", "frequency_hz": "10",
        "device_id": "MagPro-1", "coil_id": "Cool-B65", "targeting_method": "beam_f3",
        "checkin_metal_removed": "on"}
    return values | changes


def test_the_default_mso_is_the_one_r_ses_03_expects_when_it_ends_in_a_half(database: Database) -> None:
    """MT 55 % MSO at 110 % MT is 60.5: R-SES-03 rounds half up to 61. The form's default was 60 (Python's
    round() rounds halves to even), so a session delivered as proposed was flagged as a deviation."""
    course = plan_course(database, DOCTOR, "P1", protocol="hf_left_10hz_5s_25s", start=START,
                         induction_sessions=30, calendar=CALENDAR).id
    first = _planned(database, course)[0]
    _mt(database, course, START, value=55)
    form = session_form(database, NURSE, "P1", course, first.id, START)
    assert form.defaults["intensity_pct_mso"] == "61"
    delivered = {**form.defaults, "checkin_metal_removed": "on"}
    record = record_session(database, NURSE, "P1", course, first.id, delivered, NOW)
    assert record.status == "delivered"


def test_recording_a_session_marks_it_delivered_and_the_course_active(database: Database, course: str) -> None:
    first = _planned(database, course)[0]
    _mt(database, course, START)
    form = session_form(database, NURSE, "P1", course, first.id, START)
    assert form.defaults["intensity_pct_mso"] == "72" and form.prescription.pulses == 3000
    assert not form.mt_due.due and form.device_check is not None and not form.device_check.exceeded
    record = record_session(database, NURSE, "P1", course, first.id, _session_form(START), NOW)
    assert record.status == "delivered" and record.mt_value_pct_mso == 60
    assert _planned(database, course)[0].status == "delivered"
    with database.read() as session:
        stored = session.get(Course, course)
        assert stored is not None and stored.status == "active"
        actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.patient_id == "P1")))
    assert {"session_recorded", "mt_recorded"} <= actions
    with pytest.raises(Conflict):
        record_session(database, NURSE, "P1", course, first.id, _session_form(START), NOW)


def test_a_session_uses_the_last_mt_of_its_local_day_not_of_its_utc_day(database: Database, course: str) -> None:
    """23:30 in Paris is still the session's day; 00:30 the next morning is already the next one, although
    both instants fall on the same UTC day."""
    first = _planned(database, course)[0]
    for day, time, value in ((START, "23:30", 60), (START + dt.timedelta(days=1), "00:30", 66)):
        record_motor_threshold(database, NURSE, "P1", course, {
            "measured_on": day.isoformat(), "measured_time": time, "value_pct_mso": str(value), "method": "emg_mep",
            "muscle": "APB", "hemisphere": "left", "trigger": "course_start", "device_id": "MagPro-1",
            "coil_id": "Cool-B65"}, NOW)
    assert session_form(database, NURSE, "P1", course, first.id, START).defaults["intensity_pct_mso"] == "72"
    record = record_session(database, NURSE, "P1", course, first.id, _session_form(START), NOW)
    assert record.mt_value_pct_mso == 60


def _recording(database: Database, course: str, planned_id: str, outcomes: list[str]) -> threading.Thread:
    """A thread that records the session and appends "recorded", or the conflict's message, to ``outcomes``."""
    def record() -> None:
        try:
            record_session(database, NURSE, "P1", course, planned_id, _session_form(START), NOW)
            outcomes.append("recorded")
        except Conflict as conflict:
            outcomes.append(conflict.message)

    return threading.Thread(target=record)


def test_two_simultaneous_recordings_of_one_session_keep_one_and_answer_the_other_with_a_conflict(
        database: Database, course: str) -> None:
    """Two operators submit the same session at once. Both read it as planned before either writes: PostgreSQL
    lets both through to the update (read committed), SQLite runs them one after the other. Either way one is
    recorded and the other gets the conflict, never a database error (the record's unique planned session)."""
    first = _planned(database, course)[0]
    _mt(database, course, START)
    outcomes: list[str] = []
    threads = [_recording(database, course, first.id, outcomes) for _ in range(2)]
    with row_held_for_writes(database, "rtms_planned_session", first.id) as held:
        for thread in threads:
            thread.start()
        held.wait_for_writers()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["This session was recorded or changed by someone else since you opened it: reload "
                                "the page to see it.", "recorded"]
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(SessionRecordRow)
                              .where(SessionRecordRow.planned_session_id == first.id)) == 1


def test_a_first_session_recorded_while_the_course_is_suspended_is_refused(database: Database, course: str) -> None:
    """R-SES-04. An adverse-event save suspends a course that has not started yet while its first session is
    being recorded: the recording waits for the course row and then refuses, so the suspension stands."""
    first = _planned(database, course)[0]
    _mt(database, course, START)
    outcomes: list[str] = []
    thread = _recording(database, course, first.id, outcomes)
    with row_held_for_writes(database, "rtms_course", course) as held:
        thread.start()
        held.wait_for_writers(1)
        held.connection.execute(text("UPDATE rtms_course SET status = 'suspended', version = version + 1 "
                                     "WHERE id = :id"), {"id": course})
    thread.join(timeout=30)
    assert len(outcomes) == 1 and "R-SES-04" in outcomes[0]
    assert _planned(database, course)[0].status == "planned"
    with database.read() as session:
        stored = session.get(Course, course)
        assert stored is not None and stored.status == "suspended"


def test_validation_names_each_bad_field_and_writes_nothing(database: Database, course: str) -> None:
    first = _planned(database, course)[0]
    _mt(database, course, START)
    with pytest.raises(ValidationFailed) as failure:
        record_session(database, NURSE, "P1", course, first.id, _session_form(
            START, intensity_pct_mt="abc", pulses_delivered="", device_id="", checkin_metal_removed=None,
            checkin_alcohol="on"), NOW)
    fields = {e.field for e in failure.value.errors}
    assert {"intensity_pct_mt", "pulses_delivered", "device_id", "checkin_metal_removed", "released_by"} <= fields
    with pytest.raises(ValidationFailed) as failure:  # R-SES-03: %MSO must follow the MT
        record_session(database, NURSE, "P1", course, first.id, _session_form(START, intensity_pct_mso="80"), NOW)
    assert [e.field for e in failure.value.errors] == ["intensity_pct_mso"]
    with pytest.raises(ValidationFailed) as failure:  # R-SES-01: a lower intensity needs a reason
        record_session(database, NURSE, "P1", course, first.id,
                       _session_form(START, intensity_pct_mt="110", intensity_pct_mso="66"), NOW)
    assert [e.field for e in failure.value.errors] == ["deviation_reason"]
    with database.read() as session:
        assert session.scalars(select(SessionRecordRow)).all() == []


def test_device_maximum_needs_a_confirmation(database: Database, course: str) -> None:
    first = _planned(database, course)[0]
    _mt(database, course, START, value=88)  # 88 × 120 % = 105.6 % MSO > 100
    form = session_form(database, NURSE, "P1", course, first.id, START)
    assert form.device_check is not None and form.device_check.exceeded
    assert form.device_check.alert is not None and form.device_check.alert.code == "DEVICE_MAX_EXCEEDED"
    at_max = _session_form(START, intensity_pct_mt="113", intensity_pct_mso="99",
                           deviation_reason="Sortie maximale de l'appareil atteinte")
    with pytest.raises(ValidationFailed) as failure:
        record_session(database, NURSE, "P1", course, first.id, at_max, NOW)
    assert "device_max_acknowledged" in {e.field for e in failure.value.errors}
    record = record_session(database, NURSE, "P1", course, first.id, at_max | {"device_max_acknowledged": "on"}, NOW)
    assert any(e.rule_id == "R-MT-05" for e in record.explanations)


def test_another_centre_and_other_roles_are_refused(database: Database, course: str) -> None:
    first = _planned(database, course)[0]
    with pytest.raises(NotFound):
        session_form(database, OTHER, "P1", course, first.id, START)
    with pytest.raises(PermissionDenied):
        record_session(database, Actor("U-REF", "referrer", "org-a"), "P1", course, first.id, _session_form(START), NOW)
    with pytest.raises(PermissionDenied):
        apply_course_edit(database, NURSE, "P1", course, "extend", {"version": "1", "count": "5", "reason": "x"},
                          calendar=CALENDAR, today=START)


def test_today_lists_the_centre_sessions(database: Database, course: str) -> None:
    day = sessions_of_day(database, NURSE, START)
    assert [(e.patient_id, e.number, e.mt_due) for e in day.entries] == [("P1", 1, True)]
    assert sessions_of_day(database, OTHER, START).entries == []


def test_skip_postpone_and_undo_on_the_stored_plan(database: Database, course: str) -> None:
    tuesday = dt.date(2026, 5, 12)  # example A: session 10 missed, postponed
    skipped = next(r for r in _planned(database, course) if r.date == tuesday)
    outcome = apply_course_edit(database, DOCTOR, "P1", course, "skip", {
        "version": _version(database, course), "planned_session_id": skipped.id, "reason": "patient_ill",
        "action": "postpone"}, calendar=CALENDAR, today=START)
    rows = _planned(database, course)
    active = [r for r in rows if r.status == "planned"]
    assert len(active) == 30 and active[-1].date == dt.date(2026, 6, 12)
    with pytest.raises(Conflict):  # the page was opened before the skip
        apply_course_edit(database, DOCTOR, "P1", course, "undo", {
            "version": str(outcome.version - 1), "planned_session_id": skipped.id}, calendar=CALENDAR, today=START)
    [board] = course_boards(database, DOCTOR, "P1", CALENDAR)
    row = next(s for s in board.sessions if s.id == skipped.id)
    assert row.status == "skipped" and row.skip_reason == "patient_ill" and row.replaced_by_date == dt.date(2026, 6, 12)
    apply_course_edit(database, DOCTOR, "P1", course, "undo", {
        "version": _version(database, course), "planned_session_id": skipped.id}, calendar=CALENDAR, today=START)
    rows = _planned(database, course)
    assert len(rows) == 30 and rows[-1].date == dt.date(2026, 6, 11) and all(r.status == "planned" for r in rows)


def test_extend_taper_and_maintenance(database: Database, course: str) -> None:
    with pytest.raises(ValidationFailed) as failure:
        apply_course_edit(database, DOCTOR, "P1", course, "extend", {"version": _version(database, course),
                          "count": "0", "reason": ""}, calendar=CALENDAR, today=START)
    assert {e.field for e in failure.value.errors} == {"count", "reason"}
    apply_course_edit(database, DOCTOR, "P1", course, "extend", {
        "version": _version(database, course), "count": "5", "reason": "réponse tardive"},
        calendar=CALENDAR, today=START)
    assert len(_planned(database, course)) == 35
    with database.read() as session:
        stored = session.get(Course, course)
        assert stored is not None and stored.induction_sessions == 35
    apply_course_edit(database, DOCTOR, "P1", course, "taper", {"version": _version(database, course),
                      "template": "T-NS-321"}, calendar=CALENDAR, today=START)
    outcome = apply_course_edit(database, DOCTOR, "P1", course, "maintenance_classic", {
        "version": _version(database, course), "template": "M-OREARDON"}, calendar=CALENDAR, today=START)
    assert any(w.code == "maintenance_dose_low" for w in outcome.warnings)
    phases = [r.phase for r in _planned(database, course)]
    assert phases.count("taper") == 6 and phases.count("maintenance_classic") == 11


def test_the_ten_session_checkpoint_prompts_a_review(database: Database, course: str) -> None:
    rows = _planned(database, course)
    with database.write() as session:
        session.add(Assessment(id="A-BASE", patient_id="P1", scale_code="madrs", scale_version="1",
                               administered_at=dt.datetime(2026, 4, 24, 10, tzinfo=dt.UTC), source="clinician",
                               entered_by="t", items=[], total=32, band="moderate", subscores={}, alerts=[]))
    _mt(database, course, START)
    for row in rows[:9]:
        record_session(database, NURSE, "P1", course, row.id, _session_form(row.date), NOW)
    [board] = course_boards(database, DOCTOR, "P1", CALENDAR)
    assert board.checkpoint.state == "not_reached" and board.delivered == 9
    record_session(database, NURSE, "P1", course, rows[9].id, _session_form(rows[9].date), NOW)
    [board] = course_boards(database, DOCTOR, "P1", CALENDAR)
    assert board.checkpoint.state == "assessment_due"
    with database.write() as session:
        session.add(Assessment(id="A-S10", patient_id="P1", scale_code="madrs", scale_version="1",
                               administered_at=dt.datetime(2026, 5, 12, 10, tzinfo=dt.UTC), source="clinician",
                               entered_by="t", items=[], total=26, band="moderate", subscores={}, alerts=[]))
    [board] = course_boards(database, DOCTOR, "P1", CALENDAR)
    assert board.checkpoint.state == "review_protocol" and board.checkpoint.improvement_pct == 18.8  # S5: 6/32


def test_a_seizure_suspends_the_course_and_keeps_the_form(database: Database, course: str) -> None:
    first = _planned(database, course)[0]
    _mt(database, course, START)
    record = record_session(database, NURSE, "P1", course, first.id, _session_form(START), NOW)
    headache = save_adverse_event(database, NURSE, "P1", course, {
        "type": "headache", "onset": "same_day", "severity": "mild", "action": "none", "relatedness": "probable",
        "session_record_id": record.id})
    assert not headache.sae_required and not headache.form_required
    syncope = save_adverse_event(database, NURSE, "P1", course, {
        "type": "syncope", "onset": "during_session", "severity": "moderate", "action": "session_stopped",
        "relatedness": "possible", "session_record_id": record.id, "form_semiology": "focal"})
    assert syncope.form_required and not syncope.form_initial_complete and "session_index" in syncope.missing_initial
    seizure = save_adverse_event(database, NURSE, "P1", course, {
        "type": "seizure", "onset": "during_session", "severity": "severe", "action": "session_stopped",
        "relatedness": "probable", "serious": "on", "serious_criteria": "hospitalisation"})
    assert seizure.sae_required
    with database.read() as session:
        stored = session.get(Course, course)
        assert stored is not None and stored.status == "suspended"
    with pytest.raises(Conflict):
        record_session(database, NURSE, "P1", course, _planned(database, course)[1].id,
                       _session_form(_planned(database, course)[1].date), NOW)
    apply_course_edit(database, DOCTOR, "P1", course, "resume", {"version": _version(database, course)},
                      calendar=CALENDAR, today=START)
    with pytest.raises(Conflict):  # stale version of the event
        save_adverse_event(database, NURSE, "P1", course, {
            "type": "syncope", "onset": "during_session", "severity": "moderate", "action": "session_stopped",
            "relatedness": "possible", "version": "9"}, event_id=syncope.id)
