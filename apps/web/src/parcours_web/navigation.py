"""Main navigation: each entry is shown only to the roles that may open it."""

from __future__ import annotations

import msgspec

from parcours_web.auth.principal import Principal
from parcours_web.auth.roles import ADMIN, CLINICAL


class NavItem(msgspec.Struct, frozen=True):
    path: str
    label: str
    roles: frozenset[str]


NAV_ITEMS = (
    NavItem("/patients", "Patients", CLINICAL),
    NavItem("/admin/users", "Users", frozenset({ADMIN})),
    NavItem("/admin/organisations", "Organisations", frozenset({ADMIN})),
    NavItem("/admin/audit", "Audit trail", frozenset({ADMIN})),
)


def nav_for(principal: Principal | None) -> list[NavItem]:
    if principal is None:
        return []
    return [item for item in NAV_ITEMS if principal.role in item.roles]
