"""Inputs and results of the prescriber's first two steps: eligibility (domain-sport §2) and the
functional limitation level (§3), with the reference data they read."""

from __future__ import annotations

from typing import Literal

import msgspec

from sport_referral.model import Provenance, Reason
from sport_referral.model.structures import LimitationLevel, Profession

__all__ = [
    "AUTONOMY_CRITERIA",
    "BASIS_ORDER",
    "RISK_FACTORS",
    "AutonomyCriterion",
    "Basis",
    "EligibilityInput",
    "EligibilityOutcome",
    "EligibilityResult",
    "LevelDefinition",
    "LimitationAssessment",
    "LimitationCatalogue",
    "RiskFactor",
    "SevereCriterion",
    "SupervisionFit",
    "WalkingSuggestion",
    "WeeklyActivityReport",
    "WhoPrefill",
    "WhoSettings",
]

# §2.1.
RiskFactor = Literal[
    "overweight",
    "obesity",
    "hypertension",
    "undernutrition",
    "sedentary",
    "dyslipidaemia",
    "addictive_behaviour",
    "other",
]
RISK_FACTORS: tuple[RiskFactor, ...] = (
    "overweight",
    "obesity",
    "hypertension",
    "undernutrition",
    "sedentary",
    "dyslipidaemia",
    "addictive_behaviour",
    "other",
)
AutonomyCriterion = Literal["a_apa_allowance", "b_home_help", "c_cdaph_right", "d_cmi", "e_frailty_screen_positive"]
AUTONOMY_CRITERIA: tuple[AutonomyCriterion, ...] = (
    "a_apa_allowance",
    "b_home_help",
    "c_cdaph_right",
    "d_cmi",
    "e_frailty_screen_positive",
)
# E-5: order of the grounds in ``basis``.
Basis = Literal["ald", "chronic_disease", "risk_factor", "autonomy"]
BASIS_ORDER: tuple[Basis, ...] = ("ald", "chronic_disease", "risk_factor", "autonomy")

EligibilityOutcome = Literal[
    "eligible",
    "prescriber_not_physician",
    "prescriber_not_involved_in_care",
    "not_indicated_active_enough",
    "not_indicated_autonomous",
    "no_eligible_condition",
    "patient_disagrees",
]


class EligibilityInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """§2.1 (EligibilityInput). Every flag is an explicit answer; there are no clinical defaults."""

    prescriber_is_physician: bool
    prescriber_involved_in_care: bool
    below_who_recommendations: bool
    cannot_progress_alone: bool
    ald: bool
    chronic_disease: bool
    patient_agrees: bool
    risk_factors: frozenset[RiskFactor] = frozenset()
    risk_factor_other_text: str | None = None
    autonomy_criteria: frozenset[AutonomyCriterion] = frozenset()


class EligibilityResult(msgspec.Struct, frozen=True, kw_only=True):
    """E-11: ``{eligible, basis[], reasons[], warnings[]}``, plus the first blocking outcome.

    ``outcome`` is ``eligible`` or the first failing rule in the order E-1, E-2, E-3, E-5, E-10;
    ``blocking`` lists every failing outcome. ``offer_mss_orientation`` is E-3's alternative.
    """

    eligible: bool
    outcome: EligibilityOutcome
    blocking: list[EligibilityOutcome]
    basis: list[Basis]
    reasons: list[Reason]
    warnings: list[Reason]
    offer_mss_orientation: bool


class WhoSettings(msgspec.Struct, frozen=True, kw_only=True):
    """cfg:who.* (E-4) [to verify]."""

    adult_min_weekly_minutes: int
    vigorous_factor: float
    strength_min_days: int
    provenance: dict[str, Provenance]


class WeeklyActivityReport(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The patient's self-report used by E-4."""

    moderate_minutes: int
    vigorous_minutes: int = 0
    strength_days: int | None = None


class WhoPrefill(msgspec.Struct, frozen=True, kw_only=True):
    """E-4: a suggestion only; the physician confirms ``below_who_recommendations``."""

    below_who_recommendations: bool
    moderate_equivalent_minutes: float
    reasons: list[Reason]
    physician_must_confirm: bool = True


# --- limitation (§3) ----------------------------------------------------------------------------


class SevereCriterion(msgspec.Struct, frozen=True, kw_only=True):
    """One item of the 14-item severe checklist (annex 11-7-2 CSP, §3.2)."""

    number: int
    code: str
    domain: Literal["locomotor", "brain", "senses", "pain"]
    heading_fr: str
    label_fr: str
    label_en: str
    vision_part: int | None = None


class LevelDefinition(msgspec.Struct, frozen=True, kw_only=True):
    code: LimitationLevel
    label_fr: str
    label_en: str
    definition_fr: str
    definition_en: str
    status: str
    source: str


class LimitationCatalogue(msgspec.Struct, frozen=True, kw_only=True):
    """Checklist, level definitions and the settings of §3 (severe_criteria.yaml, limitation_levels.yaml)."""

    criteria: tuple[SevereCriterion, ...]
    levels: tuple[LevelDefinition, ...]
    vision_parts_rule: Literal["any", "all"]
    walking_threshold_m: int
    source: str
    provenance: dict[str, Provenance]

    def criterion(self, code: str) -> SevereCriterion | None:
        for item in self.criteria:
            if item.code == code:
                return item
        return None

    def level(self, code: str) -> LevelDefinition | None:
        for item in self.levels:
            if item.code == code:
                return item
        return None


class LimitationAssessment(msgspec.Struct, frozen=True, kw_only=True):
    """L-1/L-2 outcome. ``severe_criteria`` is clinical (L-4): never shown to coordinators."""

    level: LimitationLevel
    severe_criteria: list[str]
    counted_criteria: list[str]
    reasons: list[Reason]
    warnings: list[Reason]


class WalkingSuggestion(msgspec.Struct, frozen=True, kw_only=True):
    """L-3: suggest ticking item 5; never ticks it."""

    suggest_item: str | None
    reasons: list[Reason]


class SupervisionFit(msgspec.Struct, frozen=True, kw_only=True):
    """Whether a structure's declared staff may supervise at a level (L-5, L-7, M-1)."""

    ok: bool
    matched_professions: list[Profession]
    flags: list[str]
    code: str
    reason: Reason
