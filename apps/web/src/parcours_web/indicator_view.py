"""The observer dashboard's tables and server-rendered bar charts, built from a suppressed
``IndicatorTable`` (domain-sport §10). A suppressed cell is shown as suppressed, never its value:
the cells arrive here with ``value`` None already (rules.indicators, I-4)."""

from __future__ import annotations

import datetime as dt
import math

import msgspec

from parcours_web.directory_labels import REGION_NAMES
from sport_referral.indicator_service import ObserverIndicators
from sport_referral.model.indicators import IndicatorCell
from sport_referral.rules.indicators import LEVELS, NATIONAL

INDICATORS = ("I01_referrals_sent", "I02_acceptance_rate", "I04_days_to_first_session", "I05_adherence_3m",
              "I08_completion_rate")
CHART_WIDTH = 640
CHART_HEIGHT = 240
MARGIN_LEFT = 44
MARGIN_RIGHT = 12
MARGIN_TOP = 12
MARGIN_BOTTOM = 44


class Shown(msgspec.Struct, frozen=True):
    """One displayed cell: ``text`` is the formatted value; ``state`` is value | suppressed | empty."""

    text: str
    state: str


class Row(msgspec.Struct, frozen=True):
    key: str
    label: str
    cells: list[Shown]


class Table(msgspec.Struct, frozen=True):
    title: str
    row_header: str
    rows: list[Row]


class Bar(msgspec.Struct, frozen=True):
    label: str
    x: float
    y: float
    width: float
    height: float
    text: str
    suppressed: bool


class Tick(msgspec.Struct, frozen=True):
    position: float
    value: int


class BarChart(msgspec.Struct, frozen=True):
    code: str
    title: str
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    bars: list[Bar]
    ticks: list[Tick]


class ObserverView(msgspec.Struct, frozen=True):
    scope_label: str
    period_start: dt.date
    period_end: dt.date
    k: int
    audited: bool
    by_area: Table
    by_month: Table
    by_level: Table
    by_family: Table
    chart_months: BarChart
    chart_areas: BarChart | None
    cell_count: int
    suppressed_count: int
    computed_at: dt.datetime


def geo_label(level: str, code: str) -> str:
    if level == "national":
        return "France"
    if level == "region":
        return REGION_NAMES.get(code, code)
    return code


def geo_names() -> dict[tuple[str, str], str]:
    """Names written in the export's ``geo_name`` column (regions; departments by code)."""
    return {("region", code): name for code, name in REGION_NAMES.items()}


def _format(cell: IndicatorCell | None) -> Shown:
    if cell is None:
        return Shown("—", "empty")
    if cell.suppressed:
        return Shown("suppressed", "suppressed")
    if cell.value is None:
        return Shown("—", "empty")
    if cell.unit == "ratio":
        return Shown(f"{round(cell.value * 100)} %", "value")
    if cell.unit == "days":
        return Shown(f"{cell.value:g}", "value")
    return Shown(str(int(cell.value)), "value")


_Key = tuple[str, str, str, dt.date, dt.date, str, str]


def _index(cells: tuple[IndicatorCell, ...]) -> dict[_Key, IndicatorCell]:
    return {(c.indicator_code, c.geo_level, c.geo_code, c.period_start, c.period_end, c.dimension, c.dimension_value):
            c for c in cells}


