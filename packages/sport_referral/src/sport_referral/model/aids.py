"""Aids and eligibility hints (domain-sport §9): reference data loaded from aids.yaml and results.

Hints are informative, never decisions; every result cites its source and the documents to bring.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

import msgspec

from sport_referral.model import Provenance, Reason

__all__ = [
    "AahSettings",
    "AidHint",
    "AidsCatalogue",
    "DapDeadline",
    "PassSportGroup",
    "PassSportResult",
    "PassSportSettings",
    "PchSettings",
    "WheelchairHint",
    "WheelchairSettings",
]


class PassSportGroup(msgspec.Struct, frozen=True, kw_only=True):
    """One benefit group of §9.1. Age bounds are inclusive; ``age_below`` is an exclusive bound."""

    code: str
    label_fr: str
    label_en: str
    age_min: int | None
    age_max: int | None
    age_below: int | None
    born_from: date | None
    born_to: date | None
    documents_fr: tuple[str, ...]


class PassSportSettings(msgspec.Struct, frozen=True, kw_only=True):
    """cfg:pass_sport.* for one campaign."""

    campaign: str
    season: str
    amount_eur: int
    previous_amount_eur: int | None
    campaign_start: date
    campaign_end: date
    enforce_campaign_dates: bool
    use_birth_windows: bool
    groups: tuple[PassSportGroup, ...]
    provenance: dict[str, Provenance]

    def group(self, code: str) -> PassSportGroup | None:
        for group in self.groups:
            if group.code == code:
                return group
        return None


class WheelchairSettings(msgspec.Struct, frozen=True, kw_only=True):
    """cfg:wheelchair.* (§9.2)."""

    cover_from: date
    coverage_rate_pct: int
    sport_manual_cap_eur: int
    previous_cap_eur: int
    dap_threshold_eur: int
    dap_silence_months: int
    prescribers: tuple[str, ...]
    documents_fr: tuple[str, ...]
    provenance: dict[str, Provenance]


class PchSettings(msgspec.Struct, frozen=True, kw_only=True):
    """CASF annex 2-5 thresholds (§9.3)."""

    absolute_difficulties_min: int
    serious_difficulties_min: int
    min_duration_months: int
    documents_fr: tuple[str, ...]
    provenance: dict[str, Provenance]


class AahSettings(msgspec.Struct, frozen=True, kw_only=True):
    """§9.4, all values [to verify]."""

    incapacity_full_pct: int
    incapacity_partial_pct: int
    age_min: int
    age_min_not_dependent: int
    monthly_max_eur: float
    monthly_max_period: str
    provenance: dict[str, Provenance]


class AidsCatalogue(msgspec.Struct, frozen=True, kw_only=True):
    pass_sport: PassSportSettings
    wheelchair: WheelchairSettings
    pch: PchSettings
    aah: AahSettings


class PassSportResult(msgspec.Struct, frozen=True, kw_only=True):
    """A-1. ``reason`` is a code: ``age_in_range``, ``age_out_of_range``, ``birth_date_outside_window``,
    ``no_qualifying_benefit`` or ``outside_campaign``."""

    eligible: bool
    amount_eur: int
    reason: str
    age: int
    matched_benefit: str | None
    reasons: list[Reason]
    documents_fr: list[str]


class WheelchairHint(msgspec.Struct, frozen=True, kw_only=True):
    """A-3: ``hint`` is ``covered_no_dap``, ``dap_needed`` or ``electric_wheelchair_rules``."""

    hint: Literal["covered_no_dap", "dap_needed", "electric_wheelchair_rules"]
    reasons: list[Reason]
    documents_fr: list[str]


class DapDeadline(msgspec.Struct, frozen=True, kw_only=True):
    """A-4: no decision notified by ``decision_due_by`` → deemed accepted from ``deemed_accepted_from``."""

    received_on: date
    decision_due_by: date
    deemed_accepted_from: date
    reasons: list[Reason]


class AidHint(msgspec.Struct, frozen=True, kw_only=True):
    """A-5 / A-6: a hint, never a decision."""

    code: str
    possibly_eligible: bool
    reasons: list[Reason]
    documents_fr: list[str]
