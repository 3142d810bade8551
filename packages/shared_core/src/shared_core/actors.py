"""Who is acting: passed to every service so it can scope queries and write the audit trail."""

from __future__ import annotations

import msgspec


class Actor(msgspec.Struct, frozen=True):
    id: str
    role: str
    organisation_id: str | None = None
    address: str | None = None
