"""Change from the course baseline (R-MBC-02, R-MBC-04), in exact arithmetic."""

from __future__ import annotations

from fractions import Fraction

import msgspec
import pytest

from shared_core.errors import ValidationFailed
from shared_core.scales import Progress, ProgressThresholds, classify_progress, load_catalogue

CATALOGUE = load_catalogue()
MADRS = CATALOGUE.get("madrs")
HAMD = CATALOGUE.get("hamd17")


def test_s5_early_improvement_below_20_percent() -> None:
    progress = classify_progress(MADRS, 32, 26)
    assert progress.improvement == Fraction(6, 32)
    assert progress.improvement_pct == 18.8  # 18.75 rounds half up
    assert progress.status == "non_response"


def test_s6_madrs_remission_and_hamd_partial_response() -> None:
    madrs = classify_progress(MADRS, 32, 9)
    assert (madrs.improvement, madrs.improvement_pct, madrs.status) == (Fraction(23, 32), 71.9, "remission")
    hamd = classify_progress(HAMD, 27, 14)
    assert (hamd.improvement, hamd.improvement_pct) == (Fraction(13, 27), 48.1)
    assert hamd.status == "partial_response"


@pytest.mark.parametrize(
    ("baseline", "current", "status"),
    [
        (40, 10, "remission"),  # remission_max 10 is inclusive
        (40, 11, "response"),
        (40, 20, "response"),  # exactly 50 %
        (40, 21, "partial_response"),  # 47.5 %
        (40, 30, "partial_response"),  # exactly 25 %
        (40, 31, "non_response"),  # 22.5 %
        (40, 40, "non_response"),  # 0 %
        (40, 41, "worsening"),
        (20, 11, "partial_response"),  # 45 %, one point above remission
    ],
)
def test_madrs_thresholds(baseline: int, current: int, status: str) -> None:
    assert classify_progress(MADRS, baseline, current).status == status


@pytest.mark.parametrize(("code", "remission_max"), [("phq9", 4), ("gad7", 4), ("qids_sr16", 5),
                                                     ("madrs", 10), ("hamd17", 7)])
def test_remission_cut_offs(code: str, remission_max: int) -> None:
    definition = CATALOGUE.get(code)
    assert definition.remission_max == remission_max
    assert classify_progress(definition, 20, remission_max).status == "remission"
    assert classify_progress(definition, 20, remission_max + 1).status != "remission"


def test_baseline_zero_is_not_evaluable() -> None:
    progress = classify_progress(MADRS, 0, 0)
    assert (progress.status, progress.improvement, progress.improvement_pct) == ("not_evaluable", None, None)
    assert classify_progress(MADRS, -3, 0).status == "not_evaluable"


def test_baseline_below_the_mild_band_is_not_evaluable() -> None:
    assert classify_progress(MADRS, 6, 0).status == "not_evaluable"
    assert classify_progress(MADRS, 7, 0).status == "remission"
    assert classify_progress(CATALOGUE.get("phq9"), 4, 0).status == "not_evaluable"
    assert classify_progress(CATALOGUE.get("phq9"), 5, 5).status == "non_response"


@pytest.mark.parametrize("code", ["who5", "ricci_gagnon", "hads", "ymrs", "cssrs_screen"])
def test_scales_without_response_criteria_are_not_evaluable(code: str) -> None:
    assert classify_progress(CATALOGUE.get(code), 20, 10).status == "not_evaluable"


def test_bdi2_has_response_but_no_remission_cut_off() -> None:
    bdi = CATALOGUE.get("bdi2")
    assert classify_progress(bdi, 30, 0).status == "response"
    assert classify_progress(bdi, 13, 0).status == "not_evaluable"


def test_thresholds_override_the_scale_defaults() -> None:
    site = ProgressThresholds(remission_max=12, response_pct=60, partial_pct=30)
    assert classify_progress(MADRS, 40, 12, site).status == "remission"
    assert classify_progress(MADRS, 40, 16, site).status == "response"  # exactly 60 %
    assert classify_progress(MADRS, 40, 17, site).status == "partial_response"  # 57.5 %
    assert classify_progress(MADRS, 40, 17).status == "response"  # the scale's own 50 %
    assert classify_progress(MADRS, 40, 28, site).status == "partial_response"  # exactly 30 %
    assert classify_progress(MADRS, 40, 29, site).status == "non_response"  # 27.5 % < 30 %
    assert classify_progress(MADRS, 40, 11, ProgressThresholds()).status == "response"  # keeps remission 10


def test_invalid_thresholds_are_rejected() -> None:
    with pytest.raises(ValidationFailed) as caught:
        classify_progress(MADRS, 30, 10, ProgressThresholds(response_pct=20, partial_pct=30))
    assert [e.field for e in caught.value.errors] == ["thresholds.partial_pct"]


def test_scores_outside_the_scale_are_rejected() -> None:
    with pytest.raises(ValidationFailed) as caught:
        classify_progress(MADRS, 61, -1)
    assert [e.field for e in caught.value.errors] == ["baseline", "current"]


def test_worsening_rounds_half_away_from_zero() -> None:
    progress = classify_progress(CATALOGUE.get("qids_sr16"), 16, 19)
    assert progress.improvement == Fraction(-3, 16)
    assert progress.improvement_pct == -18.8
    assert progress.status == "worsening"


def test_progress_encodes_to_json() -> None:
    encoded = msgspec.json.decode(msgspec.json.encode(classify_progress(MADRS, 32, 26)))
    assert encoded == {"status": "non_response", "improvement_numerator": 3, "improvement_denominator": 16,
                       "improvement_pct": 18.8}
    assert Progress("not_evaluable").improvement is None
