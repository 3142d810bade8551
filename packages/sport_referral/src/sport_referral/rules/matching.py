"""Matching a prescription to receiving structures (domain-sport §7, rules M-1 to M-11).

Hard filters M-1..M-7 run in order on every structure (all of them, so near misses can be told
apart); each leaves readable codes such as ``m1_supervision_ok:apa_teacher``,
``m2_family_ok:moteur``, ``m4_ok:motor_reception``, ``m5_capacity_not_stated``,
``m7_within:12.4km`` (M-10). Widening the radius (M-8) never relaxes M-1..M-6. Overseas patients
are matched only within their own territory (§7.2). Default order: distance (0.1 km), then name;
``sort='score'`` uses the §7.3 weights, ties by distance then name (M-9).

L-5 is enforced through M-1: a severe patient is never matched to a club, venue or route, nor to a
structure without a category-1° health professional.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from datetime import date

import msgspec

from shared_core.text import fold
from sport_referral.model import Reason
from sport_referral.model.matching import (
    DataSource,
    GeoPoint,
    MatchCandidate,
    MatchingSettings,
    MatchRequest,
    MatchResult,
    NearMiss,
    ScoreComponents,
)
from sport_referral.model.structures import (
    ACCESS_FEATURES,
    ACTIVITY_TYPES,
    DISABILITY_FAMILIES,
    REFERRAL_TARGET_KINDS,
    AccessFeature,
    GeoPrecision,
    Structure,
    StructureKind,
)
from sport_referral.rules.geo import (
    department_code,
    haversine_km,
    round_km,
    territory_of_department,
    territory_of_point,
)
from sport_referral.rules.limitation import supervision_fit
from sport_referral.rules.prescription import add_months
from sport_referral.rules.supervision import SupervisionMatrix

__all__ = ["FilterOutcome", "StructureFacts", "evaluate_structure", "match_structures", "nearest_first"]

SRC_MATCHING = "domain-sport §7 (règles de mise en relation, valeurs par défaut du produit)"
# M-11: the filters whose *soft* failure (unknown or undeclared data, capacity) may be a near miss.
_NEAR_MISS_RULES = frozenset({"M-2", "M-3", "M-4", "M-5"})


class StructureFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What the list needs of a structure once M-1..M-6 have run: who it is, and the parts of its score
    that do not depend on the final radius. Outcomes keep these rather than the structure: a whole
    answer reads thousands of structures, and holding every record until the end was most of its memory."""

    structure_id: str
    name: str
    kind: StructureKind
    commune_insee: str
    source: str
    source_updated_at: date | None
    preferences: float
    public_transport: float
    inclusion_label: float
    freshness: float


class FilterOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """One structure against M-1..M-6 (M-7 depends on the radius and is applied afterwards)."""

    structure: StructureFacts
    point: GeoPoint
    geo_precision: GeoPrecision
    distance_km: float
    codes: list[tuple[str, str]]  # (rule, code) in rule order, passes and flags
    flags: list[str]
    passed: list[str]
    failures: list[tuple[str, str, bool]]  # (rule, code, soft)
    coverage: str
    coverage_share: float
    referral_target: bool


def _structure_point(
    structure: Structure, commune_points: Mapping[str, GeoPoint]
) -> tuple[GeoPoint, GeoPrecision] | None:
    if structure.latitude is not None and structure.longitude is not None:
        return GeoPoint(structure.latitude, structure.longitude), structure.geo_precision or "address"
    point = commune_points.get(structure.commune_insee)
    return (point, "commune") if point is not None else None


def _feature_value(structure: Structure, feature: AccessFeature) -> bool | None:
    value = structure.accessibility.get(feature)
    if value is None and feature == "public_transport_nearby":
        return structure.public_transport_nearby
    return value


