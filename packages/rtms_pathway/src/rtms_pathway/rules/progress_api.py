"""Pure mapping of the calculator contract ``POST /api/v1/rtms/progress`` (api-contract.md).

Body ``{"scale", "baseline", "current", "sessions_completed"}``; answer
``{"improvement_pct", "status", "checkpoint"}``:

- ``improvement_pct`` = (baseline − current) / baseline × 100, computed as an exact fraction and
  rounded to one decimal for display only (half away from zero, as everywhere in Parcours:
  18.75 → 18.8, −18.75 → −18.8); baseline 0 → 422.
- ``status``: ``remission`` when current ≤ the scale's remission cut-off (configurable), else
  ``response`` when improvement ≥ 50 %, else ``partial_response`` when ≥ 25 %, else ``non_response``
  (the contract has no ``worsening`` or ``not_evaluable``: a worse score is a non-response).
- ``checkpoint``: ``review_protocol`` when sessions_completed ≥ 10 and improvement < 20 %
  (R-MBC-03, reused from ``rules.checkpoint``), otherwise ``none``.

``validate_contract_progress`` lists every bad field at once so the web layer can answer one
422 with all of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from rtms_pathway.rules.checkpoint import CheckpointThresholds, early_improvement_checkpoint
from rtms_pathway.rules.mbc import ScaleLookup
from shared_core.errors import FieldError, ValidationFailed
from shared_core.rules.progress import percent_one_decimal

if TYPE_CHECKING:
    from shared_core.scales.model import ScaleDefinition

__all__ = [
    "ContractProgressAnswer",
    "ContractProgressInput",
    "ContractStatus",
    "ContractThresholds",
    "parse_contract_progress",
    "progress_contract",
    "validate_contract_progress",
]

ContractStatus = Literal["remission", "response", "partial_response", "non_response"]
ContractCheckpoint = Literal["review_protocol", "none"]
_FIELDS = ("scale", "baseline", "current", "sessions_completed")


class ContractProgressInput(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    scale: str
    baseline: int
    current: int
    sessions_completed: int


class ContractProgressAnswer(msgspec.Struct, frozen=True):
    improvement_pct: float
    status: ContractStatus
    checkpoint: ContractCheckpoint


class ContractThresholds(msgspec.Struct, frozen=True):
    """Contract defaults; ``remission_max`` overrides per scale code (site configuration)."""

    response_pct: int = 50
    partial_pct: int = 25
    checkpoint_sessions: int = 10
    checkpoint_min_pct: int = 20
    remission_max: dict[str, int] = msgspec.field(default_factory=dict)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_contract_progress(
    raw: Any, catalogue: ScaleLookup, thresholds: ContractThresholds | None = None
) -> list[FieldError]:
    """Every problem of a decoded JSON body, in field order; an empty list means valid."""
    if not isinstance(raw, Mapping):
        return [FieldError("body", "expected a JSON object with scale, baseline, current, sessions_completed")]
    limits = thresholds or ContractThresholds()
    errors: list[FieldError] = []
    for name in sorted(set(raw) - set(_FIELDS), key=str):
        errors.append(FieldError(str(name), "unknown field"))
    definition: ScaleDefinition | None = None
    scale: Any = raw.get("scale")
    if "scale" not in raw:
        errors.append(FieldError("scale", "required"))
    elif not isinstance(scale, str):
        errors.append(FieldError("scale", "must be a scale code (string)"))
    elif scale not in catalogue:
        errors.append(FieldError("scale", f"unknown scale {scale!r}"))
    else:
        definition = catalogue.get(scale)
        cutoff = limits.remission_max.get(scale, definition.remission_max)
        if (not definition.classify_change or definition.direction != "lower_is_better"
                or definition.total_max is None or cutoff is None):
            errors.append(FieldError("scale", f"scale {scale!r} has no remission cut-off: progress is not defined"))
            definition = None
    for name in ("baseline", "current"):
        value: Any = raw.get(name)
        if name not in raw:
            errors.append(FieldError(name, "required"))
        elif not _is_int(value):
            errors.append(FieldError(name, "must be an integer"))
        elif value < 0:
            errors.append(FieldError(name, f"{value} is negative; scores are ≥ 0"))
        elif definition is not None and definition.total_max is not None and not (
            (definition.total_min or 0) <= value <= definition.total_max
        ):
            errors.append(FieldError(name, f"{value} is outside {definition.total_min}–{definition.total_max} "
                                           f"for {definition.code}"))
        elif name == "baseline" and value == 0:
            errors.append(FieldError("baseline", "0: improvement is undefined (division by zero)"))
    sessions: Any = raw.get("sessions_completed")
    if "sessions_completed" not in raw:
        errors.append(FieldError("sessions_completed", "required"))
    elif not _is_int(sessions):
        errors.append(FieldError("sessions_completed", "must be an integer"))
    elif sessions < 0:
        errors.append(FieldError("sessions_completed", f"{sessions} is negative"))
    order = {name: i for i, name in enumerate(_FIELDS)}
    return sorted(errors, key=lambda e: order.get(e.field, len(order)))


def parse_contract_progress(
    raw: Any, catalogue: ScaleLookup, thresholds: ContractThresholds | None = None
) -> ContractProgressInput:
    """Validated input, or ``ValidationFailed`` listing every bad field."""
    errors = validate_contract_progress(raw, catalogue, thresholds)
    if errors:
        raise ValidationFailed(errors)
    return msgspec.convert(raw, ContractProgressInput)


def progress_contract(
    body: ContractProgressInput, catalogue: ScaleLookup, thresholds: ContractThresholds | None = None
) -> ContractProgressAnswer:
    """The contract answer. Invalid input (e.g. baseline 0) raises ``ValidationFailed``."""
    errors = validate_contract_progress(msgspec.to_builtins(body), catalogue, thresholds)
    if errors:
        raise ValidationFailed(errors)
    limits = thresholds or ContractThresholds()
    definition = catalogue.get(body.scale)
    cutoff = limits.remission_max.get(body.scale, definition.remission_max)
    assert cutoff is not None  # checked by validate_contract_progress
    improvement = Fraction(body.baseline - body.current, body.baseline)
    status: ContractStatus
    if body.current <= cutoff:
        status = "remission"
    elif improvement >= Fraction(limits.response_pct, 100):
        status = "response"
    elif improvement >= Fraction(limits.partial_pct, 100):
        status = "partial_response"
    else:
        status = "non_response"
    checkpoint = early_improvement_checkpoint(
        body.sessions_completed, improvement,
        CheckpointThresholds(limits.checkpoint_sessions, limits.checkpoint_min_pct),
    )
    return ContractProgressAnswer(percent_one_decimal(improvement), status, checkpoint.code)
