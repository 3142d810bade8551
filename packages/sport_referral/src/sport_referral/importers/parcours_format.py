"""The Parcours directory format (``--format parcours``, domain-sport §6.5), CSV and JSON.

CSV: UTF-8 (BOM tolerated), header required, RFC 4180 quoting, delimiter ``,`` or ``;`` detected
from the header line, lists separated by ``|``, booleans ``true``/``false``, dates ``YYYY-MM-DD``,
decimal point ``.``. JSON: ``{"format": "parcours-directory", "version": 1, "generated_at",
"licence", "structures": [...]}`` with the CSV field names, arrays for lists and an
``accessibility`` object (``{feature: true|false}``, a missing key = unknown).

Unknown columns or fields are rejected (a misspelt column must not pass silently). Every row is
validated independently and every problem reported. For JSON, a row's "line" is its 1-based
position in ``structures``.
"""

from __future__ import annotations

import csv
import itertools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from typing import Any, Literal, cast

from shared_core.rules.identifiers import check_finess, check_siret
from sport_referral.geo.gazetteer import Gazetteer
from sport_referral.importers.report import (
    FileDecodeError,
    ImportResult,
    ImportSource,
    ProgressCallback,
    ReportBuilder,
    RowContext,
    decoded_lines,
)
from sport_referral.model.gazetteer import department_of
from sport_referral.model.imports import ImportedStructure, ImportSettings, load_import_settings
from sport_referral.model.structures import (
    ACCESS_FEATURES,
    ACTIVITY_TYPES,
    DISABILITY_FAMILIES,
    PROFESSIONS,
    QUALIFICATIONS,
    STRUCTURE_KINDS,
    StructureKind,
)

__all__ = ["PARCOURS_COLUMNS", "PARCOURS_SOURCES", "import_parcours"]

FieldType = Literal["str", "list", "bool", "int", "float", "date"]

# §6.5, in the documented order.
PARCOURS_COLUMNS: dict[str, FieldType] = {
    "structure_id": "str", "kind": "str", "name": "str", "finess_et": "str", "finess_ej": "str", "siret": "str",
    "rna": "str", "equip_numeros": "list", "esms_category_code": "str", "mss_habilitated_from": "date",
    "mss_habilitated_until": "date", "address_line": "str", "postcode": "str", "commune_insee": "str",
    "latitude": "float", "longitude": "float", "disability_families": "list", "professions": "list",
    "sport_health_qualification": "bool", "multidisciplinary_team": "bool", "qualifications": "list",
    "activity_types": "list", "disciplines": "list", "accessibility_true": "list", "accessibility_false": "list",
    "labels": "list", "accepting_referrals": "bool", "capacity_open_slots": "int", "waiting_weeks": "int",
    "referral_email": "str", "phone": "str", "website": "str", "referent_display_name": "str",
    "public_transport_nearby": "bool", "pass_sport_partner": "bool", "source": "str", "source_ref": "str",
    "source_licence": "str", "updated_at": "date",
}
REQUIRED = ("structure_id", "kind", "name", "postcode", "commune_insee", "accepting_referrals", "source",
            "source_licence", "updated_at")
PARCOURS_SOURCES = ("manual", "regional_map", "finess", "dataes", "acceslibre", "other")
_JSON_TOP = frozenset({"format", "version", "generated_at", "licence", "structures"})