def evaluate_structure(
    structure: Structure,
    request: MatchRequest,
    matrix: SupervisionMatrix,
    settings: MatchingSettings,
    point: GeoPoint,
    geo_precision: GeoPrecision,
) -> FilterOutcome:
    """Run M-1 to M-6 on one located structure, recording every pass, flag and failure."""
    codes: list[tuple[str, str]] = []
    flags: list[str] = []
    passed: list[str] = []
    failures: list[tuple[str, str, bool]] = []
    needs = request.needs

    # M-1 (L-5, L-7); a search without a level has nothing to check here.
    if request.limitation_level is None:
        passed.append("M-1")
    else:
        fit = supervision_fit(
            request.limitation_level,
            structure,
            matrix,
            moderate_conditional=settings.moderate_sport_educator_conditional,
        )
        if fit.ok:
            passed.append("M-1")
            codes.append(("M-1", fit.code))
            flags.extend(fit.flags)
        else:
            failures.append(("M-1", fit.code, False))

    # M-2
    wanted = [f for f in DISABILITY_FAMILIES if f in needs.disability_families]
    if not wanted:
        passed.append("M-2")
    elif not structure.disability_families:
        if settings.undeclared_families == "keep_flagged":
            passed.append("M-2")
            flags.append("families_not_declared")
            codes.append(("M-2", "m2_families_not_declared"))
        else:
            failures.append(("M-2", "m2_families_not_declared", True))
    else:
        missing = [f for f in wanted if f not in structure.disability_families]
        if missing:
            failures.append(("M-2", "m2_family_not_accommodated:" + ",".join(missing), False))
        else:
            passed.append("M-2")
            codes.extend(("M-2", f"m2_family_ok:{f}") for f in wanted)

    # M-3 (activity types, and the API's free-text discipline)
    prescribed = [t for t in ACTIVITY_TYPES if t in request.activity_types]
    m3_ok = True
    coverage, share = "0/0", 1.0
    if prescribed:
        n = len(prescribed)
        if not structure.activity_types:
            coverage, share = f"?/{n}", 0.0
            flags.append("activity_types_not_declared")
            codes.append(("M-3", "m3_activity_types_not_declared"))
        else:
            k = sum(1 for t in prescribed if t in structure.activity_types)
            coverage, share = f"{k}/{n}", k / n
            enough = k >= 1 if settings.activity_coverage == "any" else k == n
            if enough:
                codes.append(("M-3", f"m3_activity_ok:{coverage}"))
            else:
                m3_ok = False
                failures.append(("M-3", f"m3_activity_not_offered:{coverage}", True))
    query = fold(request.discipline_query or "")
    if query:
        if any(query in fold(discipline) for discipline in structure.disciplines):
            codes.append(("M-3", f"m3_discipline_ok:{query}"))
        else:
            if m3_ok:
                failures.append(("M-3", "m3_discipline_not_found", True))
            m3_ok = False
    if m3_ok:
        passed.append("M-3")

    # M-4
    required = [f for f in ACCESS_FEATURES if f in needs.required_features]
    values = {feature: _feature_value(structure, feature) for feature in required}
    known_false = [f for f in required if values[f] is False]
    unknown = [f for f in required if values[f] is None]
    if known_false:
        failures.append(("M-4", "m4_missing:" + ",".join(known_false), False))
    elif unknown and settings.unknown_required_feature == "exclude":
        failures.append(("M-4", "m4_unknown:" + ",".join(unknown), True))
    else:
        passed.append("M-4")
        for feature in required:
            if values[feature] is True:
                codes.append(("M-4", f"m4_ok:{feature}"))
            else:
                flags.append(f"to_confirm:{feature}")
                codes.append(("M-4", f"m4_to_confirm:{feature}"))

    # M-5 (referral targets only)
    if structure.kind in REFERRAL_TARGET_KINDS:
        if not structure.accepting_referrals:
            failures.append(("M-5", "m5_not_accepting_referrals", True))
        elif structure.capacity_open_slots == 0:
            failures.append(("M-5", "m5_no_capacity", True))
        elif structure.capacity_open_slots is None:
            passed.append("M-5")
            flags.append("capacity_not_stated")
            codes.append(("M-5", "m5_capacity_not_stated"))
        else:
            passed.append("M-5")
            codes.append(("M-5", "m5_capacity_ok"))
    else:
        passed.append("M-5")

    # M-6
    referral_target = structure.kind in REFERRAL_TARGET_KINDS
    if structure.kind == "trail":
        referral_target = False
        if request.purpose == "referral":
            failures.append(("M-6", "m6_not_referral_target:trail", False))
        else:
            passed.append("M-6")
            codes.append(("M-6", "m6_self_practice_only"))
    elif structure.kind == "venue":
        referral_target = structure.accepting_referrals and structure.referral_email is not None
        if referral_target:
            passed.append("M-6")
            codes.append(("M-6", "m6_practice_place_with_contact"))
        elif request.purpose == "referral":
            failures.append(("M-6", "m6_practice_place_no_referral", False))
        else:
            passed.append("M-6")
            codes.append(("M-6", "m6_practice_place"))
    else:
        passed.append("M-6")

    transport = _feature_value(structure, "public_transport_nearby")
    facts = StructureFacts(
        structure_id=structure.structure_id,
        name=structure.name,
        kind=structure.kind,
        commune_insee=structure.commune_insee,
        source=structure.source,
        source_updated_at=structure.source_updated_at,
        preferences=round(_preference_share(structure, request), 4),
        public_transport=1.0 if transport is True else (0.5 if transport is None else 0.0),
        inclusion_label=1.0 if structure.labels & settings.bonus_labels else 0.0,
        freshness=_freshness(structure, request.today, settings),
    )
    return FilterOutcome(
        structure=facts,
        point=point,
        geo_precision=geo_precision,
        distance_km=haversine_km(request.origin, point, settings.geo.earth_radius_km),
        codes=codes,
        flags=flags,
        passed=passed,
        failures=failures,
        coverage=coverage,
        coverage_share=share,
        referral_target=referral_target,
    )


