"""rTMS course planner on the patient record: the courses, their month calendars, planning and iCalendar export,
planned versus performed sessions, the edit actions and the 10-session checkpoint prompt."""

from __future__ import annotations

import calendar as gregorian
import datetime as dt
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.params import FromPath

from parcours_web.auth.roles import CLINICAL, PSYCHIATRIST
from parcours_web.context import app_context, current_actor
from parcours_web.forms import Form
from parcours_web.pages._routing import call, page_get, page_post, see_other
from parcours_web.rendering import render
from rtms_pathway import service as rtms
from rtms_pathway.catalogue.loader_planning import load_planning_templates, load_protocol_catalogue
from rtms_pathway.course_edits import SKIP_ACTIONS, SKIP_REASONS
from rtms_pathway.session_service import course_boards
from shared_core.db import utcnow
from shared_core.errors import FieldError, ValidationFailed
from shared_core.services import patients
from shared_core.services.organisations import centre_calendar

MONDAY = dt.date(2024, 1, 1)  # a Monday: the weekday headers are formatted from this week


class ProtocolChoice(msgspec.Struct, frozen=True):
    id: str
    label_fr: str
    label_en: str
    default_sessions: int | None


class MonthGrid(msgspec.Struct, frozen=True):
    first: dt.date
    weeks: list[list[tuple[dt.date | None, list[int]]]]


def protocol_choices() -> list[ProtocolChoice]:
    catalogue = load_protocol_catalogue()
    latest = [catalogue.get(code) for code in catalogue.ids()]
    return [ProtocolChoice(p.id, p.label_fr, p.name, p.acute_sessions_default) for p in latest if p.induction]


def month_grids(course: rtms.CourseView) -> list[MonthGrid]:
    """One Monday-first grid per month from the first to the last session; each day lists its session numbers."""
    numbers: dict[dt.date, list[int]] = {}
    for planned in course.sessions:
        if planned.status != "superseded":
            numbers.setdefault(planned.date, []).append(planned.number)
    if not numbers:
        return []
    first, last = min(numbers), max(numbers)
    grids: list[MonthGrid] = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        weeks = [[(day if day.month == month else None, numbers.get(day, []) if day.month == month else [])
                  for day in week] for week in gregorian.Calendar().monthdatescalendar(year, month)]
        grids.append(MonthGrid(dt.date(year, month, 1), weeks))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return grids


def _page_context(courses: list[rtms.CourseView]) -> dict[str, Any]:
    return {"courses": courses, "grids": {course.id: month_grids(course) for course in courses},
            "protocols": protocol_choices(), "weekdays": [MONDAY + dt.timedelta(days=i) for i in range(7)]}


def _edit_choices() -> dict[str, Any]:
    templates = load_planning_templates()
    return {"skip_reasons": SKIP_REASONS, "skip_actions": SKIP_ACTIONS,
            "tapers": [t for t in templates.tapers if t.weeks],
            "classic_templates": [t for t in templates.maintenance if t.kind == "classic" and t.protocol_id is None],
            "cluster_templates": [t for t in templates.maintenance if t.kind == "cluster"]}


async def render_courses(request: Request[Any, Any, Any], patient_id: str, *, status: int = 200,
                         values: dict[str, str | None] | None = None, errors: list[FieldError] | None = None,
                         **extra: Any) -> Response[Any]:
    """The course page: each course's calendar, planned versus performed sessions, edit actions, checkpoint."""
    context, actor = app_context(request), current_actor(request)
    database = context.database
    # One page view, one audit row: the course boards' read records it (the header and the calendars
    # read the same patient in the same request).
    patient = await call(patients.get_patient, database, actor, patient_id, audited=False)
    courses = await call(rtms.patient_courses, database, actor, patient_id, audited=False)
    calendar = await call(centre_calendar, database, actor.organisation_id or "", context.settings.holiday_zone)
    boards = await call(course_boards, database, actor, patient_id, calendar)
    defaults: dict[str, Any] = {"edit_errors": [], "edit_warnings": [], "conflict": None, "edit_course": None,
                                "edit_kind": None, "edited": False}
    return render(request, "rtms/courses.html", patient, status=status, values=values or {}, errors=errors or [],
                  boards={board.course.id: board for board in boards}, **_page_context(courses), **_edit_choices(),
                  **(defaults | extra))


@page_get("/patients/{patient_id:str}/courses", CLINICAL)
async def courses_page(request: Request[Any, Any, Any], patient_id: FromPath[str]) -> Response[Any]:
    return await render_courses(request, patient_id)


@page_post("/patients/{patient_id:str}/courses", frozenset({PSYCHIATRIST}))
async def plan_course(request: Request[Any, Any, Any], patient_id: FromPath[str]) -> Response[Any]:
    context, actor = app_context(request), current_actor(request)
    database = context.database
    form = await Form.read(request)
    count = form.get("induction_sessions")
    try:
        calendar = await call(centre_calendar, database, actor.organisation_id or "", context.settings.holiday_zone)
        await call(rtms.plan_course, database, actor, patient_id, protocol=form.get("protocol"),
                   start=form.get("start"), induction_sessions=int(count) if count and count.isdigit() else count,
                   calendar=calendar)
    except ValidationFailed as failure:
        return await render_courses(request, patient_id, status=422, values=form.as_dict(), errors=failure.errors)
    return see_other(f"/patients/{patient_id}/courses")


@page_get("/patients/{patient_id:str}/courses/{course_id:str}/calendar.ics", CLINICAL)
async def course_calendar(request: Request[Any, Any, Any], patient_id: FromPath[str],
                          course_id: FromPath[str]) -> Response[str]:
    database, actor = app_context(request).database, current_actor(request)
    text = await call(rtms.course_icalendar, database, actor, patient_id, course_id, utcnow())
    return Response(text, media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="seances-rtms-{course_id}.ics"'})


ROUTES = [courses_page, plan_course, course_calendar]
