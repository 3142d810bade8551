"""Pure mappings and validators of the three sport calculators of ``api-contract.md``:

- ``GET /api/v1/sport/structures``: :func:`validate_structures_query`, :func:`resolve_origin`,
  :func:`structures_request`, :func:`structures_answer` (or :func:`search_structures`, all in one);
- ``POST /api/v1/sport/supervision``: :func:`validate_supervision_body`, :func:`supervision_answer`;
- ``POST /api/v1/sport/aids/pass-sport``: :func:`validate_pass_sport_body`, :func:`pass_sport_answer`.

Validators raise ``ValidationFailed`` listing **every** bad field at once (422, problem+json
``errors``); :func:`decode_json` raises :class:`MalformedJson` for unparseable bodies (400).
Answer structs encode exactly the contract's keys, in the contract's order.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Literal

import msgspec

from shared_core.errors import FieldError, ValidationFailed
from shared_core.rules.identifiers import check_commune_insee
from sport_referral.model.aids import PassSportSettings
from sport_referral.model.matching import GeoPoint, MatchingSettings, MatchRequest, MatchResult, PatientNeeds
from sport_referral.model.structures import LIMITATION_LEVELS, DisabilityFamily, LimitationLevel, Structure
from sport_referral.rules.aids import pass_sport_eligibility
from sport_referral.rules.geo import department_code
from sport_referral.rules.matching import match_structures, nearest_first
from sport_referral.rules.supervision import SupervisionMatrix, allowed_professions

__all__ = [
    "ACTIVITY_QUERY_MAX",
    "STRUCTURES_LIMIT_MAX",
    "MalformedJson",
    "PassSportAnswer",
    "PassSportBody",
    "StructureItem",
    "StructuresAnswer",
    "StructuresQuery",
    "SupervisionAnswerBody",
    "SupervisionBody",
    "decode_json",
    "pass_sport_answer",
    "resolve_origin",
    "search_structures",
    "structures_answer",
    "structures_request",
    "supervision_answer",
    "validate_pass_sport_body",
    "validate_structures_query",
    "validate_supervision_body",
]

ACTIVITY_QUERY_MAX = 100
# A page of the directory search: enough for any list a person reads, small enough to answer fast.
STRUCTURES_LIMIT_MAX = 500
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class MalformedJson(ValueError):
    """The body is not JSON at all (400, not 422)."""


def decode_json(raw: bytes | str) -> object:
    """Parse a request body; MalformedJson when it is not valid JSON."""
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError as error:
        raise MalformedJson(f"the body is not valid JSON: {error}") from None


# --- GET /api/v1/sport/structures ----------------------------------------------------------------


class StructuresQuery(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The query string, validated. ``radius_km`` already carries the default (30, from cfg)."""

    radius_km: float
    lat: float | None = None
    lon: float | None = None
    commune: str | None = None
    family: DisabilityFamily | None = None
    limitation_level: LimitationLevel | None = None
    wheelchair: bool = False
    activity: str | None = None
    sort: Literal["distance", "score"] = "distance"
    # Paging, beyond the contract's keys: without ``limit`` the answer lists every structure in the radius.
    limit: int | None = None
    offset: int = 0

    @property
    def window(self) -> int | None:
        """How many candidates the match must list for this page (None: all of them)."""
        return None if self.limit is None else self.offset + self.limit


_QUERY_KEYS = ("lat", "lon", "commune", "radius_km", "family", "limitation_level", "wheelchair", "activity", "sort",
               "limit", "offset")


def _one(params: Mapping[str, str | Sequence[str]], key: str, errors: list[FieldError]) -> str | None:
    value = params.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        return value
    values = list(value)
    if len(values) != 1:
        errors.append(FieldError(key, "give this parameter once"))
        return None
    return values[0]


def _float(
    key: str, text: str | None, low: float, high: float, errors: list[FieldError], *, low_exclusive: bool = False
) -> float | None:
    if text is None:
        return None
    try:
        value = float(text.strip())
    except ValueError:
        errors.append(FieldError(key, f"expected a number, got {text!r}"))
        return None
    if not math.isfinite(value) or value > high or value < low or (low_exclusive and value == low):
        bound = f"> {low:g}" if low_exclusive else f">= {low:g}"
        errors.append(FieldError(key, f"must be {bound} and <= {high:g}"))
        return None
    return value