def _preference_share(structure: Structure, request: MatchRequest) -> float:
    needs = request.needs
    stated = met = 0
    if needs.preferred_disciplines:
        stated += 1
        wanted = [fold(d) for d in needs.preferred_disciplines if d.strip()]
        if any(w in fold(d) for w in wanted for d in structure.disciplines):
            met += 1
    if needs.preferred_weekdays:
        stated += 1
        if needs.preferred_weekdays & structure.session_weekdays:
            met += 1
    if needs.preferred_format is not None:
        stated += 1
        if needs.preferred_format in structure.session_formats:
            met += 1
    for feature in needs.preferred_features:
        stated += 1
        if _feature_value(structure, feature) is True:
            met += 1
    return met / stated if stated else 1.0


def _freshness(structure: Structure, today: date, settings: MatchingSettings) -> float:
    if structure.stale:
        return 0.0
    confirmed = structure.profile_confirmed_at
    if confirmed is not None and confirmed.date() > add_months(today, -settings.fresh_confirmed_months):
        return 1.0
    updated = structure.source_updated_at
    if updated is not None and updated > add_months(today, -settings.fresh_source_months):
        return 0.5
    return 0.0


def _score(outcome: FilterOutcome, radius: float, settings: MatchingSettings) -> tuple[float, ScoreComponents]:
    s = outcome.structure
    components = ScoreComponents(
        proximity=round(max(0.0, 1 - outcome.distance_km / radius), 4),
        activity_coverage=round(outcome.coverage_share, 4),
        preferences=s.preferences,
        public_transport=s.public_transport,
        inclusion_label=s.inclusion_label,
        data_confidence=round(max(0.0, 1 - settings.flag_penalty * len(outcome.flags)), 4),
        freshness=s.freshness,
    )
    w = settings.weights
    total = (
        w.proximity * components.proximity
        + w.activity_coverage * components.activity_coverage
        + w.preferences * components.preferences
        + w.public_transport * components.public_transport
        + w.inclusion_label * components.inclusion_label
        + w.data_confidence * components.data_confidence
        + w.freshness * components.freshness
    )
    return round(total, 4), components


