"""Demo session histories (domain-rtms §8, §10): courses in induction with sessions delivered up to today and
sessions planned today (so /today is populated), a course in maintenance, motor thresholds, adverse events
(a mild headache, a syncope with its form), and PHQ-9 / MADRS trajectories aligned to the courses: a
responder, a non-responder at the 10-session checkpoint, and a relapse (course 1 completed, course 2 active).

Uses P-DEMO00001..P-DEMO00012 only (P-DEMO00003 and P-DEMO00010 are left for the browser tests: 10 gets a
baseline only). Dates are relative to today; deterministic; a second run changes nothing.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select

from parcours_web.auth.tables import AppUser
from rtms_pathway.course_edits import apply_course_edit
from rtms_pathway.service import plan_course
from rtms_pathway.session_service import record_motor_threshold, record_session, save_adverse_event
from rtms_pathway.session_tables import SessionRecordRow
from rtms_pathway.tables import Course, PlannedSessionRow
from shared_core.actors import Actor
from shared_core.calendar import WorkingCalendar
from shared_core.db import Database, utcnow
from shared_core.scales import ScaleCatalogue, load_catalogue, score
from shared_core.services.organisations import centre_calendar
from shared_core.tables import Assessment, SafetyAlert

PARIS = ZoneInfo("Europe/Paris")
CENTRE = "org-centre-demo"
PATIENTS = ("P-DEMO00002", "P-DEMO00004", "P-DEMO00005", "P-DEMO00006", "P-DEMO00007", "P-DEMO00008",
            "P-DEMO00009", "P-DEMO00010", "P-DEMO00011", "P-DEMO00012")
MT_VALUE = {"P-DEMO00002": 64, "P-DEMO00004": 58, "P-DEMO00005": 66, "P-DEMO00006": 55, "P-DEMO00007": 61,
            "P-DEMO00008": 57, "P-DEMO00009": 62, "P-DEMO00011": 59, "P-DEMO00012": 63}


def _actor(database: Database, email: str, role: str) -> Actor:
    with database.read() as session:
        user_id = session.scalar(select(AppUser.id).where(AppUser.email == email))
    return Actor(id=user_id or "demo", role=role, organisation_id=CENTRE)


def _working_days_back(calendar: WorkingCalendar, today: dt.date, count: int) -> dt.date:
    """The working day ``count`` working days before ``today``."""
    day = today
    while count > 0:
        day -= dt.timedelta(days=1)
        if calendar.is_working_day(day):
            count -= 1
    return day


def _items(catalogue: ScaleCatalogue, code: str, total: int) -> list[int]:
    """Items summing to ``total`` (first items filled first; PHQ-9 item 9 kept at 0: no safety alert here)."""
    definition = catalogue.get(code)
    values = [item.min for item in definition.items]
    remaining = total - sum(values)
    last = len(values) - 1 if code == "phq9" else len(values)
    while remaining > 0:
        for index in range(last):
            if remaining > 0 and values[index] < definition.items[index].max:
                values[index] += 1
                remaining -= 1
    return values


def _assessment(catalogue: ScaleCatalogue, patient: str, code: str, total: int, day: dt.date,
                number: int) -> Assessment:
    definition = catalogue.get(code)
    result = score(definition, _items(catalogue, code, total))
    at = dt.datetime.combine(day, dt.time(10, 0), PARIS).astimezone(dt.UTC)
    return Assessment(id=f"A-DEMOS-{patient[-5:]}-{code}-{number}", patient_id=patient, scale_code=code,
                      scale_version=definition.version, administered_at=at, source="clinician", entered_by="demo",
                      items=list(result.items), total=result.total, band=result.band,
                      subscores=dict(result.subscores), alerts=list(result.alerts), prorated=result.prorated,
                      created_at=at)


def _trajectory(database: Database, patient: str, points: list[tuple[dt.date, int, int]]) -> None:
    """Replace the patient's random demo scores with a trajectory aligned to the course: (day, PHQ-9, MADRS)."""
    catalogue = load_catalogue()
    with database.write() as session:
        session.execute(delete(SafetyAlert).where(SafetyAlert.patient_id == patient))
        session.execute(delete(Assessment).where(Assessment.patient_id == patient))
        for number, (day, phq9, madrs) in enumerate(points):
            session.add(_assessment(catalogue, patient, "phq9", phq9, day, number))
            session.add(_assessment(catalogue, patient, "madrs", madrs, day, number))


def _course_rows(database: Database, course_id: str) -> list[PlannedSessionRow]:
    with database.read() as session:
        return list(session.scalars(select(PlannedSessionRow).where(PlannedSessionRow.course_id == course_id)
                                    .order_by(PlannedSessionRow.date, PlannedSessionRow.slot)))


