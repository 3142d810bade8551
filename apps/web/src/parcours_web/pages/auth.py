"""Login, logout and language choice."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.params import FromQuery

from parcours_web.auth import service
from parcours_web.auth.middleware import SESSION_COOKIE
from parcours_web.auth.roles import ALL_ROLES, PUBLIC
from parcours_web.auth.users import set_locale
from parcours_web.context import LANG_COOKIE, app_context, client_address, current_principal
from parcours_web.forms import Form
from parcours_web.pages._routing import call, page_get, page_post, safe_next, see_other
from parcours_web.rendering import render


@page_get("/login", PUBLIC)
async def login_page(request: Request[Any, Any, Any], next: FromQuery[str | None] = None) -> Response[Any]:
    if current_principal(request) is not None:
        return see_other(safe_next(next))
    return render(request, "login.html", None, next=safe_next(next, ""), error=None, email="")


@page_post("/login", PUBLIC)
async def login_submit(request: Request[Any, Any, Any]) -> Response[Any]:
    context = app_context(request)
    form = await Form.read(request)
    email = form.get("email") or ""
    next_path = safe_next(form.get("next"), "/")
    outcome = await call(service.login, context.database, email, form.get("password") or "",
                         client_address(request), context.settings.session_absolute_hours)
    if outcome.retry_after_seconds:
        return render(request, "login.html", None, status=429, next=next_path, email=email,
                      error="too_many", retry_after=outcome.retry_after_seconds,
                      headers={"retry-after": str(outcome.retry_after_seconds)})
    if outcome.session_token is None:
        return render(request, "login.html", None, status=401, next=next_path, email=email, error="invalid")
    previous = current_principal(request)
    if previous is not None and previous.auth == "session":
        await call(service.logout, context.database, previous, client_address(request))
    response = see_other(next_path)
    response.cookies.append(Cookie(
        key=SESSION_COOKIE, value=outcome.session_token, httponly=True, samesite="lax",
        secure=context.settings.cookie_secure, path="/", max_age=context.settings.session_absolute_hours * 3600,
    ))
    return response


@page_post("/logout", ALL_ROLES)
async def logout(request: Request[Any, Any, Any]) -> Response[Any]:
    context = app_context(request)
    principal = current_principal(request)
    if principal is not None and principal.auth == "session":
        await call(service.logout, context.database, principal, client_address(request))
    response = see_other("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@page_post("/language", PUBLIC)
async def choose_language(request: Request[Any, Any, Any]) -> Response[Any]:
    form = await Form.read(request)
    locale = form.get("locale")
    target = safe_next(form.get("next"))
    if locale not in ("fr", "en"):
        return see_other(target)
    principal = current_principal(request)
    if principal is not None:
        await call(set_locale, app_context(request).database, principal.user_id, locale)
    response = see_other(target)
    response.cookies.append(Cookie(key=LANG_COOKIE, value=locale, httponly=True, samesite="lax",
                                   secure=app_context(request).settings.cookie_secure, path="/",
                                   max_age=365 * 24 * 3600))
    return response


ROUTES = [login_page, login_submit, logout, choose_language]
