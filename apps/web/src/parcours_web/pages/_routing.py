"""Route declarations for HTML pages: every page states its roles and stays out of the OpenAPI schema."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from anyio import to_thread
from litestar import get, post
from litestar.handlers import HTTPRouteHandler
from litestar.response import Redirect

T = TypeVar("T")


def page_get(path: str, roles: frozenset[str], **kwargs: Any) -> HTTPRouteHandler:
    return get(path, opt={"roles": roles}, include_in_schema=False, **kwargs)


def page_post(path: str, roles: frozenset[str], **kwargs: Any) -> HTTPRouteHandler:
    return post(path, opt={"roles": roles}, include_in_schema=False, **kwargs)


async def call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a (synchronous, database-touching) service call off the event loop."""
    return await to_thread.run_sync(partial(function, *args, **kwargs))


def see_other(path: str) -> Redirect:
    """After a POST that changed state: 303, so a reload does not resubmit."""
    return Redirect(path, status_code=303)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths: ``//evil.example`` and absolute URLs would be open redirects."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target
