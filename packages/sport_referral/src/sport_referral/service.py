"""Directory use cases: persist an import, search structures. The only place rules meet the database."""

from __future__ import annotations

import datetime as dt
import math
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import nullcontext
from functools import cache

import msgspec
from sqlalchemy import Connection, Text, bindparam, cast, func, insert, select

from shared_core.actors import Actor
from shared_core.db import Database, utcnow
from shared_core.services import audit
from shared_core.text import fold
from sport_referral.catalogue.loader import load_supervision_matrix
from sport_referral.catalogue.loader_sport import load_matching_settings
from sport_referral.geo.gazetteer import Gazetteer, get_gazetteer
from sport_referral.importers.report import ImportResult
from sport_referral.model.matching import GeoPoint, MatchingSettings
from sport_referral.model.structures import Structure
from sport_referral.rules.api_contract import (
    StructuresAnswer,
    resolve_origin,
    structures_answer,
    structures_request,
    validate_structures_query,
)
from sport_referral.rules.geo import haversine_many_km, round_km
from sport_referral.rules.matching import match_structures
from sport_referral.rules.supervision import SupervisionMatrix
from sport_referral.tables import SportStructure

KM_PER_DEGREE_LATITUDE = 111.32
_STRUCTURE_DECODER = msgspec.json.Decoder(Structure)
BATCH = 2_000


class PersistReport(msgspec.Struct, frozen=True):
    created: int
    updated: int
    unchanged: int
    conflicts: list[str]  # records a coordinator confirmed: the import never overwrites them (§6)


class CommunePoints(Mapping[str, GeoPoint]):
    """Commune points of the gazetteer by INSEE code, looked up on demand (no 35,000-entry copy)."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        self._gazetteer = gazetteer

    def __getitem__(self, insee_code: str) -> GeoPoint:
        entry = self._gazetteer.commune(insee_code)
        if entry is None or entry.lat is None or entry.lon is None:
            raise KeyError(insee_code)
        return GeoPoint(entry.lat, entry.lon)

    def __iter__(self) -> Iterator[str]:
        raise TypeError("commune points are looked up by code, not listed")

    def __len__(self) -> int:
        return self._gazetteer.size


@cache
def commune_points() -> CommunePoints:
    return CommunePoints(get_gazetteer())


def _canonical(record: Structure) -> dict[str, object]:
    """JSON-ready and deterministic (sets sorted), so an unchanged re-import compares equal."""
    data: dict[str, object] = msgspec.json.decode(msgspec.json.encode(record, order="deterministic"))
    return data


def _row_values(record: Structure, now: dt.datetime) -> dict[str, object]:
    return {
        "id": record.structure_id, "kind": record.kind, "name": record.name, "commune_insee": record.commune_insee,
        "department_code": record.department_code, "region_code": record.region_code,
        "latitude": record.latitude, "longitude": record.longitude,
        "accepting_referrals": record.accepting_referrals, "source": record.source,
        "source_ref": record.source_ref or record.structure_id, "profile_confirmed_at": record.profile_confirmed_at,
        "data": _canonical(record), "imported_at": now, "updated_at": now,
    }


def persist_import(database: Database, actor: Actor, result: ImportResult, file_name: str) -> PersistReport:
    """Save what an importer read (its records are field-compatible with ``Structure``)."""
    records = [msgspec.convert(msgspec.to_builtins(r), Structure) for r in result.records]
    return save_structures(database, actor, records, file_name)


def save_structures(database: Database, actor: Actor, records: Sequence[Structure], label: str) -> PersistReport:
    """Upsert every record in one transaction, keyed by (source, source_ref): re-imports are idempotent."""
    now = utcnow()
    created = updated = unchanged = 0
    conflicts: list[str] = []
    with database.write() as session:
        by_source: dict[str, set[str]] = {}
        for record in records:
            by_source.setdefault(record.source, set()).add(record.source_ref or record.structure_id)
        existing: dict[tuple[str, str], SportStructure] = {}
        for source, refs in by_source.items():
            ordered = sorted(refs)
            for start in range(0, len(ordered), BATCH):
                chunk = ordered[start:start + BATCH]
                for found in session.scalars(select(SportStructure).where(SportStructure.source == source,
                                                                           SportStructure.source_ref.in_(chunk))):
                    existing[(found.source, found.source_ref)] = found
        new_rows: list[dict[str, object]] = []
        for record in records:
            values = _row_values(record, now)
            row = existing.get((record.source, str(values["source_ref"])))
            if row is None:
                new_rows.append(values)
                created += 1
            elif row.profile_confirmed_at is not None:
                if row.data != values["data"]:
                    conflicts.append(f"{row.id}: profile confirmed by its coordinator, not overwritten")
                unchanged += 1
            elif row.data == values["data"]:
                unchanged += 1
            else:
                for name, value in values.items():
                    if name not in ("id", "imported_at"):
                        setattr(row, name, value)
                updated += 1
        for start in range(0, len(new_rows), BATCH):
            session.execute(insert(SportStructure), new_rows[start:start + BATCH])
        audit.record(session, actor, "import", "sport_structure", None,
                     detail=f"{label}: {created} created, {updated} updated, {unchanged} unchanged, "
                            f"{len(conflicts)} conflicts")
    return PersistReport(created, updated, unchanged, conflicts)


def _bounding_box(origin: GeoPoint, radius_km: float) -> tuple[float, float, float, float]:
    """A box that holds every point whose distance rounds to ``radius_km`` or less (a little wider: the
    exact test is the haversine)."""
    reach = radius_km + 0.05
    delta_lat = reach / KM_PER_DEGREE_LATITUDE * 1.01
    cos_lat = max(math.cos(math.radians(min(abs(origin.lat) + delta_lat, 89.9))), 1e-6)
    delta_lon = reach / (KM_PER_DEGREE_LATITUDE * cos_lat) * 1.01
    return origin.lat - delta_lat, origin.lat + delta_lat, origin.lon - delta_lon, origin.lon + delta_lon


# An answer without a limit holds tens of MB around a city (6,000 structures decoded and explained);
# side by side on the worker's one core they would only multiply the memory, never the throughput.
_WHOLE_ANSWERS = threading.Lock()


def search_directory(
    database: Database,
    params: Mapping[str, str | Sequence[str]],
    *,
    today: dt.date,
    matrix: SupervisionMatrix | None = None,
    settings: MatchingSettings | None = None,
) -> StructuresAnswer:
    """GET /api/v1/sport/structures: the structures in the radius, nearest first, through the M-rules.
    With ``limit`` only a page's worth is decoded; without it, every structure in the radius."""
    settings = settings or load_matching_settings()
    matrix = matrix or load_supervision_matrix()
    points = commune_points()
    query = validate_structures_query(params, settings)
    origin, department = resolve_origin(query, points)
    request = structures_request(query, origin=origin, origin_department=department, today=today)
    with _WHOLE_ANSWERS if query.window is None else nullcontext(), database.read_rows() as connection:
        nearest = nearest_structures(connection, origin, query.radius_km, settings.geo.earth_radius_km,
                                     rings=query.window is not None)
        result = match_structures(request, nearest, matrix, settings, points, limit=query.window)
        return structures_answer(result, offset=query.offset)


