"""Scoring of every shipped scale against worked examples and each band limit."""

from __future__ import annotations

import pytest

from shared_core.scales import ScaleDefinition, load_catalogue, score

CATALOGUE = load_catalogue()


def scale(code: str) -> ScaleDefinition:
    return CATALOGUE.get(code)


def vector_for(definition: ScaleDefinition, total: int) -> list[int]:
    """Answers reaching ``total``, filling items in order (one item per domain for QIDS)."""
    answers = [item.min for item in definition.items]
    remaining = total - sum(answers)
    fillable = [s.items[0] - 1 for s in definition.subscales] if definition.scoring == "qids_domains" \
        else range(len(answers))
    for index in fillable:
        step = min(remaining, definition.items[index].max - answers[index])
        answers[index] += step
        remaining -= step
    assert remaining == 0
    return answers


# Both sides of every band limit, written from the api-contract table (not from the YAML).
BAND_LIMITS = {
    "phq9": [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"), (14, "moderate"),
             (15, "moderately_severe"), (19, "moderately_severe"), (20, "severe"), (27, "severe")],
    "gad7": [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"), (14, "moderate"),
             (15, "severe"), (21, "severe")],
    "madrs": [(0, "normal"), (6, "normal"), (7, "mild"), (19, "mild"), (20, "moderate"), (34, "moderate"),
              (35, "severe"), (60, "severe")],
    "hamd17": [(0, "normal"), (7, "normal"), (8, "mild"), (13, "mild"), (14, "moderate"), (18, "moderate"),
               (19, "severe"), (22, "severe"), (23, "very_severe"), (52, "very_severe")],
    "qids_sr16": [(0, "none"), (5, "none"), (6, "mild"), (10, "mild"), (11, "moderate"), (15, "moderate"),
                  (16, "severe"), (20, "severe"), (21, "very_severe"), (27, "very_severe")],
    "bdi2": [(0, "minimal"), (13, "minimal"), (14, "mild"), (19, "mild"), (20, "moderate"), (28, "moderate"),
             (29, "severe"), (63, "severe")],
    "ymrs": [(0, "normal"), (12, "normal"), (13, "hypomania"), (19, "hypomania"), (20, "mania"),
             (60, "mania")],
    "who5": [(0, "likely_depression"), (7, "likely_depression"), (8, "poor_wellbeing"),
             (12, "poor_wellbeing"), (13, "adequate"), (25, "adequate")],
}


@pytest.mark.parametrize(
    ("code", "total", "band"),
    [(code, total, band) for code, limits in BAND_LIMITS.items() for total, band in limits],
)
def test_band_at_each_limit(code: str, total: int, band: str) -> None:
    result = score(scale(code), vector_for(scale(code), total))
    assert (result.total, result.band) == (total, band)


def test_item_ranges_and_totals_match_the_contract() -> None:
    assert [(i.min, i.max) for i in scale("phq9").items] == [(0, 3)] * 9
    assert [(i.min, i.max) for i in scale("gad7").items] == [(0, 3)] * 7
    assert [(i.min, i.max) for i in scale("madrs").items] == [(0, 6)] * 10
    assert [i.number for i in scale("hamd17").items if i.max == 2] == [4, 5, 6, 12, 13, 14, 16, 17]
    assert [i.number for i in scale("ymrs").items if i.max == 8] == [5, 6, 8, 9]
    totals = {d.code: (d.total_min, d.total_max) for d in CATALOGUE.all()}
    assert totals == {
        "bdi2": (0, 63), "cssrs_screen": (None, None), "gad7": (0, 21), "hads": (0, 42), "hamd17": (0, 52),
        "madrs": (0, 60), "phq9": (0, 27), "qids_sr16": (0, 27), "ricci_gagnon": (9, 45), "who5": (0, 25),
        "ymrs": (0, 60),
    }


# domain-rtms §9.5
def test_s1_phq9() -> None:
    result = score(scale("phq9"), [2, 3, 2, 2, 1, 2, 1, 1, 1])
    assert (result.total, result.band, result.alerts) == (15, "moderately_severe", ["suicidal_ideation"])


def test_s2_gad7() -> None:
    result = score(scale("gad7"), [2, 2, 3, 2, 1, 1, 2])
    assert (result.total, result.band, result.alerts) == (13, "moderate", [])


def test_s3_qids_sums_domains_not_items() -> None:
    result = score(scale("qids_sr16"), [2, 1, 3, 0, 2, 1, 0, 2, 0, 2, 2, 1, 2, 3, 1, 2])
    assert result.total == 19
    assert list(result.subscores.values()) == [3, 2, 2, 2, 2, 1, 2, 3, 2]
    assert result.band == "severe"
    assert result.alerts == []


