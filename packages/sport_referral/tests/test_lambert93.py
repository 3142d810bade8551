"""Lambert-93 and UTM inverse projections against reference points.

Reference values were computed once with PROJ 9 (pyproj 3.8, ``Transformer.from_crs(EPSG:xxxx,
EPSG:4326)``) and are hard-coded here, so the test needs no geodesy library.
"""

import math

import pytest

from sport_referral.importers.lambert93 import lambert93_to_wgs84, to_wgs84, utm_to_wgs84, wgs84_to_lambert93


def _metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    # Local equirectangular distance: exact enough for sub-metre comparisons.
    dlat = math.radians(lat2 - lat1)
    dlon = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    return 6371008.8 * math.hypot(dlat, dlon)


LAMBERT93_POINTS = [
    # x, y, expected lat, expected lon (PROJ 9, EPSG:2154 -> EPSG:4326)
    (700000.0, 6600000.0, 46.500000000, 3.000000000),  # projection origin
    (652469.02, 6862035.26, 48.856600005, 2.352199963),  # Paris
    (842666.66, 6519924.37, 45.764000029, 4.835700011),  # Lyon
    (574357.8, 6279642.9, 43.604699346, 1.444199768),  # Toulouse
    (1051090.0, 6212960.0, 42.930007187, 7.298779238),  # off Corsica, south-east corner
    (351867.0, 6789201.0, 48.110295304, -1.680415183),  # Rennes
    (1199999.0, 7100000.0, 50.794402207, 10.087441121),  # far north-east of the grid
    (100000.0, 6100000.0, 41.754413412, -4.206932188),  # far south-west of the grid
]


@pytest.mark.parametrize(("x", "y", "lat", "lon"), LAMBERT93_POINTS)
def test_lambert93_inverse_is_within_one_metre_of_proj(x: float, y: float, lat: float, lon: float) -> None:
    got_lat, got_lon = lambert93_to_wgs84(x, y)
    assert _metres(got_lat, got_lon, lat, lon) < 1.0
    # In fact the closed form agrees to the millimetre.
    assert _metres(got_lat, got_lon, lat, lon) < 0.001


@pytest.mark.parametrize(("x", "y", "lat", "lon"), LAMBERT93_POINTS)
def test_round_trip(x: float, y: float, lat: float, lon: float) -> None:
    back_x, back_y = wgs84_to_lambert93(*lambert93_to_wgs84(x, y))
    assert abs(back_x - x) < 1e-4
    assert abs(back_y - y) < 1e-4


def test_forward_matches_proj() -> None:
    x, y = wgs84_to_lambert93(48.8566, 2.3522)
    assert abs(x - 652469.0227) < 0.01
    assert abs(y - 6862035.2594) < 0.01


UTM_POINTS = [
    # x, y, zone, south, lat, lon (PROJ 9: EPSG:32620, 2972, 2975, 4471)
    (710000.0, 1800000.0, 20, False, 16.271708742, -61.034877547),  # Guadeloupe
    (652000.0, 1620000.0, 20, False, 14.649199047, -61.588545056),  # Martinique
    (350000.0, 550000.0, 22, False, 4.974507627, -52.352950032),  # French Guiana
    (338000.0, 7690000.0, 40, True, -20.883144691, 55.442593827),  # La Réunion
    (513000.0, 8588000.0, 38, True, -12.772675643, 45.119772303),  # Mayotte
]


@pytest.mark.parametrize(("x", "y", "zone", "south", "lat", "lon"), UTM_POINTS)
def test_utm_inverse_is_within_one_metre_of_proj(x: float, y: float, zone: int, south: bool, lat: float, lon: float) -> None:
    got_lat, got_lon = utm_to_wgs84(x, y, zone, south=south)
    assert _metres(got_lat, got_lon, lat, lon) < 0.01


def test_to_wgs84_dispatch() -> None:
    assert to_wgs84(700000.0, 6600000.0, "lambert93") == pytest.approx((46.5, 3.0))
    assert to_wgs84(2.35, 48.85, "wgs84") == (48.85, 2.35)
    lat, lon = to_wgs84(338000.0, 7690000.0, "utm40s")
    assert _metres(lat, lon, -20.883144691, 55.442593827) < 0.01
    with pytest.raises(ValueError):
        to_wgs84(0, 0, "mercator")
    with pytest.raises(ValueError):
        to_wgs84(0, 0, "utm61n")
    with pytest.raises(ValueError):
        utm_to_wgs84(0, 0, 61, south=False)