def _deliver(database: Database, nurse: Actor, patient: str, course_id: str, until: dt.date, now: dt.datetime,
             today_time: dt.time) -> list[str]:
    """Record every planned session up to ``until``, with an MT at the start and then weekly."""
    records: list[str] = []
    last_mt: dt.date | None = None
    for row in _course_rows(database, course_id):
        if row.date > until or row.status != "planned":
            continue
        at = today_time if row.date == now.astimezone(PARIS).date() else dt.time(8, 30)
        if last_mt is None or (row.date - last_mt).days >= 7:
            mt_at = dt.time(max(at.hour - 1, 0), 0)
            record_motor_threshold(database, nurse, patient, course_id, {
                "measured_on": row.date.isoformat(), "measured_time": mt_at.isoformat("minutes"),
                "value_pct_mso": str(MT_VALUE[patient]), "method": "emg_mep", "muscle": "APB",
                "hemisphere": "left", "trigger": "course_start" if last_mt is None else "weekly",
                "device_id": "MagVenture R30 n° 1", "coil_id": "Cool-B65 n° 2", "mep_criterion": "≥ 50 µV, ≥ 5/10"},
                now)
            last_mt = row.date
        mso = round(MT_VALUE[patient] * 120 / 100)
        view = record_session(database, nurse, patient, course_id, row.id, {
            "performed_on": row.date.isoformat(), "start_time": at.isoformat("minutes"), "intensity_pct_mt": "120",
            "intensity_pct_mso": str(mso), "pulses_delivered": "3000", "trains_delivered": "75",
            "frequency_hz": "10", "device_id": "MagVenture R30 n° 1", "coil_id": "Cool-B65 n° 2",
            "targeting_method": "beam_f3", "checkin_metal_removed": "on"}, now)
        records.append(view.id)
    return records


def _plan(database: Database, doctor: Actor, patient: str, start: dt.date, calendar: WorkingCalendar) -> str:
    return plan_course(database, doctor, patient, protocol="hf_left_10hz", start=start, induction_sessions=30,
                       calendar=calendar).id


