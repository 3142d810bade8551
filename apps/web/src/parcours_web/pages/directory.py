"""Administration of organisations (with their closures) and practitioners."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Request, Response
from litestar.params import FromPath

from parcours_web.auth.roles import ADMIN
from parcours_web.context import app_context, current_actor
from parcours_web.forms import Form
from parcours_web.pages._routing import call, page_get, page_post, see_other
from parcours_web.rendering import render
from shared_core.calendar import HOLIDAY_ZONES
from shared_core.errors import FieldError, ValidationFailed
from shared_core.services import organisations

ADMINS = frozenset({ADMIN})
ORG_FIELDS = ("kind", "name", "finess", "commune_insee", "holiday_zone")
PRACTITIONER_FIELDS = ("family_name", "given_name", "profession", "rpps", "organisation_id")


async def _directory(request: Request[Any, Any, Any], *, status: int = 200, org_values: dict[str, Any] | None = None,
                     practitioner_values: dict[str, Any] | None = None, errors: list[FieldError] | None = None,
                     warnings: list[str] | None = None, form: str | None = None) -> Response[Any]:
    database = app_context(request).database
    orgs = await call(organisations.list_organisations, database)
    practitioners = await call(organisations.list_practitioners, database)
    return render(request, "admin/directory.html", orgs, status=status, practitioners=practitioners,
                  kinds=organisations.ORGANISATION_KINDS, professions=organisations.PROFESSIONS, zones=HOLIDAY_ZONES,
                  org_values=org_values or {}, practitioner_values=practitioner_values or {},
                  errors=errors or [], warnings=warnings or [], form=form)


@page_get("/admin/organisations", ADMINS)
async def directory(request: Request[Any, Any, Any]) -> Response[Any]:
    return await _directory(request)


@page_post("/admin/organisations", ADMINS)
async def organisation_create(request: Request[Any, Any, Any]) -> Response[Any]:
    form = await Form.read(request)
    values = {name: form.get(name) for name in ORG_FIELDS}
    try:
        saved = await call(organisations.create_organisation, app_context(request).database, current_actor(request),
                           values)
    except ValidationFailed as failure:
        return await _directory(request, status=422, org_values=values, errors=failure.errors, form="organisation")
    return await _directory(request, warnings=saved.warnings)


@page_post("/admin/practitioners", ADMINS)
async def practitioner_create(request: Request[Any, Any, Any]) -> Response[Any]:
    form = await Form.read(request)
    values = {name: form.get(name) for name in PRACTITIONER_FIELDS}
    try:
        saved = await call(organisations.create_practitioner, app_context(request).database, current_actor(request),
                           values)
    except ValidationFailed as failure:
        return await _directory(request, status=422, practitioner_values=values, errors=failure.errors,
                                form="practitioner")
    return await _directory(request, warnings=saved.warnings)


@page_get("/admin/organisations/{organisation_id:str}/closures", ADMINS)
async def closures(request: Request[Any, Any, Any], organisation_id: FromPath[str]) -> Response[Any]:
    rows = await call(organisations.list_closures, app_context(request).database, organisation_id)
    return render(request, "admin/closures.html", rows, organisation_id=organisation_id, values={}, errors=[])


def _date(form: Form, name: str, errors: list[FieldError]) -> dt.date | None:
    raw = form.get(name)
    if not raw:
        errors.append(FieldError(name, "Enter a date as YYYY-MM-DD."))
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors.append(FieldError(name, "Enter a date as YYYY-MM-DD."))
        return None


@page_post("/admin/organisations/{organisation_id:str}/closures", ADMINS)
async def closure_add(request: Request[Any, Any, Any], organisation_id: FromPath[str]) -> Response[Any]:
    database = app_context(request).database
    form = await Form.read(request)
    errors: list[FieldError] = []
    start, end = _date(form, "start_date", errors), _date(form, "end_date", errors)
    try:
        if errors or start is None or end is None:
            raise ValidationFailed(errors)
        await call(organisations.add_closure, database, current_actor(request), organisation_id, start, end,
                   form.get("label") or "")
    except ValidationFailed as failure:
        rows = await call(organisations.list_closures, database, organisation_id)
        return render(request, "admin/closures.html", rows, status=422, organisation_id=organisation_id,
                      values=form.as_dict(), errors=failure.errors)
    return see_other(f"/admin/organisations/{organisation_id}/closures")


@page_post("/admin/organisations/{organisation_id:str}/closures/{closure_id:int}/delete", ADMINS)
async def closure_remove(request: Request[Any, Any, Any], organisation_id: FromPath[str],
                         closure_id: FromPath[int]) -> Response[Any]:
    await call(organisations.remove_closure, app_context(request).database, current_actor(request), organisation_id,
               closure_id)
    return see_other(f"/admin/organisations/{organisation_id}/closures")


ROUTES = [directory, organisation_create, practitioner_create, closures, closure_add, closure_remove]