def test_s4_hamd17() -> None:
    result = score(scale("hamd17"), [3, 2, 1, 2, 1, 2, 3, 2, 1, 2, 2, 1, 2, 1, 1, 1, 0])
    assert (result.total, result.band) == (27, "very_severe")


def test_s5_madrs_baseline_and_session_10() -> None:
    baseline = score(scale("madrs"), [4, 4, 3, 4, 2, 4, 3, 3, 3, 2])
    later = score(scale("madrs"), [3, 3, 3, 3, 2, 3, 2, 3, 2, 2])
    assert (baseline.total, baseline.band, later.total, later.band) == (32, "moderate", 26, "moderate")
    assert baseline.alerts == later.alerts == []


def test_s6_end_of_course() -> None:
    madrs = score(scale("madrs"), [1, 1, 2, 1, 1, 1, 1, 1, 0, 0])
    hamd = score(scale("hamd17"), [2, 1, 0, 1, 1, 1, 2, 1, 1, 1, 1, 0, 1, 0, 1, 0, 0])
    assert (madrs.total, madrs.band) == (9, "mild")
    assert (hamd.total, hamd.band) == (14, "moderate")


@pytest.mark.parametrize(
    ("code", "item", "below", "at"),
    [("phq9", 9, 0, 1), ("madrs", 10, 3, 4), ("qids_sr16", 12, 1, 2), ("bdi2", 9, 0, 1)],
)
def test_suicidal_ideation_alert_at_its_threshold(code: str, item: int, below: int, at: int) -> None:
    definition = scale(code)
    answers = [i.min for i in definition.items]
    answers[item - 1] = below
    assert score(definition, answers).alerts == []
    answers[item - 1] = at
    assert score(definition, answers).alerts == ["suicidal_ideation"]


def test_ymrs_manic_switch_alert_on_total() -> None:
    assert score(scale("ymrs"), vector_for(scale("ymrs"), 11)).alerts == []
    assert score(scale("ymrs"), vector_for(scale("ymrs"), 12)).alerts == ["manic_switch_review"]
    assert score(scale("ymrs"), [0, 0, 0, 0, 8, 8, 0, 8, 8, 0, 0]).total == 32


def test_scales_without_alerts_never_alert() -> None:
    for code in ("gad7", "hamd17", "hads", "who5", "ricci_gagnon"):
        definition = scale(code)
        assert score(definition, [i.max for i in definition.items]).alerts == []


def test_who5_percentage_and_direction() -> None:
    result = score(scale("who5"), [5, 4, 3, 2, 1])
    assert (result.total, result.subscores, result.band) == (15, {"percentage": 60}, "adequate")
    assert scale("who5").direction == "higher_is_better"


# domain-sport §4.4
def test_ricci_gagnon_worked_examples() -> None:
    active = score(scale("ricci_gagnon"), [3, 5, 4, 3, 2, 4, 3, 2, 3])
    assert (active.total, active.band) == (29, "active")
    assert active.subscores == {"sedentary": 3, "leisure": 14, "daily": 12}
    inactive = score(scale("ricci_gagnon"), [2, 1, 1, 1, 1, 3, 2, 2, 3])
    assert (inactive.total, inactive.band) == (16, "inactive")


def test_ricci_gagnon_q2_no_scores_q3_to_q5_as_one() -> None:
    result = score(scale("ricci_gagnon"), [2, 1, 5, 5, 5, 3, 2, 2, 3])
    assert (result.total, result.band) == (16, "inactive")
    assert result.items == [2, 1, 1, 1, 1, 3, 2, 2, 3]
    assert result.subscores["leisure"] == 4
    # Unanswered follow-up questions are fine when Q2 is "Non": they were not asked.
    assert score(scale("ricci_gagnon"), [2, 1, None, None, None, 3, 2, 2, 3]).total == 16


def test_ricci_gagnon_q2_yes_keeps_answers() -> None:
    assert score(scale("ricci_gagnon"), [2, 2, 5, 5, 5, 3, 2, 2, 3]).total == 29


@pytest.mark.parametrize(("total", "band"), [(9, "inactive"), (17, "inactive"), (18, "active"),
                                             (35, "active"), (36, "very_active"), (45, "very_active")])
def test_ricci_gagnon_band_limits(total: int, band: str) -> None:
    # Filling in order raises Q2 before Q3–Q5, so the Q2 = "Non" rule never lowers the total here.
    result = score(scale("ricci_gagnon"), vector_for(scale("ricci_gagnon"), total))
    assert (result.total, result.band) == (total, band)