def _candidate(
    outcome: FilterOutcome, request: MatchRequest, radius: float, settings: MatchingSettings
) -> MatchCandidate:
    s = outcome.structure
    distance = round_km(outcome.distance_km)
    score, components = _score(outcome, radius, settings)
    codes = [code for _, code in outcome.codes] + [f"m7_within:{distance:.1f}km"]
    return MatchCandidate(
        structure_id=s.structure_id,
        name=s.name,
        kind=s.kind,
        commune=s.commune_insee,
        distance_km=distance,
        distance_basis=request.distance_basis,
        geo_precision=outcome.geo_precision,
        passed=[*outcome.passed, "M-7"],
        flags=list(outcome.flags),
        match_reasons=codes,
        coverage=outcome.coverage,
        score=score,
        score_components=components,
        data_sources=[DataSource(source=s.source, updated=s.source_updated_at)],
        referral_target=outcome.referral_target,
    )


def _order_key(distance: float, name: str, structure_id: str) -> tuple[float, str, str]:
    return (round_km(distance), fold(name), structure_id)


def nearest_first(
    structures: Iterable[Structure],
    origin: GeoPoint,
    settings: MatchingSettings,
    commune_points: Mapping[str, GeoPoint] | None = None,
) -> list[Structure]:
    """The order ``match_structures`` needs with a limit: by distance from ``origin`` to each structure's
    point (its own, else its commune's); those that cannot be located first (they are only listed)."""

    def distance(structure: Structure) -> float:
        located = _structure_point(structure, commune_points or {})
        return -1.0 if located is None else haversine_km(origin, located[0], settings.geo.earth_radius_km)

    return sorted(structures, key=distance)


def _radii(request: MatchRequest, requested: float, settings: MatchingSettings) -> list[float]:
    """The requested radius, then the M-8 steps a search may widen to (never beyond the maximum)."""
    if not request.widen:
        return [requested]
    return [requested, *(s for s in settings.widen_steps_km if requested < s <= settings.max_radius_km)]


def _beyond_final_radius(pass_distances: Sequence[float], distance: float, radii: Sequence[float],
                         min_results: int) -> bool:
    """Nearest first: ``distance`` lies beyond the radius the search settles on (M-7, M-8), so nothing
    from here on can be listed."""
    for index, radius in enumerate(radii):
        if distance <= radius:
            return False
        if index == len(radii) - 1 or bisect_right(pass_distances, radius) >= min_results:
            return True
    return True


