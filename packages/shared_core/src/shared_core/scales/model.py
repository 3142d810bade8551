"""The vocabulary of rating-scale definitions.

Definitions are reference data (one YAML file per scale under ``catalogue/``), never code:
domain-rtms §0.1 requires every clinical value to be configuration with a confidence marker,
so each value here is paired with a :class:`Provenance` or carries ``confidence``/``source``.
"""

from __future__ import annotations

from typing import Literal

import msgspec

Confidence = Literal["verified", "to_verify", "conflict", "design"]
Rater = Literal["self", "clinician"]
Direction = Literal["lower_is_better", "higher_is_better"]
Language = Literal["fr", "en"]
ScoringMethod = Literal["sum", "qids_domains", "hads", "cssrs_screen", "ricci_gagnon", "who5"]
LANGUAGES: tuple[Language, ...] = ("fr", "en")


class _Frozen(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Unknown YAML keys are typos, and a typo in a threshold must fail loudly."""


class Provenance(_Frozen, frozen=True):
    confidence: Confidence
    source: str


class AnswerOption(_Frozen, frozen=True):
    value: int
    label_fr: str | None = None
    label_en: str | None = None

    def label(self, lang: Language) -> str | None:
        return self.label_fr if lang == "fr" else self.label_en


class ItemDefinition(_Frozen, frozen=True):
    number: int
    id: str
    min: int
    max: int
    short_label_fr: str
    short_label_en: str
    # None when the wording is licensed and the site has not loaded it (domain-rtms §9.3).
    text_fr: str | None = None
    text_en: str | None = None
    answers: tuple[AnswerOption, ...] = ()
    loinc: str | None = None

    def text(self, lang: Language) -> str | None:
        return self.text_fr if lang == "fr" else self.text_en


class Band(_Frozen, frozen=True):
    """Inclusive range of the banded value: the total, HADS' worse subscale, or C-SSRS risk rank."""

    code: str
    min: int
    max: int
    label_fr: str
    label_en: str


class AlertRule(_Frozen, frozen=True):
    """Fires when the answer to ``item`` (1-based) compares true against ``threshold``.

    ``item`` None compares the total instead; for C-SSRS, whose total is None, it compares the
    risk rank (the ``min`` of the band reached), so "HIGH" is ``>= 3`` without a special case.
    """

    code: str
    item: int | None
    operator: Literal[">", ">="]
    threshold: int
    label_fr: str
    label_en: str
    confidence: Confidence
    source: str


class Licence(_Frozen, frozen=True):
    code: str
    note_fr: str
    text_shipped: bool
    note_en: str = ""


class Subscale(_Frozen, frozen=True):
    """Named group of items; ``combine`` "max" is how QIDS-SR16 folds items into a domain."""

    code: str
    items: tuple[int, ...]
    label_fr: str
    label_en: str
    combine: Literal["sum", "max"] = "sum"


class Proration(_Frozen, frozen=True):
    """Missing answers tolerated per subscale; the subscale is scaled up, rounded half up."""

    max_missing_per_subscale: int
    confidence: Confidence
    source: str


class SkipRule(_Frozen, frozen=True):
    """When ``when_item`` equals ``equals``, ``items`` were not asked (or do not count).

    ``score_as`` replaces whatever was answered (Ricci-Gagnon Q2); ``must_equal`` rejects an
    answer other than ``value`` (C-SSRS). A missing answer becomes ``value`` in both cases.
    """

    when_item: int
    equals: int
    items: tuple[int, ...]
    action: Literal["score_as", "must_equal"]
    value: int
    reason_en: str
    confidence: Confidence
    source: str


class RiskRule(_Frozen, frozen=True):
    """The first rule with a satisfied clause wins; a clause holds when all its items are > 0."""

    band: str
    any_of: tuple[tuple[int, ...], ...]
    confidence: Confidence
    source: str


class ScaleDefinition(_Frozen, frozen=True):
    code: str
    version: str
    name_fr: str
    name_en: str
    rater: Rater
    window_fr: str
    window_en: str
    items: tuple[ItemDefinition, ...]
    scoring: ScoringMethod
    total_min: int | None
    total_max: int | None
    bands: tuple[Band, ...]
    licence: Licence
    provenance: dict[str, Provenance]
    sources: tuple[str, ...]
    direction: Direction = "lower_is_better"
    remission_max: int | None = None
    response_pct: int = 50
    partial_pct: int = 25
    # False where a remission/response label means nothing (anxiety, mania, risk, activity).
    classify_change: bool = True
    alerts: tuple[AlertRule, ...] = ()
    subscales: tuple[Subscale, ...] = ()
    proration: Proration | None = None
    skip_rules: tuple[SkipRule, ...] = ()
    risk_rules: tuple[RiskRule, ...] = ()
    loinc_panel: str | None = None
    loinc_total: str | None = None
    snomed: str | None = None
    stem_fr: str | None = None
    stem_en: str | None = None

    @property
    def to_verify(self) -> list[str]:
        """Names of the values still marked [to verify]; an admin page lists them (§13)."""
        names = [key for key, prov in self.provenance.items() if prov.confidence == "to_verify"]
        names += [f"alerts.{a.code}" for a in self.alerts if a.confidence == "to_verify"]
        names += [f"skip_rules[{i}]" for i, r in enumerate(self.skip_rules) if r.confidence == "to_verify"]
        names += [f"risk_rules.{r.band}" for r in self.risk_rules if r.confidence == "to_verify"]
        if self.proration is not None and self.proration.confidence == "to_verify":
            names.append("proration")
        return names

    def text_available(self, lang: Language) -> bool:
        """Whether every item, and every answer label, can be shown to a patient in ``lang``."""
        return all(
            item.text(lang) is not None and all(a.label(lang) is not None for a in item.answers)
            for item in self.items
        )

    def band(self, code: str) -> Band:
        for band in self.bands:
            if band.code == code:
                return band
        raise KeyError(code)