_STRUCTURE_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_POSTCODE = re.compile(r"\d{5}")
_RNA = re.compile(r"W\d{9}")
_EQUIP = re.compile(r"E\d{3}I(?:\d{2}|2[AB])\d{3}\d{4}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"0[1-9]\d{8}|\+\d{8,15}")
_URL = re.compile(r"https?://[^\s/$.?#][^\s]*", re.IGNORECASE)
_CODE = re.compile(r"[a-z0-9_]{1,64}")
_HABILITATION_YEARS = 5  # [verified] R.1173-x CSP: habilitation valid 5 years (§5.1)


def import_parcours(
    source: ImportSource,
    gazetteer: Gazetteer,
    *,
    settings: ImportSettings | None = None,
    file_format: Literal["auto", "csv", "json"] = "auto",
    all_or_nothing: bool = False,
    progress: ProgressCallback | None = None,
    total: int | None = None,
    today: date | None = None,
) -> ImportResult:
    """Import a Parcours directory file (CSV or JSON; ``auto`` looks at the first character)."""
    settings = settings or load_import_settings()
    today = today or date.today()
    builder = ReportBuilder("parcours", all_or_nothing=all_or_nothing, progress=progress, total=total)

    def set_encoding(name: str) -> None:
        builder.encoding = name

    lines = decoded_lines(source, "utf-8", on_encoding=set_encoding)
    validator = _Validator(gazetteer, settings, today)
    try:
        first = next(lines, None)
        while first is not None and not first.strip():
            first = next(lines, None)
        if first is None:
            builder.file_error(1, "empty", "the file is empty")
            return builder.result()
        is_json = file_format == "json" or (file_format == "auto" and first.lstrip().startswith(("{", "[")))
        builder.variant = "json" if is_json else "csv"
        if is_json:
            _read_json("".join(itertools.chain([first], lines)), validator, builder)
        else:
            _read_csv(first, lines, validator, builder)
    except FileDecodeError as error:
        builder.file_error(error.line, "encoding", error.message)
    return builder.result()


# ----------------------------------------------------------------------------------------------
# CSV and JSON readers → typed values
# ----------------------------------------------------------------------------------------------


def _detect_delimiter(header: str) -> str:
    names = set(PARCOURS_COLUMNS)

    def score(delimiter: str) -> int:
        cells = next(csv.reader([header], delimiter=delimiter))
        return sum(cell.strip().lstrip("\ufeff") in names for cell in cells)

    return max((",", ";"), key=score)


def _read_csv(first: str, lines: Iterator[str], validator: _Validator, builder: ReportBuilder) -> None:
    delimiter = _detect_delimiter(first)
    builder.delimiter = delimiter
    reader = csv.reader(itertools.chain([first], lines), delimiter=delimiter, strict=True)
    try:
        header = [cell.strip().lstrip("\ufeff") for cell in next(reader)]
    except csv.Error as error:
        builder.file_error(1, "csv", f"unreadable header: {error}")
        return
    unknown = [name for name in header if name not in PARCOURS_COLUMNS]
    missing = [name for name in REQUIRED if name not in header]
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if unknown or missing or duplicated:
        parts = []
        if unknown:
            parts.append(f"unknown column(s) {', '.join(repr(n) for n in unknown)} (misspelt?)")
        if missing:
            parts.append(f"required column(s) missing: {', '.join(missing)}")
        if duplicated:
            parts.append(f"column(s) given twice: {', '.join(duplicated)}")
        builder.file_error(1, "header", "; ".join(parts))
        return
    previous_end = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            line = previous_end + 1
            builder.row_read()
            row = RowContext(line)
            row.error("csv", f"malformed CSV (quoting): {error}")
            builder.finish_row(row, None, None)
            previous_end = reader.line_num
            continue
        line = previous_end + 1
        previous_end = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        builder.row_read()
        row = RowContext(line)
        if len(cells) != len(header):
            row.error("field_count", f"expected {len(header)} fields, found {len(cells)}")
            builder.finish_row(row, None, None)
            continue
        values = {name: _from_csv(name, cell, row) for name, cell in zip(header, cells, strict=True)}
        validator.row(values, row, builder, accessibility=None)


def _from_csv(name: str, cell: str, row: RowContext) -> Any:
    text = cell.strip()
    if not text:
        return None
    kind = PARCOURS_COLUMNS[name]
    if kind == "str":
        return text
    if kind == "list":
        return [item.strip() for item in text.split("|") if item.strip()]
    if kind == "bool":
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        row.error("boolean", f"{text!r} is not a boolean (true or false)", name)
        return None
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            row.error("integer", f"{text!r} is not an integer", name)
            return None
    if kind == "float":
        try:
            return float(text)
        except ValueError:
            hint = " (use a decimal point)" if "," in text else ""
            row.error("number", f"{text!r} is not a number{hint}", name)
            return None
    try:
        return date.fromisoformat(text) if len(text) == 10 else _bad_date(text)
    except ValueError:
        row.error("date", f"{text!r} is not a date (YYYY-MM-DD)", name)
        return None


def _bad_date(text: str) -> date:
    raise ValueError(text)


def _read_json(text: str, validator: _Validator, builder: ReportBuilder) -> None:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        builder.file_error(error.lineno, "json",
                           f"invalid JSON: {error.msg} (line {error.lineno}, column {error.colno})")
        return
    if not isinstance(document, dict):
        builder.file_error(1, "json", "the document must be an object with a \"structures\" array")
        return
    problems = []
    unknown = sorted(set(document) - _JSON_TOP)
    if unknown:
        problems.append(f"unknown field(s) {unknown}")
    if document.get("format") != "parcours-directory":
        problems.append('"format" must be "parcours-directory"')
    if document.get("version") != 1:
        problems.append('"version" must be 1')
    if not isinstance(document.get("structures"), list):
        problems.append('"structures" must be an array')
    if problems:
        builder.file_error(1, "json", "; ".join(problems))
        return
    for index, item in enumerate(document["structures"], start=1):
        builder.row_read()
        row = RowContext(index)
        if not isinstance(item, dict):
            row.error("type", f"structures[{index - 1}] is not an object")
            builder.finish_row(row, None, None)
            continue
        values: dict[str, Any] = {}
        accessibility: dict[str, bool] | None = None
        for name, value in item.items():
            if name == "accessibility":
                accessibility = _json_accessibility(value, row)
            elif name not in PARCOURS_COLUMNS:
                row.error("unknown_field", f"unknown field {name!r} (misspelt?)", name)
            else:
                values[name] = _from_json(name, value, row)
        if accessibility is not None and (values.get("accessibility_true") or values.get("accessibility_false")):
            row.error("accessibility", "give either accessibility or accessibility_true/_false, not both",
                      "accessibility")
        validator.row(values, row, builder, accessibility=accessibility)


def _json_accessibility(value: Any, row: RowContext) -> dict[str, bool] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(v, bool) for v in value.values()):
        row.error("accessibility", "accessibility must be an object {feature: true|false}", "accessibility")
        return None
    return {str(k): v for k, v in value.items()}


