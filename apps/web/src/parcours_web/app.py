"""The application factory. Nothing runs at import time: create_app(settings) builds everything."""

from __future__ import annotations

import gc
import logging
from pathlib import Path

from litestar import Litestar, MediaType, get
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.static_files import create_static_files_router

from parcours_web.api import ROUTES as API_ROUTES
from parcours_web.auth.guards import access_guard
from parcours_web.auth.middleware import PrincipalMiddleware
from parcours_web.auth.roles import ALL_ROLES, PUBLIC
from parcours_web.context import AppContext
from parcours_web.errors import EXCEPTION_HANDLERS
from parcours_web.i18n import load_translators
from parcours_web.pages import ROUTES as PAGE_ROUTES
from parcours_web.rendering import create_environment
from parcours_web.security import add_security_headers
from parcours_web.settings import Settings, load_settings
from parcours_web.warmup import warm_up
from shared_core.db import Database
from shared_core.scales import load_catalogue

STATIC_DIR = Path(__file__).parent / "static"
SCHEMA_PATH = "/schema"


class UndeclaredRouteError(RuntimeError):
    """A route was registered without declaring which roles may call it."""


def _declare_generated_routes(app: Litestar) -> None:
    """Declare the routes Litestar builds itself.

    The OpenAPI schema is for signed-in users only; automatic OPTIONS answers list allowed methods
    and carry no data, so they stay public.
    """
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if handler.handler_name == "options_handler":
                handler.opt.setdefault("roles", PUBLIC)
            elif route.path.startswith(SCHEMA_PATH):
                handler.opt.setdefault("roles", ALL_ROLES)


def check_route_declarations(app: Litestar) -> None:
    missing = sorted(
        f"{route.path} ({handler.handler_name})"
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if "roles" not in handler.opt
    )
    if missing:
        raise UndeclaredRouteError("routes without declared roles: " + ", ".join(missing))


@get("/bench/h", opt={"roles": PUBLIC}, include_in_schema=False, media_type=MediaType.TEXT, sync_to_thread=False)
def baseline() -> str:
    """The benchmark's H: what the server does with no database, no session and no template."""
    return "ok"


def create_app(settings: Settings | None = None, database: Database | None = None) -> Litestar:
    warm_up()
    settings = settings or load_settings()
    database = database or Database(settings.database_url)
    context = AppContext(
        settings=settings,
        database=database,
        catalogue=load_catalogue(settings.scale_text_dir),
        translators=load_translators(),
        templates=create_environment(),
    )
    static_router = create_static_files_router(
        path="/static", directories=[STATIC_DIR], opt={"roles": PUBLIC}, include_in_schema=False,
        cache_control=None,
    )
    bench_routes = [baseline] if settings.bench_endpoint else []
    app = Litestar(
        route_handlers=[*PAGE_ROUTES, *API_ROUTES, static_router, *bench_routes],
        guards=[access_guard],
        middleware=[DefineMiddleware(PrincipalMiddleware)],
        before_send=[add_security_headers],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(
            title="Parcours API", version="1.0.0", path=SCHEMA_PATH, render_plugins=[JsonRenderPlugin()],
        ),
        state=None,
        on_shutdown=[database.dispose],
        request_max_body_size=20 * 1024 * 1024,
        logging_config=None,
    )
    app.state["parcours"] = context
    _declare_generated_routes(app)
    check_route_declarations(app)
    logging.getLogger("parcours").setLevel(logging.INFO)
    return app


def asgi() -> Litestar:
    """Entry point for ``uvicorn --factory parcours_web.app:asgi`` (settings from the environment)."""
    app = create_app()
    # Everything loaded so far (modules, reference data, type information) lives as long as the
    # process. Frozen, it is no longer walked by every full collection: those took 70 to 170 ms at
    # 10 % scale, and made most of the page benchmark's p99.
    gc.collect()
    gc.freeze()
    return app
