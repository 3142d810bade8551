"""Motor threshold rules R-MT-01..07 (domain-rtms §8.2) and MT tasks of a plan (R-SCH-11)."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from rtms_pathway.catalogue.loader_planning import load_planning_settings, load_protocol_catalogue
from rtms_pathway.model.planning import CheckinFlags, MotorThresholdMeasurement
from rtms_pathway.rules.motor_threshold import (
    check_device_max,
    check_mt_change,
    mt_due,
    mt_interval_days,
    plan_mt_tasks,
    visual_twitch_advice,
)
from rtms_pathway.rules.scheduling import plan_induction, skip_session
from shared_core.calendar import WorkingCalendar

SETTINGS = load_planning_settings()
CATALOGUE = load_protocol_catalogue()
NATIONAL = WorkingCalendar("metropole")


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def mt(day: str, value: float = 52, **fields: object) -> MotorThresholdMeasurement:
    measurement = MotorThresholdMeasurement(date_time=dt.datetime.combine(d(day), dt.time(8, 30)),
                                            value_pct_mso=value, method="emg_mep", coil_id="coil-1",
                                            device_id="dev-1")
    return msgspec.structs.replace(measurement, **fields)


# --- R-MT-01 / R-MT-02 / R-MT-04 ------------------------------------------------------------------


def test_first_session_of_a_course_needs_an_mt() -> None:
    decision = mt_due(session_date=d("2026-04-27"), last_mt=mt("2026-04-24"), first_session_of_course=True,
                      settings=SETTINGS)
    assert decision.due and decision.triggers == ["course_start"] and decision.rule_ids == ["R-MT-01"]


def test_no_mt_on_record_means_one_is_due() -> None:
    decision = mt_due(session_date=d("2026-04-28"), last_mt=None, first_session_of_course=False, settings=SETTINGS)
    assert decision.due and decision.triggers == ["course_start"] and decision.days_since_last is None


@pytest.mark.parametrize(("day", "due"), [("2026-05-03", False), ("2026-05-04", True), ("2026-05-05", True)])
def test_weekly_interval(day: str, due: bool) -> None:
    decision = mt_due(session_date=d(day), last_mt=mt("2026-04-27"), first_session_of_course=False, settings=SETTINGS)
    assert decision.due is due
    assert decision.interval_days == 7
    if due:
        assert decision.triggers == ["weekly"] and decision.rule_ids == ["R-MT-02"]


def test_daily_policy_when_the_interval_is_one_day() -> None:
    daily = msgspec.structs.replace(SETTINGS, mt_interval_days=1)
    decision = mt_due(session_date=d("2026-04-28"), last_mt=mt("2026-04-27"), first_session_of_course=False,
                      settings=daily)
    assert decision.triggers == ["daily_policy"]


def test_high_risk_interval_with_seizure_threshold_medication() -> None:
    assert mt_interval_days(SETTINGS) == 7
    assert mt_interval_days(SETTINGS, seizure_threshold_medication=True) == 3
    decision = mt_due(session_date=d("2026-04-30"), last_mt=mt("2026-04-27"), first_session_of_course=False,
                      settings=SETTINGS, seizure_threshold_medication=True)
    assert decision.due and decision.rule_ids == ["R-MT-04"] and decision.interval_days == 3
    not_yet = mt_due(session_date=d("2026-04-29"), last_mt=mt("2026-04-27"), first_session_of_course=False,
                     settings=SETTINGS, seizure_threshold_medication=True)
    assert not not_yet.due


# --- R-MT-03 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "trigger"),
    [
        (CheckinFlags(medication_change=True), "medication_change"),
        (CheckinFlags(sleep_deprivation=True), "checkin_flag"),
        (CheckinFlags(alcohol=True), "checkin_flag"),
        (CheckinFlags(physician_request=True), "physician_request"),
    ],
)
def test_check_in_triggers_an_mt_now(flags: CheckinFlags, trigger: str) -> None:
    decision = mt_due(session_date=d("2026-04-28"), last_mt=mt("2026-04-27"), first_session_of_course=False,
                      settings=SETTINGS, checkin=flags)
    assert decision.due and decision.triggers == [trigger] and "R-MT-03" in decision.rule_ids


def test_a_different_coil_or_device_triggers_an_mt() -> None:
    same = mt_due(session_date=d("2026-04-28"), last_mt=mt("2026-04-27"), first_session_of_course=False,
                  settings=SETTINGS, coil_id="coil-1", device_id="dev-1")
    assert not same.due
    coil = mt_due(session_date=d("2026-04-28"), last_mt=mt("2026-04-27"), first_session_of_course=False,
                  settings=SETTINGS, coil_id="coil-2")
    assert coil.triggers == ["device_change"]
    device = mt_due(session_date=d("2026-04-28"), last_mt=mt("2026-04-27"), first_session_of_course=False,
                    settings=SETTINGS, device_id="dev-9")
    assert device.triggers == ["device_change"]


def test_several_triggers_are_all_reported() -> None:
    decision = mt_due(session_date=d("2026-05-05"), last_mt=mt("2026-04-27"), first_session_of_course=False,
                      settings=SETTINGS, checkin=CheckinFlags(sleep_deprivation=True, alcohol=True), coil_id="c9")
    assert decision.triggers == ["checkin_flag", "device_change", "weekly"]
    assert decision.rule_ids == ["R-MT-03", "R-MT-02"]
    assert len(decision.reasons_fr) == len(decision.reasons_en) == 4


# --- MT tasks of a plan (example A) ----------------------------------------------------------------


def test_example_a_mt_sessions() -> None:
    plan = plan_induction(CATALOGUE.get("hf_left_10hz"), d("2026-04-27"), NATIONAL, SETTINGS, sessions=30)
    plan = skip_session(plan, plan.by_number(10).id, NATIONAL, reason="patient_absent")
    tasks = plan_mt_tasks(plan, SETTINGS, phases=["induction"])
    assert [(t.number, t.date) for t in tasks] == [
        (1, d("2026-04-27")), (5, d("2026-05-04")), (9, d("2026-05-11")), (12, d("2026-05-18")),
        (17, d("2026-05-26")), (22, d("2026-06-02")), (27, d("2026-06-09"))]
    assert tasks[0].trigger == "course_start" and tasks[0].rule_id == "R-MT-01"
    assert {t.rule_id for t in tasks[1:]} == {"R-MT-02"}


def test_accelerated_course_one_mt_before_session_one_on_day_one() -> None:
    plan = plan_induction(CATALOGUE.get("accelerated_itbs"), d("2026-05-18"), NATIONAL, SETTINGS)
    tasks = plan_mt_tasks(plan, SETTINGS)
    assert [(t.number, t.date) for t in tasks] == [(1, d("2026-05-18"))]


def test_high_risk_plan_measures_every_three_days() -> None:
    plan = plan_induction(CATALOGUE.get("itbs_left"), d("2026-03-23"), NATIONAL, SETTINGS, sessions=10)
    tasks = plan_mt_tasks(plan, SETTINGS, seizure_threshold_medication=True)
    assert [t.date for t in tasks] == [d(x) for x in ("2026-03-23", "2026-03-26", "2026-03-30", "2026-04-02")]
    assert {t.rule_id for t in tasks[1:]} == {"R-MT-04"}


# --- R-MT-05 ---------------------------------------------------------------------------------------


def test_device_max_not_exceeded() -> None:
    check = check_device_max(52, 120, SETTINGS)
    assert (check.required_pct_mso, check.exceeded, check.alert) == (62, False, None)
    assert check.required_pct_mso_exact == "312/5"


def test_device_max_exceeded_alerts_and_never_caps() -> None:
    check = check_device_max(88, 120, SETTINGS)  # 105.6 % MSO
    assert check.exceeded and check.required_pct_mso == 106  # not capped to 100
    assert check.alert is not None and check.alert.code == "DEVICE_MAX_EXCEEDED" and check.alert.rule_id == "R-MT-05"
    assert check.pct_mt_at_device_max == pytest.approx(113.64, abs=0.01)
    assert "change_coil" in check.alert.options and "review_medication" in check.alert.options


def test_device_max_uses_the_exact_product_and_a_site_limit() -> None:
    assert check_device_max(83.5, 120, SETTINGS).exceeded  # 100.2 > 100 even though it rounds to 100
    assert check_device_max(83.5, 120, SETTINGS).required_pct_mso == 100
    assert check_device_max(60, 120, SETTINGS, device_max_pct_mso=70).exceeded  # 72 > 70
    exactly = check_device_max(80, 125, SETTINGS)  # 100.0
    assert not exactly.exceeded


# --- R-MT-06 ---------------------------------------------------------------------------------------


def test_mt_change_above_ten_percent_needs_confirmation() -> None:
    check = check_mt_change(50, 56, SETTINGS)  # +12 %
    assert check.confirm_required and check.relative_change == "3/25"
    assert check.alert is not None and check.alert.rule_id == "R-MT-06" and "notify_physician" in check.alert.options
    assert check_mt_change(50, 44, SETTINGS).confirm_required  # -12 %


def test_mt_change_of_exactly_ten_percent_does_not() -> None:
    check = check_mt_change(50, 55, SETTINGS)
    assert not check.confirm_required and check.alert is None and check.relative_change_pct == 10
    with pytest.raises(ValueError):
        check_mt_change(0, 55, SETTINGS)


# --- R-MT-07 ---------------------------------------------------------------------------------------


def test_visual_twitch_at_120_pct_advises_emg() -> None:
    advice = visual_twitch_advice("visual_twitch", 120, SETTINGS)
    assert advice is not None and advice.code == "ADVISE_EMG_MT" and advice.rule_id == "R-MT-07"
    assert "WESTIN14" in advice.source


def test_visual_twitch_below_120_only_with_seizure_medication() -> None:
    assert visual_twitch_advice("visual_twitch", 110, SETTINGS) is None
    assert visual_twitch_advice("visual_twitch", 110, SETTINGS, seizure_threshold_medication=True) is not None
    assert visual_twitch_advice("emg_mep", 120, SETTINGS, seizure_threshold_medication=True) is None
