"""Security headers on every response (Litestar has no middleware for them).

A ``before_send`` hook rather than a middleware: app middleware only runs for matched routes, and
404 and 405 answers need the same headers as any page.
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


async def add_security_headers(message: Message, scope: Scope) -> None:
    # async on purpose: Litestar runs a plain function hook in a worker thread, twice per response.
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    for name, value in SECURITY_HEADERS.items():
        if name not in headers:
            headers[name] = value
    if not scope.get("path", "").startswith("/static/") and "cache-control" not in headers:
        # Pages carry health data: never keep them in a shared or browser cache.
        headers["cache-control"] = "no-store"
