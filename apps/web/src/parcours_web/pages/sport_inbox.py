"""The coordinator's inbox (product journey 8): referrals to the coordinator's own structures, the
minimised referral view (C-3), accept / decline with reason, booking, attendance, D.1172-5 reports,
completion or stop. Every page shows only what ``coordinator_view`` lets through."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Request, Response
from litestar.params import FromPath, FromQuery

from parcours_web import sport_labels
from parcours_web.auth.roles import COORDINATOR
from parcours_web.context import app_context, current_actor
from parcours_web.forms import Form
from parcours_web.pages._routing import call, page_get, page_post, see_other
from parcours_web.rendering import is_htmx
from parcours_web.rendering import render as base_render
from shared_core.errors import FieldError, ValidationFailed
from shared_core.rules.workflow import SPORT_DECLINE_REASONS, SPORT_REFERRAL_WORKFLOW
from sport_referral import referral_service as sport
from sport_referral.model.structures import PROFESSIONS
from sport_referral.referral_forms import MOTIVATION_STAGES, REPORT_TYPES
from sport_referral.rules.referral_flow import COMPLETED_WITHOUT_FINAL_ASSESSMENT

COORDINATORS = frozenset({COORDINATOR})
INBOX_STATUSES = ("open", "all", *(s.code for s in SPORT_REFERRAL_WORKFLOW.states if s.code != "draft"))



def render(request: Request[Any, Any, Any], template: str, view: Any = None, *, status: int = 200,
           **extra: Any) -> Response[str]:
    return base_render(request, template, view, status=status, labels=sport_labels, **extra)


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@page_get("/sport/inbox", COORDINATORS)
async def inbox(request: Request[Any, Any, Any], status: FromQuery[str] = "open", q: FromQuery[str] = "",
                after: FromQuery[str | None] = None) -> Response[Any]:
    """The inbox by pages: active search swaps the results; the htmx "next referrals" link appends
    the following rows; without htmx, each page is a page of its own."""
    chosen = status if status in INBOX_STATUSES else "open"
    page = await call(sport.inbox, app_context(request).database, current_actor(request), status=chosen,
                      query=q[:100], after=after[:64] if after else None)
    if is_htmx(request):
        if request.headers.get("hx-target") == "inbox-results":
            return render(request, "sport/_inbox_rows.html", page)
        if after:
            return render(request, "sport/_inbox_page.html", page)
    return render(request, "sport/inbox.html", page, statuses=INBOX_STATUSES)


async def _referral(request: Request[Any, Any, Any], referral_id: str, *, status: int = 200,
                    errors: list[FieldError] | None = None, form: str | None = None,
                    values: dict[str, Any] | None = None) -> Response[Any]:
    page = await call(sport.coordinator_referral, app_context(request).database, current_actor(request), referral_id)
    return render(request, "sport/inbox_referral.html", page, status=status, errors=errors or [], form=form,
                  values=values or {}, decline_reasons=SPORT_DECLINE_REASONS, stop_reasons=sport.STOP_REASONS,
                  report_types=REPORT_TYPES, professions=PROFESSIONS, motivation_stages=MOTIVATION_STAGES,
                  completed_without=COMPLETED_WITHOUT_FINAL_ASSESSMENT, today=_today())


@page_get("/sport/inbox/{referral_id:str}", COORDINATORS)
async def inbox_referral(request: Request[Any, Any, Any], referral_id: FromPath[str]) -> Response[Any]:
    return await _referral(request, referral_id)


def _version(form: Form) -> int:
    raw = form.get("version") or ""
    return int(raw) if raw.isdigit() else -1


def _date(form: Form, name: str, errors: list[FieldError]) -> dt.date | None:
    raw = form.get(name)
    if raw is None:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors.append(FieldError(name, "Enter a date as YYYY-MM-DD."))
        return None


@page_post("/sport/inbox/{referral_id:str}/accept", COORDINATORS)
async def inbox_accept(request: Request[Any, Any, Any], referral_id: FromPath[str]) -> Response[Any]:
    form = await Form.read(request)
    await call(sport.accept, app_context(request).database, current_actor(request), referral_id, _version(form))
    return see_other(f"/sport/inbox/{referral_id}")


@page_post("/sport/inbox/{referral_id:str}/decline", COORDINATORS)
async def inbox_decline(request: Request[Any, Any, Any], referral_id: FromPath[str]) -> Response[Any]:
    form = await Form.read(request)
    try:
        await call(sport.decline, app_context(request).database, current_actor(request), referral_id, _version(form),
                   reason_code=form.get("reason_code"), reason_text=form.get("reason_text"))
    except ValidationFailed as failure:
        return await _referral(request, referral_id, status=422, errors=failure.errors, form="decline",
                               values=form.as_dict())
    return see_other(f"/sport/inbox/{referral_id}")


@page_post("/sport/inbox/{referral_id:str}/book", COORDINATORS)
async def inbox_book(request: Request[Any, Any, Any], referral_id: FromPath[str]) -> Response[Any]:
    form = await Form.read(request)
    errors: list[FieldError] = []
    planned = _date(form, "planned_on", errors)
    try:
        if errors:
            raise ValidationFailed(errors)
        await call(sport.book_first_session, app_context(request).database, current_actor(request), referral_id,
                   _version(form), planned, today=_today())
    except ValidationFailed as failure:
        return await _referral(request, referral_id, status=422, errors=failure.errors, form="book",
                               values=form.as_dict())
    return see_other(f"/sport/inbox/{referral_id}")


@page_post("/sport/inbox/{referral_id:str}/attendance", COORDINATORS)
async def inbox_attendance(request: Request[Any, Any, Any], referral_id: FromPath[str]) -> Response[Any]:
    form = await Form.read(request)
    errors: list[FieldError] = []
    session_on = _date(form, "session_on", errors)
    attended_raw = form.get("attended")
    attended = None if attended_raw not in ("yes", "no") else attended_raw == "yes"
    try:
        if errors:
            raise ValidationFailed(errors)
        await call(sport.record_attendance, app_context(request).database, current_actor(request), referral_id,
                   _version(form), kind=form.get("kind"), session_on=session_on, attended=attended, today=_today())
    except ValidationFailed as failure:
        return await _referral(request, referral_id, status=422, errors=failure.errors, form="attendance",
                               values=form.as_dict())
    return see_other(f"/sport/inbox/{referral_id}")


@page_post("/sport/inbox/{referral_id:str}/reports", COORDINATORS)
async def inbox_report(request: Request[Any, Any, Any], referral_id: FromPath[str]) -> Response[Any]:
    raw = await request.form()
    values: dict[str, list[str]] = {}
    for key, value in raw.multi_items():
        if isinstance(value, str):
            values.setdefault(key, []).append(value)
    version_raw = (values.get("version") or [""])[0]
    try:
        await call(sport.record_report, app_context(request).database, current_actor(request), referral_id,
                   int(version_raw) if version_raw.isdigit() else -1, values, today=_today())
    except ValidationFailed as failure:
        return await _referral(request, referral_id, status=422, errors=failure.errors, form="report",
                               values={k: v[0] for k, v in values.items() if v})
    return see_other(f"/sport/inbox/{referral_id}")


@page_get("/sport/inbox/{referral_id:str}/reports/{report_id:str}", COORDINATORS)
async def inbox_report_print(request: Request[Any, Any, Any], referral_id: FromPath[str],
                             report_id: FromPath[str]) -> Response[Any]:
    structure_name, report = await call(sport.coordinator_report, app_context(request).database,
                                        current_actor(request), referral_id, report_id)
    return render(request, "sport/report_print.html", report, structure_name=structure_name, referral_id=referral_id)


@page_post("/sport/inbox/{referral_id:str}/complete", COORDINATORS)
async def inbox_complete(request: Request[Any, Any, Any], referral_id: FromPath[str]) -> Response[Any]:
    form = await Form.read(request)
    try:
        await call(sport.complete, app_context(request).database, current_actor(request), referral_id, _version(form),
                   reason_code=form.get("reason_code"), reason_text=form.get("reason_text"))
    except ValidationFailed as failure:
        return await _referral(request, referral_id, status=422, errors=failure.errors, form="complete",
                               values=form.as_dict())
    return see_other(f"/sport/inbox/{referral_id}")


@page_post("/sport/inbox/{referral_id:str}/stop", COORDINATORS)
async def inbox_stop(request: Request[Any, Any, Any], referral_id: FromPath[str]) -> Response[Any]:
    form = await Form.read(request)
    try:
        await call(sport.stop, app_context(request).database, current_actor(request), referral_id, _version(form),
                   target=form.get("target"), reason_code=form.get("reason_code"), reason_text=form.get("reason_text"))
    except ValidationFailed as failure:
        return await _referral(request, referral_id, status=422, errors=failure.errors, form="stop",
                               values=form.as_dict())
    return see_other(f"/sport/inbox/{referral_id}")


@page_post("/sport/inbox/{referral_id:str}/resume", COORDINATORS)
async def inbox_resume(request: Request[Any, Any, Any], referral_id: FromPath[str]) -> Response[Any]:
    form = await Form.read(request)
    await call(sport.resume, app_context(request).database, current_actor(request), referral_id, _version(form))
    return see_other(f"/sport/inbox/{referral_id}")


ROUTES = [inbox, inbox_referral, inbox_accept, inbox_decline, inbox_book, inbox_attendance, inbox_report,
          inbox_report_print, inbox_complete, inbox_stop, inbox_resume]
