"""domain-rtms §7.7 worked scheduling examples A, B, C and D, with their exact dates."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from rtms_pathway.catalogue.loader_planning import (
    load_planning_settings,
    load_planning_templates,
    load_protocol_catalogue,
)
from rtms_pathway.model.planning import CoursePlan
from rtms_pathway.rules.scheduling import (
    add_classic_maintenance,
    add_cluster_maintenance,
    add_taper,
    cluster_anchor,
    is_in_relapse_window,
    maintenance_dose_warnings,
    monthly_maintenance_counts,
    plan_induction,
    propose_unbroken_block,
    relapse_window,
    session_counts,
    skip_session,
    start_new_course,
)
from shared_core.calendar import WorkingCalendar

CATALOGUE = load_protocol_catalogue()
TEMPLATES = load_planning_templates()
SETTINGS = load_planning_settings()
NATIONAL = WorkingCalendar("metropole")
ALSACE = WorkingCalendar("alsace_moselle")


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def dates(plan: CoursePlan, phase: str) -> list[dt.date]:
    return [s.date for s in plan.active_sessions(phase)]  # type: ignore[arg-type]


# --- Example A -------------------------------------------------------------------------------------


def example_a_induction() -> CoursePlan:
    return plan_induction(CATALOGUE.get("hf_left_10hz"), d("2026-04-27"), NATIONAL, SETTINGS, sessions=30)


def example_a_after_skip() -> CoursePlan:
    plan = example_a_induction()
    return skip_session(plan, plan.by_number(10).id, NATIONAL, reason="patient_absent")


def test_a_sessions_without_skips() -> None:
    plan = example_a_induction()
    expected = [
        "2026-04-27", "2026-04-28", "2026-04-29", "2026-04-30",  # 1-4
        "2026-05-04", "2026-05-05", "2026-05-06", "2026-05-07",  # 5-8
        "2026-05-11", "2026-05-12", "2026-05-13", "2026-05-15",  # 9-12
        "2026-05-18", "2026-05-19", "2026-05-20", "2026-05-21", "2026-05-22",  # 13-17
        "2026-05-26", "2026-05-27", "2026-05-28", "2026-05-29",  # 18-21
        "2026-06-01", "2026-06-02", "2026-06-03", "2026-06-04", "2026-06-05",  # 22-26
        "2026-06-08", "2026-06-09", "2026-06-10", "2026-06-11",  # 27-30
    ]
    assert dates(plan, "induction") == [d(x) for x in expected]
    assert [s.number for s in plan.active_sessions()] == list(range(1, 31))
    assert plan.induction_end == d("2026-06-11")  # Thu 11 Jun 2026
    assert all(s.slot == 1 for s in plan.sessions)


def test_a_holidays_inside_the_span_are_reported() -> None:
    plan = example_a_induction()
    skipped = [w for w in plan.warnings if w.code == "non_working_days_skipped"]
    assert len(skipped) == 1 and skipped[0].rule_id == "R-SCH-02"
    assert skipped[0].dates == [d("2026-05-01"), d("2026-05-08"), d("2026-05-14"), d("2026-05-25")]
    assert {w.code for w in plan.warnings} == {"non_working_days_skipped"}  # 30 sessions = 6 weeks: no R-SCH-03


def test_a_skip_of_tue_12_may_is_postponed() -> None:
    plan = example_a_after_skip()
    skipped = [s for s in plan.sessions if s.status == "skipped"]
    assert len(skipped) == 1
    assert skipped[0].date == d("2026-05-12") and skipped[0].original_number == 10
    assert skipped[0].skip_reason == "patient_absent" and skipped[0].skip_action == "postpone"
    assert plan.by_number(10).date == d("2026-05-13")
    assert plan.by_number(11).date == d("2026-05-15")  # the early-improvement checkpoint (R-MBC-03) comes before it
    assert plan.by_number(20).date == d("2026-05-29")
    assert plan.by_number(30).date == d("2026-06-12")  # Fri 12 Jun 2026
    replacement = plan.session(skipped[0].replaced_by or -1)
    assert replacement.date == d("2026-06-12") and replacement.replaces == skipped[0].id
    assert plan.planned_sessions == 30
    assert plan.induction_end == d("2026-06-12")
    counts = session_counts(plan)
    assert (counts.target, counts.scheduled, counts.skipped, counts.performed) == (30, 30, 1, 0)


def test_a_taper_t_ns_321() -> None:
    plan = add_taper(example_a_after_skip(), TEMPLATES.taper("T-NS-321"), NATIONAL)
    assert dates(plan, "taper") == [d(x) for x in (
        "2026-06-15", "2026-06-17", "2026-06-19", "2026-06-23", "2026-06-25", "2026-07-01")]
    assert [s.number for s in plan.active_sessions("taper")] == list(range(31, 37))  # total 36
    assert [s.index_in_phase for s in plan.active_sessions("taper")] == list(range(1, 7))


def example_a_full() -> CoursePlan:
    plan = add_taper(example_a_after_skip(), TEMPLATES.taper("T-NS-321"), NATIONAL)
    return add_classic_maintenance(plan, TEMPLATES.maintenance_template("M-OREARDON"), NATIONAL, SETTINGS,
                                   anchor_weekday=1)


def test_a_maintenance_m_oreardon_on_tuesdays() -> None:
    plan = example_a_full()
    assert dates(plan, "maintenance_classic") == [d(x) for x in (
        "2026-07-07", "2026-07-15", "2026-07-21", "2026-07-28",  # Tue 14 Jul holiday -> Wed 15 Jul
        "2026-08-11", "2026-08-25", "2026-09-08", "2026-09-22",
        "2026-10-20", "2026-11-17", "2026-12-15",
    )]
    moved = plan.active_sessions("maintenance_classic")[1]
    assert moved.nominal_date == d("2026-07-14") and moved.date == d("2026-07-15")
    # Chained from the nominal date: the next one is Tue 21 Jul, not Wed 22 Jul.
    assert plan.active_sessions("maintenance_classic")[2].nominal_date == d("2026-07-21")


def test_a_monthly_counts_and_dose_low_aug_to_dec() -> None:
    plan = example_a_full()
    counts = monthly_maintenance_counts(plan, SETTINGS)
    assert [(c.month, c.sessions) for c in counts] == [
        ("2026-07", 4), ("2026-08", 2), ("2026-09", 2), ("2026-10", 1), ("2026-11", 1), ("2026-12", 1)]
    warnings = maintenance_dose_warnings(plan, SETTINGS)
    assert [w.month for w in warnings] == ["2026-08", "2026-09", "2026-10", "2026-11", "2026-12"]
    assert {w.code for w in warnings} == {"maintenance_dose_low"}
    assert {w.rule_id for w in warnings} == {"R-SCH-12"}
    assert "ineffective" in warnings[0].message_en and "DANDREA23" in warnings[0].source + warnings[0].message_en


def test_a_relapse_window_opens_thu_12_nov_2026() -> None:
    window = relapse_window(example_a_full(), SETTINGS)
    assert window.induction_end == d("2026-06-12")
    assert window.opens_on == d("2026-11-12")
    assert window.rule_id == "R-SCH-13" and window.self_report_interval_days == 14
    assert not is_in_relapse_window(d("2026-11-11"), window)
    assert is_in_relapse_window(d("2026-11-12"), window)


# --- Example B -------------------------------------------------------------------------------------


def test_b_itbs_national_vs_alsace_moselle() -> None:
    itbs = CATALOGUE.get("itbs_left")
    national = plan_induction(itbs, d("2026-03-23"), NATIONAL, SETTINGS, sessions=20)
    alsace = plan_induction(itbs, d("2026-03-23"), ALSACE, SETTINGS, sessions=20)
    assert national.by_number(10).date == d("2026-04-03")
    assert national.by_number(20).date == d("2026-04-20")  # Mon 20 Apr 2026
    assert alsace.by_number(10).date == d("2026-04-07")
    assert alsace.by_number(20).date == d("2026-04-21")  # Tue 21 Apr 2026
    first_nine = [d(x) for x in ("2026-03-23", "2026-03-24", "2026-03-25", "2026-03-26", "2026-03-27",
                                 "2026-03-30", "2026-03-31", "2026-04-01", "2026-04-02")]
    assert dates(national, "induction")[:9] == first_nine == dates(alsace, "induction")[:9]
    assert d("2026-04-06") not in dates(national, "induction")
    assert {d("2026-04-03"), d("2026-04-06")}.isdisjoint(dates(alsace, "induction"))
    alsace_skipped = next(w for w in alsace.warnings if w.code == "non_working_days_skipped")
    assert alsace_skipped.dates == [d("2026-04-03"), d("2026-04-06")]
    assert national.calendar_zone == "metropole" and alsace.calendar_zone == "alsace_moselle"


# --- Example C -------------------------------------------------------------------------------------


def test_c_block_split_by_ascension_proposes_18_to_22_may() -> None:
    saint = CATALOGUE.get("accelerated_itbs")
    plan = plan_induction(saint, d("2026-05-11"), NATIONAL, SETTINGS)
    assert sorted(set(dates(plan, "induction"))) == [d(x) for x in (
        "2026-05-11", "2026-05-12", "2026-05-13", "2026-05-15", "2026-05-18")]
    split = [w for w in plan.warnings if w.code == "block_split"]
    assert len(split) == 1 and split[0].rule_id == "R-SCH-05"
    assert d("2026-05-14") in split[0].dates
    assert plan.block_proposal is not None
    assert plan.block_proposal.proposed_start == d("2026-05-18")
    assert plan.block_proposal.proposed_end == d("2026-05-22")
    assert plan.block_proposal.splitting_days == [d("2026-05-14"), d("2026-05-16"), d("2026-05-17")]
    proposal = propose_unbroken_block(d("2026-05-11"), 5, NATIONAL)
    assert proposal is not None and (proposal.proposed_start, proposal.proposed_end) == (d("2026-05-18"),
                                                                                         d("2026-05-22"))


def test_c_accepting_the_proposal_plans_the_unbroken_block() -> None:
    saint = CATALOGUE.get("accelerated_itbs")
    plan = plan_induction(saint, d("2026-05-11"), NATIONAL, SETTINGS, use_block_proposal=True)
    days = sorted(set(dates(plan, "induction")))
    assert days == [d(x) for x in ("2026-05-18", "2026-05-19", "2026-05-20", "2026-05-21", "2026-05-22")]
    assert d("2026-05-25") not in days  # Whit Monday falls after the block
    assert len(plan.active_sessions()) == 50 and plan.planned_sessions == 50
    assert "block_split" not in {w.code for w in plan.warnings}
    assert "block_moved" in {w.code for w in plan.warnings}
    assert "induction_length_outside_range" not in {w.code for w in plan.warnings}  # 1 week


def test_c_end_to_start_grid_08_to_17() -> None:
    saint = CATALOGUE.get("accelerated_itbs")
    plan = plan_induction(saint, d("2026-05-18"), NATIONAL, SETTINGS, opening=dt.time(8))
    assert plan.session_seconds == 592
    day_one = [s for s in plan.sessions if s.date == d("2026-05-18")]
    assert [s.slot for s in day_one] == list(range(1, 11))
    assert [s.start for s in day_one] == [dt.time(h) for h in range(8, 18)]
    assert day_one[-1].end == dt.time(17, 9, 52)
    assert plan.block_proposal is not None and plan.block_proposal.proposed_start == d("2026-05-18")
    assert not [w for w in plan.warnings if w.code == "block_split"]


def test_c_start_to_start_grid_and_its_shorter_gap() -> None:
    saint = CATALOGUE.get("accelerated_itbs")
    plan = plan_induction(saint, d("2026-05-18"), NATIONAL, SETTINGS, opening=dt.time(8), isi_anchor="start_to_start")
    day_one = [s for s in plan.sessions if s.date == d("2026-05-18")]
    assert [s.start.strftime("%H:%M") for s in day_one] == [
        "08:00", "08:50", "09:40", "10:30", "11:20", "12:10", "13:00", "13:50", "14:40", "15:30"]
    gap = dt.datetime.combine(d("2026-05-18"), day_one[1].start) - dt.datetime.combine(d("2026-05-18"), day_one[0].end)
    assert gap == dt.timedelta(minutes=40, seconds=8)


# --- Example D -------------------------------------------------------------------------------------


def example_d_course_1() -> CoursePlan:
    plan = plan_induction(CATALOGUE.get("hf_left_10hz"), d("2027-03-15"), NATIONAL, SETTINGS, sessions=30)
    return add_cluster_maintenance(plan, TEMPLATES.maintenance_template("M-CLUSTER-FITZ"), NATIONAL, SETTINGS,
                                   months=8, first_start=dt.time(9))


def test_d_course_1_ends_mon_26_apr_2027_and_tue_27_in_alsace() -> None:
    hf = CATALOGUE.get("hf_left_10hz")
    national = plan_induction(hf, d("2027-03-15"), NATIONAL, SETTINGS, sessions=30)
    alsace = plan_induction(hf, d("2027-03-15"), ALSACE, SETTINGS, sessions=30)
    assert d("2027-03-29") not in dates(national, "induction")
    assert national.induction_end == d("2027-04-26")
    assert alsace.induction_end == d("2027-04-27")


def test_d_cluster_dates() -> None:
    plan = example_d_course_1()
    clusters = {key: sorted({s.date for s in group})
                for key, group in itertools.groupby(plan.active_sessions("maintenance_cluster"), key=lambda s: s.cluster)}
    assert list(clusters.values()) == [[d(a), d(b)] for a, b in (
        ("2027-05-03", "2027-05-04"), ("2027-06-07", "2027-06-08"), ("2027-07-05", "2027-07-06"),
        ("2027-08-02", "2027-08-03"), ("2027-09-06", "2027-09-07"), ("2027-10-04", "2027-10-05"),
        ("2027-11-02", "2027-11-03"), ("2027-12-06", "2027-12-07"))]
    assert cluster_anchor(2027, 11, NATIONAL) == d("2027-11-02")  # Mon 01 Nov is a holiday
    assert cluster_anchor(2027, 5, NATIONAL) == d("2027-05-03")


def test_d_each_cluster_is_3_plus_2_with_day_one_slots_09_1030_12() -> None:
    plan = example_d_course_1()
    may = [s for s in plan.active_sessions("maintenance_cluster") if s.cluster == "2027-05"]
    day_one = [s for s in may if s.date == d("2027-05-03")]
    day_two = [s for s in may if s.date == d("2027-05-04")]
    assert len(day_one) == 3 and len(day_two) == 2
    assert [s.start for s in day_one] == [dt.time(9), dt.time(10, 30), dt.time(12)]
    assert [s.start for s in day_two] == [dt.time(9), dt.time(10, 30)]
    gaps = [dt.datetime.combine(d("2027-05-03"), b.start) - dt.datetime.combine(d("2027-05-03"), a.end)
            for a, b in itertools.pairwise(day_one)]
    assert gaps == [dt.timedelta(minutes=52, seconds=56)] * 2
    assert all(g >= dt.timedelta(minutes=50) for g in gaps)


def test_d_five_sessions_a_month_no_dose_warning() -> None:
    plan = example_d_course_1()
    assert {c.sessions for c in monthly_maintenance_counts(plan, SETTINGS)} == {5}
    assert maintenance_dose_warnings(plan, SETTINGS) == []


def test_d_relapse_window_from_sun_26_sep_2027() -> None:
    assert relapse_window(example_d_course_1(), SETTINGS).opens_on == d("2027-09-26")
    assert relapse_window(d("2027-04-26"), SETTINGS).opens_on == d("2027-09-26")


def test_d_course_2_and_the_superseded_november_cluster() -> None:
    course_1, course_2 = start_new_course(example_d_course_1(), CATALOGUE.get("hf_left_10hz"), d("2027-10-18"),
                                          NATIONAL, SETTINGS, sessions=20)
    assert course_2.course_number == 2 and course_1.course_number == 1
    assert course_2.by_number(10).date == d("2027-10-29")
    assert course_2.by_number(11).date == d("2027-11-02")
    assert course_2.by_number(20).date == d("2027-11-16")  # Tue 16 Nov 2027
    assert {d("2027-11-01"), d("2027-11-11")}.isdisjoint(dates(course_2, "induction"))
    november = [s for s in course_1.sessions if s.cluster == "2027-11"]
    assert len(november) == 5
    assert {s.status for s in november} == {"superseded"}
    assert {s.superseded_by_course for s in november} == {2}
    october = [s for s in course_1.sessions if s.cluster == "2027-10"]
    assert {s.status for s in october} == {"planned"}  # before the new course: untouched
    assert session_counts(course_1, "maintenance_cluster").superseded == 10  # November and December
    assert any(w.code == "sessions_superseded" for w in course_1.warnings)


@pytest.mark.parametrize("zone", ["metropole", "alsace_moselle"])
def test_d_course_1_cluster_in_both_zones_avoids_holidays(zone: str) -> None:
    calendar = WorkingCalendar(zone)
    plan = plan_induction(CATALOGUE.get("hf_left_10hz"), d("2027-03-15"), calendar, SETTINGS, sessions=30)
    plan = add_cluster_maintenance(plan, TEMPLATES.maintenance_template("M-CLUSTER-FITZ"), calendar, SETTINGS,
                                   months=12)
    assert all(calendar.is_working_day(s.date) for s in plan.active_sessions())
