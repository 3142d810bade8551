"""Indicator inputs, outputs and settings (domain-sport §10).

* :class:`ReferralFact` — one referral reduced to what the indicators need (no name, no
  identifier that leaves the server; ``referral_id`` is never exported).
* :class:`IndicatorCell` — one published cell, the row of the open-data export (§10.3).
* :class:`IndicatorSettings` — ``catalogue/indicator_settings.yaml``: ``cfg:suppression.k``
  (default 11, [to verify]), ``cfg:suppression.hide_zero``, ``cfg:indicators.adherence_min_share``…
* :class:`OpendataColumn` — ``catalogue/opendata_columns.yaml``, the documented export columns.

The loaders read YAML; the rules (``rules/indicators.py``, ``rules/opendata.py``) do not.
"""

from __future__ import annotations

import functools
from datetime import date
from importlib import resources
from typing import Generic, Literal, TypeVar

import msgspec

from sport_referral.model import Provenance, Status

__all__ = [
    "INDICATOR_LABELS",
    "CellKey",
    "GeoLevel",
    "IndicatorCell",
    "IndicatorSettings",
    "IndicatorSettingsError",
    "IndicatorTable",
    "OpendataColumn",
    "ReferralFact",
    "Suppression",
    "TerminalStatus",
    "Unit",
    "load_indicator_settings",
    "load_opendata_columns",
]

GeoLevel = Literal["department", "region", "national"]
Unit = Literal["count", "ratio", "days", "min_per_week", "per_100k"]
Suppression = Literal["", "primary", "secondary"]
TerminalStatus = Literal["completed", "lost_to_follow_up", "cancelled_after_acceptance"]
# (measure, geo_level, geo_code, month "YYYY-MM" or "all", dimension, dimension_value)
CellKey = tuple[str, str, str, str, str, str]

INDICATOR_LABELS: dict[str, str] = {
    "I01_referrals_sent": "Orientations envoyées / Referrals sent",
    "I02_acceptance_rate": "Taux d'acceptation / Acceptance rate",
    "I04_days_to_first_session": ("Délai jusqu'à la première séance (médiane, jours) / "
                                  "Time to first session (median days)"),
    "I05_adherence_3m": "Adhésion à 3 mois / Adherence at 3 months",
    "I08_completion_rate": "Taux de programmes terminés / Completion rate",
}


class ReferralFact(msgspec.Struct, frozen=True, kw_only=True):
    """One referral, as the indicators see it. Geography is already on the chosen ``geo_basis``
    (patient residence by default, §10.1): department and region of that place."""

    referral_id: str
    department_code: str | None
    region_code: str | None
    disability_families: tuple[str, ...] = ()
    limitation_level: str | None = None
    structure_kind: str | None = None
    sent_at: date | None = None
    decided_at: date | None = None
    decision: Literal["accepted", "declined"] | None = None
    first_session_at: date | None = None
    planned_sessions_day_90: int | None = None
    attended_sessions_day_90: int | None = None
    status_at_day_90: str | None = None  # in_progress | completed | ...
    terminal_at: date | None = None
    terminal_status: TerminalStatus | None = None
    is_cancelled_draft: bool = False