def _count(key: str, text: str | None, low: int, high: int, errors: list[FieldError]) -> int | None:
    if text is None:
        return None
    try:
        value = int(text.strip())
    except ValueError:
        errors.append(FieldError(key, f"expected a whole number, got {text!r}"))
        return None
    if not low <= value <= high:
        errors.append(FieldError(key, f"must be >= {low} and <= {high}"))
        return None
    return value


def validate_structures_query(params: Mapping[str, str | Sequence[str]], settings: MatchingSettings) -> StructuresQuery:
    """Check the query string of ``GET /api/v1/sport/structures``; every bad field is reported.

    Location: ``lat`` and ``lon`` together, or ``commune`` (INSEE code), not both.
    ``radius_km`` defaults to ``cfg:matching.default_radius_km`` (30); ``wheelchair`` is
    ``true`` or ``false``; ``family`` is one of the enabled families (cfg:families.*).
    ``limit`` (1 to STRUCTURES_LIMIT_MAX) and ``offset`` page the answer.
    """
    errors: list[FieldError] = []
    for key in sorted(params):
        if key not in _QUERY_KEYS:
            errors.append(FieldError(key, "unknown parameter; expected one of: " + ", ".join(_QUERY_KEYS)))
    raw = {key: _one(params, key, errors) for key in _QUERY_KEYS}

    lat = _float("lat", raw["lat"], -90.0, 90.0, errors)
    lon = _float("lon", raw["lon"], -180.0, 180.0, errors)
    if (raw["lat"] is None) != (raw["lon"] is None):
        missing = "lat" if raw["lat"] is None else "lon"
        errors.append(FieldError(missing, "give both lat and lon"))
    commune: str | None = None
    if raw["commune"] is not None:
        check = check_commune_insee(raw["commune"])
        if check.valid:
            commune = check.value
        else:
            errors.append(FieldError("commune", check.errors[0]))
        if raw["lat"] is not None or raw["lon"] is not None:
            errors.append(FieldError("commune", "give either lat and lon, or commune, not both"))
    elif raw["lat"] is None and raw["lon"] is None:
        errors.append(FieldError("lat", "a location is required: lat and lon, or commune"))

    radius = settings.default_radius_km
    if raw["radius_km"] is not None:
        parsed = _float("radius_km", raw["radius_km"], 0.0, settings.max_query_radius_km, errors, low_exclusive=True)
        radius = parsed if parsed is not None else radius

    family: DisabilityFamily | None = None
    if raw["family"] is not None:
        enabled = settings.enabled_families()
        candidate = raw["family"].strip()
        if candidate in enabled:
            family = candidate
        else:
            errors.append(FieldError("family", "expected one of: " + ", ".join(enabled)))
    level: LimitationLevel | None = None
    if raw["limitation_level"] is not None:
        candidate = raw["limitation_level"].strip()
        if candidate in LIMITATION_LEVELS:
            level = candidate
        else:
            errors.append(FieldError("limitation_level", "expected one of: " + ", ".join(LIMITATION_LEVELS)))
    wheelchair = False
    if raw["wheelchair"] is not None:
        if raw["wheelchair"] in ("true", "false"):
            wheelchair = raw["wheelchair"] == "true"
        else:
            errors.append(FieldError("wheelchair", "expected true or false"))
    activity: str | None = None
    if raw["activity"] is not None:
        activity = raw["activity"].strip()
        if not activity:
            errors.append(FieldError("activity", "must not be empty"))
        elif len(activity) > ACTIVITY_QUERY_MAX:
            errors.append(FieldError("activity", f"at most {ACTIVITY_QUERY_MAX} characters"))
    sort: Literal["distance", "score"] = "distance"
    if raw["sort"] is not None:
        if raw["sort"] == "score":
            sort = "score"
        elif raw["sort"] != "distance":
            errors.append(FieldError("sort", "expected distance or score"))

    limit = _count("limit", raw["limit"], 1, STRUCTURES_LIMIT_MAX, errors)
    offset = _count("offset", raw["offset"], 0, 10**9, errors) or 0

    if errors:
        raise ValidationFailed(errors, "Invalid query")
    return StructuresQuery(
        radius_km=radius,
        lat=lat,
        lon=lon,
        commune=commune,
        family=family,
        limitation_level=level,
        wheelchair=wheelchair,
        activity=activity or None,
        sort=sort,
        limit=limit,
        offset=offset,
    )


