"""R-MBC-03, the early-improvement checkpoint (domain-rtms §10.2).

After ``sessions`` delivered sessions with less than ``min_improvement_pct`` improvement on the
primary scale, the physician is prompted to consider a protocol change. It is a prompt only: no
automatic stop and no "non-response" label (registry data show late responders).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Literal

import msgspec

RULE_ID = "R-MBC-03"
SOURCE = "domain-rtms §10.2 R-MBC-03 (SEED; NS-DOSING)"
CheckpointCode = Literal["review_protocol", "none"]


class CheckpointThresholds(msgspec.Struct, frozen=True):
    """``mbc.early.*`` settings; defaults 10 sessions and 20 %."""

    sessions: int = 10
    min_improvement_pct: int = 20


class CheckpointDecision(msgspec.Struct, frozen=True):
    code: CheckpointCode
    rule_id: str
    reason_fr: str
    reason_en: str
    source: str


def early_improvement_checkpoint(
    sessions_delivered: int, improvement: Fraction, thresholds: CheckpointThresholds | None = None
) -> CheckpointDecision:
    """``improvement`` is the exact fraction (baseline − current) / baseline on the primary scale."""
    limits = thresholds or CheckpointThresholds()
    if sessions_delivered < 0:
        raise ValueError("sessions_delivered cannot be negative")
    if sessions_delivered >= limits.sessions and improvement * 100 < limits.min_improvement_pct:
        return CheckpointDecision(
            "review_protocol",
            RULE_ID,
            f"Moins de {limits.min_improvement_pct} % d'amélioration après {sessions_delivered} séances : "
            "envisager une modification du protocole (invitation à réévaluer, pas un arrêt).",
            f"Less than {limits.min_improvement_pct} % improvement after {sessions_delivered} sessions: "
            "consider a protocol change (a prompt to review, not a stop).",
            SOURCE,
        )
    return CheckpointDecision("none", RULE_ID, "Pas d'alerte au point d'étape.", "No checkpoint prompt.", SOURCE)
