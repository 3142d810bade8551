"""Safety screening vocabulary (domain-rtms §3), plus the clinical primitives every rule area shares.

The shared primitives (:class:`Setting`, :class:`Reason`, :class:`Precaution`, ...) live here
because this is the lowest model module: ``model.medication`` and ``model.triage`` import it,
and it imports neither, so there is no import cycle. ``model.triage`` re-exports them.

Every Struct read from YAML forbids unknown fields: a typo in a clinical rule must fail loudly
at load time, never silently drop a contraindication.
"""

from __future__ import annotations

from datetime import date
from typing import Generic, Literal, TypeVar

import msgspec

from shared_core.scales.model import Confidence

__all__ = [
    "LEVEL_RANK",
    "AdverseEventReport",
    "CheckinAnswers",
    "CheckinEffect",
    "CheckinItem",
    "CheckinMedicationChange",
    "CheckinOutcome",
    "CheckinStatus",
    "Confidence",
    "HitStatus",
    "ItemAnswer",
    "OverridePolicy",
    "Precaution",
    "PrecautionDefinition",
    "PrecautionLevel",
    "PrecautionStatus",
    "Reason",
    "ReviewDecision",
    "RuleSpec",
    "SafetyScreeningResult",
    "SafetySettings",
    "ScreeningAlias",
    "ScreeningCatalogue",
    "ScreeningHit",
    "ScreeningItem",
    "ScreeningLevel",
    "ScreeningOverride",
    "ScreeningRule",
    "Setting",
    "SubstanceIntake",
    "Task",
    "When",
]

T = TypeVar("T")

DOC = "domain-rtms"


