"""Resolve the caller from the session cookie or a bearer token, before routing.

The principal (or None) goes into ``scope["user"]``; the access guard decides what it may do.
"""

from __future__ import annotations

from anyio import to_thread
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from parcours_web.auth import service
from parcours_web.auth.principal import Principal
from parcours_web.context import AppContext

SESSION_COOKIE = "parcours_session"
_SKIPPED_PREFIXES = ("/static/", "/health")


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                cookie_name, _, cookie_value = part.strip().partition("=")
                if cookie_name == name and cookie_value:
                    return cookie_value
    return None


def _bearer(scope: Scope) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


async def _resolve_session(context: AppContext, token: str) -> Principal | None:
    database, idle_minutes = context.database, context.settings.session_idle_minutes
    if database.is_sqlite:
        # One primary-key read of a local file, which WAL never makes wait behind a writer: cheaper on
        # the event loop than a hop to a worker thread, and this runs before every request.
        principal, stale = service.read_session(database, token, idle_minutes)
    else:
        principal, stale = await to_thread.run_sync(service.read_session, database, token, idle_minutes)
    if stale:  # at most once a minute per session; a write may wait for the lock, so never on the loop
        await to_thread.run_sync(service.touch_session, database, token)
    return principal


class PrincipalMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["path"].startswith(_SKIPPED_PREFIXES):
            scope["user"] = None
            await self.app(scope, receive, send)
            return
        context: AppContext = scope["app"].state["parcours"]
        principal: Principal | None = None
        bearer = _bearer(scope)
        if bearer is not None:
            principal = await to_thread.run_sync(service.resolve_token, context.database, bearer)
        else:
            token = _cookie(scope, SESSION_COOKIE)
            if token is not None:
                principal = await _resolve_session(context, token)
        scope["user"] = principal
        scope["auth"] = principal.auth if principal else None
        await self.app(scope, receive, send)
