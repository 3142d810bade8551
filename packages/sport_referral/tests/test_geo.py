"""Geodata rules: haversine (M-8), rounding, departments (G-3), territories (§7.2)."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sport_referral.catalogue.loader_sport import load_matching_settings
from sport_referral.model.matching import GeoPoint
from sport_referral.rules.geo import (
    department_code,
    haversine_km,
    haversine_many_km,
    round_km,
    same_territory,
    territory_of_department,
    territory_of_point,
)

PARIS = GeoPoint(48.8566, 2.3522)
LYON = GeoPoint(45.7640, 4.8357)
TOULOUSE = GeoPoint(43.6047, 1.4442)
TOULOUSE_SOUTH = GeoPoint(43.5513, 1.4010)
MARSEILLE = GeoPoint(43.2965, 5.3698)
NICE = GeoPoint(43.7102, 7.2620)
BORDEAUX = GeoPoint(44.8378, -0.5792)
SAINT_DENIS_974 = GeoPoint(-20.8789, 55.4481)


def _vector_distance(a: GeoPoint, b: GeoPoint, radius: float = 6371.0) -> float:
    """An independent formula: angle between unit vectors via atan2(|u×v|, u·v)."""

    def vec(p: GeoPoint) -> tuple[float, float, float]:
        phi, lam = math.radians(p.lat), math.radians(p.lon)
        return (math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi))

    u, v = vec(a), vec(b)
    cross = (u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0])
    dot = sum(x * y for x, y in zip(u, v))
    return radius * math.atan2(math.sqrt(sum(c * c for c in cross)), dot)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (PARIS, LYON, 391.5),  # domain-sport §7.2 worked example
        (TOULOUSE, TOULOUSE_SOUTH, 6.9),  # domain-sport §7.2 worked example
        # Computed independently (vector formula, R = 6371.0): 159.390 km and 211.645 km.
        (MARSEILLE, NICE, 159.4),
        (BORDEAUX, TOULOUSE, 211.6),
    ],
)
def test_known_distances(a: GeoPoint, b: GeoPoint, expected: float) -> None:
    assert round_km(haversine_km(a, b)) == expected
    assert round_km(haversine_km(b, a)) == expected
    assert round_km(_vector_distance(a, b)) == expected


def test_distance_to_self_is_zero() -> None:
    assert haversine_km(PARIS, PARIS) == 0.0


coords = st.builds(
    GeoPoint,
    st.floats(min_value=-89.9, max_value=89.9, allow_nan=False),
    st.floats(min_value=-180, max_value=180, allow_nan=False),
)


@given(coords, coords)
def test_haversine_matches_an_independent_formula(a: GeoPoint, b: GeoPoint) -> None:
    assert haversine_km(a, b) == pytest.approx(_vector_distance(a, b), abs=1e-6)
    assert 0 <= haversine_km(a, b) <= math.pi * 6371.0 + 1e-6


@given(coords, st.lists(coords, max_size=20), st.sampled_from([6371.0, 6378.137]))
def test_many_distances_are_the_same_floats_as_one_by_one(origin: GeoPoint, points: list[GeoPoint],
                                                          radius: float) -> None:
    """Equal, not close: the directory search sorts with one and the rules check the order with the other."""
    assert haversine_many_km(origin, [(p.lat, p.lon) for p in points], radius) == [
        haversine_km(origin, p, radius) for p in points]
    assert haversine_many_km(origin, [(-origin.lat, origin.lon + 180)], radius) == [
        haversine_km(origin, GeoPoint(-origin.lat, origin.lon + 180), radius)]  # antipodes: h clamped


@pytest.mark.parametrize(("value", "expected"), [(12.44, 12.4), (12.45, 12.5), (0.04, 0.0), (391.4989, 391.5)])
def test_round_km(value: float, expected: float) -> None:
    assert round_km(value) == expected


@pytest.mark.parametrize(
    ("insee", "department"),
    [("31555", "31"), ("75111", "75"), ("2A004", "2A"), ("2b033", "2B"), ("97411", "974"), ("98735", "987")],
)
def test_department_code_g3(insee: str, department: str) -> None:
    assert department_code(insee) == department


def test_department_code_rejects_bad_length() -> None:
    with pytest.raises(ValueError, match="5 characters"):
        department_code("3155")


def test_territories() -> None:
    geo = load_matching_settings().geo
    assert territory_of_department("31", geo) == "metropole"
    assert territory_of_department("974", geo) == "reunion"
    assert territory_of_department("2A", geo) == "corse"
    assert territory_of_point(PARIS, geo) == "metropole"
    assert territory_of_point(SAINT_DENIS_974, geo) == "reunion"
    # Ajaccio lies in both the mainland and the Corsica boxes: the smaller one wins.
    assert territory_of_point(GeoPoint(41.9192, 8.7386), geo) == "corse"
    assert territory_of_point(GeoPoint(0.0, 0.0), geo) is None
    assert same_territory("reunion", "reunion")
    assert not same_territory("reunion", "metropole")
    assert not same_territory(None, None)
