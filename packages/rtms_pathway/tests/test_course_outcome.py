"""End-of-course summary (domain-rtms §10.2 R-MBC-01, R-MBC-05..09) with the §9.5 S6 figures."""

from datetime import date

import msgspec

from rtms_pathway.catalogue.loader_staging import load_mbc_settings
from rtms_pathway.model.mbc import Assessment
from rtms_pathway.rules.course_outcome import CourseFacts, OutcomeSummary, follow_up_dates, summarise_course
from shared_core.scales import load_catalogue

SETTINGS = load_mbc_settings()
CATALOGUE = load_catalogue()
FIRST, END = date(2026, 4, 27), date(2026, 6, 11)
FACTS = CourseFacts("hf_left_10hz", FIRST, END, 30, 30)


def _summary(*assessments: Assessment, facts: CourseFacts = FACTS) -> OutcomeSummary:
    return summarise_course(list(assessments), facts, CATALOGUE, SETTINGS)


def test_s6_madrs_decides_and_hamd_divergence_is_flagged() -> None:
    summary = _summary(
        Assessment("madrs", 32, date(2026, 4, 24)), Assessment("hamd17", 27, date(2026, 4, 24)),
        Assessment("madrs", 26, date(2026, 5, 15)),  # after session 10: not the end value
        Assessment("madrs", 9, date(2026, 6, 12)), Assessment("hamd17", 14, date(2026, 6, 12)),
    )
    assert summary.status == "remission" and summary.decided_scale == "madrs"
    assert summary.result is not None and [d.scale for d in summary.result.divergences] == ["hamd17"]
    assert [(p.scale, p.baseline, p.end) for p in summary.points] == [("madrs", 32, 9), ("hamd17", 27, 14)]
    offer = summary.prompt("offer_maintenance")
    assert offer is not None and offer.fired
    residual = summary.prompt("reinforce_care")
    assert residual is not None and not residual.fired and summary.letter_paragraphs_fr == []


def test_residual_anxiety_needs_no_gad7_baseline_and_adds_a_letter_paragraph() -> None:
    summary = _summary(Assessment("madrs", 32, date(2026, 4, 24)), Assessment("madrs", 9, date(2026, 6, 11)),
                       Assessment("gad7", 12, date(2026, 6, 10)))
    residual = summary.prompt("reinforce_care")
    assert residual is not None and residual.fired and "GAD-7 = 12" in summary.letter_paragraphs_fr[0]


def test_the_self_report_scale_stands_in_and_says_so() -> None:
    summary = _summary(Assessment("phq9", 20, date(2026, 4, 10)), Assessment("phq9", 16, date(2026, 6, 11)))
    assert summary.decided_scale == "phq9" and summary.status == "non_response"
    assert "MADRS" in summary.explanation.text_en and "earlier than" in summary.explanation.text_en
    switch = summary.prompt("switch_protocol")
    assert switch is not None and switch.fired and "bilateral_sequential" in switch.options


def test_without_two_points_the_course_is_not_evaluable() -> None:
    summary = _summary(Assessment("madrs", 30, date(2026, 6, 11)))
    assert summary.status == "not_evaluable" and summary.result is None
    assert msgspec.convert(msgspec.to_builtins(summary), OutcomeSummary) == summary  # stored as JSON


def test_follow_up_at_1_3_6_12_months_after_the_end() -> None:
    assert follow_up_dates(date(2026, 1, 31), SETTINGS) == [
        (1, date(2026, 2, 28)), (3, date(2026, 4, 30)), (6, date(2026, 7, 31)), (12, date(2027, 1, 31))]
