"""Projected French coordinates → WGS84, in pure Python (no PROJ): used by the FINESS import (§6.3).

* Lambert-93 (EPSG:2154, RGF93 v1 / Lambert conformal conic, 2 standard parallels 44° and 49°,
  origin 46.5° N 3° E, false easting 700 000 m, false northing 6 600 000 m, GRS80 ellipsoid),
  inverted with the closed-form isometric-latitude method (IGN note NT/G 71, algorithms
  ALG0004 and ALG0002; Snyder, *Map Projections — A Working Manual*, 1987, §15).
* UTM on GRS80 (the overseas departments: RGAF09 / UTM 20N for Guadeloupe and Martinique,
  RGFG95 / UTM 22N for French Guiana, RGR92 / UTM 40S for La Réunion, RGM04 / UTM 38S for
  Mayotte), inverted with Krüger's series to order n⁶ (Karney 2011), accurate to well under a
  millimetre inside a zone.

RGF93 and the overseas RGAF09/RGFG95/RGR92/RGM04 are ITRS realisations that agree with WGS84 to
well under one metre, far below what matters for a structure directory (the geodetic datum shift
is deliberately not applied). Tests compare against PROJ 9 to < 1 m.
"""

from __future__ import annotations

import math
import re

__all__ = [
    "lambert93_to_wgs84",
    "parse_projection",
    "to_wgs84",
    "utm_to_wgs84",
    "wgs84_to_lambert93",
]

# GRS80 (IUGG 1980), the ellipsoid of RGF93 and of the overseas frames.
_A = 6378137.0
_F = 1 / 298.257222101
_E2 = _F * (2 - _F)
_E = math.sqrt(_E2)

# Lambert-93 definition (arrêté of 26 December 2000, décret 2000-1276).
_PHI1 = math.radians(44.0)
_PHI2 = math.radians(49.0)
_PHI0 = math.radians(46.5)
_LAMBDA0 = math.radians(3.0)
_X0 = 700000.0
_Y0 = 6600000.0


def _m(phi: float) -> float:
    sin_phi = math.sin(phi)
    return math.cos(phi) / math.sqrt(1 - _E2 * sin_phi * sin_phi)


def _t(phi: float) -> float:
    sin_phi = math.sin(phi)
    ratio: float = ((1 - _E * sin_phi) / (1 + _E * sin_phi)) ** (_E / 2)
    return math.tan(math.pi / 4 - phi / 2) / ratio


_M1, _M2 = _m(_PHI1), _m(_PHI2)
_T0, _T1, _T2 = _t(_PHI0), _t(_PHI1), _t(_PHI2)
_N = (math.log(_M1) - math.log(_M2)) / (math.log(_T1) - math.log(_T2))
_BIG_F = _M1 / (_N * _T1**_N)
_RHO0 = _A * _BIG_F * _T0**_N


def lambert93_to_wgs84(x: float, y: float) -> tuple[float, float]:
    """Lambert-93 easting/northing (metres) → ``(latitude, longitude)`` in decimal degrees."""
    dx = x - _X0
    dy = _RHO0 - (y - _Y0)
    rho = math.copysign(math.hypot(dx, dy), _N)
    theta = math.atan2(dx, dy)
    t = (rho / (_A * _BIG_F)) ** (1 / _N)
    # Latitude from the isometric latitude by fixed-point iteration (ALG0002); converges to
    # 1e-12 rad in about 6 steps for every latitude of metropolitan France.
    phi = math.pi / 2 - 2 * math.atan(t)
    for _ in range(30):
        sin_phi = math.sin(phi)
        next_phi = math.pi / 2 - 2 * math.atan(t * ((1 - _E * sin_phi) / (1 + _E * sin_phi)) ** (_E / 2))
        if abs(next_phi - phi) < 1e-12:
            phi = next_phi
            break
        phi = next_phi
    lam = theta / _N + _LAMBDA0
    return math.degrees(phi), math.degrees(lam)


def wgs84_to_lambert93(latitude: float, longitude: float) -> tuple[float, float]:
    """``(latitude, longitude)`` → Lambert-93 ``(x, y)``; the forward projection, for tests and checks."""
    phi = math.radians(latitude)
    rho = _A * _BIG_F * _t(phi) ** _N
    theta = _N * (math.radians(longitude) - _LAMBDA0)
    return _X0 + rho * math.sin(theta), _Y0 + _RHO0 - rho * math.cos(theta)


