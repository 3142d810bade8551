"""Invalid answers: every problem is reported at once, each naming its item."""

from __future__ import annotations

from typing import Any

import pytest

from shared_core.errors import ValidationFailed
from shared_core.scales import load_catalogue, score

CATALOGUE = load_catalogue()
PHQ9 = CATALOGUE.get("phq9")


def errors_for(code: str, items: Any) -> list[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as caught:
        score(CATALOGUE.get(code), items)
    return [(e.field, e.message) for e in caught.value.errors]


@pytest.mark.parametrize(
    ("count", "message"),
    [(8, "expected 9 items, got 8"), (10, "expected 9 items, got 10"), (0, "expected 9 items, got 0")],
)
def test_wrong_count_is_one_error(count: int, message: str) -> None:
    assert errors_for("phq9", [0] * count) == [("items", message)]


def test_out_of_range_names_item_and_range() -> None:
    assert errors_for("phq9", [0, 0, 0, 0, 0, 0, 0, 0, 4]) == [("items[8]", "item 9: 4 is outside 0–3")]


def test_negative_is_out_of_range() -> None:
    assert errors_for("gad7", [0, -1, 0, 0, 0, 0, 0]) == [("items[1]", "item 2: -1 is outside 0–3")]


@pytest.mark.parametrize("bad", [True, False, 1.0, "1", [1]])
def test_non_integers_are_rejected_including_bool(bad: Any) -> None:
    [(field, message)] = errors_for("phq9", [bad, 0, 0, 0, 0, 0, 0, 0, 0])
    assert field == "items[0]"
    assert message == f"item 1: {bad!r} is not an integer in 0–3"


def test_missing_answer_is_refused_without_proration() -> None:
    assert errors_for("madrs", [0, 0, 0, None, 0, 0, 0, 0, 0, 0]) == [
        ("items[3]", "item 4: missing answer (madrs does not prorate missing items)")
    ]


def test_every_error_is_reported_in_item_order() -> None:
    errors = errors_for("hamd17", [5, 0, 0, 3, None, 0, 0, 0, 0, 0, 0, True, 0, 0, 0, 0, -1])
    assert errors == [
        ("items[0]", "item 1: 5 is outside 0–4"),
        ("items[3]", "item 4: 3 is outside 0–2"),
        ("items[4]", "item 5: missing answer (hamd17 does not prorate missing items)"),
        ("items[11]", "item 12: True is not an integer in 0–2"),
        ("items[16]", "item 17: -1 is outside 0–2"),
    ]


def test_per_item_ranges_differ_within_a_scale() -> None:
    assert score(CATALOGUE.get("ymrs"), [4, 4, 4, 4, 8, 8, 4, 8, 8, 4, 4]).total == 60
    assert errors_for("ymrs", [5, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0]) == [
        ("items[0]", "item 1: 5 is outside 0–4"),
        ("items[4]", "item 5: 9 is outside 0–8"),
    ]


def test_ricci_gagnon_starts_at_one() -> None:
    assert errors_for("ricci_gagnon", [0, 2, 2, 2, 2, 2, 2, 2, 6]) == [
        ("items[0]", "item 1: 0 is outside 1–5"),
        ("items[8]", "item 9: 6 is outside 1–5"),
    ]


@pytest.mark.parametrize("items", ["000000000", None, 9, {"a": 1}])
def test_items_must_be_a_list(items: Any) -> None:
    assert errors_for("phq9", items) == [("items", "expected a list of answers")]


def test_tuples_are_accepted() -> None:
    assert score(PHQ9, (1,) * 9).total == 9
