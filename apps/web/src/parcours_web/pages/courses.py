"""rTMS course planner on the patient record: the courses, their month calendars, planning and iCalendar export."""

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
from rtms_pathway.catalogue.loader_planning import load_protocol_catalogue
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


@page_get("/patients/{patient_id:str}/courses", CLINICAL)
async def courses_page(request: Request[Any, Any, Any], patient_id: FromPath[str]) -> Response[Any]:
    database, actor = app_context(request).database, current_actor(request)
    patient = await call(patients.get_patient, database, actor, patient_id)
    courses = await call(rtms.patient_courses, database, actor, patient_id)
    return render(request, "rtms/courses.html", patient, values={}, errors=[], **_page_context(courses))


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
        patient = await call(patients.get_patient, database, actor, patient_id)
        courses = await call(rtms.patient_courses, database, actor, patient_id)
        errors: list[FieldError] = failure.errors
        return render(request, "rtms/courses.html", patient, status=422, values=form.as_dict(), errors=errors,
                      **_page_context(courses))
    return see_other(f"/patients/{patient_id}/courses")


@page_get("/patients/{patient_id:str}/courses/{course_id:str}/calendar.ics", CLINICAL)
async def course_calendar(request: Request[Any, Any, Any], patient_id: FromPath[str],
                          course_id: FromPath[str]) -> Response[str]:
    database, actor = app_context(request).database, current_actor(request)
    text = await call(rtms.course_icalendar, database, actor, patient_id, course_id, utcnow())
    return Response(text, media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="seances-rtms-{course_id}.ics"'})


ROUTES = [courses_page, plan_course, course_calendar]
