"""Strict loaders of the sport reference data (domain-sport §0, §15).

Every configurable value is an entry ``{value, status, source, last_checked}`` in a YAML file of
this folder; the loaders check the shape (unknown keys are refused), then the meaning, and return
the typed settings the pure rules take as arguments. Any problem raises :class:`CatalogueError`
whose message names the file and the key (``aids.yaml: pass_sport.groups.aeeh.ages: ...``).

Each returned settings object carries ``provenance`` (key → status, source, last checked);
:func:`reference_entries` lists every entry of every file for the admin page of §0.
"""

from __future__ import annotations

import functools
import math
from datetime import date
from importlib import resources
from typing import Any, Generic, Literal, TypeVar

import msgspec
import yaml

from shared_core.text import fold
from sport_referral.catalogue.loader import CatalogueError, load_supervision_matrix
from sport_referral.model import Provenance, Status
from sport_referral.model.aids import (
    AahSettings,
    AidsCatalogue,
    PassSportGroup,
    PassSportSettings,
    PchSettings,
    WheelchairSettings,
)
from sport_referral.model.eligibility import LevelDefinition, LimitationCatalogue, SevereCriterion, WhoSettings
from sport_referral.model.matching import BoundingBox, GeoSettings, MatchingSettings, MatchingWeights, Territory
from sport_referral.model.prescription import (
    ConsentSettings,
    Intensity,
    PrescriptionSettings,
    ReferralSettings,
    SensitiveTerm,
)
from sport_referral.model.structures import (
    ACTIVITY_TYPES,
    LIMITATION_LEVELS,
    ActivityType,
    DisabilityFamily,
    LimitationLevel,
)

__all__ = [
    "SEVERE_CRITERIA_CODES",
    "CatalogueError",
    "load_aids",
    "load_consent_settings",
    "load_limitation_catalogue",
    "load_matching_settings",
    "load_prescription_settings",
    "reference_entries",
]

T = TypeVar("T")

# §3.2: the 14 checklist codes, in checklist order (the spec fixes them; labels are data).
SEVERE_CRITERIA_CODES: tuple[str, ...] = (
    "loco_neuromuscular",
    "loco_osteoarticular",
    "loco_endurance",
    "loco_strength",
    "loco_walking",
    "cereb_cognitive",
    "cereb_language",
    "cereb_anxiety_depression",
    "sens_vision_reading",
    "sens_vision_mobility",
    "sens_sensitive",
    "sens_hearing",
    "sens_proprioception",
    "sens_pain",
)


class Entry(msgspec.Struct, Generic[T], frozen=True, forbid_unknown_fields=True):
    """One reference value with its provenance (domain-sport §0)."""

    value: T
    status: Status
    source: str
    last_checked: date
    note: str = ""


# --- generic helpers ----------------------------------------------------------------------------


def _read(file_name: str, text: str | None) -> Any:
    raw = text if text is not None else resources.files(__package__).joinpath(file_name).read_text("utf-8")
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError as error:
        raise CatalogueError(f"{file_name}: not valid YAML: {error}") from None


def _parse(file_name: str, text: str | None, schema: type[T]) -> T:
    data = _read(file_name, text)
    try:
        return msgspec.convert(data, schema)
    except msgspec.ValidationError as error:
        message = str(error)
        # msgspec writes "... - at `$.a.b.value`"; show the key the way the file spells it.
        if " - at `$." in message:
            what, _, where = message.rpartition(" - at `$.")
            raise CatalogueError(f"{file_name}: {where.rstrip('`')}: {what}") from None
        raise CatalogueError(f"{file_name}: {message}") from None


def _fail(file_name: str, key: str, message: str) -> CatalogueError:
    return CatalogueError(f"{file_name}: {key}: {message}")


