"""Records produced by the structure importers (domain-sport §6) and the import settings.

:class:`ImportedStructure` has the fields of ``model.structures.Structure`` (§5.5, same names and
value types), so ``msgspec.convert(msgspec.to_builtins(record), Structure)`` reconciles the two;
:func:`to_structure` does it. Importers return records keyed by :class:`ImportKey`
(``source``, ``source_ref``) so that re-imports are idempotent (§6).

Settings (``catalogue/import_settings.yaml``) hold every ``[to verify]`` import value of §6/§15:
Data ES freshness and offsets, the FINESS categories, projections and department aliases, the
column aliases of ``data-es-equipement``, the geocoder switch. ``load_import_settings`` reads it.
"""

from __future__ import annotations

import functools
import re
from datetime import date, datetime
from importlib import resources
from typing import Any, Generic, Literal, TypeVar

import msgspec
import yaml

from sport_referral.model import Provenance, Status
from sport_referral.model.structures import (
    AccessFeature,
    ActivityType,
    DisabilityFamily,
    GeoPrecision,
    Profession,
    Qualification,
    SessionFormat,
    Structure,
    StructureKind,
    TechnicalLevel,
    TrailActivity,
    Weekday,
)

__all__ = [
    "DataEsSettings",
    "FinessSettings",
    "GeocoderSettings",
    "ImportKey",
    "ImportSettings",
    "ImportSettingsError",
    "ImportedStructure",
    "SourceCode",
    "load_import_settings",
    "to_structure",
]

SourceCode = Literal["manual", "regional_map", "finess", "dataes", "acceslibre", "other"]


class ImportKey(msgspec.Struct, frozen=True, order=True):
    """The idempotency key of an imported record (§6): same key = same structure on re-import."""

    source: str
    source_ref: str


class ImportedStructure(msgspec.Struct, frozen=True, kw_only=True):
    """One structure read from an import file: the §5.5 fields (as ``Structure``), validated row by row.

    ``stale`` marks Data ES records older than ``cfg:dataes.min_update_date``; ``installation_ref``
    groups the equipments of one Data ES installation (D-4).
    """

    structure_id: str
    kind: StructureKind
    name: str
    postcode: str
    commune_insee: str
    accepting_referrals: bool
    source: str
    source_licence: str
    source_ref: str | None = None
    source_updated_at: date | None = None
    commune_name: str | None = None
    finess_et: str | None = None
    finess_ej: str | None = None
    siret: str | None = None
    rna: str | None = None
    equip_numeros: tuple[str, ...] = ()
    installation_ref: str | None = None
    esms_category_code: str | None = None
    mss_habilitated_from: date | None = None
    mss_habilitated_until: date | None = None
    address_line: str | None = None
    department_code: str | None = None
    region_code: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    geo_precision: GeoPrecision | None = None
    disability_families: frozenset[DisabilityFamily] = frozenset()
    professions: frozenset[Profession] = frozenset()
    sport_health_qualification: bool | None = None
    multidisciplinary_team: bool | None = None
    qualifications: frozenset[Qualification] = frozenset()
    activity_types: frozenset[ActivityType] = frozenset()
    disciplines: tuple[str, ...] = ()
    accessibility: dict[AccessFeature, bool] = {}
    labels: frozenset[str] = frozenset()
    capacity_open_slots: int | None = None
    waiting_weeks: int | None = None
    referral_email: str | None = None
    phone: str | None = None
    website: str | None = None
    referent_display_name: str | None = None
    public_transport_nearby: bool | None = None
    pass_sport_partner: bool | None = None
    adapted_equipment_lending: bool | None = None
    daily_30min_programme: bool | None = None
    session_weekdays: frozenset[Weekday] = frozenset()
    session_formats: frozenset[SessionFormat] = frozenset()
    trail_activities: frozenset[TrailActivity] = frozenset()
    length_km: float | None = None
    min_width_m: float | None = None
    obstacles: str | None = None
    technical_level: TechnicalLevel | None = None
    surface: str | None = None
    stale: bool = False
    profile_confirmed_at: datetime | None = None

    @property
    def key(self) -> ImportKey:
        return ImportKey(self.source, self.source_ref or self.structure_id)


def to_structure(record: ImportedStructure) -> Structure:
    """Convert to the matching side's ``Structure`` (validates its field constraints)."""
    return msgspec.convert(msgspec.to_builtins(record), Structure)


# ----------------------------------------------------------------------------------------------
# Settings (catalogue/import_settings.yaml)
# ----------------------------------------------------------------------------------------------

T = TypeVar("T")


class ImportSettingsError(ValueError):
    pass


class _Entry(msgspec.Struct, Generic[T], frozen=True, forbid_unknown_fields=True):
    value: T
    status: Status
    source: str
    last_checked: date
    note: str = ""


class DataEsSettings(msgspec.Struct, frozen=True, kw_only=True):
    """cfg:dataes.*"""

    min_update_date: date
    max_offset_km: float
    licence: str
    personal_data_columns: tuple[str, ...]
    personal_data_prefixes: tuple[str, ...]
    equipement_columns: dict[str, tuple[str, ...]]
    equipement_values: dict[str, str]


class FinessSettings(msgspec.Struct, frozen=True, kw_only=True):
    """cfg:finess.*"""

    categories: tuple[str, ...]
    mss_category: str
    licence: str
    department_aliases: dict[str, str]
    projection_by_department: dict[str, str]
    default_projection: str
    max_offset_km: float


class GeocoderSettings(msgspec.Struct, frozen=True, kw_only=True):
    """cfg:geocoder.* (G-6). Off by default."""

    enabled: bool = False
    endpoint: str = "https://api-adresse.data.gouv.fr/search/"
    timeout_s: float = 3.0
    min_score: float = 0.5
    accepted_types: tuple[str, ...] = ("housenumber", "street", "locality")
    allow_patient_addresses: bool = False
    cache_size: int = 1024


