"""Session day pages: the operator's "today" list, the session form, the motor-threshold form and the
adverse-event form (with the seizure/syncope form), and the course edit actions of the course page."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, Response
from litestar.params import FromPath, FromQuery

from parcours_web.auth.roles import CLINICAL, PSYCHIATRIST
from parcours_web.context import app_context, current_actor
from parcours_web.forms import Form
from parcours_web.pages._routing import call, page_get, page_post, see_other
from parcours_web.pages.courses import render_courses
from parcours_web.rendering import render
from rtms_pathway import course_edits
from rtms_pathway import session_service as sessions
from shared_core.db import utcnow
from shared_core.errors import Conflict, NotFound, ValidationFailed
from shared_core.services.organisations import centre_calendar

PARIS = ZoneInfo("Europe/Paris")
EDIT_KINDS: dict[str, course_edits.EditKind] = {
    "skip": "skip", "undo": "undo", "extend": "extend", "taper": "taper",
    "maintenance-classic": "maintenance_classic", "maintenance-cluster": "maintenance_cluster", "resume": "resume",
}


def local_today() -> dt.date:
    return dt.datetime.now(PARIS).date()


def _choices() -> dict[str, Any]:
    return {"targeting_methods": sessions.TARGETING_METHODS, "interruption_reasons": sessions.INTERRUPTION_REASONS,
            "mt_methods": sessions.MT_METHODS, "mt_triggers": sessions.MT_TRIGGERS, "ae_types": sessions.AE_TYPES,
            "ae_onsets": sessions.AE_ONSETS, "ae_severities": sessions.AE_SEVERITIES,
            "ae_actions": sessions.AE_ACTIONS, "relatedness": sessions.RELATEDNESS,
            "semiologies": sessions.SEMIOLOGIES, "adjudications": sessions.ADJUDICATIONS,
            "continuations": sessions.CONTINUATIONS, "hold_flags": sessions.HOLD_FLAGS}


@page_get("/today", CLINICAL)
async def today_page(request: Request[Any, Any, Any], day: FromQuery[str | None] = None) -> Response[Any]:
    try:
        chosen = dt.date.fromisoformat(day) if day else local_today()
    except ValueError:
        chosen = local_today()
    view = await call(sessions.sessions_of_day, app_context(request).database, current_actor(request), chosen)
    return render(request, "rtms/sessions/today.html", view, previous=chosen - dt.timedelta(days=1),
                  following=chosen + dt.timedelta(days=1), is_today=chosen == local_today())


def _session_path(patient_id: str, course_id: str, planned_id: str) -> str:
    return f"/patients/{patient_id}/courses/{course_id}/sessions/{planned_id}"


@page_get("/patients/{patient_id:str}/courses/{course_id:str}/sessions/{planned_id:str}", CLINICAL)
async def session_page(request: Request[Any, Any, Any], patient_id: FromPath[str], course_id: FromPath[str],
                       planned_id: FromPath[str]) -> Response[Any]:
    view = await call(sessions.session_form, app_context(request).database, current_actor(request), patient_id,
                      course_id, planned_id, local_today())
    return render(request, "rtms/sessions/session_form.html", view, values=view.defaults, errors=[], **_choices())


@page_post("/patients/{patient_id:str}/courses/{course_id:str}/sessions/{planned_id:str}", CLINICAL)
async def session_record(request: Request[Any, Any, Any], patient_id: FromPath[str], course_id: FromPath[str],
                         planned_id: FromPath[str]) -> Response[Any]:
    database, actor = app_context(request).database, current_actor(request)
    form = await Form.read(request)
    try:
        await call(sessions.record_session, database, actor, patient_id, course_id, planned_id, form.as_dict(),
                   utcnow())
    except ValidationFailed as failure:
        view = await call(sessions.session_form, database, actor, patient_id, course_id, planned_id, local_today())
        return render(request, "rtms/sessions/session_form.html", view, status=422, values=form.as_dict(),
                      errors=failure.errors, **_choices())
    return see_other(_session_path(patient_id, course_id, planned_id))


@page_get("/patients/{patient_id:str}/courses/{course_id:str}/mt/new", CLINICAL)
async def mt_page(request: Request[Any, Any, Any], patient_id: FromPath[str], course_id: FromPath[str],
                  next: FromQuery[str | None] = None) -> Response[Any]:
    view = await call(sessions.mt_form, app_context(request).database, current_actor(request), patient_id,
                      course_id, local_today())
    return render(request, "rtms/sessions/mt_form.html", view, values=view.defaults, errors=[],
                  next_path=next or "", **_choices())


@page_post("/patients/{patient_id:str}/courses/{course_id:str}/mt", CLINICAL)
async def mt_record(request: Request[Any, Any, Any], patient_id: FromPath[str],
                    course_id: FromPath[str]) -> Response[Any]:
    database, actor = app_context(request).database, current_actor(request)
    form = await Form.read(request)
    try:
        created = await call(sessions.record_motor_threshold, database, actor, patient_id, course_id,
                             form.as_dict(), utcnow())
    except ValidationFailed as failure:
        view = await call(sessions.mt_form, database, actor, patient_id, course_id, local_today())
        return render(request, "rtms/sessions/mt_form.html", view, status=422, values=form.as_dict(),
                      errors=failure.errors, next_path=form.get("next") or "", **_choices())
    target = f"/patients/{patient_id}/courses/{course_id}/mt/{created.id}"
    following = form.get("next")
    if following and following.startswith(f"/patients/{patient_id}/courses/{course_id}/sessions/"):
        target += "?next=" + following
    return see_other(target)


@page_get("/patients/{patient_id:str}/courses/{course_id:str}/mt/{mt_id:str}", CLINICAL)
async def mt_result(request: Request[Any, Any, Any], patient_id: FromPath[str], course_id: FromPath[str],
                    mt_id: FromPath[str], next: FromQuery[str | None] = None) -> Response[Any]:
    course, name, view = await call(sessions.get_motor_threshold, app_context(request).database,
                                    current_actor(request), patient_id, course_id, mt_id)
    safe_next = next if next and next.startswith(f"/patients/{patient_id}/courses/{course_id}/") else ""
    return render(request, "rtms/sessions/mt_result.html", view, course=course, patient_name=name,
                  next_path=safe_next)


@page_get("/patients/{patient_id:str}/courses/{course_id:str}/adverse-events/new", CLINICAL)
async def adverse_event_page(request: Request[Any, Any, Any], patient_id: FromPath[str],
                             course_id: FromPath[str]) -> Response[Any]:
    view = await call(sessions.adverse_event_form, app_context(request).database, current_actor(request),
                      patient_id, course_id)
    return render(request, "rtms/sessions/adverse_event_form.html", view, values=view.defaults, errors=[],
                  **_choices())


@page_get("/patients/{patient_id:str}/courses/{course_id:str}/adverse-events/{event_id:str}", CLINICAL)
async def adverse_event_edit_page(request: Request[Any, Any, Any], patient_id: FromPath[str],
                                  course_id: FromPath[str], event_id: FromPath[str]) -> Response[Any]:
    view = await call(sessions.adverse_event_form, app_context(request).database, current_actor(request),
                      patient_id, course_id, event_id)
    return render(request, "rtms/sessions/adverse_event_form.html", view, values=view.defaults, errors=[],
                  **_choices())


async def _save_event(request: Request[Any, Any, Any], patient_id: str, course_id: str,
                      event_id: str | None) -> Response[Any]:
    database, actor = app_context(request).database, current_actor(request)
    form = await Form.read(request)
    try:
        saved = await call(sessions.save_adverse_event, database, actor, patient_id, course_id, form.as_dict(),
                           event_id)
    except ValidationFailed as failure:
        view = await call(sessions.adverse_event_form, database, actor, patient_id, course_id, event_id)
        return render(request, "rtms/sessions/adverse_event_form.html", view, status=422, values=form.as_dict(),
                      errors=failure.errors, **_choices())
    return see_other(f"/patients/{patient_id}/courses/{course_id}/adverse-events/{saved.id}")


@page_post("/patients/{patient_id:str}/courses/{course_id:str}/adverse-events", CLINICAL)
async def adverse_event_create(request: Request[Any, Any, Any], patient_id: FromPath[str],
                               course_id: FromPath[str]) -> Response[Any]:
    return await _save_event(request, patient_id, course_id, None)


@page_post("/patients/{patient_id:str}/courses/{course_id:str}/adverse-events/{event_id:str}", CLINICAL)
async def adverse_event_update(request: Request[Any, Any, Any], patient_id: FromPath[str],
                               course_id: FromPath[str], event_id: FromPath[str]) -> Response[Any]:
    return await _save_event(request, patient_id, course_id, event_id)


@page_post("/patients/{patient_id:str}/courses/{course_id:str}/edit/{kind:str}", frozenset({PSYCHIATRIST}))
async def course_edit(request: Request[Any, Any, Any], patient_id: FromPath[str], course_id: FromPath[str],
                      kind: FromPath[str]) -> Response[Any]:
    """One edit of the stored plan; the course page is shown again with the rule's warnings, or with the
    conflict (stale version, a skip that can no longer be undone) and status 409."""
    if kind not in EDIT_KINDS:
        raise NotFound("Unknown course action.")
    context, actor = app_context(request), current_actor(request)
    form = await Form.read(request)
    calendar = await call(centre_calendar, context.database, actor.organisation_id or "",
                          context.settings.holiday_zone)
    try:
        outcome = await call(course_edits.apply_course_edit, context.database, actor, patient_id, course_id,
                             EDIT_KINDS[kind], form.as_dict(), calendar=calendar, today=local_today())
    except ValidationFailed as failure:
        return await render_courses(request, patient_id, status=422, edit_errors=failure.errors,
                                    edit_course=course_id, edit_kind=kind)
    except Conflict as conflict:
        return await render_courses(request, patient_id, status=409, conflict=conflict.message,
                                    edit_course=course_id, edit_kind=kind)
    return await render_courses(request, patient_id, edit_warnings=outcome.warnings, edit_course=course_id,
                                edit_kind=kind, edited=True)


ROUTES = [today_page, session_page, session_record, mt_page, mt_record, mt_result, adverse_event_page,
          adverse_event_edit_page, adverse_event_create, adverse_event_update, course_edit]