# A page of the nearest structures reads outward from this radius, doubling it, so a city's page never
# reads its thousands; structures are then decoded in batches growing from the first to the last size.
# Each ring scans a band of latitude across the whole country: around Paris at national scale, a first
# ring of 2 km scanned 2,500 positions for the 30 nearest (4.1 ms), one of 1 km 1.6 ms; 0.5 km, 2.0 ms.
FIRST_RING_KM = 1.0
_FIRST_BATCH, _LAST_BATCH = 64, 2_048
# Built once: a page of the nearest runs several of each; building them and their cache keys made it
# 3.0 ms of CPU instead of 1.7.
_POSITIONS_IN_BOX = select(SportStructure.id, SportStructure.latitude, SportStructure.longitude,
                           SportStructure.name).where(
    SportStructure.latitude.between(bindparam("south"), bindparam("north")),
    SportStructure.longitude.between(bindparam("west"), bindparam("east")))
_RECORDS_OF = select(SportStructure.id, cast(SportStructure.data, Text)).where(
    SportStructure.id.in_(bindparam("ids", expanding=True)))


def nearest_structures(connection: Connection, origin: GeoPoint, radius_km: float, earth_radius_km: float, *,
                       name: str = "", rings: bool = False) -> Iterator[Structure]:
    """The stored structures whose distance from ``origin`` rounds to ``radius_km`` or less (M-7 on their
    coordinates: rows without any are never in the range scan), nearest first, decoded only as far as
    they are read. ``name`` keeps those whose name contains it (case and accents ignored).

    With ``rings``, positions are read ring by ring (FIRST_RING_KM, then doubling), for a reader that
    stops after the nearest few; without, in one range scan, for one that reads them all."""
    wanted = fold(name.strip())
    inner = -1.0
    ring = min(FIRST_RING_KM, radius_km) if rings else radius_km
    while True:
        last = ring >= radius_km
        south, north, west, east = _bounding_box(origin, ring)
        rows = connection.execute(_POSITIONS_IN_BOX, {"south": south, "north": north, "west": west, "east": east}
                                  ).all()
        # The range scan never returns a row without coordinates; their type is only nullable.
        distances = haversine_many_km(origin, ((row[1], row[2]) for row in rows), earth_radius_km)  # type: ignore[misc]
        ranked = [(distance, structure_id, latitude, longitude)
                  for distance, (structure_id, latitude, longitude, structure_name) in zip(distances, rows, strict=True)
                  if inner < distance and (round_km(distance) <= radius_km if last else distance <= ring)
                  and (not wanted or wanted in fold(structure_name))]
        ranked.sort()
        yield from _decoded(connection, ranked)
        if last:
            return
        inner, ring = ring, min(ring * 2, radius_km)


def _decoded(connection: Connection, ranked: list[tuple[float, str, float | None, float | None]]
             ) -> Iterator[Structure]:
    """Each ranked structure's record, read and decoded batch by batch in rank order.

    Positions and records come from separate statements: a structure an import moved in between (its
    record no longer at the ranked position) is left out of this answer rather than break the order."""
    start, size = 0, _FIRST_BATCH
    while start < len(ranked):
        batch = ranked[start:start + size]
        data = dict(connection.execute(_RECORDS_OF, {"ids": [entry[1] for entry in batch]}).all())
        for _, structure_id, latitude, longitude in batch:
            structure = _STRUCTURE_DECODER.decode(data[structure_id])
            if structure.latitude == latitude and structure.longitude == longitude:
                yield structure
        start, size = start + size, min(size * 4, _LAST_BATCH)


def structure_count(database: Database) -> int:
    with database.read() as session:
        return session.scalar(select(func.count()).select_from(SportStructure)) or 0
