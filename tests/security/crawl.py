"""Routes as the application registers them, for suites that must cover every page without a list to maintain."""

from __future__ import annotations

import re
from dataclasses import dataclass

from litestar import Litestar

PARAM = re.compile(r"\{([a-z_]+):([a-z]+)\}")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # with {name:type} placeholders
    roles: frozenset[str]

    @property
    def parameters(self) -> list[str]:
        return [match.group(1) for match in PARAM.finditer(self.path)]

    def fill(self, values: dict[str, str]) -> str:
        return PARAM.sub(lambda match: values[match.group(1)], self.path)


def endpoints(app: Litestar) -> list[Endpoint]:
    found = []
    for route in app.routes:
        if route.path.startswith("/static"):
            continue
        for handler in getattr(route, "route_handlers", []):
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                found.append(Endpoint(method, route.path, handler.opt["roles"]))
    return sorted(found, key=lambda e: (e.path, e.method))