def _from_json(name: str, value: Any, row: RowContext) -> Any:
    if value is None:
        return None
    kind = PARCOURS_COLUMNS[name]
    ok: bool
    if kind == "str":
        ok = isinstance(value, str)
        value = value.strip() if ok else value
        return (value or None) if ok else _type_error(row, name, "a string")
    if kind == "list":
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        return [v.strip() for v in value if v.strip()] if ok else _type_error(row, name, "an array of strings")
    if kind == "bool":
        return value if isinstance(value, bool) else _type_error(row, name, "true or false")
    if kind == "int":
        return value if isinstance(value, int) and not isinstance(value, bool) else _type_error(row, name, "an integer")
    if kind == "float":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return float(value) if ok else _type_error(row, name, "a number")
    if isinstance(value, str):
        try:
            return date.fromisoformat(value) if len(value) == 10 else _bad_date(value)
        except ValueError:
            pass
    return _type_error(row, name, "a date YYYY-MM-DD")


def _type_error(row: RowContext, name: str, expected: str) -> None:
    row.error("type", f"{name} must be {expected}", name)


# ----------------------------------------------------------------------------------------------
# Validation (§6.5 table), shared by CSV and JSON
# ----------------------------------------------------------------------------------------------


class _Validator:
    def __init__(self, gazetteer: Gazetteer, settings: ImportSettings, today: date) -> None:
        self.gazetteer = gazetteer
        self.settings = settings
        self.today = today
        self.keys: dict[str, int] = {}

    def _codes(self, values: Mapping[str, Any], name: str, allowed: tuple[str, ...] | None,
               row: RowContext, check: Callable[[str], bool] | None = None) -> list[str]:
        items: list[str] = values.get(name) or []
        out: list[str] = []
        for item in items:
            if (allowed is not None and item not in allowed) or (check is not None and not check(item)):
                row.error("code", f"unknown {name} code {item!r}", name)
            elif item not in out:
                out.append(item)
        return out

    def row(self, values: dict[str, Any], row: RowContext, builder: ReportBuilder,
            accessibility: dict[str, bool] | None) -> None:
        v = values
        for required in REQUIRED:
            if v.get(required) is None and not any(issue.field == required for issue in row.errors):
                row.error("required", f"{required} is required", required)
        structure_id: str | None = v.get("structure_id")
        if structure_id is not None and not _STRUCTURE_ID.fullmatch(structure_id):
            row.error("structure_id", "structure_id must match ^[A-Za-z0-9_.-]{1,64}$", "structure_id")
        kind: StructureKind | None = v.get("kind")
        if kind is not None and kind not in STRUCTURE_KINDS:
            row.error("kind", f"kind must be one of {', '.join(STRUCTURE_KINDS)}", "kind")
        name: str | None = v.get("name")
        if name is not None and len(name) > 200:
            row.error("name", "name has more than 200 characters", "name")
        identifiers = self._identifiers(v, kind, row)
        self._dates(v, kind, row)
        if v.get("address_line") and len(v["address_line"]) > 250:
            row.error("address_line", "address_line has more than 250 characters", "address_line")
        postcode: str | None = v.get("postcode")
        if postcode is not None and not _POSTCODE.fullmatch(postcode):
            row.error("postcode", f"postcode {postcode!r} must be 5 digits", "postcode")
        commune = self._commune(v, row)
        lat, lon, precision = self._coordinates(v, commune, row)
        families = self._codes(v, "disability_families", DISABILITY_FAMILIES, row)
        professions = self._codes(v, "professions", PROFESSIONS, row)
        qualifications = self._codes(v, "qualifications", QUALIFICATIONS, row)
        activity_types = self._codes(v, "activity_types", ACTIVITY_TYPES, row)
        labels = self._codes(v, "labels", None, row, check=lambda code: _CODE.fullmatch(code) is not None)
        disciplines: list[str] = v.get("disciplines") or []
        if len(disciplines) > 30:
            row.error("disciplines", f"at most 30 disciplines, found {len(disciplines)}", "disciplines")
        access = self._accessibility(v, accessibility, row)
        for name_ in ("capacity_open_slots", "waiting_weeks"):
            if v.get(name_) is not None and v[name_] < 0:
                row.error("negative", f"{name_} must be ≥ 0", name_)
        email = v.get("referral_email")
        if email is not None and not _EMAIL.fullmatch(email):
            row.error("email", f"referral_email {email!r} is not an e-mail address", "referral_email")
        if email is None and (kind == "mss" or (kind == "esms" and v.get("accepting_referrals"))):
            row.error("required", "referral_email is required for an MSS and for an ESMS accepting referrals",
                      "referral_email")
        phone = v.get("phone")
        if phone is not None:
            phone = phone.replace(" ", "").replace(".", "")
            if not _PHONE.fullmatch(phone):
                row.error("phone", f"phone {v['phone']!r} must be 0 + 9 digits, or + and 8-15 digits", "phone")
        website = v.get("website")
        if website is not None and not _URL.fullmatch(website):
            row.error("website", f"website {website!r} must be an absolute http(s) URL", "website")
        source: str | None = v.get("source")
        if source is not None and source not in PARCOURS_SOURCES:
            row.error("source", f"source must be one of {', '.join(PARCOURS_SOURCES)}", "source")

        if v.get("source_ref") and source is not None:
            # Idempotency key (§6): one (source, source_ref) per file.
            key = f"{source}:{v['source_ref']}"
            first = self.keys.setdefault(key, row.line)
            if first != row.line:
                row.error("duplicate_source_ref", f"(source, source_ref) {key} already used on line {first}",
                          "source_ref")
        if row.errors:
            builder.finish_row(row, None, v.get("source_ref") or structure_id, duplicate_key=structure_id)
            return
        assert commune is not None and structure_id is not None and kind is not None
        assert postcode is not None and source is not None and name is not None
        from_date = v.get("mss_habilitated_from")
        until = v.get("mss_habilitated_until")
        if kind == "mss" and from_date is not None and until is None:
            until = _add_years(from_date, _HABILITATION_YEARS)
        entry = self.gazetteer.commune(commune) or self.gazetteer.successor(commune)
        record = ImportedStructure(
            structure_id=structure_id,
            kind=kind,
            name=name,
            postcode=postcode,
            commune_insee=commune,
            commune_name=entry.name if entry is not None else None,
            accepting_referrals=v["accepting_referrals"],
            source=source,
            source_ref=v.get("source_ref"),
            source_licence=v["source_licence"],
            source_updated_at=v["updated_at"],
            finess_et=identifiers.get("finess_et"),
            finess_ej=identifiers.get("finess_ej"),
            siret=identifiers.get("siret"),
            rna=v.get("rna"),
            equip_numeros=tuple(v.get("equip_numeros") or ()),
            esms_category_code=v.get("esms_category_code"),
            mss_habilitated_from=from_date,
            mss_habilitated_until=until,
            address_line=v.get("address_line"),
            department_code=department_of(commune),
            region_code=self.gazetteer.region_code(commune),
            latitude=lat,
            longitude=lon,
            geo_precision=precision,
            disability_families=frozenset(cast(Any, families)),
            professions=frozenset(cast(Any, professions)),
            sport_health_qualification=v.get("sport_health_qualification"),
            multidisciplinary_team=v.get("multidisciplinary_team"),
            qualifications=frozenset(cast(Any, qualifications)),
            activity_types=frozenset(cast(Any, activity_types)),
            disciplines=tuple(disciplines),
            accessibility=cast(Any, access),
            labels=frozenset(labels),
            capacity_open_slots=v.get("capacity_open_slots"),
            waiting_weeks=v.get("waiting_weeks"),
            referral_email=email,
            phone=phone,
            website=website,
            referent_display_name=v.get("referent_display_name"),
            public_transport_nearby=v.get("public_transport_nearby"),
            pass_sport_partner=v.get("pass_sport_partner"),
        )
        builder.finish_row(row, record, v.get("source_ref") or structure_id, duplicate_key=structure_id)

    def _identifiers(self, v: Mapping[str, Any], kind: str | None, row: RowContext) -> dict[str, str]:
        out: dict[str, str] = {}
        for name in ("finess_et", "finess_ej"):
            if v.get(name) is not None:
                check = check_finess(v[name])
                for message in check.errors:
                    row.error(name, message, name)
                for message in check.warnings:
                    row.warning(name, message, name)
                out[name] = check.value
        if v.get("siret") is not None:
            check = check_siret(v["siret"])
            for message in check.errors:
                row.error("siret", message, "siret")
            for message in check.warnings:
                row.warning("siret", message, "siret")
            out["siret"] = check.value
        if v.get("rna") is not None and not _RNA.fullmatch(v["rna"]):
            row.warning("rna", f"rna {v['rna']!r} does not match W + 9 digits [format to verify]", "rna")
        for number in v.get("equip_numeros") or []:
            if not _EQUIP.fullmatch(number):
                row.warning("equip_numero_format", f"equip_numero {number!r} does not look like E<nnn>I<INSEE><nnnn>",
                            "equip_numeros")
        if kind == "esms":
            if v.get("finess_et") is None:
                row.error("required", "finess_et is required for an ESMS", "finess_et")
            category = v.get("esms_category_code")
            if category is None:
                row.error("required", "esms_category_code is required for an ESMS", "esms_category_code")
            elif category not in self.settings.esms_categories:
                row.error("esms_category_code", f"esms_category_code {category!r} is not in the §5.2 table",
                          "esms_category_code")
        return out

    def _dates(self, v: Mapping[str, Any], kind: str | None, row: RowContext) -> None:
        from_date, until = v.get("mss_habilitated_from"), v.get("mss_habilitated_until")
        if kind == "mss" and from_date is None:
            row.error("required", "mss_habilitated_from is required for an MSS", "mss_habilitated_from")
        if from_date is not None and from_date > self.today:
            row.error("future", "mss_habilitated_from is in the future", "mss_habilitated_from")
        if from_date is not None and until is not None and until <= from_date:
            row.error("order", "mss_habilitated_until must be after mss_habilitated_from", "mss_habilitated_until")
        updated = v.get("updated_at")
        if updated is not None and updated > self.today:
            row.error("future", "updated_at is in the future", "updated_at")

    def _commune(self, v: Mapping[str, Any], row: RowContext) -> str | None:
        raw = v.get("commune_insee")
        if raw is None:
            return None
        lookup = self.gazetteer.check(raw)
        for message in lookup.errors:
            row.error("commune_insee", message, "commune_insee")
        if lookup.errors:
            return None
        for message in lookup.warnings:
            row.warning("commune_unknown", message, "commune_insee")
        postcode = v.get("postcode")
        matches = self.gazetteer.postcode_matches(lookup.code, postcode) if postcode else None
        if postcode and _POSTCODE.fullmatch(postcode) and matches is False:
            row.warning("postcode_commune", f"postcode {postcode} does not serve commune {lookup.code} in the "
                        "gazetteer", "postcode")
        return lookup.code

    def _coordinates(self, v: Mapping[str, Any], commune: str | None,
                     row: RowContext) -> tuple[float | None, float | None, Literal["address", "commune"] | None]:
        lat, lon = v.get("latitude"), v.get("longitude")
        if (lat is None) != (lon is None):
            row.error("coordinates", "give both latitude and longitude, or neither",
                      "latitude" if lat is None else "longitude")
            return None, None, None
        if lat is not None and lon is not None:
            if not (-90 <= lat <= 90) or not (-180 <= lon <= 180):
                row.error("coordinates", f"latitude/longitude out of range: {lat}, {lon}", "latitude")
                return None, None, None
            if not any(b[0] <= lat <= b[1] and b[2] <= lon <= b[3] for b in self.settings.bboxes):
                row.warning("outside_france", f"point {lat}, {lon} is outside every French bounding box "
                            "(cfg:geo.bboxes): swapped latitude/longitude?", "latitude")
            return lat, lon, "address"
        point = self.gazetteer.point(commune) if commune else None
        if point is None:
            if commune:
                row.warning("no_point", f"no coordinates and no commune point for {commune}", "latitude")
            return None, None, None
        return point[0], point[1], "commune"

    def _accessibility(self, v: Mapping[str, Any], accessibility: dict[str, bool] | None,
                       row: RowContext) -> dict[str, bool]:
        out: dict[str, bool] = {}
        if accessibility is not None:
            for feature, value in accessibility.items():
                if feature not in ACCESS_FEATURES:
                    row.error("code", f"unknown accessibility feature {feature!r}", "accessibility")
                else:
                    out[feature] = value
            return out
        true_codes = self._codes(v, "accessibility_true", ACCESS_FEATURES, row)
        false_codes = self._codes(v, "accessibility_false", ACCESS_FEATURES, row)
        overlap = sorted(set(true_codes) & set(false_codes))
        if overlap:
            row.error("accessibility", f"feature(s) both true and false: {', '.join(overlap)}", "accessibility_false")
        out.update(dict.fromkeys(true_codes, True))
        out.update({code: False for code in false_codes if code not in overlap})
        return out


def _add_years(start: date, years: int) -> date:
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February
        return start.replace(year=start.year + years, day=28)