class _Data(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Base of every Struct read from a catalogue file."""


# ---------------------------------------------------------------------------------------------
# Shared primitives
# ---------------------------------------------------------------------------------------------


class Setting(_Data, Generic[T], frozen=True):
    """One configurable clinical value with its provenance (domain-rtms §0.1).

    ``section`` is where the doc states the value (e.g. "§2.4 R-TRI-09; §13 #7"); a value the doc
    marks [to verify] must carry ``confidence: to_verify`` (a test checks the §13 list).
    """

    value: T
    confidence: Confidence
    sources: tuple[str, ...]
    section: str
    note: str = ""


class RuleSpec(msgspec.Struct, frozen=True):
    """The fixed identity of a rule: id, where the doc states it, sources, wording in both languages."""

    rule_id: str
    section: str
    sources: tuple[str, ...]
    confidence: Confidence
    text_fr: str
    text_en: str

    def reason(
        self, text_fr: str | None = None, text_en: str | None = None, subjects: tuple[str, ...] = ()
    ) -> Reason:
        """A reason of this rule; the texts default to the rule's own rationale."""
        return Reason(
            rule_id=self.rule_id,
            text_fr=self.text_fr if text_fr is None else text_fr,
            text_en=self.text_en if text_en is None else text_en,
            sources=self.sources,
            section=self.section,
            confidence=self.confidence,
            subjects=subjects,
        )


class Reason(msgspec.Struct, frozen=True):
    """Why an output is what it is. Every rule that fires emits one, with its citations.

    ``subjects`` names what the reason is about (drug INNs, screening items, protocol ids).
    """

    rule_id: str
    text_fr: str
    text_en: str
    sources: tuple[str, ...]
    section: str
    confidence: Confidence
    subjects: tuple[str, ...] = ()

    def source_label(self) -> str:
        """Citation keys then the doc section, e.g. "SEED, REN14 (domain-rtms §2.4)"."""
        keys = ", ".join(self.sources)
        return f"{keys} ({DOC} {self.section})" if keys else f"{DOC} {self.section}"


PrecautionLevel = Literal["info", "advice", "monitoring", "precondition"]
# open: still to act on. resolved: the condition is met (e.g. a mood stabilizer is on the list),
# so it no longer weighs on the orientation. overridden: a physician accepted the risk with a
# reason (§3.5); the precaution still applies, only the block is lifted.
PrecautionStatus = Literal["open", "resolved", "overridden"]


class PrecautionDefinition(_Data, frozen=True):
    """A row of domain-rtms §2.3, held as data so a centre can re-level a precaution."""

    level: PrecautionLevel
    rules: tuple[str, ...]
    label_fr: str
    label_en: str
    sources: tuple[str, ...]
    confidence: Confidence
    note: str = ""


class Precaution(msgspec.Struct, frozen=True):
    code: str
    level: PrecautionLevel
    status: PrecautionStatus
    rule_id: str
    subjects: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()


class Task(msgspec.Struct, frozen=True):
    """Work a rule asks someone to do; the service turns it into a shared_core Task."""

    code: str
    urgency: Literal["routine", "same_day"]
    rule_id: str
    text_fr: str
    text_en: str


# ---------------------------------------------------------------------------------------------
# Screening catalogue (catalogue/ifcn_screening.yaml)
# ---------------------------------------------------------------------------------------------

ScreeningLevel = Literal["INFO", "PHYSICIAN_REVIEW", "BLOCK"]
# R-SAF-02: the item level is the maximum of its hits, in this order.
LEVEL_RANK: dict[ScreeningLevel, int] = {"INFO": 0, "PHYSICIAN_REVIEW": 1, "BLOCK": 2}


class ScreeningAlias(_Data, frozen=True):
    """A short finding code (the API contract's ``cochlear_implant``) and the details it implies."""

    code: str
    details: dict[str, str] = {}


class ScreeningItem(_Data, frozen=True):
    code: str
    group: Literal["ifcn", "site"]
    label_fr: str
    label_en: str
    # Exact IFCN wording is [to verify] (§3.2, §13 #1): shipped labels are paraphrases.
    wording_confidence: Confidence
    sources: tuple[str, ...]
    number: int | None = None
    required: bool = True
    aliases: tuple[ScreeningAlias, ...] = ()
    # Follow-up fields the conditional rules read; each lists its allowed values.
    details: dict[str, tuple[str, ...]] = {}
    follow_up_fr: str = ""
    # "medication_review": a yes sends the team to §4 (item 11).
    route: Literal["medication_review"] | None = None


class When(_Data, frozen=True):
    """Condition of a screening rule: a yes answer, optionally narrowed by one follow-up detail.

    A detail absent from the answer counts as ``unknown`` so that, for metal (item 6), "material
    not documented" falls under the BLOCK rule as §3.2 requires.
    """

    answer: Literal["yes"] = "yes"
    detail: str | None = None
    values_in: tuple[str, ...] | None = msgspec.field(default=None, name="in")
    values_not_in: tuple[str, ...] | None = msgspec.field(default=None, name="not_in")


class OverridePolicy(_Data, frozen=True):
    role: Literal["physician"] = "physician"
    reason_required: bool = True
    cosign_required: bool = False


class Alternative(_Data, frozen=True):
    """The other side of a [conflict] (§0.1): documented, not shipped."""

    level: ScreeningLevel
    sources: tuple[str, ...]
    note: str


class ScreeningRule(_Data, frozen=True):
    id: str
    item: str
    level: ScreeningLevel
    label_fr: str
    message_fr: str
    message_en: str
    sources: tuple[str, ...]
    confidence: Confidence
    version: int
    effective_from: date
    when: When = When()
    override: OverridePolicy = OverridePolicy()
    actions: tuple[str, ...] = ()
    alternative: Alternative | None = None
    note: str = ""


CheckinEffect = Literal["hold_for_physician", "rescreen", "medication_review", "remove_metal", "record"]


class CheckinItem(_Data, frozen=True):
    """One pre-session question (§3.4). ``code`` is a field of :class:`CheckinAnswers`."""

    code: str
    label_fr: str
    label_en: str
    effect: CheckinEffect
    rule_id: str
    sources: tuple[str, ...]
    confidence: Confidence
    options: tuple[str, ...] = ()


class ScreeningCatalogue(_Data, frozen=True):
    schema: str
    version: str
    items: tuple[ScreeningItem, ...]
    rules: tuple[ScreeningRule, ...]
    checkin_items: tuple[CheckinItem, ...]
    note: str = ""

    def item(self, code: str) -> ScreeningItem:
        for item in self.items:
            if item.code == code:
                return item
        raise KeyError(code)

    def resolve_finding(self, code: str) -> tuple[str, dict[str, str]] | None:
        """An item code, or an alias, to (item code, implied details); None when unknown."""
        for item in self.items:
            if item.code == code:
                return item.code, {}
            for alias in item.aliases:
                if alias.code == code:
                    return item.code, dict(alias.details)
        return None

    def finding_codes(self) -> list[str]:
        """Every code a caller may send: item codes and their aliases."""
        codes: list[str] = []
        for item in self.items:
            codes.append(item.code)
            codes.extend(alias.code for alias in item.aliases)
        return codes


class SafetySettings(_Data, frozen=True):
    block_override_cosign: Setting[bool]
    override_reason_min_chars: Setting[int]
    screening_validity_days: Setting[int]


# ---------------------------------------------------------------------------------------------
# Screening answers and result
# ---------------------------------------------------------------------------------------------


class ItemAnswer(msgspec.Struct, frozen=True):
    """``unknown`` means not answered yet: R-SAF-01 treats it as missing."""

    answer: Literal["yes", "no", "unknown"]
    details: dict[str, str] = {}


class ScreeningOverride(msgspec.Struct, frozen=True):
    """A physician lifting one BLOCK hit (§3.5); BLOCK needs a second physician by default."""

    rule_id: str
    decided_by: str
    role: str
    reason: str
    cosigned_by: str | None = None


class ReviewDecision(msgspec.Struct, frozen=True):
    """The physician's answer to one PHYSICIAN_REVIEW hit (§3.1)."""

    rule_id: str
    decided_by: str
    decision: Literal["accept", "accept_with_measures", "refuse"]
    reason: str


# "recorded": an INFO hit, nothing to decide (§3.1).
HitStatus = Literal["open", "overridden", "accepted", "accepted_with_measures", "refused", "recorded"]


class ScreeningHit(msgspec.Struct, frozen=True):
    rule_id: str
    item: str
    level: ScreeningLevel
    status: HitStatus
    label_fr: str
    message_fr: str
    message_en: str
    sources: tuple[str, ...]
    confidence: Confidence
    actions: tuple[str, ...] = ()


class SafetyScreeningResult(msgspec.Struct, frozen=True):
    """Outcome of §3: every hit (R-SAF-02), the item levels, completeness (R-SAF-01)."""

    hits: tuple[ScreeningHit, ...]
    item_levels: dict[str, ScreeningLevel]
    # Maximum over hits still in force (open or refused); None when there is none.
    level: ScreeningLevel | None
    complete: bool
    missing_items: tuple[str, ...]
    precautions: tuple[Precaution, ...]
    reasons: tuple[Reason, ...]
    routes: tuple[str, ...] = ()
    rejected_decisions: tuple[str, ...] = ()
    catalogue_version: str = ""

    def answered_yes(self, item: str) -> bool:
        return any(hit.item == item for hit in self.hits)


# ---------------------------------------------------------------------------------------------
# Per-session check-in (§3.4, R-SAF-04)
# ---------------------------------------------------------------------------------------------


class CheckinMedicationChange(msgspec.Struct, frozen=True):
    inn: str
    kind: Literal["started", "increased", "decreased", "stopped"]
    on: date


class SubstanceIntake(msgspec.Struct, frozen=True):
    substance: Literal["alcohol", "cannabis", "opioids", "stimulants", "other"]
    hours_ago: int


class AdverseEventReport(msgspec.Struct, frozen=True):
    code: Literal[
        "headache", "site_pain", "dental_pain", "fatigue", "sleep_disturbance", "mood_elevation", "other"
    ]
    severity: Literal["mild", "moderate", "severe"]
    onset: Literal["during_session", "after_session", "between_sessions"]
    note: str = ""


class CheckinAnswers(msgspec.Struct, frozen=True):
    """Answers about the time since the last session. Field names are the check-in item codes."""

    medication_changes: tuple[CheckinMedicationChange, ...] = ()
    sleep_deprivation: bool = False
    substance_intake: tuple[SubstanceIntake, ...] = ()
    new_implant: bool = False
    possible_pregnancy: bool = False
    seizure_or_syncope: bool = False
    adverse_events: tuple[AdverseEventReport, ...] = ()
    metal_objects_removed: bool = True


CheckinStatus = Literal["ready", "pending_metal_removal", "hold_for_physician"]


class CheckinOutcome(msgspec.Struct, frozen=True):
    status: CheckinStatus
    mt_recheck: bool
    rescreen_required: bool
    medication_review_rerun: bool
    reasons: tuple[Reason, ...]
    triggers: tuple[str, ...]
