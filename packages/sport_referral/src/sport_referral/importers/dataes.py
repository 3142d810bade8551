"""Data ES import (``--format dataes``, domain-sport §6.1-6.2, rules D-1 to D-5).

Reads the national sports-equipment CSV export (Opendatasoft, ``;``-separated, UTF-8) of the
dataset ``data-es``, or of the newer ``data-es-equipement`` (detected from its header). Each
equipment becomes a ``venue`` (D-4); equipments of one installation share ``installation_ref``.
Personal columns (``declarant_*``) are dropped at parse time (D-5). Streaming: one row at a
time through :mod:`csv`, so the 330,000-row national file fits in little memory.
"""

from __future__ import annotations

import csv
import itertools
import json
import logging
import re
from collections.abc import Iterator

from shared_core.rules.identifiers import check_commune_insee
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
    split_multi,
)
from sport_referral.model.gazetteer import department_of
from sport_referral.model.imports import ImportedStructure, ImportSettings, load_import_settings
from sport_referral.model.matching import GeoPoint
from sport_referral.model.structures import ACCESS_FEATURES, AccessFeature, GeoPrecision
from sport_referral.rules.geo import haversine_km

__all__ = ["DATAES_ACCESS_COLUMNS", "import_dataes", "parse_dataes_bool", "parse_dataes_coordinates"]

_LOG = logging.getLogger(__name__)

# §5.7: data-es column → AccessFeature. Column names [verified] unless §5.7 marks them.
DATAES_ACCESS_COLUMNS: dict[str, AccessFeature] = {
    "equip_pmr_acc": "motor_reception",
    "equip_pmr_chem": "motor_paths",
    "equip_pmr_aire": "motor_practice_area",  # [to verify]
    "equip_pmr_vest": "motor_changing_rooms",
    "equip_pmr_douche": "motor_showers",
    "equip_pmr_sanit": "motor_toilets",
    "equip_pmr_trib": "motor_stands",
    "equip_pshs_chem": "sensory_paths",
    "equip_pshs_sign": "sensory_signage",
    "equip_pshs_aire": "sensory_practice_area",
    "equip_pshs_vest": "sensory_changing_rooms",
    "equip_pshs_sanit": "sensory_toilets",
    "equip_pshs_trib": "sensory_stands",
    "inst_trans_bool": "public_transport_nearby",
    "inst_acc_handi_bool": "any_disability_access",
}
_EQUIPEMENT_FIELDS = {"acces_handi_mobilite": "motor_", "acces_handi_sensoriel": "sensory_"}
_EQUIPEMENT_MARKERS = frozenset({"acces_handi_mobilite", "acces_handi_sensoriel", "installation_numero"})

# §5.6 soft checks [to verify] → warnings only.
_EQUIP_NUMERO = re.compile(r"E\d{3}I(?:\d{2}|2[AB])\d{3}\d{4}")
_INST_NUMERO = re.compile(r"I(?:\d{2}|2[AB])\d{3}\d{4}")
_POSTCODE = re.compile(r"\d{5}")
_STRUCTURE_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")

_TRUE = frozenset({"true", "1", "oui", "vrai", "yes"})
_FALSE = frozenset({"false", "0", "non", "faux", "no"})


def parse_dataes_bool(value: str) -> tuple[bool | None, bool]:
    """D-1: ``(value, canonical)``. ``"true"``/``"false"`` are canonical; True/False, 1/0, Oui/Non in
    any case are accepted (``canonical`` False, the file gets one warning). Empty or unreadable →
    ``None`` (unknown, never false)."""
    text = value.strip()
    if not text:
        return None, True
    canonical = text in ("true", "false")
    folded = text.casefold()
    if folded in _TRUE:
        return True, canonical
    if folded in _FALSE:
        return False, canonical
    return None, False


def parse_dataes_coordinates(value: str) -> tuple[float, float] | None:
    """D-3: ``{"lon": x, "lat": y}`` JSON or a ``"lat, lon"`` string (also ``[lat, lon]``) → (lat, lon)."""
    text = value.strip()
    if not text:
        return None
    try:
        if text.startswith("{"):
            data = json.loads(text)
            return float(data["lat"]), float(data["lon"])
        parts = [part.strip() for part in text.strip("[]()").split(",")]
        if len(parts) != 2:
            return None
        return float(parts[0]), float(parts[1])
    except (ValueError, KeyError, TypeError):
        return None


def _plausible(lat: float, lon: float) -> bool:
    return -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0


def _distance(a: tuple[float, float], b: tuple[float, float]) -> float:
    return haversine_km(GeoPoint(lat=a[0], lon=a[1]), GeoPoint(lat=b[0], lon=b[1]))