class IndicatorCell(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One published indicator value (§10.3). Suppressed values have ``value``, ``numerator`` and
    ``denominator`` all None (I-4). Scalars only, so never part of a cycle: untracked by the garbage
    collector, which would otherwise walk a cached table's 70,000 cells on every full collection."""

    indicator_code: str
    period_start: date
    period_end: date
    geo_level: GeoLevel
    geo_code: str
    geo_basis: str
    dimension: str
    dimension_value: str
    value: float | None
    numerator: int | None
    denominator: int | None
    unit: Unit
    suppressed: bool
    suppression: Suppression


class IndicatorTable(msgspec.Struct, frozen=True, kw_only=True):
    """The cells of one computation, and the suppression register to keep for the period (I-2)."""

    cells: tuple[IndicatorCell, ...]
    register: frozenset[CellKey]
    k: int
    period_start: date
    period_end: date
    geo_basis: str
    audited: bool = True  # False when the I-3 exact audit was skipped (more hidden cells than audit_max_hidden)


T = TypeVar("T")


class IndicatorSettingsError(ValueError):
    pass


class _Entry(msgspec.Struct, Generic[T], frozen=True, forbid_unknown_fields=True):
    value: T
    status: Status
    source: str
    last_checked: date
    note: str = ""


class IndicatorSettings(msgspec.Struct, frozen=True, kw_only=True):
    k: int = 11
    hide_zero: bool = False
    adherence_min_share: float = 0.5
    protect_complements: bool = True
    audit: bool = True
    audit_max_hidden: int = 8000
    licence: str = "Licence Ouverte / Etalab 2.0"
    attribution_template: str = "{organisation} — indicateurs Parcours sport-santé, {period}"
    dataes_attribution: str = "Ministère chargé des Sports — Data ES"
    definitions_url: str = ""
    provenance: dict[str, Provenance] = {}


class _SuppressionFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    k: _Entry[int]
    hide_zero: _Entry[bool]
    protect_complements: _Entry[bool]
    audit: _Entry[bool]
    audit_max_hidden: _Entry[int]


class _IndicatorsFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    adherence_min_share: _Entry[float]


class _OpendataFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    licence: _Entry[str]
    attribution_template: _Entry[str]
    dataes_attribution: _Entry[str]
    definitions_url: _Entry[str]


class _SettingsFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    version: str
    suppression: _SuppressionFile
    indicators: _IndicatorsFile
    opendata: _OpendataFile


def _read(name: str, text: str | None) -> object:
    import yaml  # only the loaders read YAML: the rules importing this module never pull it in

    raw = text if text is not None else resources.files("sport_referral.catalogue").joinpath(name).read_text("utf-8")
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError as error:
        raise IndicatorSettingsError(f"{name}: not valid YAML: {error}") from None


# Reference data, read once per process (cached per argument): pages call these on every request.
@functools.cache
def load_indicator_settings(text: str | None = None) -> IndicatorSettings:
    """``indicator_settings.yaml`` (or ``text``). k must be ≥ 2 (k = 1 would publish single persons)."""
    return _shipped_settings() if text is None else _load_settings(text)


@functools.cache
def _shipped_settings() -> IndicatorSettings:
    return _load_settings(None)


def _load_settings(text: str | None) -> IndicatorSettings:
    name = "indicator_settings.yaml"
    try:
        parsed = msgspec.convert(_read(name, text), _SettingsFile)
    except msgspec.ValidationError as error:
        raise IndicatorSettingsError(f"{name}: {error}") from None
    if parsed.suppression.k.value < 2:
        raise IndicatorSettingsError(f"{name}: suppression.k must be at least 2")
    if not 0 < parsed.indicators.adherence_min_share.value <= 1:
        raise IndicatorSettingsError(f"{name}: indicators.adherence_min_share must be in (0, 1]")
    provenance: dict[str, Provenance] = {}
    for section in ("suppression", "indicators", "opendata"):
        node = getattr(parsed, section)
        for field in node.__struct_fields__:
            entry = getattr(node, field)
            key = f"{section}.{field}"
            provenance[key] = Provenance(key=key, status=entry.status, source=entry.source,
                                         last_checked=entry.last_checked, note=entry.note)
    return IndicatorSettings(
        k=parsed.suppression.k.value, hide_zero=parsed.suppression.hide_zero.value,
        protect_complements=parsed.suppression.protect_complements.value, audit=parsed.suppression.audit.value,
        audit_max_hidden=parsed.suppression.audit_max_hidden.value,
        adherence_min_share=parsed.indicators.adherence_min_share.value,
        licence=parsed.opendata.licence.value, attribution_template=parsed.opendata.attribution_template.value,
        dataes_attribution=parsed.opendata.dataes_attribution.value,
        definitions_url=parsed.opendata.definitions_url.value, provenance=provenance,
    )


class OpendataColumn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: str
    type: str
    description_fr: str
    description_en: str
    values: list[str] = []


class _ColumnsFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    version: str
    columns: list[OpendataColumn]


@functools.cache
def load_opendata_columns(text: str | None = None) -> tuple[OpendataColumn, ...]:
    """``opendata_columns.yaml``: the documented columns of the open-data export, in order."""
    name = "opendata_columns.yaml"
    try:
        parsed = msgspec.convert(_read(name, text), _ColumnsFile)
    except msgspec.ValidationError as error:
        raise IndicatorSettingsError(f"{name}: {error}") from None
    return tuple(parsed.columns)
