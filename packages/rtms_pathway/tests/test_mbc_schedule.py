"""Assessment cadence generated from a course plan (domain-rtms §10.1, R-SCH-11)."""

import itertools
from datetime import date, timedelta

import pytest

from rtms_pathway.catalogue.loader_staging import load_mbc_settings
from rtms_pathway.rules.mbc import add_months, assessment_schedule
from shared_core.errors import ValidationFailed

SETTINGS = load_mbc_settings()

# domain-rtms §7.7 example D, course 2: 20 sessions from Mon 18 Oct 2027; 1 and 11 Nov are holidays.
COURSE_2 = [
    date(2027, 10, 18), date(2027, 10, 19), date(2027, 10, 20), date(2027, 10, 21), date(2027, 10, 22),
    date(2027, 10, 25), date(2027, 10, 26), date(2027, 10, 27), date(2027, 10, 28), date(2027, 10, 29),
    date(2027, 11, 2), date(2027, 11, 3), date(2027, 11, 4), date(2027, 11, 5),
    date(2027, 11, 8), date(2027, 11, 9), date(2027, 11, 10), date(2027, 11, 12),
    date(2027, 11, 15), date(2027, 11, 16),
]


def test_example_d_course_2_schedule_without_maintenance() -> None:
    assert COURSE_2[9] == date(2027, 10, 29) and COURSE_2[19] == date(2027, 11, 16)  # as in §7.7
    tasks = assessment_schedule(COURSE_2, COURSE_2[-1], SETTINGS)
    summary = [(t.time_point, t.due_on, t.scales) for t in tasks]
    assert summary == [
        ("baseline", date(2027, 10, 18), ("phq9", "gad7", "madrs", "cssrs_screen")),
        ("induction", date(2027, 10, 22), ("phq9",)),
        ("induction", date(2027, 10, 29), ("phq9", "madrs")),
        ("induction", date(2027, 11, 8), ("phq9",)),  # session 15
        ("end_of_course", date(2027, 11, 16), ("phq9", "gad7", "madrs")),
        ("follow_up", date(2027, 12, 16), ("phq9",)),
        ("follow_up", date(2028, 2, 16), ("phq9", "madrs")),
        ("follow_up", date(2028, 5, 16), ("phq9",)),
        ("follow_up", date(2028, 11, 16), ("phq9", "madrs")),
    ]
    baseline = tasks[0]
    assert (baseline.window_start, baseline.window_end) == (date(2027, 10, 11), date(2027, 10, 18))
    after_10 = tasks[2]
    assert after_10.after_session == 10
    assert (after_10.window_start, after_10.window_end) == (date(2027, 10, 29), date(2027, 11, 2))
    end = tasks[4]
    assert (end.window_start, end.window_end) == (date(2027, 11, 13), date(2027, 11, 19))
    assert [t.months_after_end for t in tasks[5:]] == [1, 3, 6, 12]
    assert all(t.label_fr and t.label_en and t.rule_id.startswith("R-MBC-") for t in tasks)


def test_thirty_session_course_rates_the_clinician_scale_after_20() -> None:
    dates = [date(2026, 1, 5) + timedelta(days=i) for i in range(30)]
    tasks = assessment_schedule(dates, dates[-1], SETTINGS)
    induction = [(t.after_session, t.scales) for t in tasks if t.time_point == "induction"]
    assert induction == [(5, ("phq9",)), (10, ("phq9", "madrs")), (15, ("phq9",)), (20, ("phq9", "madrs")),
                         (25, ("phq9",))]


def test_bipolar_patients_get_ymrs_at_every_assessment() -> None:
    tasks = assessment_schedule(COURSE_2, COURSE_2[-1], SETTINGS, bipolar=True)
    assert all("ymrs" in t.scales for t in tasks)
    assert all(t.scales.count("ymrs") == 1 for t in tasks)


def test_follow_up_counts_from_the_end_date_and_clamps_month_ends() -> None:
    dates = [date(2028, 1, 10) + timedelta(days=i) for i in range(20)]
    tasks = assessment_schedule(dates, date(2028, 1, 31), SETTINGS)
    follow = [t.due_on for t in tasks if t.time_point == "follow_up"]
    assert follow == [date(2028, 2, 29), date(2028, 4, 30), date(2028, 7, 31), date(2029, 1, 31)]
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)


def test_classic_maintenance_cadence() -> None:
    tasks = assessment_schedule(COURSE_2, COURSE_2[-1], SETTINGS, maintenance="classic")
    assert not [t for t in tasks if t.time_point == "follow_up"]
    maintenance = [t for t in tasks if t.time_point == "maintenance"]
    self_dates = [t.due_on for t in maintenance if t.scales == ("phq9",)]
    relapse_start = date(2028, 4, 16)  # 5 months after the last induction session
    monthly = [d for d in self_dates if d < relapse_start]
    assert monthly == [date(2027, 12, 16), date(2028, 1, 16), date(2028, 2, 16), date(2028, 3, 16)]
    fortnightly = [d for d in self_dates if d >= relapse_start]
    assert fortnightly[0] == relapse_start
    assert all((b - a).days == 14 for a, b in itertools.pairwise(fortnightly))
    assert fortnightly[-1] <= date(2028, 11, 16)
    clinician = [t.due_on for t in maintenance if t.scales == ("madrs",)]
    assert clinician == [date(2028, 2, 16), date(2028, 5, 16), date(2028, 8, 16), date(2028, 11, 16)]
    assert [t.due_on for t in tasks] == sorted(t.due_on for t in tasks)


def test_cluster_maintenance_rates_at_each_cluster() -> None:
    clusters = [date(2027, 12, 6), date(2027, 12, 7), date(2028, 1, 3), date(2028, 1, 4), date(2028, 2, 7),
                date(2028, 2, 8)]
    tasks = assessment_schedule(COURSE_2, COURSE_2[-1], SETTINGS, maintenance="cluster",
                                maintenance_session_dates=clusters)
    clinician = [t.due_on for t in tasks if t.time_point == "maintenance" and "madrs" in t.scales]
    assert clinician == [date(2027, 12, 6), date(2028, 1, 3), date(2028, 2, 7)]


def test_invalid_plans_list_every_problem() -> None:
    with pytest.raises(ValidationFailed) as caught:
        assessment_schedule([], date(2027, 1, 1), SETTINGS, maintenance_session_dates=[date(2027, 2, 1)])
    assert [e.field for e in caught.value.errors] == ["session_dates", "maintenance_session_dates"]
    with pytest.raises(ValidationFailed) as caught:
        assessment_schedule(COURSE_2, date(2027, 11, 15), SETTINGS)
    assert caught.value.errors[0].field == "end_date"
    with pytest.raises(ValidationFailed):
        assessment_schedule(list(reversed(COURSE_2)), date(2028, 1, 1), SETTINGS)
