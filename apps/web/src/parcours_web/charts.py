"""Server-rendered trajectory charts: geometry computed here, drawn by a template as inline SVG.

Each chart has band shading, the remission cut-off and one point per administration, plus a data
table so screen-reader users get the same information as sighted users.
"""

from __future__ import annotations

import datetime as dt

import msgspec

from shared_core.scales import ScaleCatalogue, ScaleDefinition
from shared_core.services.assessments import PatientOverview, SeriesPoint

WIDTH = 640
HEIGHT = 240
MARGIN_LEFT = 44
MARGIN_RIGHT = 16
MARGIN_TOP = 12
MARGIN_BOTTOM = 36


class BandArea(msgspec.Struct, frozen=True):
    code: str
    y: float
    height: float
    severity: int  # 0 = best band; drives the shading class


class Marker(msgspec.Struct, frozen=True):
    x: float
    y: float
    total: int
    at: dt.datetime
    band: str | None
    assessment_id: str


class Tick(msgspec.Struct, frozen=True):
    position: float
    value: int


class Chart(msgspec.Struct, frozen=True):
    scale_code: str
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    bands: list[BandArea]
    markers: list[Marker]
    path: str
    y_ticks: list[Tick]
    remission_y: float | None
    remission_max: int | None
    first_at: dt.datetime
    last_at: dt.datetime
    earlier_points: int = 0  # administrations left out before the first one drawn (see CHART_POINTS)


class _Axis:
    """Maps a score to a vertical position; a scale without a total (C-SSRS) has no chart."""

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high
        self.span = max(high - low, 1)
        self.plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM

    def __call__(self, value: float) -> float:
        clamped = min(max(value, self.low), self.high)
        return round(MARGIN_TOP + self.plot_height * (1 - (clamped - self.low) / self.span), 2)


def build_chart(definition: ScaleDefinition, points: list[SeriesPoint]) -> Chart | None:
    if not points or definition.total_min is None or definition.total_max is None:
        return None
    low, high = definition.total_min, definition.total_max
    y_of = _Axis(low, high)
    plot_left, plot_right = MARGIN_LEFT, WIDTH - MARGIN_RIGHT
    first, last = points[0].at, points[-1].at
    elapsed = (last - first).total_seconds()

    def x_of(at: dt.datetime) -> float:
        if elapsed <= 0:
            return (plot_left + plot_right) / 2
        return round(plot_left + (plot_right - plot_left) * (at - first).total_seconds() / elapsed, 2)

    count = len(definition.bands)
    bands = []
    for index, band in enumerate(definition.bands):
        top = y_of(min(band.max + 0.5, high))
        bottom = y_of(max(band.min - 0.5, low))
        severity = index if definition.direction == "lower_is_better" else count - 1 - index
        bands.append(BandArea(band.code, top, round(bottom - top, 2), min(severity, 4)))
    markers = [Marker(x_of(p.at), y_of(p.total), p.total, p.at, p.band, p.assessment_id) for p in points]
    path = " ".join(("M" if i == 0 else "L") + f"{m.x},{m.y}" for i, m in enumerate(markers))
    step = max(1, (high - low) // 5)
    ticks = [Tick(y_of(value), value) for value in range(low, high + 1, step)]
    remission = definition.remission_max
    return Chart(
        definition.code, WIDTH, HEIGHT, plot_left, plot_right, MARGIN_TOP, HEIGHT - MARGIN_BOTTOM, bands, markers,
        path, ticks, y_of(remission + 0.5) if remission is not None else None, remission, first, last,
    )


# Points drawn per scale on the patient page: beyond a year of weekly scores a trajectory is no longer
# readable, and the page would grow with the record. The timeline still lists every administration.
CHART_POINTS = 52


def charts_for(overview: PatientOverview, catalogue: ScaleCatalogue) -> dict[str, Chart]:
    charts = {}
    for series in overview.series:
        shown = series.points[-CHART_POINTS:]
        chart = build_chart(catalogue.get(series.scale_code), shown)
        if chart is not None:
            charts[series.scale_code] = msgspec.structs.replace(chart,
                                                                earlier_points=len(series.points) - len(shown))
    return charts
