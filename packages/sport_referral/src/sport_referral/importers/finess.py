"""FINESS extraction import (``--format finess``, domain-sport §6.3, rules D-6 to D-8).

The data.gouv.fr file ``etalab_cs1100507_stock_<date>.csv`` [to verify] is ``;``-separated, not
quoted, in ISO-8859-15 for older files (UTF-8 is detected: ``encoding="auto"``). The first line
is a file header (``finess;etalab;…``); then ``structureet`` lines (one per establishment) and
``geolocalisation`` lines (projected coordinates), joined on ``nofinesset``.

Only establishments of ``cfg:finess.categories`` are kept (D-6); category 700 → ``mss``, the
others → ``esms``. They are imported with ``accepting_referrals = false`` (D-8). Coordinates are
reprojected to WGS84 (Lambert-93 in mainland France, UTM overseas) by :mod:`.lambert93`.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator

from shared_core.rules.identifiers import check_finess, check_siret
from sport_referral.geo.gazetteer import Gazetteer
from sport_referral.importers.lambert93 import to_wgs84
from sport_referral.importers.report import (
    FileDecodeError,
    ImportResult,
    ImportSource,
    ProgressCallback,
    ReportBuilder,
    RowContext,
    decoded_lines,
    parse_date,
)
from sport_referral.model.gazetteer import department_of
from sport_referral.model.imports import ImportedStructure, ImportSettings, load_import_settings
from sport_referral.model.matching import GeoPoint
from sport_referral.model.structures import GeoPrecision, StructureKind
from sport_referral.rules.geo import haversine_km

__all__ = ["GEOLOCALISATION_COLUMNS", "STRUCTUREET_COLUMNS", "import_finess", "projection_from_source"]

# §6.3 [to verify]: column order of the two record types (after the record-type field).
STRUCTUREET_COLUMNS: tuple[str, ...] = (
    "nofinesset", "nofinessej", "rs", "rslongue", "complrs", "compldistrib", "numvoie", "typvoie", "voie",
    "compvoie", "lieuditbp", "commune", "departement", "libdepartement", "ligneacheminement", "telephone",
    "telecopie", "categetab", "libcategetab", "categagretab", "libcategagretab", "siret", "codeape", "codemft",
    "libmft", "codesph", "libsph", "dateouv", "dateautor", "datemaj", "numuai",
)
GEOLOCALISATION_COLUMNS: tuple[str, ...] = ("nofinesset", "coordxet", "coordyet", "sourcecoordet", "datemajcoord")

_ACHEMINEMENT = re.compile(r"^\s*(\d{5})\s+(.*?)\s*$")
_PHONE = re.compile(r"0[1-9]\d{8}")
_SOURCE_PROJECTION = re.compile(r"(LAMBERT_?93|UTM_?([NS])_?(\d{1,2})|WGS_?84)", re.IGNORECASE)


def projection_from_source(sourcecoordet: str) -> str | None:
    """The projection named in ``sourcecoordet`` (e.g. ``…,IGN,BD_ADRESSE,V2.2,LAMBERT_93`` or
    ``…,UTM_N20``) [to verify], or None when it names none."""
    matches = list(_SOURCE_PROJECTION.finditer(sourcecoordet))
    if not matches:
        return None
    match = matches[-1]
    token = match.group(1).upper()
    if token.startswith("LAMBERT"):
        return "lambert93"
    if token.startswith("WGS"):
        return "wgs84"
    return f"utm{int(match.group(3))}{match.group(2).lower()}"


class _Establishment:
    __slots__ = ("cells", "line")

    def __init__(self, line: int, cells: dict[str, str]) -> None:
        self.line = line
        self.cells = cells


def import_finess(
    source: ImportSource,
    gazetteer: Gazetteer,
    *,
    settings: ImportSettings | None = None,
    encoding: str = "auto",
    all_or_nothing: bool = False,
    progress: ProgressCallback | None = None,
    total: int | None = None,
) -> ImportResult:
    """Import a FINESS extraction. ``encoding="auto"``: UTF-8, else ISO-8859-15."""
    settings = settings or load_import_settings()
    builder = ReportBuilder("finess", all_or_nothing=all_or_nothing, progress=progress, total=total)
    builder.delimiter = ";"

    def set_encoding(name: str) -> None:
        builder.encoding = name

    lines = decoded_lines(source, encoding, fallback="iso-8859-15", on_encoding=set_encoding)
    try:
        kept, geoloc = _scan(lines, settings, builder)
    except FileDecodeError as error:
        builder.file_error(error.line, "encoding", error.message)
        return builder.result()
    if not kept and not builder.rows_read:
        builder.file_error(0, "empty", "no structureet line found: is this a FINESS extraction?")
        return builder.result()
    for establishment in kept:
        _build(establishment, geoloc.get(establishment.cells["nofinesset"]), gazetteer, settings, builder)
    return builder.result()


def _scan(lines: Iterator[str], settings: ImportSettings,
          builder: ReportBuilder) -> tuple[list[_Establishment], dict[str, tuple[int, dict[str, str]]]]:
    """One streaming pass: keep the establishments of the kept categories and all coordinates."""
    categories = set(settings.finess.categories)
    kept: list[_Establishment] = []
    geoloc: dict[str, tuple[int, dict[str, str]]] = {}
    reader = csv.reader(lines, delimiter=";", quoting=csv.QUOTE_NONE)
    for cells in reader:
        line = reader.line_num
        if not cells or not any(cell.strip() for cell in cells):
            continue
        kind = cells[0].strip().lower()
        if kind == "structureet":
            builder.row_read()
            if len(cells) - 1 != len(STRUCTUREET_COLUMNS):
                row = RowContext(line)
                row.error("field_count", f"a structureet line has {len(STRUCTUREET_COLUMNS) + 1} fields, "
                                         f"found {len(cells)}")
                builder.finish_row(row, None, cells[1].strip() if len(cells) > 1 else None)
                continue
            values = {name: cell.strip() for name, cell in zip(STRUCTUREET_COLUMNS, cells[1:], strict=True)}
            if values["categetab"] not in categories:
                builder.exclude(line, values["nofinesset"], "category_not_kept",
                                f"category {values['categetab']} is not in cfg:finess.categories (D-6)",
                                itemize=False)
                continue
            kept.append(_Establishment(line, values))
        elif kind == "geolocalisation":
            if len(cells) - 1 < 3:
                builder.file_warning("geoloc_short", f"line {line}: geolocalisation line with too few fields",
                                     once=False, line=line)
                continue
            values = {name: cell.strip() for name, cell in zip(GEOLOCALISATION_COLUMNS, cells[1:], strict=False)}
            geoloc[values["nofinesset"]] = (line, values)
        elif line == 1:
            continue  # the file header: finess;etalab;<version>;<date>
        else:
            builder.file_warning("unknown_record", f"line {line}: unknown record type {cells[0][:30]!r} ignored",
                                 once=False, line=line)
    return kept, geoloc


def _commune(cells: dict[str, str], gazetteer: Gazetteer, settings: ImportSettings,
             row: RowContext) -> tuple[str | None, str | None, str]:
    """D-7: ``departement`` + ``commune``; else the postcode and name of ``ligneacheminement``.
    Returns (INSEE code, postcode, city name)."""
    match = _ACHEMINEMENT.match(cells["ligneacheminement"])
    postcode, city = (match.group(1), match.group(2)) if match else (None, cells["ligneacheminement"])
    department = cells["departement"].upper()
    department = settings.finess.department_aliases.get(department, department)
    commune = cells["commune"]
    candidates: list[str] = []
    if len(commune) == 3 and commune.isalnum():
        if len(department) == 2:
            candidates.append(department + commune)
        elif len(department) == 3:
            candidates += [department[:2] + commune, department + commune[-2:]]
    for code in candidates:
        if gazetteer.commune(code) is not None and department_of(code) == department:
            return code, postcode, city
    if postcode is not None:
        found = gazetteer.find(postcode, city)
        if len(found) == 1:
            if candidates:
                row.warning("commune_resolved", f"commune {candidates[0]} is not a current commune: resolved from "
                            f"ligneacheminement {cells['ligneacheminement']!r} to {found[0].insee_code} "
                            f"{found[0].name} (D-7)", "commune")
            return found[0].insee_code, postcode, city
        if len(found) > 1:
            row.error("commune_ambiguous", f"{cells['ligneacheminement']!r} matches several communes "
                      f"({', '.join(e.insee_code for e in found)}); G-2: the product never guesses", "commune")
            return None, postcode, city
    if candidates:
        lookup = gazetteer.check(candidates[0])
        if not lookup.errors and lookup.suggestion is not None:
            # A former commune merged into a current one: kept, with the §5.6 warning and suggestion.
            for message in lookup.warnings:
                row.warning("commune_unknown", message, "commune")
            return candidates[0], postcode, city
    row.error("commune", f"commune not found: departement {cells['departement']!r}, commune {commune!r}, "
              f"ligneacheminement {cells['ligneacheminement']!r} (D-7)", "commune")
    return None, postcode, city


def _near(point: tuple[float, float], commune_point: tuple[float, float], max_km: float) -> bool:
    lat, lon = point
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return False
    return haversine_km(GeoPoint(lat=lat, lon=lon), GeoPoint(lat=commune_point[0], lon=commune_point[1])) <= max_km


def _point(geo: tuple[int, dict[str, str]] | None, commune: str, gazetteer: Gazetteer, settings: ImportSettings,
           row: RowContext) -> tuple[float | None, float | None, GeoPrecision | None]:
    """Reproject the FINESS point and check it against the commune point (same rule as D-3)."""
    commune_point = gazetteer.point(commune)
    point = _projected(geo, commune, settings, row)
    if point is not None and commune_point is not None and not _near(point, commune_point,
                                                                     settings.finess.max_offset_km):
        swapped = (point[1], point[0])
        if _near(swapped, commune_point, settings.finess.max_offset_km):
            row.warning("axes_swapped", "FINESS coordinates read with the axes swapped", "coordxet")
            point = swapped
        else:
            row.warning("coordinates_far", f"FINESS point is more than {settings.finess.max_offset_km:g} km from "
                        "the commune point: the commune point is used", "coordxet")
            point = None
    if point is not None and -90 <= point[0] <= 90 and -180 <= point[1] <= 180:
        return round(point[0], 6), round(point[1], 6), "address"
    if commune_point is not None:
        return commune_point[0], commune_point[1], "commune"
    row.warning("no_point", "no coordinates and no commune point: the structure has no location", "coordxet")
    return None, None, None


def _projected(geo: tuple[int, dict[str, str]] | None, commune: str, settings: ImportSettings,
               row: RowContext) -> tuple[float, float] | None:
    if geo is None:
        return None
    geo_line, values = geo
    x_raw, y_raw = values.get("coordxet", ""), values.get("coordyet", "")
    if not x_raw and not y_raw:
        return None
    try:
        x, y = float(x_raw.replace(",", ".")), float(y_raw.replace(",", "."))
    except ValueError:
        row.warning("bad_coordinates", f"unreadable coordinates {x_raw!r}/{y_raw!r} (line {geo_line})", "coordxet")
        return None
    if abs(x) <= 180 and abs(y) <= 180:
        return to_wgs84(x, y, "wgs84")  # some records carry degrees, whatever the source says
    projection = projection_from_source(values.get("sourcecoordet", ""))
    if projection is None or projection == "wgs84":
        projection = settings.finess.projection_by_department.get(department_of(commune),
                                                                  settings.finess.default_projection)
    return to_wgs84(x, y, projection)


def _build(establishment: _Establishment, geo: tuple[int, dict[str, str]] | None, gazetteer: Gazetteer,
           settings: ImportSettings, builder: ReportBuilder) -> None:
    cells = establishment.cells
    row = RowContext(establishment.line)
    et = check_finess(cells["nofinesset"])
    for message in et.errors:
        row.error("finess_et", message, "nofinesset")
    for message in et.warnings:
        row.warning("finess_et", message, "nofinesset")
    ej_value = None
    if cells["nofinessej"]:
        ej = check_finess(cells["nofinessej"])
        for message in ej.errors:
            row.error("finess_ej", message, "nofinessej")
        for message in ej.warnings:
            row.warning("finess_ej", message, "nofinessej")
        ej_value = ej.value
    siret_value = None
    if cells["siret"]:
        siret = check_siret(cells["siret"])
        for message in siret.errors:
            row.error("siret", message, "siret")
        for message in siret.warnings:
            row.warning("siret", message, "siret")
        siret_value = siret.value
    name = cells["rslongue"] or cells["rs"]
    if not name:
        row.error("required", "rs and rslongue are both empty", "rs")
    name = name[:200]
    commune, postcode, city = _commune(cells, gazetteer, settings, row)
    if postcode is None:
        entry = gazetteer.commune(commune) if commune else None
        if entry is not None and len(entry.postcodes) == 1:
            postcode = entry.postcodes[0]
        else:
            row.error("postcode", f"no postcode in ligneacheminement {cells['ligneacheminement']!r}",
                      "ligneacheminement")
    phone_digits = re.sub(r"\D", "", cells["telephone"])
    phone = phone_digits if _PHONE.fullmatch(phone_digits) else None
    if cells["telephone"] and phone is None:
        row.warning("phone", f"telephone {cells['telephone']!r} is not a French number: dropped", "telephone")
    updated = parse_date(cells["datemaj"])
    category = cells["categetab"]
    kind: StructureKind = "mss" if category == settings.finess.mss_category else "esms"
    if kind == "mss":
        row.warning("mss_habilitation", "FINESS gives no habilitation date: mss_habilitated_from must be "
                    "completed by a coordinator (§5.1)", "categetab")
    street = " ".join(part for part in (cells["numvoie"], cells["compvoie"], cells["typvoie"], cells["voie"]) if part)
    address = ", ".join(part for part in (cells["complrs"], street, cells["lieuditbp"]) if part) or None
    source_ref = et.value
    if row.errors or commune is None or postcode is None:
        builder.finish_row(row, None, source_ref or None, duplicate_key=source_ref or None)
        return
    lat, lon, precision = _point(geo, commune, gazetteer, settings, row)
    entry = gazetteer.commune(commune)
    record = ImportedStructure(
        structure_id=f"finess-{et.value}",
        kind=kind,
        name=name,
        postcode=postcode,
        commune_insee=commune,
        commune_name=entry.name if entry is not None else city or None,
        accepting_referrals=False,  # D-8: no referent in FINESS
        source="finess",
        source_ref=source_ref,
        source_licence=settings.finess.licence,
        source_updated_at=updated,
        finess_et=et.value,
        finess_ej=ej_value,
        siret=siret_value,
        esms_category_code=category,
        address_line=address[:250] if address else None,
        department_code=department_of(commune),
        region_code=gazetteer.region_code(commune),
        latitude=lat,
        longitude=lon,
        geo_precision=precision,
        phone=phone,
    )
    builder.finish_row(row, record, source_ref, duplicate_key=source_ref)