def seed_rtms_sessions(database: Database, today: dt.date) -> None:
    with database.read() as session:
        if session.scalar(select(SessionRecordRow.id).where(SessionRecordRow.patient_id == "P-DEMO00004")):
            return
    doctor = _actor(database, "psychiatre@demo.parcours.fr", "psychiatrist")
    nurse = _actor(database, "infirmier@demo.parcours.fr", "operator")
    calendar = centre_calendar(database, CENTRE, "metropole")
    now = utcnow()
    local_now = now.astimezone(PARIS)
    today_time = max(dt.time(0, 0), (local_now - dt.timedelta(minutes=20)).time().replace(second=0, microsecond=0))
    if local_now.hour == 0 and local_now.minute < 20:
        today_time = dt.time(0, 0)
    yesterday = today - dt.timedelta(days=1)

    def back(count: int) -> dt.date:
        return _working_days_back(calendar, today, count)

    # Responder: 14 sessions delivered up to yesterday, session 15 planned today.
    start = back(14)
    _trajectory(database, "P-DEMO00004", [(start - dt.timedelta(days=3), 22, 34), (back(9), 17, 27),
                                          (back(4), 12, 19), (yesterday, 9, 15)])
    course = _plan(database, doctor, "P-DEMO00004", start, calendar)
    _deliver(database, nurse, "P-DEMO00004", course, yesterday, now, today_time)

    # Non-responder at the checkpoint: 11 sessions delivered, MADRS after session 10 barely moved.
    start = back(11)
    _trajectory(database, "P-DEMO00005", [(start - dt.timedelta(days=2), 20, 32), (back(6), 19, 31),
                                          (back(1), 19, 29)])
    course = _plan(database, doctor, "P-DEMO00005", start, calendar)
    _deliver(database, nurse, "P-DEMO00005", course, yesterday, now, today_time)

    # Early induction, today's session already delivered, a mild headache after it.
    start = back(4)
    _trajectory(database, "P-DEMO00006", [(start - dt.timedelta(days=1), 18, 30)])
    course = _plan(database, doctor, "P-DEMO00006", start, calendar)
    records = _deliver(database, nurse, "P-DEMO00006", course, today if calendar.is_working_day(today) else yesterday,
                       now, today_time)
    save_adverse_event(database, nurse, "P-DEMO00006", course, {
        "type": "headache", "onset": "lt_1h", "severity": "mild", "action": "none", "relatedness": "probable",
        "duration_minutes": "90", "outcome": "Résolutive sous paracétamol", "session_record_id": records[-1]})

    # A convulsive syncope during session 3, with the initial report filled and the adjudication done.
    start = back(7)
    _trajectory(database, "P-DEMO00007", [(start - dt.timedelta(days=2), 21, 33), (back(2), 18, 29)])
    course = _plan(database, doctor, "P-DEMO00007", start, calendar)
    records = _deliver(database, nurse, "P-DEMO00007", course, yesterday, now, today_time)
    mt_day = _course_rows(database, course)[0].date
    form = {"form_session_index": "3", "form_time_relative_to_train": "pendant le 40e train",
            "form_delivered_pct_mso": str(round(MT_VALUE["P-DEMO00007"] * 1.2)), "form_delivered_pct_mt": "120",
            "form_last_mt_date": mt_day.isoformat(), "form_last_mt_method": "emg_mep", "form_semiology": "focal",
            "form_duration_seconds": "15", "form_post_event_confusion_minutes": "0", "form_heart_rate_bpm": "52",
            "form_systolic_mmhg": "95", "form_diastolic_mmhg": "60", "form_adjudication": "convulsive_syncope",
            "form_adjudicated_by": "Dr Claire Muller", "form_continuation_decision": "continue"}
    for name in ("loss_of_consciousness", "pallor", "brief_jerks", "rapid_recovery", "sleep_deprivation",
                 "stimulation_stopped", "recovery_position"):
        form[f"form_{name}"] = "yes"
    for name in ("incontinence", "tongue_bite", "alcohol", "medication_change", "recent_intensity_increase",
                 "emergency_call", "eeg_done"):
        form[f"form_{name}"] = "no"
    save_adverse_event(database, nurse, "P-DEMO00007", course, {
        "type": "syncope", "onset": "during_session", "severity": "moderate", "action": "session_stopped",
        "relatedness": "possible", "loss_of_consciousness": "yes", "duration_minutes": "1",
        "outcome": "Récupération complète en moins d'une minute", "session_record_id": records[2]} | form)

    # Maintenance: induction and taper done months ago, classic maintenance under way.
    start = today - dt.timedelta(days=120)
    _trajectory(database, "P-DEMO00008", [(start - dt.timedelta(days=2), 23, 36),
                                          (start + dt.timedelta(days=14), 15, 24),
                                          (start + dt.timedelta(days=42), 6, 9), (today - dt.timedelta(days=20), 5, 8)])
    course = _plan(database, doctor, "P-DEMO00008", start, calendar)
    with database.read() as session:
        version = str(session.get(Course, course).version)  # type: ignore[union-attr]
    apply_course_edit(database, doctor, "P-DEMO00008", course, "taper", {"version": version, "template": "T-NS-321"},
                      calendar=calendar, today=start)
    with database.read() as session:
        version = str(session.get(Course, course).version)  # type: ignore[union-attr]
    apply_course_edit(database, doctor, "P-DEMO00008", course, "maintenance_classic",
                      {"version": version, "template": "M-OREARDON"}, calendar=calendar, today=start)
    _deliver(database, nurse, "P-DEMO00008", course, yesterday, now, today_time)

    # Relapse: course 1 (responder) completed ten months ago; course 2 active since two weeks.
    start = today - dt.timedelta(days=300)
    restart = back(9)
    _trajectory(database, "P-DEMO00009", [
        (start - dt.timedelta(days=2), 21, 33), (start + dt.timedelta(days=20), 13, 20),
        (start + dt.timedelta(days=42), 6, 10), (today - dt.timedelta(days=120), 8, 12),
        (restart - dt.timedelta(days=3), 19, 30), (back(2), 14, 22)])
    first = _plan(database, doctor, "P-DEMO00009", start, calendar)
    _deliver(database, nurse, "P-DEMO00009", first, today - dt.timedelta(days=200), now, today_time)
    with database.write() as session:
        completed = session.get(Course, first)
        if completed is not None:
            completed.status = "completed"
    second = _plan(database, doctor, "P-DEMO00009", restart, calendar)
    _deliver(database, nurse, "P-DEMO00009", second, yesterday, now, today_time)

    # Courses starting today (MT due before the first session), and a bipolar patient in week 2.
    for patient in ("P-DEMO00011", "P-DEMO00012"):
        _trajectory(database, patient, [(today - dt.timedelta(days=4), 19, 31)])
        _plan(database, doctor, patient, today, calendar)
    start = back(6)
    _trajectory(database, "P-DEMO00002", [(start - dt.timedelta(days=2), 20, 31), (back(1), 16, 26)])
    course = _plan(database, doctor, "P-DEMO00002", start, calendar)
    _deliver(database, nurse, "P-DEMO00002", course, yesterday, now, today_time)

    # Browser journey patient: only a baseline, about three weeks ago (no course yet).
    _trajectory(database, "P-DEMO00010", [(today - dt.timedelta(days=20), 20, 32)])
