"""Administration: users and roles, and the audit trail viewer."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Request, Response
from litestar.params import FromPath, FromQuery

from parcours_web.auth import users
from parcours_web.auth.roles import ADMIN, ROLE_LABELS, ROLES
from parcours_web.context import app_context, current_actor
from parcours_web.forms import Form
from parcours_web.pages._routing import call, page_get, page_post, see_other
from parcours_web.rendering import render
from shared_core.errors import Conflict, FieldError, ValidationFailed
from shared_core.services.audit import AuditFilter, search_audit

ADMINS = frozenset({ADMIN})
USER_FIELDS = ("email", "display_name", "role", "organisation_id", "password", "active")


def _form_page(request: Request[Any, Any, Any], user: users.UserView | None, values: dict[str, Any],
               errors: list[FieldError], *, status: int = 200, conflict: str | None = None) -> Response[Any]:
    organisations = users.organisation_choices(app_context(request).database)
    return render(request, "admin/user_form.html", user, status=status, values=values, errors=errors,
                  roles=ROLES, role_labels=ROLE_LABELS, organisations=organisations, conflict=conflict)


@page_get("/admin/users", ADMINS)
async def user_list(request: Request[Any, Any, Any]) -> Response[Any]:
    rows = await call(users.list_users, app_context(request).database)
    return render(request, "admin/users.html", rows, role_labels=ROLE_LABELS)


@page_get("/admin/users/new", ADMINS, sync_to_thread=True)
def user_new(request: Request[Any, Any, Any]) -> Response[Any]:
    return _form_page(request, None, {"active": "on"}, [])


@page_post("/admin/users", ADMINS)
async def user_create(request: Request[Any, Any, Any]) -> Response[Any]:
    form = await Form.read(request)
    values = {name: form.get(name) for name in USER_FIELDS}
    try:
        data = users.parse_user_input(values, creating=True)
        await call(users.create_user, app_context(request).database, current_actor(request), data)
    except ValidationFailed as failure:
        values["password"] = None
        return await call(_form_page, request, None, values, failure.errors, status=422)
    return see_other("/admin/users")


@page_get("/admin/users/{user_id:str}/edit", ADMINS)
async def user_edit(request: Request[Any, Any, Any], user_id: FromPath[str]) -> Response[Any]:
    user = await call(users.get_user, app_context(request).database, user_id)
    values: dict[str, Any] = {"email": user.email, "display_name": user.display_name, "role": user.role,
                              "organisation_id": user.organisation_id, "active": "on" if user.active else None}
    return await call(_form_page, request, user, values, [])


@page_post("/admin/users/{user_id:str}/edit", ADMINS)
async def user_update(request: Request[Any, Any, Any], user_id: FromPath[str]) -> Response[Any]:
    database = app_context(request).database
    form = await Form.read(request)
    values = {name: form.get(name) for name in USER_FIELDS}
    version_text = form.get("version") or ""
    try:
        data = users.parse_user_input(values, creating=False)
        await call(users.update_user, database, current_actor(request), user_id,
                   int(version_text) if version_text.isdigit() else -1, data)
    except ValidationFailed as failure:
        user = await call(users.get_user, database, user_id)
        values["password"] = None
        return await call(_form_page, request, user, values, failure.errors, status=422)
    except Conflict as conflict:
        user = await call(users.get_user, database, user_id)
        values["password"] = None
        return await call(_form_page, request, user, values, [], status=409, conflict=conflict.message)
    return see_other("/admin/users")


def _date(value: str | None, name: str, errors: list[FieldError]) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        errors.append(FieldError(name, "Enter a date as YYYY-MM-DD."))
        return None


@page_get("/admin/audit", ADMINS)
async def audit_trail(
    request: Request[Any, Any, Any],
    patient: FromQuery[str] = "",
    user: FromQuery[str] = "",
    date_from: FromQuery[str] = "",
    date_to: FromQuery[str] = "",
    page: FromQuery[int] = 1,
) -> Response[Any]:
    errors: list[FieldError] = []
    filters = AuditFilter(
        patient_id=patient.strip() or None, actor_id=user.strip() or None,
        date_from=_date(date_from.strip(), "date_from", errors), date_to=_date(date_to.strip(), "date_to", errors),
    )
    values = {"patient": patient, "user": user, "date_from": date_from, "date_to": date_to}
    if errors:
        return render(request, "admin/audit.html", None, status=422, values=values, errors=errors)
    result = await call(search_audit, app_context(request).database, current_actor(request), filters, page)
    return render(request, "admin/audit.html", result, values=values, errors=[])


ROUTES = [user_list, user_new, user_create, user_edit, user_update, audit_trail]
