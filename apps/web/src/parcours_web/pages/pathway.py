"""The patient's rTMS pathway: course timeline, scale trajectories with the checkpoint and response
lines, open safety alerts, closing a course, the letter to the referrer, follow-up, FHIR export."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.params import FromPath

from parcours_web.auth.roles import CLINICAL, PSYCHIATRIST
from parcours_web.auth.users import get_user
from parcours_web.charts import Chart, build_chart
from parcours_web.context import app_context, current_actor
from parcours_web.forms import Form
from parcours_web.pages._routing import call, page_get, page_post, see_other
from parcours_web.rendering import render
from rtms_pathway import outcome_service as outcomes
from shared_core.db import Database, utcnow
from shared_core.errors import FieldError, NotFound, ValidationFailed
from shared_core.scales import ScaleCatalogue

CLOSERS = frozenset({PSYCHIATRIST})
CLOSE_FIELDS = ("course_status", "stop_reason", "maintenance_plan", "maintenance_template", "clinician_comment",
                "version")


class PathwayChart(msgspec.Struct, frozen=True):
    """A trajectory chart (charts.py) plus the course lines: the 10-session checkpoint (vertical),
    the response threshold (50 % of the course baseline) and the remission cut-off (horizontal)."""

    chart: Chart
    checkpoint_x: float | None
    checkpoint_date: dt.date | None
    response_y: float | None
    response_max: float | None
    baseline: int | None


def _x_of(chart: Chart, day: dt.date) -> float | None:
    at = dt.datetime.combine(day, dt.time(12), dt.UTC)
    if at < chart.first_at or at > chart.last_at or chart.last_at <= chart.first_at:
        return None
    span = (chart.last_at - chart.first_at).total_seconds()
    return round(chart.plot_left + (chart.plot_right - chart.plot_left) * (at - chart.first_at).total_seconds() / span,
                 2)


def _y_of(chart: Chart, value: float, low: int, high: int) -> float:
    clamped = min(max(value, low), high)
    height = chart.plot_bottom - chart.plot_top
    return round(chart.plot_top + height * (1 - (clamped - low) / max(high - low, 1)), 2)


def pathway_charts(view: outcomes.PathwayView, catalogue: ScaleCatalogue) -> list[PathwayChart]:
    """One chart per scale with at least one total; lines from the newest course that has them."""
    charts = []
    for track in view.tracks:
        definition = catalogue.get(track.scale_code)
        chart = build_chart(definition, track.points)
        if chart is None or definition.total_min is None or definition.total_max is None:
            continue
        checkpoint = next((c.checkpoint_date for c in view.courses if c.checkpoint_date), None)
        baseline = next((c.baselines[track.scale_code] for c in view.courses if track.scale_code in c.baselines), None)
        response_y = response_max = None
        if baseline and definition.classify_change and definition.direction == "lower_is_better":
            # R-MBC-04: response = improvement >= response_pct; the line is the highest score that still qualifies.
            response_max = baseline * (100 - definition.response_pct) / 100
            response_y = _y_of(chart, response_max, definition.total_min, definition.total_max)
        charts.append(PathwayChart(chart, _x_of(chart, checkpoint) if checkpoint else None, checkpoint, response_y,
                                   response_max, baseline))
    return charts


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


async def _page(request: Request[Any, Any, Any], patient_id: str, *, status: int = 200,
                errors: list[FieldError] | None = None, values: dict[str, str | None] | None = None,
                form_course: str | None = None) -> Response[Any]:
    context = app_context(request)
    view = await call(outcomes.pathway_overview, context.database, current_actor(request), context.catalogue,
                      patient_id)
    return render(request, "rtms/pathway/page.html", view, status=status,
                  charts=pathway_charts(view, context.catalogue), errors=errors or [], values=values or {},
                  form_course=form_course, today=_today(), closing_statuses=outcomes.CLOSING_STATUSES,
                  plans=outcomes.MAINTENANCE_PLANS)


@page_get("/patients/{patient_id:str}/pathway", CLINICAL)
async def pathway_page(request: Request[Any, Any, Any], patient_id: FromPath[str]) -> Response[Any]:
    return await _page(request, patient_id)


@page_post("/patients/{patient_id:str}/pathway/courses/{course_id:str}/close", CLOSERS)
async def close_course(request: Request[Any, Any, Any], patient_id: FromPath[str],
                       course_id: FromPath[str]) -> Response[Any]:
    context = app_context(request)
    form = await Form.read(request)
    values = {name: form.get(name) for name in CLOSE_FIELDS}
    try:
        data = outcomes.parse_close_input(values)
        await call(outcomes.close_course, context.database, current_actor(request), context.catalogue, patient_id,
                   course_id, data, _today())
    except ValidationFailed as failure:
        return await _page(request, patient_id, status=422, errors=failure.errors, values=values,
                           form_course=course_id)
    return see_other(f"/patients/{patient_id}/pathway#course-{course_id}")


def signer_name(database: Database, user_id: str) -> str | None:
    """The display name of the physician who closed the course, to sign the letter."""
    try:
        return get_user(database, user_id).display_name
    except NotFound:
        return None


@page_get("/patients/{patient_id:str}/pathway/courses/{course_id:str}/letter", CLINICAL)
async def course_letter(request: Request[Any, Any, Any], patient_id: FromPath[str],
                        course_id: FromPath[str]) -> Response[Any]:
    database = app_context(request).database
    letter = await call(outcomes.course_letter, database, current_actor(request), patient_id, course_id)
    return render(request, "rtms/pathway/letter.html", letter, back=f"/patients/{patient_id}/pathway",
                  signer=await call(signer_name, database, letter.outcome.decided_by))


@page_post("/patients/{patient_id:str}/pathway/follow-ups/{follow_up_id:str}", CLINICAL)
async def record_follow_up(request: Request[Any, Any, Any], patient_id: FromPath[str],
                           follow_up_id: FromPath[str]) -> Response[Any]:
    form = await Form.read(request)
    values = {name: form.get(name) for name in ("status", "assessment_id", "note", "version")}
    try:
        await call(outcomes.record_follow_up, app_context(request).database, current_actor(request), patient_id,
                   follow_up_id, raw=values)
    except ValidationFailed as failure:
        return await _page(request, patient_id, status=422, errors=failure.errors, values=values,
                           form_course=follow_up_id)
    return see_other(f"/patients/{patient_id}/pathway#follow-up-{follow_up_id}")


@page_get("/patients/{patient_id:str}/pathway/courses/{course_id:str}/fhir.json", CLINICAL)
async def course_fhir(request: Request[Any, Any, Any], patient_id: FromPath[str],
                      course_id: FromPath[str]) -> Response[bytes]:
    context = app_context(request)
    bundle = await call(outcomes.course_fhir_bundle, context.database, current_actor(request), context.catalogue,
                        patient_id, course_id, str(request.base_url).rstrip("/"), utcnow())
    return Response(msgspec.json.encode(bundle), media_type="application/fhir+json",
                    headers={"Content-Disposition": f'attachment; filename="cure-rtms-{course_id}.fhir.json"'})


ROUTES = [pathway_page, close_course, course_letter, record_follow_up, course_fhir]
