"""RFC 5545 export of a patient's schedule: VEVENTs, Europe/Paris, CRLF, folding at 75 octets."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from rtms_pathway.catalogue.loader_planning import (
    load_planning_settings,
    load_planning_templates,
    load_protocol_catalogue,
)
from rtms_pathway.model.planning import CoursePlan
from rtms_pathway.rules.course_plan_api import fold_ical_line, to_icalendar
from rtms_pathway.rules.scheduling import add_taper, plan_induction, skip_session
from shared_core.calendar import WorkingCalendar

CATALOGUE = load_protocol_catalogue()
SETTINGS = load_planning_settings()
NATIONAL = WorkingCalendar("metropole")
STAMP = dt.datetime(2026, 4, 20, 10, 30, tzinfo=ZoneInfo("Europe/Paris"))


def example_a() -> CoursePlan:
    return plan_induction(CATALOGUE.get("hf_left_10hz"), dt.date(2026, 4, 27), NATIONAL, SETTINGS, sessions=30)


def export(plan: CoursePlan, **options: object) -> str:
    return to_icalendar(plan, course_uid="c-0001", dtstamp=STAMP, uid_domain="parcours.example", **options)  # type: ignore[arg-type]


def unfold(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")[:-1]


def test_crlf_line_endings_only() -> None:
    text = export(example_a())
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    assert "\r" not in text.replace("\r\n", "")
    lines = unfold(text)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines and any(line.startswith("PRODID:") for line in lines)


def test_one_vevent_per_session_with_unique_uids() -> None:
    lines = unfold(export(example_a()))
    assert lines.count("BEGIN:VEVENT") == lines.count("END:VEVENT") == 30
    uids = [line for line in lines if line.startswith("UID:")]
    assert len(uids) == len(set(uids)) == 30
    assert uids[0] == "UID:c-0001-1@parcours.example"


def test_times_are_local_to_europe_paris_with_a_vtimezone() -> None:
    lines = unfold(export(example_a()))
    assert "BEGIN:VTIMEZONE" in lines and "TZID:Europe/Paris" in lines
    assert "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU" in lines and "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU" in lines
    starts = [line for line in lines if line.startswith("DTSTART;")]
    ends = [line for line in lines if line.startswith("DTEND;")]
    assert starts[0] == "DTSTART;TZID=Europe/Paris:20260427T080000"
    assert ends[0] == "DTEND;TZID=Europe/Paris:20260427T083704"  # 2224 s
    assert starts[-1] == "DTSTART;TZID=Europe/Paris:20260611T080000"


def test_dtstamp_is_the_argument_in_utc() -> None:
    lines = unfold(export(example_a()))
    stamps = {line for line in lines if line.startswith("DTSTAMP:")}
    assert stamps == {"DTSTAMP:20260420T083000Z"}  # 10:30 CEST
    with pytest.raises(ValueError, match="aware"):
        to_icalendar(example_a(), course_uid="c-1", dtstamp=dt.datetime(2026, 4, 20, 10, 30))
    with pytest.raises(ValueError):
        to_icalendar(example_a(), course_uid="a b", dtstamp=STAMP)
    with pytest.raises(ValueError):
        to_icalendar(example_a(), course_uid="", dtstamp=STAMP)


def test_summary_has_no_clinical_detail() -> None:
    text = export(example_a())
    lines = unfold(text)
    assert {line for line in lines if line.startswith("SUMMARY:")} == {"SUMMARY:Séance de rTMS"}
    lowered = text.lower()
    for word in ("hf_left", "10 hz", "induction", "dlpfc", "protocol", "protocole", "description"):
        assert word not in lowered


def test_skipped_sessions_are_left_out_and_the_replacement_is_in() -> None:
    plan = example_a()
    plan = skip_session(plan, plan.by_number(10).id, NATIONAL, reason="patient_absent")
    lines = unfold(export(plan))
    assert lines.count("BEGIN:VEVENT") == 30
    starts = [line for line in lines if line.startswith("DTSTART;")]
    assert "DTSTART;TZID=Europe/Paris:20260512T080000" not in starts
    assert starts[-1] == "DTSTART;TZID=Europe/Paris:20260612T080000"


def test_phase_filter_and_taper_events() -> None:
    plan = add_taper(example_a(), load_planning_templates().taper("T-NS-321"), NATIONAL)
    assert unfold(export(plan)).count("BEGIN:VEVENT") == 36
    assert unfold(export(plan, phases=["taper"])).count("BEGIN:VEVENT") == 6


def test_accelerated_course_has_fifty_events_at_distinct_times() -> None:
    plan = plan_induction(CATALOGUE.get("accelerated_itbs"), dt.date(2026, 5, 18), NATIONAL, SETTINGS)
    lines = unfold(export(plan))
    starts = [line for line in lines if line.startswith("DTSTART;")]
    assert len(starts) == len(set(starts)) == 50
    assert "DTSTART;TZID=Europe/Paris:20260518T170000" in starts
    assert "DTEND;TZID=Europe/Paris:20260518T170952" in lines


def test_long_lines_are_folded_at_75_octets_without_cutting_characters() -> None:
    location = ("Centre de neuromodulation, Hôpital Éléonore-Châtelet, bâtiment « Les Érables », "
                "3ᵉ étage; 12 rue de l'Église, 67000 Strasbourg")
    text = export(example_a(), location=location, calendar_name="Séances de rTMS — calendrier personnel du patient")
    physical = text.split("\r\n")[:-1]
    assert max(len(line.encode("utf-8")) for line in physical) <= 75
    assert any(line.startswith(" ") for line in physical)  # something was folded
    for line in physical:
        line.encode("utf-8").decode("utf-8")  # each physical line is whole UTF-8
    escaped = location.replace(",", "\\,").replace(";", "\\;")
    assert f"LOCATION:{escaped}" in unfold(text)
    assert "X-WR-CALNAME:Séances de rTMS — calendrier personnel du patient" in unfold(text)


def test_fold_ical_line_boundaries() -> None:
    exact = "X" * 75
    assert fold_ical_line(exact) == exact
    folded = fold_ical_line("X" * 76)
    assert folded == "X" * 75 + "\r\n X"
    long = "SUMMARY:" + "é" * 100
    parts = fold_ical_line(long).split("\r\n")
    assert all(len(p.encode("utf-8")) <= 75 for p in parts)
    assert "".join(p[1:] if i else p for i, p in enumerate(parts)) == long
    assert re.fullmatch(r"SUMMARY:é+", parts[0])


def test_text_escaping() -> None:
    text = export(example_a(), location="Salle 2, aile B; RDC\\porte\nnord")
    assert "LOCATION:Salle 2\\, aile B\\; RDC\\\\porte\\nnord" in unfold(text)


def test_winter_and_summer_sessions_keep_local_wall_time() -> None:
    plan = plan_induction(CATALOGUE.get("itbs_left"), dt.date(2026, 10, 19), NATIONAL, SETTINGS, sessions=20)
    starts = [line for line in unfold(export(plan)) if line.startswith("DTSTART;")]
    assert "DTSTART;TZID=Europe/Paris:20261023T080000" in starts  # CEST
    assert "DTSTART;TZID=Europe/Paris:20261026T080000" in starts  # CET, after 25 Oct
