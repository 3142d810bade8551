"""Main navigation: each entry is shown only to the roles that may open it."""

from __future__ import annotations

import msgspec

from parcours_web.auth.principal import Principal
from parcours_web.auth.roles import ADMIN, CLINICAL, COORDINATOR, OBSERVER, REFERRER


class NavItem(msgspec.Struct, frozen=True):
    path: str
    label: str
    roles: frozenset[str]


NAV_ITEMS = (
    NavItem("/patients", "Patients", CLINICAL),
    NavItem("/today", "Today", CLINICAL),
    NavItem("/intake", "Intake", CLINICAL),
    NavItem("/referrals", "Referrals", frozenset({REFERRER})),
    NavItem("/sport/inbox", "Inbox", frozenset({COORDINATOR})),
    NavItem("/admin/users", "Users", frozenset({ADMIN})),
    NavItem("/admin/organisations", "Organisations", frozenset({ADMIN})),
    NavItem("/admin/audit", "Audit trail", frozenset({ADMIN})),
    NavItem("/admin/sport/structures", "Directory", frozenset({ADMIN})),
    NavItem("/observer/indicators", "Indicators", frozenset({OBSERVER, ADMIN})),
    NavItem("/structure-profile", "Structure profile", frozenset({COORDINATOR})),
)


def nav_for(principal: Principal | None) -> list[NavItem]:
    if principal is None:
        return []
    return [item for item in NAV_ITEMS if principal.role in item.roles]