class _Columns:
    """Header → index of each canonical column (aliases resolved), personal columns dropped."""

    def __init__(self, header: list[str], settings: ImportSettings, builder: ReportBuilder) -> None:
        names = [name.strip().lstrip("\ufeff") for name in header]
        personal = set(settings.dataes.personal_data_columns)
        prefixes = settings.dataes.personal_data_prefixes
        self.width = len(names)
        self.index: dict[str, int] = {}
        dropped = [name for name in names if name in personal or name.startswith(prefixes)]
        if dropped:
            builder.dropped_columns.extend(dropped)
            builder.file_warning("personal_columns_dropped", "personal data columns dropped at parse time and "
                                 f"never read (D-5): {', '.join(dropped)}")
            _LOG.info("Data ES import: personal columns dropped (D-5): %s", ", ".join(dropped))
        position = {name: i for i, name in enumerate(names) if name not in dropped}
        for canonical, aliases in settings.dataes.equipement_columns.items():
            for alias in aliases:
                if alias in position:
                    self.index[canonical] = position[alias]
                    break
        for name in (*DATAES_ACCESS_COLUMNS, *_EQUIPEMENT_FIELDS):
            if name in position:
                self.index[name] = position[name]
        used = set(self.index.values())
        builder.ignored_columns.extend(name for name, i in position.items() if i not in used)
        self.variant = "data-es-equipement" if _EQUIPEMENT_MARKERS & set(position) else "data-es"

    def get(self, row: list[str], name: str) -> str:
        i = self.index.get(name)
        return row[i].strip() if i is not None else ""


def _sniff_delimiter(header_line: str) -> str:
    return ";" if header_line.count(";") >= header_line.count(",") else ","


def import_dataes(
    source: ImportSource,
    gazetteer: Gazetteer,
    *,
    settings: ImportSettings | None = None,
    encoding: str = "utf-8",
    all_or_nothing: bool = False,
    progress: ProgressCallback | None = None,
    total: int | None = None,
) -> ImportResult:
    """Import a Data ES export. ``total`` (rows expected, if known) is passed to ``progress``."""
    settings = settings or load_import_settings()
    builder = ReportBuilder("dataes", all_or_nothing=all_or_nothing, progress=progress, total=total)

    def set_encoding(name: str) -> None:
        builder.encoding = name

    lines = decoded_lines(source, encoding, on_encoding=set_encoding)
    try:
        _read(lines, gazetteer, settings, builder)
    except FileDecodeError as error:
        builder.file_error(error.line, "encoding", error.message)
    return builder.result()


def _read(lines: Iterator[str], gazetteer: Gazetteer, settings: ImportSettings, builder: ReportBuilder) -> None:
    first = next(lines, None)
    if first is None or not first.strip():
        builder.file_error(1, "empty", "the file is empty (a header row is required)")
        return
    delimiter = _sniff_delimiter(first)
    builder.delimiter = delimiter
    if delimiter != ";":
        builder.file_warning("delimiter", "Data ES exports are ';'-separated; this file uses ','")
    reader = csv.reader(itertools.chain([first], lines), delimiter=delimiter)
    header = next(reader)
    columns = _Columns(header, settings, builder)
    builder.variant = columns.variant
    missing = [name for name in ("equip_numero", "new_code") if name not in columns.index]
    if missing:
        builder.file_error(1, "missing_columns", f"required Data ES column(s) missing: {', '.join(missing)} "
                                                 f"(found: {', '.join(h.strip() for h in header[:12])}…)")
        return
    state = _FileState()
    previous_end = reader.line_num
    for row in reader:
        line = previous_end + 1
        previous_end = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        builder.row_read()
        _row(row, line, columns, gazetteer, settings, builder, state)
    if state.bool_variants:
        builder.file_warning("boolean_variants", "non-canonical booleans accepted (D-1 expects \"true\"/\"false\"): "
                                                 + ", ".join(sorted(state.bool_variants)))


class _FileState:
    def __init__(self) -> None:
        self.bool_variants: set[str] = set()


def _bool(value: str, field: str, row: RowContext, state: _FileState) -> bool | None:
    parsed, canonical = parse_dataes_bool(value)
    if not canonical:
        if parsed is None:
            row.warning("bad_boolean", f"unreadable boolean {value!r}: treated as unknown", field)
        else:
            state.bool_variants.add(value.strip())
    return parsed