# --- UTM (transverse Mercator, Krüger series) ------------------------------------------------

_K0 = 0.9996
_UTM_X0 = 500000.0
_UTM_SOUTH_Y0 = 10000000.0
_N3 = _F / (2 - _F)
_A_RECT = _A / (1 + _N3) * (1 + _N3**2 / 4 + _N3**4 / 64 + _N3**6 / 256)
# Karney (2011), eq. 36: coefficients β_j of the inverse series, to order n⁶.
_BETA = (
    _N3 / 2 - 2 * _N3**2 / 3 + 37 * _N3**3 / 96 - _N3**4 / 360 - 81 * _N3**5 / 512 + 96199 * _N3**6 / 604800,
    _N3**2 / 48 + _N3**3 / 15 - 437 * _N3**4 / 1440 + 46 * _N3**5 / 105 - 1118711 * _N3**6 / 3870720,
    17 * _N3**3 / 480 - 37 * _N3**4 / 840 - 209 * _N3**5 / 4480 + 5569 * _N3**6 / 90720,
    4397 * _N3**4 / 161280 - 11 * _N3**5 / 504 - 830251 * _N3**6 / 7257600,
    4583 * _N3**5 / 161280 - 108847 * _N3**6 / 3991680,
    20648693 * _N3**6 / 638668800,
)


def utm_to_wgs84(x: float, y: float, zone: int, *, south: bool) -> tuple[float, float]:
    """UTM easting/northing (metres) of ``zone`` on GRS80 → ``(latitude, longitude)`` in degrees."""
    if not 1 <= zone <= 60:
        raise ValueError(f"UTM zone must be 1..60, got {zone}")
    northing = y - (_UTM_SOUTH_Y0 if south else 0.0)
    xi = northing / (_K0 * _A_RECT)
    eta = (x - _UTM_X0) / (_K0 * _A_RECT)
    xi_p, eta_p = xi, eta
    for j, beta in enumerate(_BETA, start=1):
        xi_p -= beta * math.sin(2 * j * xi) * math.cosh(2 * j * eta)
        eta_p -= beta * math.cos(2 * j * xi) * math.sinh(2 * j * eta)
    tau_p = math.sin(xi_p) / math.hypot(math.sinh(eta_p), math.cos(xi_p))
    lam = math.atan2(math.sinh(eta_p), math.cos(xi_p))
    # Conformal → geodetic latitude: Newton on tau (Karney 2011, eqs. 19-21).
    tau = tau_p
    for _ in range(10):
        sigma = math.sinh(_E * math.atanh(_E * tau / math.sqrt(1 + tau * tau)))
        tau_p_of_tau = tau * math.sqrt(1 + sigma * sigma) - sigma * math.sqrt(1 + tau * tau)
        d_tau = (
            (tau_p - tau_p_of_tau)
            / math.sqrt(1 + tau_p_of_tau * tau_p_of_tau)
            * (1 + (1 - _E2) * tau * tau)
            / ((1 - _E2) * math.sqrt(1 + tau * tau))
        )
        tau += d_tau
        if abs(d_tau) < 1e-14:
            break
    central_meridian = -183.0 + 6.0 * zone
    return math.degrees(math.atan(tau)), central_meridian + math.degrees(lam)


_UTM_CODE = re.compile(r"utm(\d{1,2})([ns])")


def parse_projection(code: str) -> tuple[str, int, bool]:
    """Validate a projection code: ``lambert93``, ``wgs84`` or ``utm<zone><n|s>`` (e.g. ``utm40s``).

    Returns ``(kind, zone, south)``; raises ValueError for anything else.
    """
    if code in ("lambert93", "wgs84"):
        return code, 0, False
    match = _UTM_CODE.fullmatch(code)
    if match is None or not 1 <= int(match.group(1)) <= 60:
        raise ValueError(f"unknown projection {code!r}: expected lambert93, wgs84 or utm<zone><n|s>")
    return "utm", int(match.group(1)), match.group(2) == "s"


def to_wgs84(x: float, y: float, projection: str) -> tuple[float, float]:
    """Convert a projected point to ``(latitude, longitude)``; ``wgs84`` means x = lon, y = lat."""
    kind, zone, south = parse_projection(projection)
    if kind == "lambert93":
        return lambert93_to_wgs84(x, y)
    if kind == "wgs84":
        return y, x
    return utm_to_wgs84(x, y, zone, south=south)