def _collect(node: object, prefix: str, out: dict[str, Provenance]) -> None:
    if isinstance(node, Entry):
        out[prefix] = Provenance(
            key=prefix, status=node.status, source=node.source, last_checked=node.last_checked, note=node.note
        )
        return
    if isinstance(node, msgspec.Struct):
        for name in node.__struct_fields__:
            _collect(getattr(node, name), f"{prefix}.{name}" if prefix else name, out)
    elif isinstance(node, dict):
        for key, value in node.items():
            _collect(value, f"{prefix}.{key}" if prefix else str(key), out)


def _provenance(parsed: msgspec.Struct, prefix: str = "") -> dict[str, Provenance]:
    out: dict[str, Provenance] = {}
    _collect(parsed, prefix, out)
    return out


class _Range(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    min: int
    max: int


def _check_range(file_name: str, key: str, value: _Range, low: int, high: int) -> None:
    if not low <= value.min <= value.max <= high:
        raise _fail(file_name, key, f"expected {low} <= min <= max <= {high}, got {value.min}..{value.max}")


# --- limitation (severe_criteria.yaml, limitation_levels.yaml) ------------------------------------


class _CriterionFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    number: int
    code: str
    domain: Literal["locomotor", "brain", "senses", "pain"]
    heading_fr: str
    label_fr: str
    label_en: str
    vision_part: int | None = None


class _SevereFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    version: str
    source: str
    status: Status
    last_checked: date
    wording: Entry[str]
    vision_parts_rule: Entry[Literal["any", "all"]]
    walking_threshold_m: Entry[int]
    items: list[_CriterionFile]


class _LevelFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    code: LimitationLevel
    label_fr: str
    label_en: str
    definition_fr: str
    definition_en: str
    status: Status
    source: str
    last_checked: date


class _LevelsFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    version: str
    levels: list[_LevelFile]


# Reference data, read once per process (cached per argument): pages call these on every request.
@functools.cache
def load_limitation_catalogue(severe_text: str | None = None, levels_text: str | None = None) -> LimitationCatalogue:
    """severe_criteria.yaml + limitation_levels.yaml (§3.1, §3.2, §15 items 1-2)."""
    if severe_text is None and levels_text is None:
        return _default_limitation()
    return _load_limitation(severe_text, levels_text)


@functools.cache
def _default_limitation() -> LimitationCatalogue:
    return _load_limitation(None, None)


def _load_limitation(severe_text: str | None, levels_text: str | None) -> LimitationCatalogue:
    severe_name, levels_name = "severe_criteria.yaml", "limitation_levels.yaml"
    severe = _parse(severe_name, severe_text, _SevereFile)
    codes = tuple(item.code for item in severe.items)
    if codes != SEVERE_CRITERIA_CODES:
        raise _fail(
            severe_name,
            "items",
            "must list the 14 checklist codes of §3.2 in order: " + ", ".join(SEVERE_CRITERIA_CODES),
        )
    for index, item in enumerate(severe.items):
        if item.number != index + 1:
            raise _fail(severe_name, f"items[{index}].number", f"expected {index + 1}, got {item.number}")
        if not (item.label_fr.strip() and item.label_en.strip()):
            raise _fail(severe_name, f"items[{index}]", "label_fr and label_en must not be empty")
    vision = {item.code: item.vision_part for item in severe.items if item.vision_part is not None}
    if vision != {"sens_vision_reading": 1, "sens_vision_mobility": 2}:
        raise _fail(
            severe_name, "items", "vision_part must be 1 on sens_vision_reading and 2 on sens_vision_mobility only"
        )
    if severe.walking_threshold_m.value <= 0:
        raise _fail(severe_name, "walking_threshold_m.value", "must be positive")

    levels = _parse(levels_name, levels_text, _LevelsFile)
    if tuple(level.code for level in levels.levels) != LIMITATION_LEVELS:
        raise _fail(levels_name, "levels", "must list " + ", ".join(LIMITATION_LEVELS) + " in that order")

    provenance = _provenance(severe)
    provenance["severe_criteria.items"] = Provenance(
        key="severe_criteria.items", status=severe.status, source=severe.source, last_checked=severe.last_checked
    )
    for level in levels.levels:
        key = f"limitation_levels.{level.code}"
        provenance[key] = Provenance(key=key, status=level.status, source=level.source, last_checked=level.last_checked)
    return LimitationCatalogue(
        criteria=tuple(
            SevereCriterion(
                number=item.number,
                code=item.code,
                domain=item.domain,
                heading_fr=item.heading_fr,
                label_fr=item.label_fr,
                label_en=item.label_en,
                vision_part=item.vision_part,
            )
            for item in severe.items
        ),
        levels=tuple(
            LevelDefinition(
                code=level.code,
                label_fr=level.label_fr,
                label_en=level.label_en,
                definition_fr=level.definition_fr,
                definition_en=level.definition_en,
                status=level.status,
                source=level.source,
            )
            for level in levels.levels
        ),
        vision_parts_rule=severe.vision_parts_rule.value,
        walking_threshold_m=severe.walking_threshold_m.value,
        source=severe.source,
        provenance=provenance,
    )


# --- matching_settings.yaml ---------------------------------------------------------------------


class _WeightsFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    proximity: float
    activity_coverage: float
    preferences: float
    public_transport: float
    inclusion_label: float
    data_confidence: float
    freshness: float


class _MatchingSection(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    default_radius_km: Entry[float]
    widen_steps_km: Entry[list[float]]
    max_radius_km: Entry[float]
    max_query_radius_km: Entry[float]
    min_results: Entry[int]
    undeclared_families: Entry[Literal["exclude", "keep_flagged"]]
    unknown_required_feature: Entry[Literal["exclude", "keep_flagged"]]
    activity_coverage: Entry[Literal["any", "all"]]
    bonus_labels: Entry[list[str]]
    near_miss_max: Entry[int]
    flag_penalty: Entry[float]
    fresh_confirmed_months: Entry[int]
    fresh_source_months: Entry[int]
    weights: Entry[_WeightsFile]


class _SupervisionSection(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    moderate_sport_educator_conditional: Entry[bool]


class _FamiliesSection(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    base: Entry[list[DisabilityFamily]]
    extension: Entry[list[DisabilityFamily]]
    extended: Entry[bool]


class _TerritoryFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    label_fr: str
    departments: list[str]
    bboxes: list[tuple[float, float, float, float]]


class _GeoSection(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    earth_radius_km: Entry[float]
    same_territory_only: Entry[bool]
    default_territory: Entry[str]
    territories: Entry[dict[str, _TerritoryFile]]


class _MatchingFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    version: str
    matching: _MatchingSection
    supervision: _SupervisionSection
    families: _FamiliesSection
    geo: _GeoSection


@functools.cache
def load_matching_settings(text: str | None = None) -> MatchingSettings:
    """matching_settings.yaml (§7, L-7 toggle, §5.3 families, §7.2/§12 geodata)."""
    return _default_matching() if text is None else _load_matching(text)


@functools.cache
def _default_matching() -> MatchingSettings:
    return _load_matching(None)


def _load_matching(text: str | None) -> MatchingSettings:
    name = "matching_settings.yaml"
    parsed = _parse(name, text, _MatchingFile)
    m = parsed.matching
    default_radius, max_radius = m.default_radius_km.value, m.max_radius_km.value
    steps = m.widen_steps_km.value
    if not 0 < default_radius <= max_radius:
        raise _fail(name, "matching.default_radius_km.value", "must be > 0 and <= matching.max_radius_km")
    if any(b <= a for a, b in zip([default_radius, *steps], steps, strict=False)):
        raise _fail(name, "matching.widen_steps_km.value", "steps must be increasing and above the default radius")
    if steps and steps[-1] > max_radius:
        raise _fail(name, "matching.widen_steps_km.value", "no step may exceed matching.max_radius_km")
    if m.max_query_radius_km.value < max_radius:
        raise _fail(name, "matching.max_query_radius_km.value", "must be >= matching.max_radius_km")
    if m.min_results.value < 1:
        raise _fail(name, "matching.min_results.value", "must be >= 1")
    if m.near_miss_max.value < 0:
        raise _fail(name, "matching.near_miss_max.value", "must be >= 0")
    if not 0 <= m.flag_penalty.value <= 1:
        raise _fail(name, "matching.flag_penalty.value", "must be within [0, 1]")
    weights = m.weights.value
    values = [getattr(weights, field) for field in weights.__struct_fields__]
    if any(w < 0 or math.isnan(w) for w in values) or not math.isclose(sum(values), 1.0, abs_tol=1e-9):
        raise _fail(name, "matching.weights.value", "weights must be >= 0 and sum to 1")
    families = parsed.families
    if set(families.base.value) & set(families.extension.value):
        raise _fail(name, "families.extension.value", "must not repeat a base family")

    geo = parsed.geo
    territories: list[Territory] = []
    seen_departments: dict[str, str] = {}
    for code, territory in geo.territories.value.items():
        for department in territory.departments:
            if department in seen_departments:
                raise _fail(
                    name,
                    f"geo.territories.value.{code}.departments",
                    f"department {department} is already in {seen_departments[department]}",
                )
            seen_departments[department] = code
        boxes: list[BoundingBox] = []
        for index, (lat_min, lat_max, lon_min, lon_max) in enumerate(territory.bboxes):
            if not (-90 <= lat_min < lat_max <= 90 and -180 <= lon_min < lon_max <= 180):
                raise _fail(
                    name,
                    f"geo.territories.value.{code}.bboxes[{index}]",
                    "expected [lat_min, lat_max, lon_min, lon_max] with min < max",
                )
            boxes.append(BoundingBox(lat_min=lat_min, lat_max=lat_max, lon_min=lon_min, lon_max=lon_max))
        territories.append(
            Territory(
                code=code, label_fr=territory.label_fr, departments=tuple(territory.departments), bboxes=tuple(boxes)
            )
        )
    if geo.default_territory.value not in geo.territories.value:
        raise _fail(name, "geo.default_territory.value", "must name one of geo.territories")
    if geo.territories.value[geo.default_territory.value].departments:
        raise _fail(
            name, "geo.default_territory.value", "the default territory takes every unlisted department; list none"
        )
    if geo.earth_radius_km.value <= 0:
        raise _fail(name, "geo.earth_radius_km.value", "must be positive")

    provenance = _provenance(parsed)
    geo_provenance = {key: value for key, value in provenance.items() if key.startswith("geo.")}
    return MatchingSettings(
        default_radius_km=default_radius,
        widen_steps_km=tuple(steps),
        max_radius_km=max_radius,
        max_query_radius_km=m.max_query_radius_km.value,
        min_results=m.min_results.value,
        undeclared_families=m.undeclared_families.value,
        unknown_required_feature=m.unknown_required_feature.value,
        activity_coverage=m.activity_coverage.value,
        bonus_labels=frozenset(m.bonus_labels.value),
        near_miss_max=m.near_miss_max.value,
        flag_penalty=m.flag_penalty.value,
        fresh_confirmed_months=m.fresh_confirmed_months.value,
        fresh_source_months=m.fresh_source_months.value,
        weights=MatchingWeights(**{field: getattr(weights, field) for field in weights.__struct_fields__}),
        moderate_sport_educator_conditional=parsed.supervision.moderate_sport_educator_conditional.value,
        families_base=tuple(families.base.value),
        families_extension=tuple(families.extension.value),
        families_extended=families.extended.value,
        geo=GeoSettings(
            earth_radius_km=geo.earth_radius_km.value,
            same_territory_only=geo.same_territory_only.value,
            default_territory=geo.default_territory.value,
            territories=tuple(territories),
            provenance=geo_provenance,
        ),
        provenance=provenance,
    )


# --- consent_settings.yaml ----------------------------------------------------------------------


class _TermFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    term: str
    match: Literal["word", "prefix"]
    category: Literal["diagnosis", "treatment", "scale", "medication", "other"]


class _ConsentFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    version: str
    share_birth_date: Entry[bool]
    sensitive_terms: Entry[list[_TermFile]]


@functools.cache
def load_consent_settings(text: str | None = None) -> ConsentSettings:
    """consent_settings.yaml (§8 C-3 birth date, C-5 sensitive terms)."""
    return _default_consent() if text is None else _load_consent(text)


@functools.cache
def _default_consent() -> ConsentSettings:
    return _load_consent(None)


def _load_consent(text: str | None) -> ConsentSettings:
    name = "consent_settings.yaml"
    parsed = _parse(name, text, _ConsentFile)
    terms = parsed.sensitive_terms.value
    if not terms:
        raise _fail(name, "sensitive_terms.value", "the list must not be empty")
    seen: set[str] = set()
    for index, term in enumerate(terms):
        folded = fold(term.term)
        if len(folded) < 3:
            raise _fail(name, f"sensitive_terms.value[{index}].term", "a term needs at least 3 characters")
        if folded in seen:
            raise _fail(name, f"sensitive_terms.value[{index}].term", f"duplicate term {term.term!r}")
        seen.add(folded)
    return ConsentSettings(
        sensitive_terms=tuple(SensitiveTerm(term=t.term, match=t.match, category=t.category) for t in terms),
        share_birth_date=parsed.share_birth_date.value,
        provenance=_provenance(parsed),
    )


# --- prescription_settings.yaml ---------------------------------------------------------------------


class _TextLimits(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    intensity_detail: int
    precautions: int
    contraindications: int
    goals: int


class _PrescriptionSection(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    programme_months: Entry[_Range]
    sessions_per_week: Entry[_Range]
    session_minutes: Entry[_Range]
    text_limits: Entry[_TextLimits]
    default_sessions_per_week: Entry[tuple[int, int]]
    default_session_minutes: Entry[tuple[int, int]]
    default_months: Entry[int]
    default_activity_types: Entry[list[ActivityType]]
    default_intensity: Entry[Intensity]
    expiry_warning_days: Entry[int]
    form_model_version: Entry[str]


class _WhoSection(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    adult_min_weekly_minutes: Entry[int]
    vigorous_factor: Entry[float]
    strength_min_days: Entry[int]


class _ReferralSection(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    lost_after_days: Entry[int]
    min_contact_attempts: Entry[int]
    response_days: Entry[int]
    periodic_weeks: Entry[int]


class _PrescriptionFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    version: str
    prescription: _PrescriptionSection
    who: _WhoSection
    referral: _ReferralSection


@functools.cache
def load_prescription_settings(text: str | None = None) -> PrescriptionSettings:
    """prescription_settings.yaml (§4 P-2, P-4, P-7; E-4 WHO thresholds; R-7, R-11 delays)."""
    return _default_prescription() if text is None else _load_prescription(text)


@functools.cache
def _default_prescription() -> PrescriptionSettings:
    return _load_prescription(None)


def _load_prescription(text: str | None) -> PrescriptionSettings:
    name = "prescription_settings.yaml"
    parsed = _parse(name, text, _PrescriptionFile)
    p = parsed.prescription
    _check_range(name, "prescription.programme_months.value", p.programme_months.value, 1, 24)
    _check_range(name, "prescription.sessions_per_week.value", p.sessions_per_week.value, 1, 14)
    _check_range(name, "prescription.session_minutes.value", p.session_minutes.value, 1, 600)
    sessions, minutes = p.default_sessions_per_week.value, p.default_session_minutes.value
    weekly, per_session, months = p.sessions_per_week.value, p.session_minutes.value, p.programme_months.value
    if not weekly.min <= sessions[0] <= sessions[1] <= weekly.max:
        raise _fail(
            name, "prescription.default_sessions_per_week.value", "must be an ordered pair within sessions_per_week"
        )
    if not per_session.min <= minutes[0] <= minutes[1] <= per_session.max:
        raise _fail(
            name, "prescription.default_session_minutes.value", "must be an ordered pair within session_minutes"
        )
    if not months.min <= p.default_months.value <= months.max:
        raise _fail(name, "prescription.default_months.value", "must be within programme_months")
    if not p.default_activity_types.value:
        raise _fail(name, "prescription.default_activity_types.value", "must not be empty")
    limits = p.text_limits.value
    if min(limits.intensity_detail, limits.precautions, limits.contraindications, limits.goals) < 1:
        raise _fail(name, "prescription.text_limits.value", "limits must be positive")
    if p.expiry_warning_days.value < 0:
        raise _fail(name, "prescription.expiry_warning_days.value", "must be >= 0")
    who = parsed.who
    if who.adult_min_weekly_minutes.value <= 0 or who.vigorous_factor.value <= 0 or who.strength_min_days.value < 0:
        raise _fail(name, "who", "thresholds must be positive")
    r = parsed.referral
    for key in ("lost_after_days", "min_contact_attempts", "response_days", "periodic_weeks"):
        if getattr(r, key).value < 1:
            raise _fail(name, f"referral.{key}.value", "must be >= 1")

    provenance = _provenance(parsed)
    return PrescriptionSettings(
        programme_months_min=months.min,
        programme_months_max=months.max,
        sessions_per_week_min=weekly.min,
        sessions_per_week_max=weekly.max,
        session_minutes_min=per_session.min,
        session_minutes_max=per_session.max,
        intensity_detail_max=limits.intensity_detail,
        precautions_max=limits.precautions,
        contraindications_max=limits.contraindications,
        goals_max=limits.goals,
        default_sessions_per_week=sessions,
        default_session_minutes=minutes,
        default_months=p.default_months.value,
        default_activity_types=tuple(t for t in ACTIVITY_TYPES if t in p.default_activity_types.value),
        default_intensity=p.default_intensity.value,
        expiry_warning_days=p.expiry_warning_days.value,
        form_model_version=p.form_model_version.value,
        who=WhoSettings(
            adult_min_weekly_minutes=who.adult_min_weekly_minutes.value,
            vigorous_factor=who.vigorous_factor.value,
            strength_min_days=who.strength_min_days.value,
            provenance={k: v for k, v in provenance.items() if k.startswith("who.")},
        ),
        referral=ReferralSettings(
            lost_after_days=r.lost_after_days.value,
            min_contact_attempts=r.min_contact_attempts.value,
            response_days=r.response_days.value,
            periodic_weeks=r.periodic_weeks.value,
            provenance={k: v for k, v in provenance.items() if k.startswith("referral.")},
        ),
        provenance=provenance,
    )


# --- aids.yaml ----------------------------------------------------------------------------------


class _Ages(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    min: int | None = None
    max: int | None = None
    below: int | None = None


class _Window(msgspec.Struct, frozen=True, forbid_unknown_fields=True, rename={"from_": "from"}):
    from_: date | None = None
    to: date | None = None


class _GroupFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    label_fr: str
    label_en: str
    ages: Entry[_Ages]
    birth_window: Entry[_Window] | None = None


class _PassSportSection(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    campaign: Entry[str]
    season: Entry[str]
    amount_eur: Entry[int]
    previous_amount_eur: Entry[int | None]
    campaign_start: Entry[date]
    campaign_end: Entry[date]
    enforce_campaign_dates: Entry[bool]
    use_birth_windows: Entry[bool]
    documents_fr: Entry[list[str]]
    groups: dict[str, _GroupFile]


class _WheelchairSection(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    cover_from: Entry[date]
    coverage_rate_pct: Entry[int]
    sport_manual_cap_eur: Entry[int]
    previous_cap_eur: Entry[int]
    dap_threshold_eur: Entry[int]
    dap_silence_months: Entry[int]
    prescribers: Entry[list[str]]
    documents_fr: Entry[list[str]]


class _PchSection(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    absolute_difficulties_min: Entry[int]
    serious_difficulties_min: Entry[int]
    min_duration_months: Entry[int]
    documents_fr: Entry[list[str]]


class _AahSection(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    incapacity_full_pct: Entry[int]
    incapacity_partial_pct: Entry[int]
    age_min: Entry[int]
    age_min_not_dependent: Entry[int]
    monthly_max_eur: Entry[float]
    monthly_max_period: Entry[str]


class _AidsFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    version: str
    pass_sport: _PassSportSection
    wheelchair: _WheelchairSection
    pch: _PchSection
    aah: _AahSection


@functools.cache
def load_aids(text: str | None = None) -> AidsCatalogue:
    """aids.yaml (§9: Pass'Sport campaign, sport wheelchairs, PCH, AAH)."""
    return _default_aids() if text is None else _load_aids(text)


@functools.cache
def _default_aids() -> AidsCatalogue:
    return _load_aids(None)


def _load_aids(text: str | None) -> AidsCatalogue:
    name = "aids.yaml"
    parsed = _parse(name, text, _AidsFile)
    ps = parsed.pass_sport
    if ps.amount_eur.value <= 0:
        raise _fail(name, "pass_sport.amount_eur.value", "must be positive")
    if ps.campaign_end.value < ps.campaign_start.value:
        raise _fail(name, "pass_sport.campaign_end.value", "must not be before campaign_start")
    if not ps.groups:
        raise _fail(name, "pass_sport.groups", "at least one benefit group is needed")
    groups: list[PassSportGroup] = []
    for code, group in ps.groups.items():
        key = f"pass_sport.groups.{code}"
        ages = group.ages.value
        if ages.below is not None and ages.max is not None:
            raise _fail(name, f"{key}.ages.value", "give max (inclusive) or below (exclusive), not both")
        if ages.min is None and ages.max is None and ages.below is None:
            raise _fail(name, f"{key}.ages.value", "give at least one bound")
        upper = ages.max if ages.max is not None else (ages.below - 1 if ages.below is not None else None)
        if ages.min is not None and (ages.min < 0 or (upper is not None and upper < ages.min)):
            raise _fail(name, f"{key}.ages.value", "bounds must satisfy 0 <= min <= max")
        window = group.birth_window.value if group.birth_window is not None else _Window()
        if window.from_ is not None and window.to is not None and window.to < window.from_:
            raise _fail(name, f"{key}.birth_window.value", "'to' must not be before 'from'")
        if ps.use_birth_windows.value and group.birth_window is None:
            raise _fail(name, f"{key}.birth_window", "required when pass_sport.use_birth_windows is true")
        groups.append(
            PassSportGroup(
                code=code,
                label_fr=group.label_fr,
                label_en=group.label_en,
                age_min=ages.min,
                age_max=ages.max,
                age_below=ages.below,
                born_from=window.from_,
                born_to=window.to,
                documents_fr=tuple(ps.documents_fr.value),
            )
        )
    wheelchair = parsed.wheelchair
    if wheelchair.dap_silence_months.value < 1:
        raise _fail(name, "wheelchair.dap_silence_months.value", "must be >= 1")
    if wheelchair.sport_manual_cap_eur.value <= 0 or wheelchair.dap_threshold_eur.value <= 0:
        raise _fail(name, "wheelchair", "cap and DAP threshold must be positive")
    pch = parsed.pch
    if pch.absolute_difficulties_min.value < 1 or pch.serious_difficulties_min.value < 1:
        raise _fail(name, "pch", "difficulty counts must be >= 1")

    provenance = _provenance(parsed)

    def section(prefix: str) -> dict[str, Provenance]:
        return {k: v for k, v in provenance.items() if k.startswith(prefix + ".")}

    aah = parsed.aah
    return AidsCatalogue(
        pass_sport=PassSportSettings(
            campaign=ps.campaign.value,
            season=ps.season.value,
            amount_eur=ps.amount_eur.value,
            previous_amount_eur=ps.previous_amount_eur.value,
            campaign_start=ps.campaign_start.value,
            campaign_end=ps.campaign_end.value,
            enforce_campaign_dates=ps.enforce_campaign_dates.value,
            use_birth_windows=ps.use_birth_windows.value,
            groups=tuple(groups),
            provenance=section("pass_sport"),
        ),
        wheelchair=WheelchairSettings(
            cover_from=wheelchair.cover_from.value,
            coverage_rate_pct=wheelchair.coverage_rate_pct.value,
            sport_manual_cap_eur=wheelchair.sport_manual_cap_eur.value,
            previous_cap_eur=wheelchair.previous_cap_eur.value,
            dap_threshold_eur=wheelchair.dap_threshold_eur.value,
            dap_silence_months=wheelchair.dap_silence_months.value,
            prescribers=tuple(wheelchair.prescribers.value),
            documents_fr=tuple(wheelchair.documents_fr.value),
            provenance=section("wheelchair"),
        ),
        pch=PchSettings(
            absolute_difficulties_min=pch.absolute_difficulties_min.value,
            serious_difficulties_min=pch.serious_difficulties_min.value,
            min_duration_months=pch.min_duration_months.value,
            documents_fr=tuple(pch.documents_fr.value),
            provenance=section("pch"),
        ),
        aah=AahSettings(
            incapacity_full_pct=aah.incapacity_full_pct.value,
            incapacity_partial_pct=aah.incapacity_partial_pct.value,
            age_min=aah.age_min.value,
            age_min_not_dependent=aah.age_min_not_dependent.value,
            monthly_max_eur=aah.monthly_max_eur.value,
            monthly_max_period=aah.monthly_max_period.value,
            provenance=section("aah"),
        ),
    )


# --- every entry, for the admin page (§0) -----------------------------------------------------------


def reference_entries() -> list[Provenance]:
    """Every reference entry of the shipped sport catalogue, keyed ``<file stem>:<key>``, sorted.

    Filter on ``status != 'verified'`` for the admin list of values still to check.
    """
    entries: list[Provenance] = []

    def add(stem: str, provenance: dict[str, Provenance]) -> None:
        for key, item in provenance.items():
            entries.append(msgspec.structs.replace(item, key=f"{stem}:{key}"))

    add(
        "severe_criteria",
        {k: v for k, v in load_limitation_catalogue().provenance.items() if not k.startswith("limitation_levels.")},
    )
    add(
        "limitation_levels",
        {
            k.removeprefix("limitation_levels."): v
            for k, v in load_limitation_catalogue().provenance.items()
            if k.startswith("limitation_levels.")
        },
    )
    add("matching_settings", load_matching_settings().provenance)
    add("consent_settings", load_consent_settings().provenance)
    add("prescription_settings", load_prescription_settings().provenance)
    aids = load_aids()
    for section in (aids.pass_sport.provenance, aids.wheelchair.provenance, aids.pch.provenance, aids.aah.provenance):
        add("aids", section)
    matrix = load_supervision_matrix()
    for level, rule in matrix.levels.items():
        entries.append(
            Provenance(
                key=f"supervision:levels.{level}", status=_status(rule.status), source=rule.source, last_checked=None
            )
        )
    return sorted(entries, key=lambda entry: entry.key)


def _status(value: str) -> Status:
    if value == "verified":
        return "verified"
    if value == "conflict":
        return "conflict"
    return "to_verify"
