"""Change from the course baseline (domain-rtms R-MBC-02 and R-MBC-04): pure, no I/O.

Comparisons use exact fractions (domain-rtms §0.3 principle 5): a float 0.5 - epsilon must never
turn a 50 % response into a partial one. Rounding happens only in ``improvement_pct``.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Literal

import msgspec

from shared_core.errors import FieldError, ValidationFailed
from shared_core.rules.scoring import round_half_up

if TYPE_CHECKING:
    from shared_core.scales.model import ScaleDefinition

ProgressStatus = Literal[
    "remission", "response", "partial_response", "non_response", "worsening", "not_evaluable"
]


class ProgressThresholds(msgspec.Struct, frozen=True):
    """Site overrides. ``remission_max`` None keeps the scale's own cut-off."""

    remission_max: int | None = None
    response_pct: int = 50
    partial_pct: int = 25


class Progress(msgspec.Struct, frozen=True):
    # Numerator and denominator rather than a Fraction, so the struct stays JSON-encodable.
    status: ProgressStatus
    improvement_numerator: int | None = None
    improvement_denominator: int | None = None
    improvement_pct: float | None = None

    @property
    def improvement(self) -> Fraction | None:
        if self.improvement_numerator is None or self.improvement_denominator is None:
            return None
        return Fraction(self.improvement_numerator, self.improvement_denominator)


def classify_progress(
    definition: ScaleDefinition, baseline: int, current: int, thresholds: ProgressThresholds | None = None
) -> Progress:
    limits = _limits(definition, thresholds)
    if (
        not definition.classify_change
        or definition.direction != "lower_is_better"
        or definition.total_max is None
        or len(definition.bands) < 2
    ):
        return Progress("not_evaluable")
    _check_scores(definition.total_min or 0, definition.total_max, baseline, current)
    if baseline <= 0:
        return Progress("not_evaluable")
    improvement = Fraction(baseline - current, baseline)
    # R-MBC-02: below the mild band a drop of a point or two is noise, not a response.
    if baseline < definition.bands[1].min:
        return _progress("not_evaluable", improvement)
    if limits.remission_max is not None and current <= limits.remission_max:
        return _progress("remission", improvement)
    if improvement >= Fraction(limits.response_pct, 100):
        return _progress("response", improvement)
    if improvement >= Fraction(limits.partial_pct, 100):
        return _progress("partial_response", improvement)
    if improvement < 0:
        return _progress("worsening", improvement)
    return _progress("non_response", improvement)


def percent_one_decimal(fraction: Fraction) -> float:
    """Percentage rounded half away from zero to 0.1 (18.75 → 18.8), computed exactly."""
    tenths = fraction * 1000
    rounded = round_half_up(abs(tenths))
    return (rounded if tenths >= 0 else -rounded) / 10


def _progress(status: ProgressStatus, improvement: Fraction) -> Progress:
    return Progress(status, improvement.numerator, improvement.denominator, percent_one_decimal(improvement))


def _limits(definition: ScaleDefinition, thresholds: ProgressThresholds | None) -> ProgressThresholds:
    if thresholds is None:
        return ProgressThresholds(definition.remission_max, definition.response_pct, definition.partial_pct)
    errors: list[FieldError] = []
    if not 0 < thresholds.response_pct <= 100:
        errors.append(FieldError("thresholds.response_pct", "must be in 1–100"))
    if not 0 < thresholds.partial_pct <= thresholds.response_pct:
        errors.append(FieldError("thresholds.partial_pct", "must be in 1–response_pct"))
    if errors:
        raise ValidationFailed(errors)
    remission = definition.remission_max if thresholds.remission_max is None else thresholds.remission_max
    return ProgressThresholds(remission, thresholds.response_pct, thresholds.partial_pct)


def _check_scores(low: int, high: int, baseline: int, current: int) -> None:
    errors: list[FieldError] = []
    for name, value in (("baseline", baseline), ("current", current)):
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(FieldError(name, f"{value!r} is not an integer"))
        # A baseline of 0 or less is answered "not evaluable" (R-MBC-02), not rejected.
        elif value > high or (value < low and not (name == "baseline" and value <= 0)):
            errors.append(FieldError(name, f"{value} is outside {low}–{high}"))
    if errors:
        raise ValidationFailed(errors)
