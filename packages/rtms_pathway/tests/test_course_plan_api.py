"""api-contract ``POST /api/v1/rtms/course-plans/preview``: the mapping and every invalid field."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import pytest

from rtms_pathway.catalogue.loader_planning import load_planning_settings, load_protocol_catalogue
from rtms_pathway.rules.course_plan_api import (
    ContractPreviewInput,
    contract_input_to_plan,
    contract_preview,
    plan_to_contract,
    validate_contract_preview,
)
from rtms_pathway.rules.scheduling import plan_induction, skip_session
from shared_core.calendar import WorkingCalendar
from shared_core.errors import ValidationFailed

CATALOGUE = load_protocol_catalogue()
SETTINGS = load_planning_settings()


def body(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"protocol": "hf_left_10hz", "start": "2026-04-27", "induction_sessions": 30,
                            "holiday_zone": "metropole"}
    base.update(fields)
    return {k: v for k, v in base.items() if v is not ...}


def fields_of(raw: Any) -> list[str]:
    return [e.field for e in validate_contract_preview(raw, CATALOGUE)]


# --- answers ----------------------------------------------------------------------------------------


def test_answer_has_exactly_the_contract_shape() -> None:
    answer = contract_preview(body(protocol="itbs_left", start="2026-03-23", induction_sessions=20))
    assert set(answer) == {"sessions", "induction_end"}
    assert answer["induction_end"] == "2026-04-20"
    expected_dates = ["2026-03-23", "2026-03-24", "2026-03-25", "2026-03-26", "2026-03-27", "2026-03-30",
                      "2026-03-31", "2026-04-01", "2026-04-02", "2026-04-03", "2026-04-07", "2026-04-08",
                      "2026-04-09", "2026-04-10", "2026-04-13", "2026-04-14", "2026-04-15", "2026-04-16",
                      "2026-04-17", "2026-04-20"]
    assert answer["sessions"] == [{"number": n, "date": day, "slot": 1, "phase": "induction"}
                                  for n, day in enumerate(expected_dates, start=1)]
    assert msgspec.json.decode(msgspec.json.encode(answer)) == answer  # JSON-ready builtins


@pytest.mark.parametrize(
    ("code", "count", "end"),
    [
        ("hf_left_10hz", 30, "2026-06-11"),
        ("itbs_left", 30, "2026-06-11"),
        ("lf_right_1hz", 20, "2026-05-28"),
        ("bilateral_sequential", 15, "2026-05-20"),
        ("bilateral_sequential", 30, "2026-06-11"),
        ("deep_tms_h1", 20, "2026-05-28"),
    ],
)
def test_each_daily_protocol_code(code: str, count: int, end: str) -> None:
    answer = contract_preview(body(protocol=code, induction_sessions=count), CATALOGUE, SETTINGS)
    sessions = answer["sessions"]
    assert len(sessions) == count
    assert [s["number"] for s in sessions] == list(range(1, count + 1))
    assert {s["slot"] for s in sessions} == {1} and {s["phase"] for s in sessions} == {"induction"}
    assert len({s["date"] for s in sessions}) == count
    calendar = WorkingCalendar("metropole")
    assert all(calendar.is_working_day(dt.date.fromisoformat(s["date"])) for s in sessions)
    assert answer["induction_end"] == sessions[-1]["date"] == end


def test_accelerated_itbs_50_sessions_10_slots_a_day_over_5_days() -> None:
    answer = contract_preview(body(protocol="accelerated_itbs", start="2026-05-18", induction_sessions=50))
    sessions = answer["sessions"]
    assert len(sessions) == 50
    assert [s["number"] for s in sessions] == list(range(1, 51))
    by_day: dict[str, list[int]] = {}
    for s in sessions:
        by_day.setdefault(s["date"], []).append(s["slot"])
    assert list(by_day) == ["2026-05-18", "2026-05-19", "2026-05-20", "2026-05-21", "2026-05-22"]
    assert all(slots == list(range(1, 11)) for slots in by_day.values())
    assert answer["induction_end"] == "2026-05-22"


def test_accelerated_preview_is_the_plain_working_day_series() -> None:
    # The contract answers the working-day series; R-SCH-05's block proposal is advice on the plan.
    answer = contract_preview(body(protocol="accelerated_itbs", start="2026-05-11", induction_sessions=50))
    assert sorted({s["date"] for s in answer["sessions"]}) == [
        "2026-05-11", "2026-05-12", "2026-05-13", "2026-05-15", "2026-05-18"]
    plan = contract_input_to_plan(msgspec.convert(body(protocol="accelerated_itbs", start="2026-05-11",
                                                       induction_sessions=50), ContractPreviewInput))
    assert plan.block_proposal is not None and plan.block_proposal.proposed_start == dt.date(2026, 5, 18)


def test_start_counts_when_working_else_next_working_day() -> None:
    assert contract_preview(body(start="2026-04-27"))["sessions"][0]["date"] == "2026-04-27"
    assert contract_preview(body(start="2026-04-25"))["sessions"][0]["date"] == "2026-04-27"  # Saturday
    assert contract_preview(body(start="2026-05-01"))["sessions"][0]["date"] == "2026-05-04"  # 1 May


def test_holiday_zone_changes_the_dates() -> None:
    national = contract_preview(body(protocol="itbs_left", start="2026-03-23", induction_sessions=20))
    alsace = contract_preview(body(protocol="itbs_left", start="2026-03-23", induction_sessions=20,
                                   holiday_zone="alsace_moselle"))
    assert national["sessions"][9]["date"] == "2026-04-03" and national["induction_end"] == "2026-04-20"
    assert alsace["sessions"][9]["date"] == "2026-04-07" and alsace["induction_end"] == "2026-04-21"


def test_closures_are_not_working_days() -> None:
    answer = contract_preview(body(start="2026-12-14", induction_sessions=20,
                                   closures=["2026-12-28", "2026-12-29", "2026-12-30", "2026-12-31"]))
    dates = [s["date"] for s in answer["sessions"]]
    assert not {"2026-12-25", "2026-12-28", "2026-12-29", "2026-12-30", "2026-12-31", "2027-01-01"} & set(dates)
    assert dates[8:10] == ["2026-12-24", "2027-01-04"]
    assert answer["induction_end"] == "2027-01-18"
    assert contract_preview(body(closures=None)) == contract_preview(body())
    assert contract_preview(body(closures=[])) == contract_preview(body())


def test_overseas_zone_is_accepted() -> None:
    answer = contract_preview(body(start="2027-12-20", induction_sessions=20, holiday_zone="974"))
    assert answer["sessions"][0]["date"] == "2027-12-21"  # 20 Dec: abolition of slavery, La Réunion


def test_plan_to_contract_numbers_only_active_induction_sessions() -> None:
    calendar = WorkingCalendar("metropole")
    plan = plan_induction(CATALOGUE.get("hf_left_10hz"), dt.date(2026, 4, 27), calendar, SETTINGS, sessions=30)
    plan = skip_session(plan, plan.by_number(10).id, calendar, reason="patient_absent")
    answer = plan_to_contract(plan)
    assert [s.number for s in answer.sessions] == list(range(1, 31))
    assert answer.sessions[9].date == dt.date(2026, 5, 13)
    assert answer.induction_end == dt.date(2026, 6, 12)


def test_input_struct_forbids_unknown_fields() -> None:
    raw = msgspec.json.encode(body())
    decoded = msgspec.json.decode(raw, type=ContractPreviewInput)
    assert decoded.start == dt.date(2026, 4, 27) and decoded.closures is None
    with pytest.raises(msgspec.ValidationError, match="unknown field"):
        msgspec.json.decode(msgspec.json.encode(body(extra=1)), type=ContractPreviewInput)
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(msgspec.json.encode(body(induction_sessions=0)), type=ContractPreviewInput)


# --- invalid bodies -----------------------------------------------------------------------------------


def test_a_valid_body_has_no_errors() -> None:
    assert validate_contract_preview(body()) == []
    assert validate_contract_preview(body(closures=["2026-05-04"]), CATALOGUE) == []


def test_unknown_protocol() -> None:
    errors = validate_contract_preview(body(protocol="hf_right_20hz"), CATALOGUE)
    assert [e.field for e in errors] == ["protocol"]
    assert "unknown protocol 'hf_right_20hz'" in errors[0].message and "accelerated_itbs" in errors[0].message


def test_maintenance_only_protocol_is_not_an_induction() -> None:
    errors = validate_contract_preview(body(protocol="bilateral_sequential_maintenance"), CATALOGUE)
    assert [e.field for e in errors] == ["protocol"] and "maintenance-only" in errors[0].message


@pytest.mark.parametrize("start", ["2026-02-30", "2026-13-01", "27/04/2026", "20260427", "2026-04-27T08:00:00",
                                   "", 20260427, None, "1200-01-01"])
def test_bad_start_date(start: Any) -> None:
    assert fields_of(body(start=start)) == ["start"]


@pytest.mark.parametrize(
    ("count", "fragment"),
    [(0, "at least 1"), (-3, "at least 1"), (19, "between 20 and 30"), (31, "between 20 and 30"),
     ("30", "integer"), (30.0, "integer"), (True, "integer"), (None, "integer")],
)
def test_bad_induction_sessions(count: Any, fragment: str) -> None:
    errors = validate_contract_preview(body(induction_sessions=count), CATALOGUE)
    assert [e.field for e in errors] == ["induction_sessions"]
    assert fragment in errors[0].message


def test_session_range_follows_the_protocol() -> None:
    assert fields_of(body(protocol="accelerated_itbs", induction_sessions=50)) == []
    assert fields_of(body(protocol="accelerated_itbs", induction_sessions=40)) == ["induction_sessions"]
    assert fields_of(body(protocol="deep_tms_h1", induction_sessions=20)) == []
    assert fields_of(body(protocol="bilateral_sequential", induction_sessions=15)) == []
    assert fields_of(body(protocol="bilateral_sequential", induction_sessions=14)) == ["induction_sessions"]
    # Unknown protocol: only the protocol is wrong, the count is checked for ≥ 1 alone.
    assert fields_of(body(protocol="nope", induction_sessions=3)) == ["protocol"]
    assert fields_of(body(protocol="nope", induction_sessions=5000)) == ["protocol", "induction_sessions"]


@pytest.mark.parametrize("zone", ["mars", "Metropole", "", 67, None, "alsace-moselle"])
def test_unknown_holiday_zone(zone: Any) -> None:
    assert fields_of(body(holiday_zone=zone)) == ["holiday_zone"]


def test_bad_closures_are_named_by_index() -> None:
    assert fields_of(body(closures="2026-05-04")) == ["closures"]
    assert fields_of(body(closures={"a": 1})) == ["closures"]
    assert fields_of(body(closures=["2026-05-04", "2026-05-32", 3, "2026-05-06", "05/07/2026"])) == [
        "closures[1]", "closures[2]", "closures[4]"]


def test_missing_and_unknown_fields() -> None:
    assert fields_of({}) == ["protocol", "start", "induction_sessions", "holiday_zone"]
    assert fields_of(body(start=..., colour="red", zone="metropole")) == ["colour", "zone", "start"]
    assert fields_of(["not", "an", "object"]) == ["body"]
    assert fields_of(None) == ["body"]


def test_every_bad_field_is_listed_at_once() -> None:
    raw = {"protocol": "nope", "start": "2026-02-30", "induction_sessions": 0, "holiday_zone": "mars",
           "closures": ["x", "2026-01-01", "2026-01-32"], "extra": True}
    assert fields_of(raw) == ["extra", "protocol", "start", "induction_sessions", "holiday_zone", "closures[0]",
                              "closures[2]"]
    with pytest.raises(ValidationFailed) as info:
        contract_preview(raw, CATALOGUE, SETTINGS)
    assert len(info.value.errors) == 7
    assert all(e.message for e in info.value.errors)


def test_too_many_closures_are_refused() -> None:
    many = [(dt.date(2026, 1, 1) + dt.timedelta(days=i)).isoformat() for i in range(1001)]
    assert fields_of(body(closures=many)) == ["closures"]
