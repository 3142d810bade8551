"""Open-data export of the indicators (domain-sport §10.3): CSV and JSON text.

Pure: cells in, text out. Only already-suppressed :class:`IndicatorCell` values are written
(``rules.indicators`` applies I-1..I-4 first); suppressed cells keep an empty ``value``,
``numerator`` and ``denominator`` and never say "<11". The columns are documented in
``catalogue/opendata_columns.yaml`` (loaded by ``model.indicators.load_opendata_columns``);
:func:`columns_markdown` renders that documentation as a README section.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sport_referral.model.indicators import INDICATOR_LABELS, IndicatorCell, IndicatorSettings, OpendataColumn

__all__ = ["OPENDATA_COLUMNS", "columns_markdown", "export_csv", "export_json", "export_rows", "metadata"]

# §10.3, in file order (the YAML documentation must list exactly these).
OPENDATA_COLUMNS: tuple[str, ...] = (
    "indicator_code", "indicator_label", "period_start", "period_end", "geo_level", "geo_code", "geo_name",
    "geo_basis", "dimension", "dimension_value", "value", "numerator", "denominator", "unit", "suppressed",
    "suppression", "cog_year", "generated_at", "software_version",
)


def _number(value: float | int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def export_rows(cells: Sequence[IndicatorCell], *, generated_at: datetime, software_version: str, cog_year: int,
                geo_names: Mapping[tuple[str, str], str] | None = None) -> list[dict[str, Any]]:
    """One plain record per cell, with the §10.3 fields (JSON types: numbers, booleans, null)."""
    names = geo_names or {}
    rows = []
    for cell in cells:
        hidden = cell.suppressed
        rows.append({
            "indicator_code": cell.indicator_code,
            "indicator_label": INDICATOR_LABELS.get(cell.indicator_code, cell.indicator_code),
            "period_start": cell.period_start.isoformat(),
            "period_end": cell.period_end.isoformat(),
            "geo_level": cell.geo_level,
            "geo_code": cell.geo_code,
            "geo_name": names.get((cell.geo_level, cell.geo_code), "France" if cell.geo_level == "national" else ""),
            "geo_basis": cell.geo_basis,
            "dimension": cell.dimension,
            "dimension_value": cell.dimension_value,
            # I-4: whatever the cell object holds, nothing of a suppressed cell is written.
            "value": None if hidden else cell.value,
            "numerator": None if hidden else cell.numerator,
            "denominator": None if hidden else cell.denominator,
            "unit": cell.unit,
            "suppressed": hidden,
            "suppression": cell.suppression if hidden else "",
            "cog_year": cog_year,
            "generated_at": generated_at.isoformat(),
            "software_version": software_version,
        })
    return rows


def export_csv(cells: Sequence[IndicatorCell], *, generated_at: datetime, software_version: str, cog_year: int,
               geo_names: Mapping[tuple[str, str], str] | None = None) -> str:
    """CSV: UTF-8 text, ``,`` separator, header, ``true``/``false`` booleans, empty = no value."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(OPENDATA_COLUMNS)
    for row in export_rows(cells, generated_at=generated_at, software_version=software_version, cog_year=cog_year,
                           geo_names=geo_names):
        writer.writerow([
            ("true" if row[name] else "false") if name == "suppressed"
            else _number(row[name]) if name in ("value", "numerator", "denominator", "cog_year")
            else row[name]
            for name in OPENDATA_COLUMNS
        ])
    return buffer.getvalue()


def metadata(settings: IndicatorSettings, *, organisation: str, period: str, generated_at: datetime, cog_year: int,
             title: str = "Indicateurs Parcours sport-santé", includes_dataes: bool = False) -> dict[str, Any]:
    """The JSON ``metadata`` object (§10.3), with the attribution line."""
    attribution = settings.attribution_template.format(organisation=organisation, period=period)
    if includes_dataes:
        attribution += f" ; {settings.dataes_attribution}"
    return {
        "title": title,
        "licence": settings.licence,
        "attribution": attribution,
        "suppression_rule": f"k={settings.k} + secondary",
        "generated_at": generated_at.isoformat(),
        "cog_year": cog_year,
        "definitions_url": settings.definitions_url,
    }


def export_json(cells: Sequence[IndicatorCell], settings: IndicatorSettings, *, organisation: str, period: str,
                generated_at: datetime, software_version: str, cog_year: int,
                geo_names: Mapping[tuple[str, str], str] | None = None, includes_dataes: bool = False) -> str:
    """JSON: ``{"metadata": {...}, "records": [...]}``."""
    document = {
        "metadata": metadata(settings, organisation=organisation, period=period, generated_at=generated_at,
                             cog_year=cog_year, includes_dataes=includes_dataes),
        "records": export_rows(cells, generated_at=generated_at, software_version=software_version,
                               cog_year=cog_year, geo_names=geo_names),
    }
    return json.dumps(document, ensure_ascii=False, indent=1)


def columns_markdown(columns: Sequence[OpendataColumn], language: str = "fr") -> str:
    """A README section listing the export columns (from ``opendata_columns.yaml``)."""
    lines = ["## Colonnes de l'export open data" if language == "fr" else "## Open-data export columns", "",
             "| Colonne / Column | Type | Description | Valeurs / Values |", "|---|---|---|---|"]
    for column in columns:
        description = column.description_fr if language == "fr" else column.description_en
        values = ", ".join(f"`{value}`" if value else '`""`' for value in column.values)
        lines.append(f"| `{column.name}` | {column.type} | {description} | {values} |")
    return "\n".join(lines) + "\n"
