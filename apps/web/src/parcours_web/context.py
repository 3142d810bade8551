"""What a handler needs from the running application, built once by create_app()."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import Environment
from litestar import Request
from litestar.connection import ASGIConnection

from parcours_web.auth.principal import Principal
from parcours_web.i18n import Translator
from parcours_web.settings import Settings
from shared_core.actors import Actor
from shared_core.db import Database
from shared_core.scales import ScaleCatalogue

LANG_COOKIE = "parcours_lang"


@dataclass(frozen=True)
class AppContext:
    settings: Settings
    database: Database
    catalogue: ScaleCatalogue
    translators: dict[str, Translator]
    templates: Environment


def app_context(connection: ASGIConnection[Any, Any, Any, Any]) -> AppContext:
    context: AppContext = connection.app.state["parcours"]
    return context


def current_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    principal: Principal | None = connection.scope.get("user")
    return principal


def require_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    principal = current_principal(connection)
    if principal is None:  # the guard already refused anonymous callers on non-public routes
        raise RuntimeError("route reached without an authenticated principal")
    return principal


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    return connection.client.host if connection.client else None


def current_actor(request: Request[Any, Any, Any]) -> Actor:
    return require_principal(request).actor(client_address(request))


def locale_of(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    principal = current_principal(connection)
    if principal is not None and principal.locale:
        return principal.locale
    cookie = connection.cookies.get(LANG_COOKIE)
    if cookie in ("fr", "en"):
        return cookie
    return app_context(connection).settings.default_locale


def translator_for(connection: ASGIConnection[Any, Any, Any, Any]) -> Translator:
    return app_context(connection).translators[locale_of(connection)]