def _row(cells: list[str], line: int, columns: _Columns, gazetteer: Gazetteer, settings: ImportSettings,
         builder: ReportBuilder, state: _FileState) -> None:
    row = RowContext(line)
    get = columns.get
    equip_numero = get(cells, "equip_numero")
    if len(cells) != columns.width:
        row.error("field_count", f"expected {columns.width} fields, found {len(cells)} (quoting problem?)")
        builder.finish_row(row, None, equip_numero or None)
        return
    if not equip_numero:
        row.error("required", "equip_numero is empty", "equip_numero")
    elif not _EQUIP_NUMERO.fullmatch(equip_numero):
        row.warning("equip_numero_format", f"equip_numero {equip_numero!r} does not look like E<nnn>I<INSEE><nnnn>",
                    "equip_numero")
    inst_numero = get(cells, "inst_numero")
    if inst_numero and not _INST_NUMERO.fullmatch(inst_numero):
        row.warning("inst_numero_format", f"inst_numero {inst_numero!r} does not look like I<INSEE><nnnn>",
                    "inst_numero")

    out_of_service, _ = parse_dataes_bool(get(cells, "inst_hs_bool"))
    if out_of_service:
        builder.exclude(line, equip_numero or None, "out_of_service", "installation out of service (inst_hs_bool)")
        return

    equip_nom, inst_nom = get(cells, "equip_nom"), get(cells, "inst_nom")
    if equip_nom and inst_nom and equip_nom.casefold() != inst_nom.casefold():
        name = f"{inst_nom} — {equip_nom}"
    else:
        name = equip_nom or inst_nom
    if not name:
        row.error("required", "equip_nom and inst_nom are both empty", "equip_nom")
    elif len(name) > 200:
        row.warning("name_truncated", "name longer than 200 characters: truncated", "equip_nom")
        name = name[:199] + "…"

    # Commune (§5.6, G-2, G-3).
    commune_raw = get(cells, "new_code")
    commune = check_commune_insee(commune_raw)
    entry = None
    if not commune.valid:
        for message in commune.errors:
            row.error("commune_insee", message, "new_code")
    else:
        lookup = gazetteer.check(commune.value)
        entry = lookup.entry or lookup.suggestion
        for message in lookup.warnings:
            row.warning("commune_unknown", message, "new_code")
        dep_code = get(cells, "dep_code")
        if dep_code and dep_code.upper().zfill(2) != department_of(commune.value):
            row.warning("department_mismatch", f"dep_code {dep_code!r} differs from the department of "
                        f"{commune.value} ({department_of(commune.value)})", "dep_code")

    # Postcode.
    postcode = get(cells, "inst_cp")
    if postcode and len(postcode) == 4 and postcode.isdigit():
        postcode = "0" + postcode  # spreadsheets drop the leading zero (01000 → 1000)
    if not _POSTCODE.fullmatch(postcode):
        known = entry.postcodes if entry is not None else ()
        if len(known) == 1:
            if postcode:
                row.warning("postcode_replaced", f"postcode {postcode!r} is invalid: the commune's only postcode "
                            f"{known[0]} is used", "inst_cp")
            postcode = known[0]
        else:
            row.error("postcode", f"postcode {postcode!r} is missing or not 5 digits", "inst_cp")
    elif commune.valid and gazetteer.postcode_matches(commune.value, postcode) is False:
        row.warning("postcode_commune", f"postcode {postcode} does not serve commune {commune.value} "
                    "in the gazetteer", "inst_cp")

    # Dates and freshness.
    updated_raw = get(cells, "equip_maj_date")
    updated = parse_date(updated_raw)
    if updated_raw and updated is None:
        row.warning("bad_date", f"unreadable date {updated_raw!r}", "equip_maj_date")
    stale = updated is None or updated < settings.dataes.min_update_date

    # Accessibility (§5.7, D-1: empty = unknown, never false).
    accessibility: dict[AccessFeature, bool] = {}
    if columns.variant == "data-es":
        for column, feature in DATAES_ACCESS_COLUMNS.items():
            if column in columns.index:
                value = _bool(get(cells, column), column, row, state)
                if value is not None:
                    accessibility[feature] = value
    else:
        _equipement_access(cells, columns, settings, row, accessibility)
        if "inst_trans_bool" in columns.index:
            transport = _bool(get(cells, "inst_trans_bool"), "inst_trans_bool", row, state)
            if transport is not None:
                accessibility["public_transport_nearby"] = transport

    disciplines, seen = split_multi(get(cells, "aps_name"))
    builder.separators |= seen
    if len(disciplines) > 30:
        row.warning("disciplines_truncated", f"{len(disciplines)} disciplines: the first 30 are kept", "aps_name")
        disciplines = disciplines[:30]

    lat, lon, precision = _coordinates(cells, columns, commune.value if commune.valid else None, gazetteer,
                                       settings, row)

    if row.errors:
        builder.finish_row(row, None, equip_numero or None, duplicate_key=equip_numero or None)
        return
    assert entry is not None or commune.valid
    region = gazetteer.region_code(commune.value)
    record = ImportedStructure(
        structure_id=_structure_id(equip_numero),
        kind="venue",
        name=name,
        postcode=postcode,
        commune_insee=commune.value,
        commune_name=get(cells, "new_name") or (entry.name if entry is not None else None),
        accepting_referrals=False,  # M-6: a practice place receives no referral
        source="dataes",
        source_ref=equip_numero,
        source_licence=settings.dataes.licence,
        source_updated_at=updated,
        equip_numeros=(equip_numero,),
        installation_ref=inst_numero or None,
        address_line=get(cells, "inst_adresse")[:250] or None,
        department_code=department_of(commune.value),
        region_code=region,
        latitude=lat,
        longitude=lon,
        geo_precision=precision,
        disciplines=tuple(disciplines),
        accessibility=accessibility,
        public_transport_nearby=accessibility.get("public_transport_nearby"),
        stale=stale,
    )
    builder.finish_row(row, record, equip_numero, duplicate_key=equip_numero)