def resolve_origin(query: StructuresQuery, commune_points: Mapping[str, GeoPoint]) -> tuple[GeoPoint, str | None]:
    """The search origin and, for a commune, its department (G-3) for the same-territory rule.

    ``commune`` is resolved to the commune's point in the gazetteer (``commune_points``); an
    unknown code is a 422 on ``commune``."""
    if query.lat is not None and query.lon is not None:
        return GeoPoint(query.lat, query.lon), None
    assert query.commune is not None
    point = commune_points.get(query.commune)
    if point is None:
        raise ValidationFailed([FieldError("commune", f"unknown commune {query.commune!r} in the gazetteer")])
    return point, department_code(query.commune)


def structures_request(
    query: StructuresQuery, *, origin: GeoPoint, origin_department: str | None, today: date
) -> MatchRequest:
    """The match request of a directory search: no widening (the contract returns only structures
    within the radius), practice places and routes listed, ``wheelchair=true`` → ``motor_reception``."""
    return MatchRequest(
        origin=origin,
        origin_department=origin_department,
        limitation_level=query.limitation_level,
        today=today,
        discipline_query=query.activity,
        needs=PatientNeeds(
            disability_families=frozenset({query.family}) if query.family else frozenset(),
            required_features=frozenset({"motor_reception"}) if query.wheelchair else frozenset(),
        ),
        radius_km=query.radius_km,
        widen=False,
        purpose="directory",
        sort=query.sort,
    )


class StructureItem(msgspec.Struct, frozen=True, kw_only=True):
    """One item of the answer: ``commune`` is the structure's INSEE code."""

    id: str
    name: str
    kind: str
    commune: str
    distance_km: float
    match_reasons: list[str]


