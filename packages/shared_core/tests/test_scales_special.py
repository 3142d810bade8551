"""HADS subscales and proration, C-SSRS skip logic and risk levels."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from shared_core.errors import ValidationFailed
from shared_core.scales import load_catalogue, score

CATALOGUE = load_catalogue()
HADS = CATALOGUE.get("hads")
CSSRS = CATALOGUE.get("cssrs_screen")


def hads_answers(anxiety: Sequence[int | None], depression: Sequence[int | None]) -> list[int | None]:
    """Interleave the subscales into form order: odd items anxiety, even items depression."""
    return [value for pair in zip(anxiety, depression, strict=True) for value in pair]


def test_hads_subscales_follow_the_alternating_order() -> None:
    result = score(HADS, hads_answers([3, 3, 3, 2, 0, 0, 0], [1, 1, 1, 1, 1, 1, 1]))
    assert result.subscores == {"anxiety": 11, "depression": 7}
    assert result.total == 18
    assert result.subscale_bands == {"anxiety": "abnormal", "depression": "normal"}
    assert result.band == "abnormal"  # the worse of the two subscales
    assert result.prorated is False


@pytest.mark.parametrize(("points", "band"), [(7, "normal"), (8, "borderline"), (10, "borderline"),
                                              (11, "abnormal")])
def test_hads_subscale_band_limits(points: int, band: str) -> None:
    anxiety = [min(3, max(0, points - 3 * i)) for i in range(7)]
    result = score(HADS, hads_answers(anxiety, [0] * 7))
    assert result.subscores["anxiety"] == points
    assert result.subscale_bands == {"anxiety": band, "depression": "normal"}
    assert result.band == band


def test_hads_prorates_one_missing_item_per_subscale_rounding_half_up() -> None:
    # 9 points over 6 answers → 9 × 7 / 6 = 10.5 → 11 (half up; half-even would give 10).
    result = score(HADS, hads_answers([2, 2, 2, 1, 1, 1, None], [None, 1, 1, 1, 1, 1, 1]))
    assert result.subscores == {"anxiety": 11, "depression": 7}
    assert result.subscale_bands == {"anxiety": "abnormal", "depression": "normal"}
    assert result.total == 18
    assert result.prorated is True
    assert result.items[12] is None and result.items[1] is None


def test_hads_refuses_two_missing_items_in_one_subscale() -> None:
    with pytest.raises(ValidationFailed) as caught:
        score(HADS, hads_answers([None, None, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, None]))
    assert [e.field for e in caught.value.errors] == ["items[0]", "items[2]"]
    assert "anxiety has 2 missing" in caught.value.errors[0].message


def test_cssrs_all_no_is_no_risk() -> None:
    result = score(CSSRS, [0] * 7)
    assert (result.total, result.band, result.alerts) == (None, "none", [])


@pytest.mark.parametrize(
    ("answers", "band"),
    [
        ([1, 0, 0, 0, 0, 0, 0], "low"),
        ([0, 1, 0, 0, 0, 0, 0], "low"),
        ([1, 1, 1, 0, 0, 0, 0], "moderate"),
        ([0, 0, 0, 0, 0, 1, 0], "moderate"),  # behaviour more than 3 months ago
        ([1, 1, 0, 1, 0, 0, 0], "high"),
        ([1, 1, 0, 0, 1, 0, 0], "high"),
        ([0, 0, 0, 0, 0, 1, 1], "high"),  # behaviour within 3 months
        ([1, 1, 1, 1, 1, 1, 1], "high"),
    ],
)
def test_cssrs_risk_levels(answers: list[int], band: str) -> None:
    result = score(CSSRS, answers)
    assert result.band == band
    assert result.total is None
    assert result.alerts == (["suicide_risk_high"] if band == "high" else [])


def test_cssrs_items_3_to_5_are_not_asked_when_item_2_is_no() -> None:
    with pytest.raises(ValidationFailed) as caught:
        score(CSSRS, [1, 0, 1, 0, 1, 0, 0])
    assert [(e.field, e.message) for e in caught.value.errors] == [
        ("items[2]", "item 3: not asked when item 2 is no (expected 0, got 1)"),
        ("items[4]", "item 5: not asked when item 2 is no (expected 0, got 1)"),
    ]
    # Left unanswered, they are scored "no".
    assert score(CSSRS, [1, 0, None, None, None, 0, 0]).items == [1, 0, 0, 0, 0, 0, 0]


def test_cssrs_recent_behaviour_requires_lifetime_behaviour() -> None:
    with pytest.raises(ValidationFailed) as caught:
        score(CSSRS, [0, 0, 0, 0, 0, 0, 1])
    assert [e.field for e in caught.value.errors] == ["items[6]"]
    assert "item 7" in caught.value.errors[0].message


def test_cssrs_answers_are_yes_or_no() -> None:
    with pytest.raises(ValidationFailed) as caught:
        score(CSSRS, [2, 1, 0, 0, 0, 0, 0])
    assert caught.value.errors[0].message == "item 1: 2 is outside 0–1"