def _equipement_access(cells: list[str], columns: _Columns, settings: ImportSettings, row: RowContext,
                       accessibility: dict[AccessFeature, bool]) -> None:
    """§6.2: ``;``-separated value lists; a listed value → true; an empty field → unknown."""
    values = settings.dataes.equipement_values
    any_listed = False
    any_known = False
    for field, prefix in _EQUIPEMENT_FIELDS.items():
        if field not in columns.index:
            continue
        raw = columns.get(cells, field)
        if not raw:
            continue
        any_known = True
        items, _ = split_multi(raw, ";")
        for item in items:
            suffix = values.get(item)
            feature = f"{prefix}{suffix}" if suffix else None
            if feature is None or feature not in ACCESS_FEATURES:
                row.warning("unknown_access_value", f"accessibility value {item!r} not mapped (§5.7)", field)
                continue
            accessibility[feature] = True
            any_listed = True
    if any_known and any_listed:
        accessibility["any_disability_access"] = True


def _structure_id(equip_numero: str) -> str:
    return ("dataes-" + _STRUCTURE_ID_UNSAFE.sub("_", equip_numero))[:64]


def _coordinates(cells: list[str], columns: _Columns, commune: str | None, gazetteer: Gazetteer,
                 settings: ImportSettings, row: RowContext) -> tuple[float | None, float | None, GeoPrecision | None]:
    """D-3: parse, check against the commune point, retry with the axes swapped, else the commune point."""
    commune_point = gazetteer.point(commune) if commune else None
    point: tuple[float, float] | None = None
    raw = columns.get(cells, "equip_coordonnees")
    field = "equip_coordonnees"
    if raw:
        point = parse_dataes_coordinates(raw)
        if point is None:
            row.warning("bad_coordinates", f"unreadable coordinates {raw!r}", field)
    else:
        x_raw, y_raw = columns.get(cells, "equip_x"), columns.get(cells, "equip_y")
        field = "equip_x"
        if x_raw and y_raw:
            try:
                x, y = float(x_raw.replace(",", ".")), float(y_raw.replace(",", "."))
            except ValueError:
                row.warning("bad_coordinates", f"unreadable equip_x/equip_y {x_raw!r}/{y_raw!r}", field)
            else:
                if abs(x) > 360 or abs(y) > 360:
                    # Projected metres: Lambert-93 (or the overseas UTM zone of the department).
                    department = department_of(commune) if commune else ""
                    projection = settings.finess.projection_by_department.get(department,
                                                                              settings.finess.default_projection)
                    point = to_wgs84(x, y, projection)
                    row.warning("projected_coordinates", f"equip_x/equip_y look projected: read as {projection}",
                                field)
                else:
                    point = (y, x)  # equip_x = longitude, equip_y = latitude [to verify]
    max_km = settings.dataes.max_offset_km
    if point is not None and not _plausible(*point):
        swapped = (point[1], point[0])
        point = swapped if _plausible(*swapped) else None
    if point is not None and commune_point is not None and _distance(point, commune_point) > max_km:
        swapped = (point[1], point[0])
        if _plausible(*swapped) and _distance(swapped, commune_point) <= max_km:
            row.warning("axes_swapped", "coordinates read with latitude and longitude swapped (D-3)", field)
            point = swapped
        else:
            row.warning("coordinates_far", f"point more than {max_km:g} km from the commune point: the "
                        "commune point is used (D-3)", field)
            point = None
    if point is not None:
        return round(point[0], 6), round(point[1], 6), "equipment"
    if commune_point is not None:
        if not raw and field == "equip_x" and not columns.get(cells, "equip_x"):
            row.warning("no_coordinates", "no coordinates: the commune point is used", "equip_coordonnees")
        return commune_point[0], commune_point[1], "commune"
    row.warning("no_point", "no usable coordinates and no commune point: the structure has no location", field)
    return None, None, None
