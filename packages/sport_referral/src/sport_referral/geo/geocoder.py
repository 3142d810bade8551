"""Optional online geocoder (domain-sport §12.3, G-6): off by default, never needed to work.

``Geocoder.geocode(text, citycode)`` asks the national address API (Base Adresse Nationale,
endpoint ``cfg:geocoder.endpoint`` [to verify: the service is moving to the IGN Géoplateforme])
and returns a :class:`GeocodedPoint` or None. It is None whenever the geocoder is disabled
(``cfg:geocoder.enabled = false``, the default), the call fails or times out (3 s), or the best
answer is too weak or lies in another commune; callers then use the commune point
(:func:`locate`). Results are cached. Patient addresses are refused unless
``cfg:geocoder.allow_patient_addresses`` is true AND the patient gave the separate consent.

The HTTP call goes through an injectable *transport* (``(url, timeout_s) -> bytes``), so tests
never touch the network.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.parse
import urllib.request
from collections import OrderedDict
from collections.abc import Callable
from typing import Literal

import msgspec

from sport_referral.geo.gazetteer import Gazetteer
from sport_referral.model.imports import GeocoderSettings

__all__ = ["GeocodedPoint", "Geocoder", "GeocoderRefused", "Located", "Transport", "locate", "urllib_transport"]

_LOG = logging.getLogger(__name__)

Transport = Callable[[str, float], bytes]
Purpose = Literal["structure", "patient"]


class GeocoderRefused(PermissionError):
    """A patient address was offered without the setting and the patient's consent (G-6)."""


class GeocodedPoint(msgspec.Struct, frozen=True, kw_only=True):
    lat: float
    lon: float
    score: float
    result_type: str  # BAN: housenumber | street | locality | municipality
    citycode: str | None
    label: str


class Located(msgspec.Struct, frozen=True, kw_only=True):
    """Where to put a structure: the geocoded address, else the commune point (§5.5 geo_precision)."""

    lat: float | None
    lon: float | None
    geo_precision: Literal["address", "commune"] | None
    note: str = ""


def urllib_transport(url: str, timeout_s: float) -> bytes:
    """Default transport: one GET with a timeout (standard library only)."""
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "Parcours"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
        body: bytes = response.read()
        return body


class Geocoder:
    """The G-6 adapter. Thread-safe; one instance per process is enough."""

    def __init__(self, settings: GeocoderSettings, transport: Transport | None = None) -> None:
        self.settings = settings
        self._transport = transport or urllib_transport
        self._cache: OrderedDict[tuple[str, str | None], GeocodedPoint | None] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.settings.enabled

    def geocode(self, text: str, citycode: str | None = None, *, purpose: Purpose = "structure",
                patient_consented: bool = False) -> GeocodedPoint | None:
        if purpose == "patient" and not (self.settings.allow_patient_addresses and patient_consented):
            raise GeocoderRefused("patient addresses are geocoded only when cfg:geocoder.allow_patient_addresses "
                                  "is true and the patient consented to it (G-6)")
        query = " ".join(text.split())
        if not self.settings.enabled or len(query) < 3:
            return None
        key = (query.casefold(), citycode)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        result = self._ask(query, citycode)
        with self._lock:
            self._cache[key] = result
            while len(self._cache) > self.settings.cache_size:
                self._cache.popitem(last=False)
        return result

    def _ask(self, query: str, citycode: str | None) -> GeocodedPoint | None:
        params = {"q": query, "limit": "1"}
        if citycode:
            params["citycode"] = citycode
        url = f"{self.settings.endpoint}?{urllib.parse.urlencode(params)}"
        try:
            body = self._transport(url, self.settings.timeout_s)
            answer = json.loads(body)
            features = answer.get("features") or []
            if not features:
                return None
            feature = features[0]
            properties = feature.get("properties") or {}
            lon, lat = (float(value) for value in feature["geometry"]["coordinates"][:2])
            point = GeocodedPoint(
                lat=lat, lon=lon, score=float(properties.get("score", 0.0)),
                result_type=str(properties.get("type", "")), citycode=properties.get("citycode"),
                label=str(properties.get("label", "")),
            )
        except Exception as error:
            _LOG.warning("geocoder unavailable, falling back to the commune point: %s", type(error).__name__)
            return None
        if point.score < self.settings.min_score:
            return None
        if citycode and point.citycode and point.citycode != citycode:
            return None
        if point.result_type not in self.settings.accepted_types:
            return None
        return point


def locate(address: str | None, commune_insee: str, gazetteer: Gazetteer, geocoder: Geocoder | None = None) -> Located:
    """A structure's point: the geocoded address when the geocoder is on and answers, else the
    commune point of the gazetteer (``geo_precision = commune``), else nothing."""
    if geocoder is not None and geocoder.enabled and address:
        point = geocoder.geocode(address, commune_insee)
        if point is not None:
            return Located(lat=point.lat, lon=point.lon, geo_precision="address")
    commune_point = gazetteer.point(commune_insee)
    if commune_point is None:
        return Located(lat=None, lon=None, geo_precision=None, note=f"no point known for commune {commune_insee}")
    return Located(lat=commune_point[0], lon=commune_point[1], geo_precision="commune")
