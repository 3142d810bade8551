"""JSON API under /api/v1 (msgspec bodies, problem+json errors) and /health."""

from __future__ import annotations

from parcours_web.api import health, scales

ROUTES = [*health.ROUTES, *scales.ROUTES]
