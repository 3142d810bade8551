"""Patients: list with active search, create, edit with version check, and the patient page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Request, Response
from litestar.params import FromPath, FromQuery

from parcours_web.auth.roles import CLINICAL
from parcours_web.charts import charts_for
from parcours_web.context import app_context, current_actor
from parcours_web.forms import Form
from parcours_web.pages._routing import call, page_get, page_post, see_other
from parcours_web.rendering import is_htmx, render
from shared_core.errors import Conflict, FieldError, ValidationFailed
from shared_core.services import assessments, patients

FORM_FIELDS = ("family_name", "given_names", "birth_date", "sex", "ins", "commune_insee", "phone", "email",
               "address_line")


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@page_get("/patients", CLINICAL)
async def patient_list(request: Request[Any, Any, Any], q: FromQuery[str] = "",
                       page: FromQuery[int] = 1) -> Response[Any]:
    result = await call(patients.search_patients, app_context(request).database, current_actor(request),
                        q[:100], page)
    if is_htmx(request) and request.headers.get("hx-target") == "patient-results":
        return render(request, "patients/_results.html", result)
    return render(request, "patients/list.html", result)


@page_get("/patients/new", CLINICAL)
async def patient_new(request: Request[Any, Any, Any]) -> Response[Any]:
    return render(request, "patients/form.html", None, values={}, errors=[], version=None, conflict=None)


@page_post("/patients", CLINICAL)
async def patient_create(request: Request[Any, Any, Any]) -> Response[Any]:
    form = await Form.read(request)
    values = {name: form.get(name) for name in FORM_FIELDS}
    try:
        data = patients.parse_patient_input(values, _today())
        created = await call(patients.create_patient, app_context(request).database, current_actor(request), data)
    except ValidationFailed as failure:
        return render(request, "patients/form.html", None, status=422, values=values, errors=failure.errors,
                      version=None, conflict=None)
    return see_other(f"/patients/{created.id}")


@page_post("/patients/check-field", CLINICAL)
async def patient_check_field(request: Request[Any, Any, Any], field: FromQuery[str]) -> Response[Any]:
    """Inline validation: the whole form is sent, only the named field's messages come back."""
    form = await Form.read(request)
    messages: list[str] = []
    if field in FORM_FIELDS and form.get(field):
        try:
            patients.parse_patient_input({name: form.get(name) for name in FORM_FIELDS}, _today())
        except ValidationFailed as failure:
            messages = [error.message for error in failure.errors if error.field == field]
    return render(request, "patients/_field_errors.html", None, field=field, messages=messages)


@page_get("/patients/{patient_id:str}", CLINICAL)
async def patient_page(request: Request[Any, Any, Any], patient_id: FromPath[str]) -> Response[Any]:
    context = app_context(request)
    overview = await call(assessments.patient_overview, context.database, current_actor(request),
                          context.catalogue, patient_id)
    return render(request, "patients/page.html", overview, charts=charts_for(overview, context.catalogue),
                  catalogue=context.catalogue, today=_today())


@page_get("/patients/{patient_id:str}/timeline", CLINICAL)
async def patient_timeline(request: Request[Any, Any, Any], patient_id: FromPath[str],
                           older_than: FromQuery[str | None] = None) -> Response[Any]:
    """The timeline by pages: the htmx "show older" button swaps the next one in; without htmx, a page of its own."""
    moment: dt.datetime | None = None
    if older_than:
        try:
            moment = dt.datetime.fromisoformat(older_than)
        except ValueError:
            raise ValidationFailed([FieldError("older_than", "Not a date and time.")]) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
    timeline = await call(assessments.patient_timeline, app_context(request).database, current_actor(request),
                          patient_id, moment)
    template = "patients/_timeline_entries.html" if is_htmx(request) else "patients/timeline.html"
    return render(request, template, timeline, patient_id=patient_id)


@page_get("/patients/{patient_id:str}/edit", CLINICAL)
async def patient_edit(request: Request[Any, Any, Any], patient_id: FromPath[str]) -> Response[Any]:
    detail = await call(patients.get_patient, app_context(request).database, current_actor(request), patient_id)
    values = {name: getattr(detail, name) for name in FORM_FIELDS}
    values["birth_date"] = detail.birth_date.isoformat()
    return render(request, "patients/form.html", detail, values=values, errors=[], version=detail.version,
                  conflict=None)


@page_post("/patients/{patient_id:str}/edit", CLINICAL)
async def patient_update(request: Request[Any, Any, Any], patient_id: FromPath[str]) -> Response[Any]:
    form = await Form.read(request)
    values = {name: form.get(name) for name in FORM_FIELDS}
    version_text = form.get("version") or ""
    version = int(version_text) if version_text.isdigit() else -1
    database, actor = app_context(request).database, current_actor(request)
    try:
        data = patients.parse_patient_input(values, _today())
        await call(patients.update_patient, database, actor, patient_id, version, data)
    except ValidationFailed as failure:
        return render(request, "patients/form.html", {"id": patient_id}, status=422, values=values,
                      errors=failure.errors, version=version, conflict=None)
    except Conflict as conflict:
        current = await call(patients.get_patient, database, actor, patient_id)
        return render(request, "patients/form.html", current, status=409, values=values, errors=[],
                      version=version, conflict=conflict.message, current=current)
    return see_other(f"/patients/{patient_id}")


ROUTES = [patient_list, patient_new, patient_create, patient_check_field, patient_page, patient_timeline, patient_edit,
          patient_update]
