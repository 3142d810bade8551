"""The authenticated caller as the handlers see it."""

from __future__ import annotations

import msgspec

from shared_core.actors import Actor


class Principal(msgspec.Struct, frozen=True):
    user_id: str
    email: str
    display_name: str
    role: str
    organisation_id: str | None
    auth: str  # "session" or "token"
    csrf_token: str | None = None
    session_hash: str | None = None
    locale: str | None = None

    def actor(self, address: str | None) -> Actor:
        return Actor(id=self.user_id, role=self.role, organisation_id=self.organisation_id, address=address)
