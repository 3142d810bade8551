"""Receiving structures (domain-sport §5): the ``Structure`` record of §5.5 and its vocabularies.

Field constraints (patterns, ranges) are checked by msgspec when a structure is decoded or
converted (``msgspec.convert(data, Structure)``); constructing one directly in code trusts the
caller. Cross-field requirements (FINESS for ESMS, habilitation date for MSS, both or neither
coordinate) are listed by :func:`structure_errors`, so an import reports every problem at once.

Sets are ``frozenset`` (unordered on input); every output built from them is sorted.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal, get_args

import msgspec

from shared_core.errors import FieldError

__all__ = [
    "ACCESS_FEATURES",
    "ACTIVITY_TYPES",
    "CATEGORY_1_PROFESSIONS",
    "DISABILITY_FAMILIES",
    "LIMITATION_LEVELS",
    "NEVER_SEVERE_KINDS",
    "PROFESSIONS",
    "QUALIFICATIONS",
    "REFERRAL_TARGET_KINDS",
    "STRUCTURE_KINDS",
    "AccessFeature",
    "ActivityType",
    "DisabilityFamily",
    "GeoPrecision",
    "LimitationLevel",
    "Profession",
    "Qualification",
    "SessionFormat",
    "Structure",
    "StructureKind",
    "Weekday",
    "structure_errors",
]

# §5: StructureKind.
StructureKind = Literal["mss", "esms", "club", "venue", "apa_practice", "trail"]
STRUCTURE_KINDS: tuple[StructureKind, ...] = get_args(StructureKind)
# M-5: kinds that receive referrals and therefore have a capacity.
REFERRAL_TARGET_KINDS: frozenset[str] = frozenset({"mss", "esms", "club", "apa_practice"})
# L-5 [verified, D.1172-3 CSP]: never candidates for a patient at the severe level.
NEVER_SEVERE_KINDS: frozenset[str] = frozenset({"club", "venue", "trail"})

# §3.1.
LimitationLevel = Literal["none", "minimal", "moderate", "severe"]
LIMITATION_LEVELS: tuple[LimitationLevel, ...] = get_args(LimitationLevel)

# §3.4, D.1172-2 CSP categories 1° to 4°.
Profession = Literal[
    "physiotherapist",
    "occupational_therapist",
    "psychomotor_therapist",
    "apa_teacher",
    "sport_educator",
    "federal_certified",
]
PROFESSIONS: tuple[Profession, ...] = get_args(Profession)
# L-5 [verified, D.1172-3 CSP].
CATEGORY_1_PROFESSIONS: frozenset[str] = frozenset(
    {"physiotherapist", "occupational_therapist", "psychomotor_therapist"}
)

# §5.3 (DisabilityFamily). Which codes are offered is reference data (cfg:families.*).
DisabilityFamily = Literal["moteur", "visuel", "auditif", "mental", "psychique", "polyhandicap", "tsa"]
DISABILITY_FAMILIES: tuple[DisabilityFamily, ...] = get_args(DisabilityFamily)

# §4.1 / §5.5.
ActivityType = Literal["endurance", "strength", "balance", "flexibility"]
ACTIVITY_TYPES: tuple[ActivityType, ...] = get_args(ActivityType)

# §5.7 (AccessFeature).
AccessFeature = Literal[
    "motor_reception",
    "motor_paths",
    "motor_practice_area",
    "motor_changing_rooms",
    "motor_showers",
    "motor_toilets",
    "motor_stands",
    "sensory_reception",
    "sensory_paths",
    "sensory_signage",
    "sensory_practice_area",
    "sensory_changing_rooms",
    "sensory_toilets",
    "sensory_stands",
    "accessible_parking",
    "public_transport_nearby",
    "human_help_at_entrance",
    "any_disability_access",
]
ACCESS_FEATURES: tuple[AccessFeature, ...] = get_args(AccessFeature)

# §5.3 (Qualification) [to verify, formation-handisport.org].
Qualification = Literal["cqh", "aqsa", "cs_aipsh", "staps_apa", "peps_level2", "other"]
QUALIFICATIONS: tuple[Qualification, ...] = get_args(Qualification)

GeoPrecision = Literal["address", "equipment", "commune"]
# Extension of §5.5 for the M-10 "preferences" score component (weekdays, group or individual).
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
SessionFormat = Literal["group", "individual"]
TrailActivity = Literal["hiking", "trail_running", "all_terrain_wheelchair"]
TechnicalLevel = Literal["easy", "medium", "hard"]

StructureId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Finess = Annotated[str, msgspec.Meta(pattern=r"^(?:\d{2}|2[AB])\d{7}$")]
Siret = Annotated[str, msgspec.Meta(pattern=r"^\d{14}$")]
Rna = Annotated[str, msgspec.Meta(pattern=r"^W\d{9}$")]
Postcode = Annotated[str, msgspec.Meta(pattern=r"^\d{5}$")]
CommuneInsee = Annotated[str, msgspec.Meta(pattern=r"^(?:\d{2}|2A|2B)\d{3}$")]
Latitude = Annotated[float, msgspec.Meta(ge=-90.0, le=90.0)]
Longitude = Annotated[float, msgspec.Meta(ge=-180.0, le=180.0)]
NonNegativeInt = Annotated[int, msgspec.Meta(ge=0)]
Phone = Annotated[str, msgspec.Meta(pattern=r"^(?:0[1-9]\d{8}|\+\d{8,15})$")]
Email = Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
Url = Annotated[str, msgspec.Meta(pattern=r"^https?://\S+$")]


class Structure(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A receiving structure or practice place (domain-sport §5.5, with the §5.4 route fields).

    ``disability_families`` empty means *not declared*, not "none". ``accessibility`` is
    three-valued: true, false, or key absent (unknown, §5.7 and D-1).
    """

    structure_id: StructureId
    kind: StructureKind
    name: Name
    postcode: Postcode
    commune_insee: CommuneInsee
    accepting_referrals: bool
    source: str
    source_licence: str
    source_ref: str | None = None
    source_updated_at: date | None = None
    commune_name: str | None = None
    finess_et: Finess | None = None
    finess_ej: Finess | None = None
    siret: Siret | None = None
    rna: Rna | None = None
    equip_numeros: tuple[str, ...] = ()
    installation_ref: str | None = None
    esms_category_code: str | None = None
    mss_habilitated_from: date | None = None
    mss_habilitated_until: date | None = None
    address_line: Annotated[str, msgspec.Meta(max_length=250)] | None = None
    department_code: str | None = None
    region_code: str | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
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
    capacity_open_slots: NonNegativeInt | None = None
    waiting_weeks: NonNegativeInt | None = None
    referral_email: Email | None = None
    phone: Phone | None = None
    website: Url | None = None
    referent_display_name: str | None = None  # C-9: prescribers only, never coordinators of others
    public_transport_nearby: bool | None = None
    pass_sport_partner: bool | None = None
    adapted_equipment_lending: bool | None = None
    daily_30min_programme: bool | None = None
    session_weekdays: frozenset[Weekday] = frozenset()
    session_formats: frozenset[SessionFormat] = frozenset()
    trail_activities: frozenset[TrailActivity] = frozenset()
    length_km: Annotated[float, msgspec.Meta(ge=0.0)] | None = None
    min_width_m: Annotated[float, msgspec.Meta(ge=0.0)] | None = None
    obstacles: str | None = None
    technical_level: TechnicalLevel | None = None
    surface: str | None = None
    stale: bool = False
    profile_confirmed_at: datetime | None = None