def match_structures(
    request: MatchRequest,
    structures: Iterable[Structure],
    matrix: SupervisionMatrix,
    settings: MatchingSettings,
    commune_points: Mapping[str, GeoPoint] | None = None,
    *,
    limit: int | None = None,
) -> MatchResult:
    """Candidates passing M-1..M-7, with explanations; near misses (M-11) when there is none.

    ``commune_points`` (gazetteer points by INSEE code) locates structures without coordinates
    (``geo_precision = commune``); a structure that cannot be located is listed in ``unlocated``.

    With ``limit``, only the first ``limit`` candidates are listed and ``more`` tells whether others
    pass. Sorted by distance, ``structures`` must then come nearest first: they are read only until
    the list and the radius (with M-8 widening) are settled, so a lazy iterable is decoded no further
    than needed and the answer is the one the whole directory would give, cut at ``limit``.
    """
    requested = request.radius_km if request.radius_km is not None else settings.default_radius_km
    if not requested > 0:
        raise ValueError("radius_km must be > 0")
    if limit is not None and limit < 1:
        raise ValueError("limit must be >= 1")
    points = commune_points or {}
    geo = settings.geo
    reasons: list[Reason] = []

    if request.origin_department:
        origin_territory: str | None = territory_of_department(request.origin_department, geo)
    else:
        origin_territory = territory_of_point(request.origin, geo)
    if geo.same_territory_only and origin_territory is None:
        reasons.append(
            Reason(
                rule="M-8",
                code="m8_territory_unknown",
                source=SRC_MATCHING,
                text_fr="Le point de départ n'appartient à aucun territoire connu : la règle du même territoire ne "
                "s'applique pas.",
                text_en="The origin lies in no known territory: the same-territory rule cannot apply.",
                kind="warning",
            )
        )

    radii = _radii(request, requested, settings)
    nearest_first = limit is not None and request.sort == "distance"
    # Enough passes to fill the list, tell whether more exist, and settle M-8 exactly as a full read would.
    wanted = max(limit + 1, settings.min_results) if limit is not None else 0
    pass_distances: list[float] = []  # rounded, in reading order (so sorted when nearest first)
    previous_distance = 0.0
    outcomes: list[FilterOutcome] = []
    unlocated: list[str] = []
    for structure in structures:
        located = _structure_point(structure, points)
        if located is None:
            unlocated.append(structure.structure_id)
            continue
        if geo.same_territory_only and origin_territory is not None:
            department = structure.department_code or department_code(structure.commune_insee)
            if territory_of_department(department, geo) != origin_territory:
                continue
        outcome = evaluate_structure(structure, request, matrix, settings, located[0], located[1])
        if nearest_first:
            if outcome.distance_km < previous_distance:
                raise ValueError("with a limit, structures must come nearest first")
            previous_distance = outcome.distance_km
            distance = round_km(outcome.distance_km)
            if (len(pass_distances) >= wanted and distance > pass_distances[wanted - 1]) or _beyond_final_radius(
                pass_distances, distance, radii, settings.min_results
            ):
                break
            if not outcome.failures:
                pass_distances.append(distance)
        outcomes.append(outcome)

    def passing(radius: float) -> list[FilterOutcome]:
        return [o for o in outcomes if not o.failures and round_km(o.distance_km) <= radius]

    radius = radii[0]
    selected = passing(radius)
    widened = False
    for step in radii[1:]:
        if len(selected) >= settings.min_results:
            break
        radius, widened = step, True
        selected = passing(radius)
    if widened:
        reasons.append(
            Reason(
                rule="M-8",
                code=f"m8_widened:{radius:g}km",
                source=SRC_MATCHING,
                text_fr=f"Moins de {settings.min_results} résultats à {requested:g} km : recherche élargie à "
                f"{radius:g} km "
                "(les critères obligatoires restent appliqués).",
                text_en=f"Fewer than {settings.min_results} results within {requested:g} km: search widened to "
                f"{radius:g} km (hard filters unchanged).",
                kind="info",
            )
        )

    candidates = [_candidate(o, request, radius, settings) for o in selected]
    if request.sort == "score":
        candidates.sort(key=lambda c: (-c.score, c.distance_km, fold(c.name), c.structure_id))
    else:
        candidates.sort(key=lambda c: (c.distance_km, fold(c.name), c.structure_id))
    more = limit is not None and len(candidates) > limit
    if limit is not None:
        del candidates[limit:]

    near_misses: list[NearMiss] = []
    if not candidates:
        misses = [
            o
            for o in outcomes
            if len(o.failures) == 1
            and o.failures[0][2]
            and o.failures[0][0] in _NEAR_MISS_RULES
            and round_km(o.distance_km) <= radius
        ]
        misses.sort(key=lambda o: _order_key(o.distance_km, o.structure.name, o.structure.structure_id))
        for o in misses[: settings.near_miss_max]:
            rule, code, _ = o.failures[0]
            near_misses.append(
                NearMiss(
                    structure_id=o.structure.structure_id,
                    name=o.structure.name,
                    kind=o.structure.kind,
                    commune=o.structure.commune_insee,
                    distance_km=round_km(o.distance_km),
                    failed_rule=rule,
                    failed_code=code,
                    flags=["to_confirm", code],
                )
            )
        reasons.append(
            Reason(
                rule="M-11",
                code="m11_no_candidate",
                source=SRC_MATCHING,
                text_fr="Aucune structure ne remplit tous les critères. "
                + (
                    f"{len(near_misses)} structure(s) proche(s) à un critère près, à confirmer avec elles."
                    if near_misses
                    else "Aucune structure proche à un critère près."
                ),
                text_en="No structure passes every filter. "
                + (
                    f"{len(near_misses)} structure(s) fail a single criterion to confirm with them."
                    if near_misses
                    else "No near miss either."
                ),
                kind="info",
            )
        )

    return MatchResult(
        candidates=candidates,
        near_misses=near_misses,
        radius_km=radius,
        requested_radius_km=requested,
        widened=widened,
        origin_territory=origin_territory,
        unlocated=unlocated,
        reasons=reasons,
        more=more,
    )
