"""The one guard every route goes through: declared roles, then CSRF on state-changing requests."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from parcours_web.auth.roles import PUBLIC
from parcours_web.context import app_context, current_principal

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "_csrf_token"
CSRF_HEADER = "x-csrf-token"
ANON_CSRF_COOKIE = "parcours_csrf"


def anonymous_csrf_token(secret_key: str, cookie_value: str) -> str:
    """Before login there is no server session: double-submit a cookie, signed with the secret."""
    return hmac.new(secret_key.encode(), cookie_value.encode(), hashlib.sha256).hexdigest()


def new_anonymous_cookie() -> str:
    return secrets.token_urlsafe(24)


def expected_csrf_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    principal = current_principal(connection)
    if principal is not None:
        return principal.csrf_token
    cookie = connection.cookies.get(ANON_CSRF_COOKIE)
    if not cookie:
        return None
    return anonymous_csrf_token(app_context(connection).settings.secret_key, cookie)


async def _submitted_csrf_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = connection.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await connection.form()  # type: ignore[attr-defined]
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


async def access_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    roles: frozenset[str] | None = handler.opt.get("roles")
    if roles is None:
        raise PermissionDeniedException("This route declares no roles.")
    principal = current_principal(connection)
    if roles is not PUBLIC and roles != PUBLIC:
        if principal is None:
            raise NotAuthorizedException("Authentication required.")
        if principal.role not in roles:
            raise PermissionDeniedException("Your role does not give access to this page.")
    if connection.scope.get("method", "GET") in SAFE_METHODS or handler.opt.get("csrf_exempt"):
        return
    if principal is not None and principal.auth == "token":
        return  # bearer tokens are not sent automatically by browsers: no cross-site forgery possible
    expected = expected_csrf_token(connection)
    submitted = await _submitted_csrf_token(connection)
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise PermissionDeniedException("The form has expired or did not come from this site. Reload the page.")