class StructuresAnswer(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    items: list[StructureItem]
    next_offset: int | None = None  # with ``limit``: where the next page starts, when there is one


def structures_answer(result: MatchResult, *, offset: int = 0) -> StructuresAnswer:
    """``{"items": [{"id", "name", "kind", "commune", "distance_km", "match_reasons"}, ...]}`` in the result's order,
    from ``offset`` on; a result cut at a limit with more behind it gives the next page's offset."""
    return StructuresAnswer(
        items=[
            StructureItem(
                id=c.structure_id,
                name=c.name,
                kind=c.kind,
                commune=c.commune,
                distance_km=c.distance_km,
                match_reasons=list(c.match_reasons),
            )
            for c in result.candidates[offset:]
        ],
        next_offset=len(result.candidates) if result.more else None,
    )


def search_structures(
    params: Mapping[str, str | Sequence[str]],
    structures: Sequence[Structure],
    *,
    matrix: SupervisionMatrix,
    settings: MatchingSettings,
    commune_points: Mapping[str, GeoPoint],
    today: date,
) -> StructuresAnswer:
    """Validate, resolve, match and map in one call (what the route handler needs)."""
    query = validate_structures_query(params, settings)
    origin, department = resolve_origin(query, commune_points)
    request = structures_request(query, origin=origin, origin_department=department, today=today)
    ordered = nearest_first(structures, origin, settings, commune_points)
    result = match_structures(request, ordered, matrix, settings, commune_points, limit=query.window)
    return structures_answer(result, offset=query.offset)


# --- POST /api/v1/sport/supervision ------------------------------------------------------------


class SupervisionBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    limitation_level: LimitationLevel


class SupervisionAnswerBody(msgspec.Struct, frozen=True, kw_only=True):
    allowed_professions: list[str]


def _object(data: object, errors: list[FieldError], keys: Sequence[str]) -> Mapping[str, object] | None:
    if not isinstance(data, dict):
        errors.append(FieldError("body", "expected a JSON object"))
        return None
    for key in data:
        if key not in keys:
            errors.append(FieldError(str(key), "unknown field; expected: " + ", ".join(keys)))
    return data


def validate_supervision_body(data: object) -> SupervisionBody:
    """``{"limitation_level": code}``; every problem reported."""
    errors: list[FieldError] = []
    body = _object(data, errors, ("limitation_level",))
    level: LimitationLevel | None = None
    if body is not None:
        value = body.get("limitation_level")
        if value is None:
            errors.append(FieldError("limitation_level", "required"))
        elif not isinstance(value, str) or value not in LIMITATION_LEVELS:
            errors.append(FieldError("limitation_level", "expected one of: " + ", ".join(LIMITATION_LEVELS)))
        else:
            level = value
    if errors or level is None:
        raise ValidationFailed(errors, "Invalid body")
    return SupervisionBody(limitation_level=level)


def supervision_answer(body: SupervisionBody, matrix: SupervisionMatrix) -> SupervisionAnswerBody:
    """``{"allowed_professions": [...]}``: ``severe`` is exactly the three health professions (L-5)."""
    return SupervisionAnswerBody(
        allowed_professions=allowed_professions(body.limitation_level, matrix).allowed_professions
    )


# --- POST /api/v1/sport/aids/pass-sport ------------------------------------------------------------


class PassSportBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    birth_date: date
    on_date: date
    benefits: list[str]


class PassSportAnswer(msgspec.Struct, frozen=True, kw_only=True):
    eligible: bool
    amount_eur: int
    reason: str


def _date(body: Mapping[str, object], key: str, errors: list[FieldError]) -> date | None:
    value = body.get(key)
    if value is None:
        errors.append(FieldError(key, "required (YYYY-MM-DD)"))
        return None
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        errors.append(FieldError(key, "expected an ISO 8601 date YYYY-MM-DD"))
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        errors.append(FieldError(key, f"{value!r} is not a calendar date"))
        return None
    if parsed.year < 1900:
        errors.append(FieldError(key, "must be in 1900 or later"))
        return None
    return parsed


def validate_pass_sport_body(data: object, settings: PassSportSettings) -> PassSportBody:
    """``{"birth_date": date, "on_date": date, "benefits": [code, ...]}``; every problem reported
    (unknown field, missing field, bad date, birth after on_date, unknown benefit ``benefits[i]``)."""
    errors: list[FieldError] = []
    body = _object(data, errors, ("birth_date", "on_date", "benefits"))
    if body is None:
        raise ValidationFailed(errors, "Invalid body")
    birth = _date(body, "birth_date", errors)
    on = _date(body, "on_date", errors)
    if birth is not None and on is not None and birth > on:
        errors.append(FieldError("birth_date", "must not be after on_date"))
    benefits: list[str] = []
    raw_benefits = body.get("benefits")
    if raw_benefits is None:
        errors.append(FieldError("benefits", "required (a list, possibly empty)"))
    elif not isinstance(raw_benefits, list):
        errors.append(FieldError("benefits", "expected a list of benefit codes"))
    else:
        known = [group.code for group in settings.groups]
        for index, code in enumerate(raw_benefits):
            if not isinstance(code, str) or code not in known:
                errors.append(FieldError(f"benefits[{index}]", "expected one of: " + ", ".join(known)))
            else:
                benefits.append(code)
    if errors or birth is None or on is None:
        raise ValidationFailed(errors, "Invalid body")
    return PassSportBody(birth_date=birth, on_date=on, benefits=benefits)


def pass_sport_answer(body: PassSportBody, settings: PassSportSettings) -> PassSportAnswer:
    """``{"eligible": bool, "amount_eur": int, "reason": string}`` (A-1; amount 0 when not eligible)."""
    result = pass_sport_eligibility(body.birth_date, body.on_date, body.benefits, settings)
    return PassSportAnswer(eligible=result.eligible, amount_eur=result.amount_eur, reason=result.reason)