def structure_errors(structure: Structure) -> list[FieldError]:
    """Every cross-field problem of one structure (§5.5, §6.5); empty when it is consistent."""
    errors: list[FieldError] = []
    if structure.kind == "esms":
        if structure.finess_et is None:
            errors.append(FieldError("finess_et", "required for an ESMS (§5.5)"))
        if structure.esms_category_code is None:
            errors.append(FieldError("esms_category_code", "required for an ESMS (§5.2)"))
        if structure.accepting_referrals and structure.referral_email is None:
            errors.append(FieldError("referral_email", "an ESMS accepting referrals needs a referral address (D-8)"))
    if structure.kind == "mss":
        if structure.mss_habilitated_from is None:
            errors.append(FieldError("mss_habilitated_from", "required for a Maison Sport-Santé (§5.1)"))
        if structure.referral_email is None:
            errors.append(FieldError("referral_email", "required for a Maison Sport-Santé (§6.5)"))
    if (
        structure.mss_habilitated_from is not None
        and structure.mss_habilitated_until is not None
        and structure.mss_habilitated_until <= structure.mss_habilitated_from
    ):
        errors.append(FieldError("mss_habilitated_until", "must be after mss_habilitated_from"))
    if (structure.latitude is None) != (structure.longitude is None):
        errors.append(
            FieldError(
                "latitude" if structure.latitude is None else "longitude",
                "give both latitude and longitude, or neither",
            )
        )
    if len(structure.disciplines) > 30:
        errors.append(FieldError("disciplines", "at most 30 disciplines"))
    return errors
