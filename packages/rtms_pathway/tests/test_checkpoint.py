from fractions import Fraction

import pytest

from rtms_pathway.rules.checkpoint import CheckpointThresholds, early_improvement_checkpoint


def test_worked_example_s5_prompts_a_review() -> None:
    # domain-rtms §9.5 S5: MADRS 32 -> 26 after 10 sessions, 18.75 % < 20 %.
    decision = early_improvement_checkpoint(10, Fraction(32 - 26, 32))
    assert decision.code == "review_protocol"
    assert decision.rule_id == "R-MBC-03"
    assert "protocole" in decision.reason_fr


@pytest.mark.parametrize(
    ("sessions", "improvement", "expected"),
    [
        (9, Fraction(0), "none"),  # before the checkpoint
        (10, Fraction(1, 5), "none"),  # exactly 20 %: not below the threshold
        (10, Fraction(199, 1000), "review_protocol"),
        (25, Fraction(-1, 10), "review_protocol"),  # worsening
        (10, Fraction(1, 2), "none"),
    ],
)
def test_threshold_boundaries(sessions: int, improvement: Fraction, expected: str) -> None:
    assert early_improvement_checkpoint(sessions, improvement).code == expected


def test_thresholds_are_configurable() -> None:
    strict = CheckpointThresholds(sessions=5, min_improvement_pct=30)
    assert early_improvement_checkpoint(5, Fraction(1, 4), strict).code == "review_protocol"
    assert early_improvement_checkpoint(4, Fraction(0), strict).code == "none"


def test_negative_session_count_is_refused() -> None:
    with pytest.raises(ValueError):
        early_improvement_checkpoint(-1, Fraction(0))
