"""JSON API under /api/v1 (msgspec bodies, problem+json errors) and /health."""

from __future__ import annotations

from parcours_web.api import health, rtms, scales, sport

ROUTES = [*health.ROUTES, *scales.ROUTES, *rtms.ROUTES, *sport.ROUTES]
