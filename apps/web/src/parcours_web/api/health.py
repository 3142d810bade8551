"""GET /health: the only API route answering without authentication (api-contract.md)."""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from litestar import Request, Response, get

from parcours_web.api.problems import PROBLEM_RESPONSES
from parcours_web.auth.roles import PUBLIC
from parcours_web.context import app_context


@get("/health", opt={"roles": PUBLIC}, responses=PROBLEM_RESPONSES, include_in_schema=True, tags=["system"])
async def health(request: Request[Any, Any, Any]) -> Response[dict[str, str]]:
    """Report whether the application and its database answer."""
    database_ok = await to_thread.run_sync(app_context(request).database.ping)
    if database_ok:
        return Response({"status": "ok", "database": "ok"})
    return Response({"status": "degraded", "database": "unavailable"}, status_code=503, headers={"retry-after": "5"})


ROUTES = [health]
