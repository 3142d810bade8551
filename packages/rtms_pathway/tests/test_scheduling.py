"""Scheduling rules R-SCH-01..13 beyond the worked examples: calendars, skips, undo, extension, phases."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from rtms_pathway.catalogue.loader_planning import (
    load_planning_settings,
    load_planning_templates,
    load_protocol_catalogue,
)
from rtms_pathway.model.planning import CoursePlan
from rtms_pathway.rules.scheduling import (
    SlotsDoNotFit,
    add_classic_maintenance,
    add_cluster_maintenance,
    add_months,
    add_rescue_cluster,
    add_taper,
    day_slot_times,
    extend_course,
    missed_sessions_alerts,
    monthly_maintenance_counts,
    plan_induction,
    propose_unbroken_block,
    record_delivery,
    session_counts,
    skip_session,
    supersede_planned_sessions,
    undo_skip,
)
from shared_core.calendar import WorkingCalendar
from shared_core.errors import Conflict, PermissionDenied, ValidationFailed

CATALOGUE = load_protocol_catalogue()
TEMPLATES = load_planning_templates()
SETTINGS = load_planning_settings()
NATIONAL = WorkingCalendar("metropole")
HF = CATALOGUE.get("hf_left_10hz")


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def days(plan: CoursePlan, phase: str | None = "induction") -> list[dt.date]:
    return [s.date for s in plan.active_sessions(phase)]  # type: ignore[arg-type]


def example_a() -> CoursePlan:
    return plan_induction(HF, d("2026-04-27"), NATIONAL, SETTINGS, sessions=30)


def at(day: str, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(d(day), dt.time(hour))


# --- calendars: Christmas / New Year, Easter, Alsace-Moselle --------------------------------------


def test_christmas_and_new_year_with_a_centre_closure() -> None:
    calendar = WorkingCalendar("metropole", closures=[(d("2026-12-28"), d("2026-12-31"))])
    plan = plan_induction(HF, d("2026-12-14"), calendar, SETTINGS, sessions=20)
    assert days(plan) == [d(x) for x in (
        "2026-12-14", "2026-12-15", "2026-12-16", "2026-12-17", "2026-12-18",
        "2026-12-21", "2026-12-22", "2026-12-23", "2026-12-24",
        "2027-01-04", "2027-01-05", "2027-01-06", "2027-01-07", "2027-01-08",
        "2027-01-11", "2027-01-12", "2027-01-13", "2027-01-14", "2027-01-15", "2027-01-18",
    )]
    skipped = next(w for w in plan.warnings if w.code == "non_working_days_skipped")
    assert skipped.dates == [d(x) for x in ("2026-12-25", "2026-12-28", "2026-12-29", "2026-12-30", "2026-12-31",
                                            "2027-01-01")]


def test_single_day_closures_and_start_on_a_closure() -> None:
    calendar = WorkingCalendar("metropole", closures=[d("2026-06-01"), d("2026-06-03")])
    plan = plan_induction(HF, d("2026-06-01"), calendar, SETTINGS, sessions=3)
    assert days(plan) == [d("2026-06-02"), d("2026-06-04"), d("2026-06-05")]
    moved = next(w for w in plan.warnings if w.code == "start_moved")
    assert moved.rule_id == "R-SCH-01" and "closure" in moved.message_en
    assert moved.dates == [d("2026-06-01"), d("2026-06-02")]


def test_start_on_a_holiday_moves_to_the_next_working_day() -> None:
    plan = plan_induction(HF, d("2026-05-01"), NATIONAL, SETTINGS, sessions=20)
    assert days(plan)[0] == d("2026-05-04")
    moved = next(w for w in plan.warnings if w.code == "start_moved")
    assert "Fête du Travail" in moved.message_fr
    assert plan.requested_start == d("2026-05-01")


def test_start_on_a_weekend_moves_to_monday() -> None:
    plan = plan_induction(HF, d("2026-04-25"), NATIONAL, SETTINGS, sessions=20)
    assert days(plan)[0] == d("2026-04-27")
    assert "weekend" in next(w for w in plan.warnings if w.code == "start_moved").message_en


def test_easter_dependent_holidays_2027() -> None:
    # Ascension Thu 06 May and Whit Monday Mon 17 May 2027 consume no session.
    plan = plan_induction(HF, d("2027-05-03"), NATIONAL, SETTINGS, sessions=20)
    assert d("2027-05-06") not in days(plan) and d("2027-05-17") not in days(plan)
    assert plan.induction_end == d("2027-06-01")
    # A site that works on Whit Monday (journée de solidarité) schedules it.
    working_whit = WorkingCalendar("metropole", whit_monday_closed=False)
    plan = plan_induction(HF, d("2027-05-03"), working_whit, SETTINGS, sessions=20)
    assert d("2027-05-17") in days(plan) and plan.induction_end == d("2027-05-31")


def test_alsace_moselle_26_december_and_good_friday() -> None:
    national = plan_induction(HF, d("2025-12-22"), NATIONAL, SETTINGS, sessions=20)
    alsace = plan_induction(HF, d("2025-12-22"), WorkingCalendar("alsace_moselle"), SETTINGS, sessions=20)
    assert days(national)[:5] == [d(x) for x in ("2025-12-22", "2025-12-23", "2025-12-24", "2025-12-26",
                                                 "2025-12-29")]
    assert days(alsace)[:5] == [d(x) for x in ("2025-12-22", "2025-12-23", "2025-12-24", "2025-12-29",
                                               "2025-12-30")]
    assert d("2027-03-26") in days(plan_induction(HF, d("2027-03-22"), NATIONAL, SETTINGS, sessions=5))
    alsace_2027 = plan_induction(HF, d("2027-03-22"), WorkingCalendar("alsace_moselle"), SETTINGS, sessions=5)
    assert days(alsace_2027) == [d(x) for x in ("2027-03-22", "2027-03-23", "2027-03-24", "2027-03-25",
                                                "2027-03-30")]


def test_overseas_zone_abolition_day() -> None:
    # La Réunion, 20 December 2027 is a Monday.
    plan = plan_induction(HF, d("2027-12-20"), WorkingCalendar("974"), SETTINGS, sessions=20)
    assert days(plan)[0] == d("2027-12-21")


# --- R-SCH-03, R-SCH-10, input errors --------------------------------------------------------------


def test_induction_length_outside_1_to_6_weeks_warns() -> None:
    long = plan_induction(HF, d("2026-04-27"), NATIONAL, SETTINGS, sessions=36)
    assert "induction_length_outside_range" in {w.code for w in long.warnings}
    assert "sessions_outside_protocol_range" in {w.code for w in long.warnings}
    short = plan_induction(HF, d("2026-04-27"), NATIONAL, SETTINGS, sessions=4)
    assert "induction_length_outside_range" in {w.code for w in short.warnings}
    assert "induction_length_outside_range" not in {w.code for w in example_a().warnings}


def test_lower_frequency_course_three_days_a_week() -> None:
    plan = plan_induction(HF, d("2026-04-27"), NATIONAL, SETTINGS, sessions=12, course_weekdays=[0, 2, 4])
    assert {day.weekday() for day in days(plan)} <= {0, 2, 4}
    assert days(plan)[:4] == [d("2026-04-27"), d("2026-04-29"), d("2026-05-04"), d("2026-05-06")]  # Fri 1 May
    codes = {w.code for w in plan.warnings}
    assert "lower_frequency_course" in codes  # R-SCH-10
    assert "induction_length_outside_range" not in codes  # 12 / 3 = 4 weeks
    assert plan.course_weekdays == [0, 2, 4]


def test_default_session_count_is_the_protocol_default() -> None:
    plan = plan_induction(CATALOGUE.get("itbs_left"), d("2026-03-23"), NATIONAL, SETTINGS)
    assert plan.planned_sessions == 20 and len(plan.active_sessions()) == 20


def test_invalid_planning_inputs_list_every_field() -> None:
    maintenance_only = CATALOGUE.get("bilateral_sequential_maintenance")
    with pytest.raises(ValidationFailed) as info:
        plan_induction(maintenance_only, d("2026-04-27"), NATIONAL, SETTINGS, sessions=0, course_weekdays=[6])
    assert [e.field for e in info.value.errors] == ["protocol", "sessions", "course_weekdays"]


def test_sessions_that_do_not_fit_the_opening_hours_are_refused() -> None:
    saint = CATALOGUE.get("accelerated_itbs")
    with pytest.raises(ValidationFailed) as info:
        plan_induction(saint, d("2026-05-18"), NATIONAL, SETTINGS, opening=dt.time(8), closing=dt.time(12))
    assert info.value.errors[0].field == "sessions_per_day"
    assert "closing" in info.value.errors[0].message


def test_twice_daily_protocol_uses_the_default_isi() -> None:
    twice = CATALOGUE.get("hf_left_10hz_5s_25s")
    plan = plan_induction(twice, d("2026-09-07"), NATIONAL, SETTINGS, sessions_per_day=2)
    first_day = [s for s in plan.sessions if s.date == d("2026-09-07")]
    assert [(s.slot, s.start) for s in first_day] == [(1, dt.time(8)), (2, dt.time(9, 20))]  # 08:29:35 + 50 min
    assert plan.induction_end == d("2026-09-25")  # 30 sessions = 15 working days
    assert plan.min_isi_min == 50 and plan.isi_anchor == "end_to_start"


# --- R-SCH-04 slot grid -----------------------------------------------------------------------------


def test_day_slot_times_rules() -> None:
    grid = day_slot_times(3, 2224, min_isi_min=50, isi_anchor="end_to_start", opening=dt.time(9),
                          closing=dt.time(18), granularity_min=10)
    assert [s for s, _ in grid] == [dt.time(9), dt.time(10, 30), dt.time(12)]
    # start_to_start never lets a session start before the previous one ends.
    grid = day_slot_times(2, 2224, min_isi_min=30, isi_anchor="start_to_start", opening=dt.time(9),
                          closing=dt.time(18), granularity_min=10)
    assert grid[1][0] == dt.time(9, 40)
    with pytest.raises(ValueError, match="min_isi_min"):
        day_slot_times(2, 600, min_isi_min=None, isi_anchor=None, opening=dt.time(8), closing=dt.time(18),
                       granularity_min=10)
    with pytest.raises(SlotsDoNotFit):
        day_slot_times(1, 600, min_isi_min=None, isi_anchor=None, opening=dt.time(8), closing=dt.time(18),
                       granularity_min=10, first_start=dt.time(7))
    with pytest.raises(SlotsDoNotFit):
        day_slot_times(1, 600, min_isi_min=None, isi_anchor=None, opening=dt.time(8), closing=dt.time(8, 5),
                       granularity_min=10)
    with pytest.raises(ValueError):
        day_slot_times(0, 600, min_isi_min=None, isi_anchor=None, opening=dt.time(8), closing=dt.time(18),
                       granularity_min=10)


def test_block_proposal_none_when_no_block_exists() -> None:
    calendar = WorkingCalendar("metropole", closures=[(d("2026-01-05"), d("2026-12-31"))])
    assert propose_unbroken_block(d("2026-01-05"), 5, calendar, search_days=30) is None
    assert propose_unbroken_block(d("2026-05-18"), 1, NATIONAL) is not None
    with pytest.raises(ValueError):
        propose_unbroken_block(d("2026-05-18"), 0, NATIONAL)


# --- R-SCH-06 skip / postpone / undo -----------------------------------------------------------------


def test_two_skips_append_two_replacements() -> None:
    plan = example_a()
    plan = skip_session(plan, plan.by_number(10).id, NATIONAL, reason="patient_ill")
    plan = skip_session(plan, plan.by_number(10).id, NATIONAL, reason="device_fault")
    assert [s.date for s in plan.sessions if s.status == "skipped"] == [d("2026-05-12"), d("2026-05-13")]
    assert days(plan)[-2:] == [d("2026-06-12"), d("2026-06-15")]
    assert plan.by_number(10).date == d("2026-05-15") and plan.planned_sessions == 30


def test_skip_without_replacement_is_for_a_physician() -> None:
    plan = example_a()
    target = plan.by_number(10).id
    with pytest.raises(PermissionDenied):
        skip_session(plan, target, NATIONAL, reason="clinical_hold", action="skip_without_replacement")
    plan = skip_session(plan, target, NATIONAL, reason="clinical_hold", action="skip_without_replacement",
                        by_physician=True, note="pause")
    assert plan.planned_sessions == 29 and len(plan.active_sessions()) == 29
    assert plan.induction_end == d("2026-06-11")
    skipped = plan.session(target)
    assert skipped.replaced_by is None and skipped.skip_note == "pause"


def test_skip_of_a_session_that_is_not_open_is_refused() -> None:
    plan = example_a()
    first = plan.by_number(1).id
    plan = record_delivery(plan, first, at("2026-04-27", 8), at("2026-04-27", 9))
    with pytest.raises(Conflict):
        skip_session(plan, first, NATIONAL, reason="other")
    with pytest.raises(KeyError):
        skip_session(plan, 999, NATIONAL, reason="other")


def test_undo_restores_the_original_slot_and_removes_the_replacement() -> None:
    plan = example_a()
    target = plan.by_number(10).id
    skipped = skip_session(plan, target, NATIONAL, reason="patient_absent")
    restored = undo_skip(skipped, target, today=d("2026-05-11"))
    assert days(restored) == days(plan)
    assert restored.session(target).status == "planned" and restored.session(target).number == 10
    assert restored.induction_end == d("2026-06-11")
    assert len(restored.sessions) == 30


def test_undo_on_the_day_itself_is_allowed() -> None:
    plan = example_a()
    target = plan.by_number(10).id
    skipped = skip_session(plan, target, NATIONAL, reason="patient_absent")
    assert undo_skip(skipped, target, today=d("2026-05-12")).session(target).status == "planned"


def test_undo_after_the_date_passed_is_refused() -> None:
    plan = example_a()
    target = plan.by_number(10).id
    skipped = skip_session(plan, target, NATIONAL, reason="patient_absent")
    with pytest.raises(Conflict, match="has passed"):
        undo_skip(skipped, target, today=d("2026-05-13"))


def test_undo_after_the_replacement_was_delivered_is_refused() -> None:
    plan = example_a()
    target = plan.by_number(10).id
    skipped = skip_session(plan, target, NATIONAL, reason="patient_absent")
    replacement = skipped.session(skipped.session(target).replaced_by or -1)
    # A replacement always comes after the original, so in practice the date check fires first;
    # `today` is set early here to exercise the second condition on its own.
    delivered = record_delivery(skipped, replacement.id, at("2026-06-12", 8), at("2026-06-12", 9))
    with pytest.raises(Conflict, match="delivered"):
        undo_skip(delivered, target, today=d("2026-05-01"))


def test_undo_of_a_skip_without_replacement_restores_the_target() -> None:
    plan = example_a()
    target = plan.by_number(5).id
    skipped = skip_session(plan, target, NATIONAL, reason="staff_unavailable", action="skip_without_replacement",
                           by_physician=True)
    restored = undo_skip(skipped, target, today=d("2026-05-01"))
    assert restored.planned_sessions == 30 and len(restored.active_sessions()) == 30


def test_undo_of_a_session_that_was_not_skipped_is_refused() -> None:
    plan = example_a()
    with pytest.raises(Conflict, match="not skipped"):
        undo_skip(plan, plan.by_number(3).id, today=d("2026-04-01"))


def test_skip_in_an_accelerated_block_fills_the_appended_day() -> None:
    saint = CATALOGUE.get("accelerated_itbs")
    plan = plan_induction(saint, d("2026-05-18"), NATIONAL, SETTINGS, opening=dt.time(8))
    plan = skip_session(plan, plan.by_number(3).id, NATIONAL, reason="device_fault")
    plan = skip_session(plan, plan.by_number(3).id, NATIONAL, reason="device_fault")
    appended = [s for s in plan.active_sessions() if s.date == d("2026-05-26")]  # Whit Monday 25 May skipped
    assert [(s.slot, s.start) for s in appended] == [(1, dt.time(8)), (2, dt.time(9))]
    assert len(plan.active_sessions()) == 50


def test_skip_of_a_taper_session_appends_after_the_taper() -> None:
    plan = add_taper(example_a(), TEMPLATES.taper("T-NS-321"), NATIONAL)
    taper = plan.active_sessions("taper")
    plan = skip_session(plan, taper[0].id, NATIONAL, reason="patient_absent")
    assert days(plan, "taper")[-1] == d("2026-07-02")  # after Wed 01 Jul
    assert plan.planned_sessions == 30


def test_skip_after_the_taper_is_planned_warns_that_later_phases_did_not_move() -> None:
    plan = add_taper(example_a(), TEMPLATES.taper("T-NS-321"), NATIONAL)
    plan = skip_session(plan, plan.by_number(29).id, NATIONAL, reason="patient_absent")
    assert plan.induction_end == d("2026-06-12")
    assert "later_phases_not_moved" not in {w.code for w in plan.warnings}  # taper starts Mon 15
    for _ in range(2):
        plan = skip_session(plan, plan.by_number(29).id, NATIONAL, reason="patient_absent")
    # Mon 15 and Wed 17 Jun are taper days, so the replacements land on Tue 16 and Thu 18 Jun.
    assert days(plan)[-2:] == [d("2026-06-16"), d("2026-06-18")]
    warning = next(w for w in plan.warnings if w.code == "later_phases_not_moved")
    assert warning.dates == [d("2026-06-15"), d("2026-06-17")]


# --- R-SCH-07, R-SCH-08 --------------------------------------------------------------------------------


def test_three_consecutive_missed_days_raise_a_review() -> None:
    plan = example_a()
    for number in (10, 10):
        plan = skip_session(plan, plan.by_number(number).id, NATIONAL, reason="patient_ill")
    assert missed_sessions_alerts(plan, SETTINGS) == []
    plan = skip_session(plan, plan.by_number(10).id, NATIONAL, reason="patient_ill")
    alerts = missed_sessions_alerts(plan, SETTINGS)
    assert len(alerts) == 1 and alerts[0].rule_id == "R-SCH-07" and alerts[0].threshold == 3
    assert alerts[0].days == [d("2026-05-12"), d("2026-05-13"), d("2026-05-15")]  # consecutive planned days
    strict = msgspec.structs.replace(SETTINGS, sch_consecutive_missed_alert=4)
    assert missed_sessions_alerts(plan, strict) == []


def test_planned_versus_performed_counts() -> None:
    plan = example_a()
    plan = record_delivery(plan, plan.by_number(1).id, at("2026-04-27", 8), at("2026-04-27", 9))
    plan = record_delivery(plan, plan.by_number(2).id, at("2026-04-28", 8), at("2026-04-28", 8), partial=True)
    plan = skip_session(plan, plan.by_number(3).id, NATIONAL, reason="patient_absent")
    counts = session_counts(plan)
    assert (counts.target, counts.scheduled, counts.delivered, counts.partially_delivered, counts.performed,
            counts.remaining, counts.skipped) == (30, 30, 1, 1, 2, 28, 1)
    first = plan.by_number(1)
    assert first.performed_start == at("2026-04-27", 8) and first.date == d("2026-04-27") and first.slot == 1
    assert session_counts(plan, None).scheduled == 30
    with pytest.raises(ValidationFailed):
        record_delivery(plan, plan.by_number(4).id, at("2026-04-30", 9), at("2026-04-30", 8))
    with pytest.raises(Conflict):
        record_delivery(plan, first.id, at("2026-04-27", 8), at("2026-04-27", 9))


# --- R-SCH-09 extension -----------------------------------------------------------------------------


def test_extension_by_five_sessions() -> None:
    plan = extend_course(example_a(), 5, "réponse partielle à J30", NATIONAL)
    assert plan.planned_sessions == 35
    assert days(plan)[-5:] == [d(x) for x in ("2026-06-12", "2026-06-15", "2026-06-16", "2026-06-17", "2026-06-18")]
    assert plan.induction_end == d("2026-06-18")
    assert plan.extensions[0].count == 5 and plan.extensions[0].reason == "réponse partielle à J30"
    assert {plan.session(i).extension for i in plan.extensions[0].session_ids} == {1}
    note = next(w for w in plan.warnings if w.code == "course_extended")
    assert note.rule_id == "R-SCH-09" and note.dates == [d("2026-06-18")]
    again = extend_course(plan, 10, "late responder", NATIONAL)
    assert again.planned_sessions == 45 and again.extensions[1].number == 2


def test_extension_needs_a_reason_and_a_positive_count() -> None:
    with pytest.raises(ValidationFailed) as info:
        extend_course(example_a(), 0, "  ", NATIONAL)
    assert [e.field for e in info.value.errors] == ["count", "reason"]


def test_extension_after_the_taper_warns() -> None:
    plan = add_taper(example_a(), TEMPLATES.taper("T-NS-321"), NATIONAL)
    plan = extend_course(plan, 5, "extension", NATIONAL)
    assert "later_phases_not_moved" in {w.code for w in plan.warnings}
    assert len(set(days(plan, None))) == len(days(plan, None))  # never two sessions on one day


# --- §7.4 taper ISO-week rule ---------------------------------------------------------------------


def test_taper_holiday_moves_within_the_iso_week_then_to_the_next_week() -> None:
    calendar = WorkingCalendar("metropole", closures=[(d("2027-04-14"), d("2027-04-18"))])
    plan = plan_induction(HF, d("2027-03-15"), calendar, SETTINGS, sessions=10)
    assert plan.induction_end == d("2027-03-26")
    plan = add_taper(plan, TEMPLATES.taper("T-NS-321"), calendar)
    taper = plan.active_sessions("taper")
    assert [s.date for s in taper] == [d(x) for x in (
        "2027-03-30",  # Easter Monday 29 Mar -> Tuesday of the same week
        "2027-03-31", "2027-04-02", "2027-04-06", "2027-04-08",
        "2027-04-19",  # Wed 14 Apr closed to Sunday -> first free day of the next week
    )]
    assert taper[0].nominal_date == d("2027-03-29")


def test_taper_moved_day_never_lands_on_another_taper_day() -> None:
    calendar = WorkingCalendar("metropole", closures=[d("2026-06-19")])
    plan = plan_induction(HF, d("2026-05-04"), calendar, SETTINGS, sessions=25)
    plan = add_taper(plan, TEMPLATES.taper("T-NS-321"), calendar)
    week_one = [s.date for s in plan.active_sessions("taper")][:3]
    assert week_one == [d("2026-06-15"), d("2026-06-17"), d("2026-06-22")]  # Fri 19 closed, week over
    assert len(set(days(plan, "taper"))) == 6


def test_t_none_changes_nothing() -> None:
    plan = example_a()
    assert add_taper(plan, TEMPLATES.taper("T-NONE"), NATIONAL) is plan


# --- §7.5 classic maintenance variants --------------------------------------------------------------


def test_classic_default_first_date_is_one_interval_after_the_last_session() -> None:
    plan = add_classic_maintenance(example_a(), TEMPLATES.maintenance_template("M-WEEKLY-BIWEEKLY-FR"), NATIONAL,
                                   SETTINGS)
    assert days(plan, "maintenance_classic")[:2] == [d("2026-06-18"), d("2026-06-25")]
    assert len(days(plan, "maintenance_classic")) == 8


def test_fractional_interval_does_not_drift() -> None:
    plan = add_classic_maintenance(example_a(), TEMPLATES.maintenance_template("M-ECT-SUB"), NATIONAL, SETTINGS,
                                   first_date=d("2026-10-05"), until=d("2027-01-31"))
    assert [s.nominal_date for s in plan.active_sessions("maintenance_classic")] == [d(x) for x in (
        "2026-10-05", "2026-10-29", "2026-11-23", "2026-12-17", "2027-01-11")]  # +24.5 days each, floored


def test_open_ended_template_stops_at_the_horizon() -> None:
    plan = add_classic_maintenance(example_a(), TEMPLATES.maintenance_template("M-ECT-SUB"), NATIONAL, SETTINGS,
                                   first_date=d("2026-07-01"))
    last = days(plan, "maintenance_classic")[-1]
    assert last <= add_months(d("2026-07-01"), SETTINGS.maint_horizon_months) + dt.timedelta(days=3)
    assert len(days(plan, "maintenance_classic")) == 15  # 0, 24.5, ... ≤ 365 days


def test_m_dtms_two_a_week_for_twelve_weeks() -> None:
    deep = CATALOGUE.get("deep_tms_h1")
    plan = plan_induction(deep, d("2027-03-01"), NATIONAL, SETTINGS)
    assert plan.induction_end == d("2027-03-26")
    plan = add_classic_maintenance(plan, TEMPLATES.maintenance_template("M-DTMS"), NATIONAL, SETTINGS)
    maintenance = days(plan, "maintenance_classic")
    assert len(maintenance) == 24
    assert maintenance[:2] == [d("2027-03-30"), d("2027-04-01")]  # Easter Monday -> Tuesday
    assert maintenance[-1] == d("2027-06-17")
    counts = monthly_maintenance_counts(plan, SETTINGS)
    assert [(c.month, c.sessions) for c in counts] == [("2027-03", 1), ("2027-04", 9), ("2027-05", 9), ("2027-06", 5)]
    # R-SCH-12 counts calendar months literally: the month the template starts in is flagged too.
    assert [c.month for c in counts if c.dose_low] == ["2027-03"]


def test_m_bilat_ect_uses_its_own_protocol() -> None:
    template = TEMPLATES.maintenance_template("M-BILAT-ECT")
    with pytest.raises(ValueError, match="bilateral_sequential_maintenance"):
        add_classic_maintenance(example_a(), template, NATIONAL, SETTINGS)
    with pytest.raises(ValueError):
        add_classic_maintenance(example_a(), template, NATIONAL, SETTINGS, protocol=HF)
    bilateral = CATALOGUE.get("bilateral_sequential_maintenance")
    plan = add_classic_maintenance(example_a(), template, NATIONAL, SETTINGS, protocol=bilateral,
                                   until=d("2026-08-31"))
    sessions = plan.active_sessions("maintenance_classic")
    assert {s.protocol_ref for s in sessions} == {"bilateral_sequential_maintenance@1"}
    assert {s.date.weekday() for s in sessions} <= {1, 2}  # Tuesdays (14 Jul moved within the week)
    assert sessions[0].end == dt.time(8, 47, 4)  # 2824 s
    assert d("2026-07-15") in [s.date for s in sessions]


def test_wrong_template_kinds_are_refused() -> None:
    with pytest.raises(ValueError):
        add_classic_maintenance(example_a(), TEMPLATES.maintenance_template("M-CLUSTER-FITZ"), NATIONAL, SETTINGS)
    with pytest.raises(ValueError):
        add_cluster_maintenance(example_a(), TEMPLATES.maintenance_template("M-OREARDON"), NATIONAL, SETTINGS)
    with pytest.raises(ValueError):
        add_rescue_cluster(example_a(), TEMPLATES.maintenance_template("M-CLUSTER-FITZ"), d("2026-07-01"), NATIONAL)
    with pytest.raises(ValueError):
        add_classic_maintenance(example_a(), TEMPLATES.maintenance_template("M-OREARDON"), NATIONAL, SETTINGS,
                                anchor_weekday=9)


def test_rescue_cluster_stays_in_the_course() -> None:
    plan = plan_induction(HF, d("2027-03-15"), NATIONAL, SETTINGS, sessions=30, first_start=dt.time(9))
    plan = add_cluster_maintenance(plan, TEMPLATES.maintenance_template("M-CLUSTER-FITZ"), NATIONAL, SETTINGS,
                                   months=6)
    plan = add_rescue_cluster(plan, TEMPLATES.maintenance_template("M-CLUSTER-RESCUE"), d("2027-10-04"), NATIONAL,
                              first_start=dt.time(10))
    rescue = plan.active_sessions("rescue")
    assert [s.start for s in rescue[:2]] == [dt.time(10), dt.time(11, 30)]
    assert {s.cluster for s in rescue} == {"rescue-2027-10-06"}
    assert plan.course_number == 1 and len(rescue) == 5
    assert [(s.date, s.slot) for s in rescue] == [
        (d("2027-10-06"), 1), (d("2027-10-06"), 2), (d("2027-10-07"), 1), (d("2027-10-07"), 2), (d("2027-10-08"), 1)]
    assert [c.sessions for c in monthly_maintenance_counts(plan, SETTINGS)][-1] == 5  # rescue not counted


def test_cluster_first_month_can_be_given() -> None:
    plan = add_cluster_maintenance(example_a(), TEMPLATES.maintenance_template("M-CLUSTER-FITZ"), NATIONAL,
                                   SETTINGS, months=2, first_month=(2026, 9))
    assert sorted({s.date for s in plan.active_sessions("maintenance_cluster")}) == [
        d("2026-09-07"), d("2026-09-08"), d("2026-10-05"), d("2026-10-06")]
    default = add_cluster_maintenance(example_a(), TEMPLATES.maintenance_template("M-CLUSTER-FITZ"), NATIONAL,
                                      SETTINGS)
    assert len({s.cluster for s in default.active_sessions("maintenance_cluster")}) == SETTINGS.maint_horizon_months


def test_cluster_anchor_moves_over_a_weekend() -> None:
    # A site closed on Tuesday 03 Nov 2026: Mon 02 + Tue 03 fails, Tue 03 fails, Wed 04 + Thu 05 works.
    from rtms_pathway.rules.scheduling import cluster_anchor

    calendar = WorkingCalendar("metropole", closures=[d("2026-11-03")])
    assert cluster_anchor(2026, 11, calendar) == d("2026-11-04")
    friday = WorkingCalendar("metropole", closures=[(d("2026-11-02"), d("2026-11-05"))])
    assert cluster_anchor(2026, 11, friday) == d("2026-11-09")  # Fri 06 + Sat 07 is not two working days


# --- helpers and superseding -------------------------------------------------------------------------


def test_add_months_clamps_to_the_month_end() -> None:
    assert add_months(d("2027-01-31"), 1) == d("2027-02-28")
    assert add_months(d("2028-01-31"), 1) == d("2028-02-29")
    assert add_months(d("2026-12-15"), 1) == d("2027-01-15")
    assert add_months(d("2026-06-12"), 5) == d("2026-11-12")


def test_supersede_keeps_delivered_sessions_and_is_a_no_op_when_nothing_is_open() -> None:
    plan = example_a()
    plan = record_delivery(plan, plan.by_number(30).id, at("2026-06-11", 8), at("2026-06-11", 9))
    after = supersede_planned_sessions(plan, d("2026-06-11"), 2)
    assert after is plan
    partly = supersede_planned_sessions(plan, d("2026-06-10"), 2)
    assert [s.status for s in partly.sessions if s.date >= d("2026-06-10")] == ["superseded", "delivered"]
    assert partly.by_number(29).date == d("2026-06-11")  # numbering skips superseded sessions