class ImportSettings(msgspec.Struct, frozen=True, kw_only=True):
    dataes: DataEsSettings
    finess: FinessSettings
    esms_categories: dict[str, str]
    geocoder: GeocoderSettings
    bboxes: tuple[tuple[float, float, float, float], ...]  # (lat_min, lat_max, lon_min, lon_max)
    provenance: dict[str, Provenance]


class _DataEsFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    min_update_date: _Entry[date]
    max_offset_km: _Entry[float]
    licence: _Entry[str]
    personal_data_columns: _Entry[list[str]]
    personal_data_prefixes: _Entry[list[str]]
    equipement_columns: _Entry[dict[str, list[str]]]
    equipement_values: _Entry[dict[str, str]]


class _FinessFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    categories: _Entry[list[str]]
    mss_category: _Entry[str]
    licence: _Entry[str]
    department_aliases: _Entry[dict[str, str]]
    projection_by_department: _Entry[dict[str, str]]
    default_projection: _Entry[str]
    max_offset_km: _Entry[float]


class _GeocoderFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    enabled: _Entry[bool]
    endpoint: _Entry[str]
    timeout_s: _Entry[float]
    min_score: _Entry[float]
    accepted_types: _Entry[list[str]]
    allow_patient_addresses: _Entry[bool]
    cache_size: _Entry[int]


class _SettingsFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    version: str
    dataes: _DataEsFile
    finess: _FinessFile
    esms_categories: _Entry[dict[str, str]]
    geocoder: _GeocoderFile


def _provenance(node: Any, prefix: str, out: dict[str, Provenance]) -> None:
    if isinstance(node, _Entry):
        out[prefix] = Provenance(key=prefix, status=node.status, source=node.source,
                                 last_checked=node.last_checked, note=node.note)
    elif isinstance(node, msgspec.Struct):
        for name in node.__struct_fields__:
            _provenance(getattr(node, name), f"{prefix}.{name}" if prefix else name, out)


# Same grammar as importers.lambert93.parse_projection (kept here to avoid an import cycle).
_PROJECTION = re.compile(r"lambert93|wgs84|utm(?:[1-9]|[1-5]\d|60)[ns]")


def _default_bboxes() -> tuple[tuple[float, float, float, float], ...]:
    # cfg:geo.bboxes lives in matching_settings.yaml (one source of truth with the matching side).
    from sport_referral.catalogue.loader_sport import load_matching_settings

    geo = load_matching_settings().geo
    return tuple((box.lat_min, box.lat_max, box.lon_min, box.lon_max)
                 for territory in geo.territories for box in territory.bboxes)


# Reference data, read once per process (cached per argument): pages call these on every request.
@functools.cache
def load_import_settings(text: str | None = None,
                         bboxes: tuple[tuple[float, float, float, float], ...] | None = None) -> ImportSettings:
    """Read ``import_settings.yaml`` (or ``text``); ``bboxes`` default to ``cfg:geo.bboxes``."""
    if text is None and bboxes is None:
        return _shipped_settings()
    return _load(text, bboxes)


@functools.cache
def _shipped_settings() -> ImportSettings:
    return _load(None, None)


def _load(text: str | None, bboxes: tuple[tuple[float, float, float, float], ...] | None) -> ImportSettings:
    name = "import_settings.yaml"
    raw = text if text is not None else resources.files("sport_referral.catalogue").joinpath(name).read_text("utf-8")
    try:
        parsed = msgspec.convert(yaml.safe_load(raw), _SettingsFile)
    except (yaml.YAMLError, msgspec.ValidationError) as error:
        raise ImportSettingsError(f"{name}: {error}") from None
    finess = parsed.finess
    for projection in {*finess.projection_by_department.value.values(), finess.default_projection.value}:
        if _PROJECTION.fullmatch(projection) is None:
            raise ImportSettingsError(f"{name}: finess: unknown projection {projection!r} "
                                      "(lambert93, wgs84 or utm<zone><n|s>)")
    unknown = set(finess.categories.value) - set(parsed.esms_categories.value)
    if unknown:
        raise ImportSettingsError(f"{name}: finess.categories not in esms_categories: {sorted(unknown)}")
    provenance: dict[str, Provenance] = {}
    _provenance(parsed, "", provenance)
    d, g = parsed.dataes, parsed.geocoder
    return ImportSettings(
        dataes=DataEsSettings(
            min_update_date=d.min_update_date.value, max_offset_km=d.max_offset_km.value, licence=d.licence.value,
            personal_data_columns=tuple(d.personal_data_columns.value),
            personal_data_prefixes=tuple(d.personal_data_prefixes.value),
            equipement_columns={key: tuple(value) for key, value in d.equipement_columns.value.items()},
            equipement_values=dict(d.equipement_values.value),
        ),
        finess=FinessSettings(
            categories=tuple(finess.categories.value), mss_category=finess.mss_category.value,
            licence=finess.licence.value, department_aliases=dict(finess.department_aliases.value),
            projection_by_department=dict(finess.projection_by_department.value),
            default_projection=finess.default_projection.value, max_offset_km=finess.max_offset_km.value,
        ),
        esms_categories=dict(parsed.esms_categories.value),
        geocoder=GeocoderSettings(
            enabled=g.enabled.value, endpoint=g.endpoint.value, timeout_s=g.timeout_s.value,
            min_score=g.min_score.value, accepted_types=tuple(g.accepted_types.value),
            allow_patient_addresses=g.allow_patient_addresses.value, cache_size=g.cache_size.value,
        ),
        bboxes=bboxes if bboxes is not None else _default_bboxes(),
        provenance=provenance,
    )
