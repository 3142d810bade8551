"""Geodata rules (domain-sport §7.2 M-8, §12 G-3): great-circle distance, department codes,
bounding boxes and the same-territory groups that keep overseas patients on their own island.

Pure functions; the territory groups and boxes are reference data (matching_settings.yaml, geo).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from sport_referral.model.matching import GeoPoint, GeoSettings, Territory

__all__ = [
    "EARTH_RADIUS_KM",
    "department_code",
    "haversine_km",
    "haversine_many_km",
    "round_km",
    "same_territory",
    "territory_of_department",
    "territory_of_point",
]

# M-8 [spec]: R = 6371.0 km (mean earth radius). The loaded value (geo.earth_radius_km) is passed
# by the matching rules; this default serves direct calls.
EARTH_RADIUS_KM = 6371.0


def haversine_km(a: GeoPoint, b: GeoPoint, radius_km: float = EARTH_RADIUS_KM) -> float:
    """M-8: ``d = 2R·asin(√(sin²(Δφ/2) + cos φ1·cos φ2·sin²(Δλ/2)))``, unrounded, in km."""
    return haversine_many_km(a, ((b.lat, b.lon),), radius_km)[0]


def haversine_many_km(
    origin: GeoPoint, points: Iterable[tuple[float, float]], radius_km: float = EARTH_RADIUS_KM
) -> list[float]:
    """:func:`haversine_km` from ``origin`` to each ``(lat, lon)``, without a call and a point per
    structure (a city's directory search ranks thousands); the one place the formula is written, so
    a search ranks with exactly the floats the rules check."""
    radians, sin, cos, asin, sqrt = math.radians, math.sin, math.cos, math.asin, math.sqrt
    phi1 = radians(origin.lat)
    cos_phi1 = cos(phi1)
    distances = []
    for lat, lon in points:
        phi2 = radians(lat)
        h = sin((phi2 - phi1) / 2) ** 2 + cos_phi1 * cos(phi2) * sin(radians(lon - origin.lon) / 2) ** 2
        # Rounding can push h a hair above 1 for antipodal points; asin would then fail.
        distances.append(2 * radius_km * asin(sqrt(h if 0.0 <= h <= 1.0 else min(1.0, max(0.0, h)))))
    return distances


def round_km(distance_km: float) -> float:
    """Distance for display and filtering: 0.1 km, halves rounded up (§7: "rounded to 0.1 km")."""
    return math.floor(distance_km * 10 + 0.5) / 10


def department_code(commune_insee: str) -> str:
    """G-3: first 2 characters of the INSEE code (``2A``/``2B`` for Corsica), 3 for ``97x``/``98x``."""
    code = commune_insee.strip().upper()
    if len(code) != 5:
        raise ValueError(f"a commune INSEE code has 5 characters, got {commune_insee!r}")
    return code[:3] if code.startswith(("97", "98")) else code[:2]


def territory_of_department(department: str, geo: GeoSettings) -> str:
    """The same-territory group of a department (unlisted departments: the default, mainland)."""
    code = department.strip().upper()
    for territory in geo.territories:
        if code in territory.departments:
            return territory.code
    return geo.default_territory


def _smallest_box_area(territory: Territory, point: GeoPoint) -> float | None:
    areas = [box.area() for box in territory.bboxes if box.contains(point)]
    return min(areas) if areas else None


def territory_of_point(point: GeoPoint, geo: GeoSettings) -> str | None:
    """The group whose approximate box contains ``point`` (smallest box wins: Corsica lies inside
    the mainland box); None when no box contains it (outside France)."""
    best: tuple[float, str] | None = None
    for territory in geo.territories:
        area = _smallest_box_area(territory, point)
        if area is not None and (best is None or area < best[0]):
            best = (area, territory.code)
    return best[1] if best else None


def same_territory(territory_a: str | None, territory_b: str | None) -> bool:
    """True when both are known and equal (§7.2: a Réunion patient never meets a mainland structure)."""
    return territory_a is not None and territory_a == territory_b
