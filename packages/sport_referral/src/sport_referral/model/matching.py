"""Matching a prescription to structures (domain-sport §7) and the geodata it needs (§12)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec

from sport_referral.model import Provenance, Reason
from sport_referral.model.structures import (
    AccessFeature,
    ActivityType,
    DisabilityFamily,
    GeoPrecision,
    LimitationLevel,
    SessionFormat,
    StructureKind,
    Weekday,
)

__all__ = [
    "BoundingBox",
    "DataSource",
    "GeoPoint",
    "GeoSettings",
    "MatchCandidate",
    "MatchRequest",
    "MatchResult",
    "MatchingSettings",
    "MatchingWeights",
    "NearMiss",
    "PatientNeeds",
    "ScoreComponents",
    "Territory",
]


class GeoPoint(msgspec.Struct, frozen=True):
    """WGS84 decimal degrees."""

    lat: Annotated[float, msgspec.Meta(ge=-90.0, le=90.0)]
    lon: Annotated[float, msgspec.Meta(ge=-180.0, le=180.0)]


class BoundingBox(msgspec.Struct, frozen=True, kw_only=True):
    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float

    def contains(self, point: GeoPoint) -> bool:
        return self.lat_min <= point.lat <= self.lat_max and self.lon_min <= point.lon <= self.lon_max

    def area(self) -> float:
        return (self.lat_max - self.lat_min) * (self.lon_max - self.lon_min)


class Territory(msgspec.Struct, frozen=True, kw_only=True):
    """A same-territory group (§7.2 overseas rule): its departments and approximate boxes."""

    code: str
    label_fr: str
    departments: tuple[str, ...]
    bboxes: tuple[BoundingBox, ...]


class GeoSettings(msgspec.Struct, frozen=True, kw_only=True):
    """cfg:geo.* : the earth radius of M-8, the same-territory rule and the territory groups.

    ``default_territory`` takes every department not listed by another group (mainland France).
    """

    earth_radius_km: float
    same_territory_only: bool
    default_territory: str
    territories: tuple[Territory, ...]
    provenance: dict[str, Provenance]


class MatchingWeights(msgspec.Struct, frozen=True, kw_only=True):
    """§7.3 soft-ranking weights (product defaults)."""

    proximity: float
    activity_coverage: float
    preferences: float
    public_transport: float
    inclusion_label: float
    data_confidence: float
    freshness: float


class MatchingSettings(msgspec.Struct, frozen=True, kw_only=True):
    """cfg:matching.*, cfg:supervision.moderate_sport_educator_conditional, cfg:families.*, cfg:geo.*."""

    default_radius_km: float
    widen_steps_km: tuple[float, ...]
    max_radius_km: float
    max_query_radius_km: float
    min_results: int
    undeclared_families: Literal["exclude", "keep_flagged"]
    unknown_required_feature: Literal["exclude", "keep_flagged"]
    activity_coverage: Literal["any", "all"]
    bonus_labels: frozenset[str]
    near_miss_max: int
    flag_penalty: float
    fresh_confirmed_months: int
    fresh_source_months: int
    weights: MatchingWeights
    moderate_sport_educator_conditional: bool
    families_base: tuple[DisabilityFamily, ...]
    families_extension: tuple[DisabilityFamily, ...]
    families_extended: bool
    geo: GeoSettings
    provenance: dict[str, Provenance]

    def enabled_families(self) -> tuple[DisabilityFamily, ...]:
        return self.families_base + (self.families_extension if self.families_extended else ())


class PatientNeeds(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What the patient needs (hard: families, required features) and prefers (soft, §7.3)."""

    disability_families: frozenset[DisabilityFamily] = frozenset()
    required_features: frozenset[AccessFeature] = frozenset()
    preferred_features: frozenset[AccessFeature] = frozenset()
    preferred_disciplines: tuple[str, ...] = ()
    preferred_weekdays: frozenset[Weekday] = frozenset()
    preferred_format: SessionFormat | None = None


class MatchRequest(msgspec.Struct, frozen=True, kw_only=True):
    """One search. ``purpose='referral'`` applies M-6 strictly (routes and contact-less venues are
    not referral targets); ``'directory'`` lists them as practice places (the API search).

    ``limitation_level`` None (a directory search without a level) skips M-1.
    ``widen`` enables the M-8 radius widening; the API search never widens because its contract
    returns only structures within the radius asked. ``today`` feeds the freshness score.
    """

    origin: GeoPoint
    limitation_level: LimitationLevel | None
    today: date
    origin_department: str | None = None
    distance_basis: Literal["commune_point", "address"] = "commune_point"
    activity_types: frozenset[ActivityType] = frozenset()
    discipline_query: str | None = None
    needs: PatientNeeds = PatientNeeds()
    radius_km: float | None = None
    widen: bool = True
    purpose: Literal["referral", "directory"] = "referral"
    sort: Literal["distance", "score"] = "distance"


class ScoreComponents(msgspec.Struct, frozen=True, kw_only=True):
    """Each sᵢ of §7.3, in [0, 1]."""

    proximity: float
    activity_coverage: float
    preferences: float
    public_transport: float
    inclusion_label: float
    data_confidence: float
    freshness: float


class DataSource(msgspec.Struct, frozen=True, kw_only=True):
    source: str
    updated: date | None


class MatchCandidate(msgspec.Struct, frozen=True, kw_only=True):
    """One structure with its M-10 explanation. ``match_reasons`` = passed codes + flags, in rule order."""

    structure_id: str
    name: str
    kind: StructureKind
    commune: str
    distance_km: float
    distance_basis: Literal["commune_point", "address"]
    geo_precision: GeoPrecision
    passed: list[str]
    flags: list[str]
    match_reasons: list[str]
    coverage: str
    score: float
    score_components: ScoreComponents
    data_sources: list[DataSource]
    referral_target: bool


class NearMiss(msgspec.Struct, frozen=True, kw_only=True):
    """M-11: a structure that failed exactly one soft-failable filter."""

    structure_id: str
    name: str
    kind: StructureKind
    commune: str
    distance_km: float
    failed_rule: str
    failed_code: str
    flags: list[str]


class MatchResult(msgspec.Struct, frozen=True, kw_only=True):
    candidates: list[MatchCandidate]
    near_misses: list[NearMiss]
    radius_km: float
    requested_radius_km: float
    widened: bool
    origin_territory: str | None
    unlocated: list[str]
    reasons: list[Reason]
    more: bool = False  # with a limit: other candidates pass beyond those listed
