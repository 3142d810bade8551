"""The home page: open safety alerts for clinicians, the account summary for everyone."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response

from parcours_web.auth.roles import ALL_ROLES, CLINICAL, ROLE_LABELS
from parcours_web.context import app_context, current_actor, require_principal
from parcours_web.pages._routing import call, page_get
from parcours_web.rendering import render
from shared_core.services.assessments import open_alerts_for_centre


@page_get("/", ALL_ROLES)
async def home(request: Request[Any, Any, Any]) -> Response[Any]:
    principal = require_principal(request)
    alerts = []
    if principal.role in CLINICAL:
        alerts = await call(open_alerts_for_centre, app_context(request).database, current_actor(request))
    return render(request, "home.html", alerts, role_label=ROLE_LABELS[principal.role])


ROUTES = [home]