def _months(start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    out = []
    first = dt.date(start.year, start.month, 1)
    while first <= end:
        following = dt.date(first.year + 1, 1, 1) if first.month == 12 else dt.date(first.year, first.month + 1, 1)
        out.append((max(first, start), min(following - dt.timedelta(days=1), end)))
        first = following
    return out


def _bar_chart(code: str, title: str, items: list[tuple[str, IndicatorCell | None]]) -> BarChart:
    plot_left, plot_right = MARGIN_LEFT, CHART_WIDTH - MARGIN_RIGHT
    plot_top, plot_bottom = MARGIN_TOP, CHART_HEIGHT - MARGIN_BOTTOM
    values = [cell.value for _, cell in items if cell is not None and not cell.suppressed and cell.value is not None]
    top = max([*values, 1.0])
    step = max(1, math.ceil(top / 4))
    top = step * 4
    slot = (plot_right - plot_left) / max(len(items), 1)
    width = max(slot * 0.7, 2)
    bars = []
    for index, (label, cell) in enumerate(items):
        x = round(plot_left + slot * index + (slot - width) / 2, 2)
        shown = _format(cell)
        if shown.state == "value" and cell is not None and cell.value is not None:
            height = round((plot_bottom - plot_top) * cell.value / top, 2)
            bars.append(Bar(label, x, round(plot_bottom - height, 2), round(width, 2), height, shown.text, False))
        else:
            # A suppressed (or empty) month: an outlined stub, never a height that would reveal a value.
            bars.append(Bar(label, x, plot_bottom - 6, round(width, 2), 6, shown.text, shown.state == "suppressed"))
    ticks = [Tick(round(plot_bottom - (plot_bottom - plot_top) * value / top, 2), value)
             for value in range(0, top + 1, step)]
    return BarChart(code, title, CHART_WIDTH, CHART_HEIGHT, plot_left, plot_right, plot_top, plot_bottom, bars, ticks)


def build_view(result: ObserverIndicators) -> ObserverView:
    table = result.table
    index = _index(table.cells)
    query = result.query
    start, end = table.period_start, table.period_end
    scope_level = query.scope_level
    scope_code = query.scope_code if scope_level != "national" else NATIONAL

    def cell(code: str, level: str, geo: str, period: tuple[dt.date, dt.date], dimension: str = "all",
             value: str = "") -> IndicatorCell | None:
        return index.get((code, level, geo, period[0], period[1], dimension, value))

    whole = (start, end)
    areas: list[tuple[str, str]] = [(scope_level, scope_code)]
    if scope_level == "national":
        areas += sorted({(c.geo_level, c.geo_code) for c in table.cells if c.geo_level == "region"})
    if scope_level in ("national", "region"):
        areas += sorted({(c.geo_level, c.geo_code) for c in table.cells if c.geo_level == "department"})
    by_area = Table("Indicators by area, whole period", "Area", [
        Row(f"{level}:{code}", geo_label(level, code), [_format(cell(ind, level, code, whole)) for ind in INDICATORS])
        for level, code in areas])
    months = _months(start, end)
    by_month = Table("Indicators by month", "Month", [
        Row(period[0].strftime("%Y-%m"), period[0].strftime("%Y-%m"),
            [_format(cell(ind, scope_level, scope_code, period)) for ind in INDICATORS]) for period in months])
    by_level = Table("Indicators by limitation level, whole period", "Limitation level", [
        Row(level, level, [_format(cell(ind, scope_level, scope_code, whole, "limitation_level", level))
                           for ind in INDICATORS]) for level in LEVELS])
    families = sorted({c.dimension_value for c in table.cells if c.dimension == "disability_family"})
    by_family = Table("Indicators by disability family, whole period", "Disability family", [
        Row(family, family, [_format(cell(ind, scope_level, scope_code, whole, "disability_family", family))
                             for ind in INDICATORS]) for family in families])
    chart_months = _bar_chart("months", "Referrals sent by month", [
        (period[0].strftime("%m/%y"), cell("I01_referrals_sent", scope_level, scope_code, period))
        for period in months])
    sub_areas = [(level, code) for level, code in areas[1:]
                 if level == ("region" if scope_level == "national" else "department")]
    chart_areas = _bar_chart("areas", "Referrals sent by area", [
        (code, cell("I01_referrals_sent", level, code, whole)) for level, code in sub_areas]) if sub_areas else None
    return ObserverView(
        scope_label=geo_label(scope_level, scope_code), period_start=start, period_end=end, k=table.k,
        audited=table.audited, by_area=by_area, by_month=by_month, by_level=by_level, by_family=by_family,
        chart_months=chart_months, chart_areas=chart_areas, cell_count=len(table.cells),
        suppressed_count=sum(1 for c in table.cells if c.suppressed), computed_at=result.computed_at,
    )
