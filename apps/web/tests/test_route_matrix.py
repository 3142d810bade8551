"""Every registered route × every role, against the roles the route declares.

A route added without a declaration makes create_app() fail, and a declared route that answers a
role it does not list (or refuses one it lists) fails here.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from litestar import Litestar, get
from litestar.testing import TestClient

from parcours_web.app import UndeclaredRouteError, check_route_declarations
from parcours_web.auth.roles import PUBLIC, ROLES

pytestmark = pytest.mark.db
PARAM = re.compile(r"\{([a-z_]+):([a-z]+)\}")
PLACEHOLDER = {"int": "0"}  # any other type gets a string that matches nothing
LAST = ("/logout",)  # logging out would end the session the rest of the walk uses


def _endpoints(app: Litestar) -> list[tuple[str, str, frozenset[str]]]:
    endpoints = []
    for route in app.routes:
        if route.path.startswith("/static"):
            continue
        for handler in getattr(route, "route_handlers", []):
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                path = PARAM.sub(lambda m: PLACEHOLDER.get(m.group(2), "X-UNKNOWN"), route.path)
                endpoints.append((method, path, handler.opt["roles"]))
    return sorted(endpoints, key=lambda e: (e[1] in LAST, e[1], e[0]))


def test_every_route_declares_roles(app: Litestar) -> None:
    assert _endpoints(app), "no route found"
    @get("/forgotten", sync_to_thread=False)
    def forgotten() -> str:
        return "x"

    undeclared = Litestar(route_handlers=[forgotten])
    with pytest.raises(UndeclaredRouteError, match="/forgotten"):
        check_route_declarations(undeclared)


@pytest.mark.parametrize("role", [None, *ROLES])
def test_route_role_matrix(app: Litestar, client_for: Callable[..., tuple[TestClient[Litestar], str]],
                           role: str | None) -> None:
    client, token = client_for(role)
    mismatches = []
    for method, path, roles in _endpoints(app):
        response = client.request(method, path, headers={"X-CSRF-Token": token}, data={}, follow_redirects=False)
        public = roles == PUBLIC
        if public:
            # The guard lets everyone through; a failed login is the handler's own 401, not a refusal.
            allowed = response.status_code != 403 and (response.status_code != 401 or path == "/login")
        elif role is None:
            expected = 401 if path.startswith(("/api/", "/schema")) else 303
            allowed = response.status_code == expected and (
                expected == 401 or response.headers["location"].startswith("/login"))
        elif role in roles:
            allowed = response.status_code not in (401, 403)
        else:
            allowed = response.status_code == 403
        if not allowed:
            mismatches.append(f"{method} {path}: {response.status_code} for {role or 'anonymous'} (declared {sorted(roles)})")
    assert not mismatches, "\n".join(mismatches)
