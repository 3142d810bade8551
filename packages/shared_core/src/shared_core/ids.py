"""Opaque identifiers: random, never derived from identity data (pseudonymous by construction)."""

from __future__ import annotations

import secrets

# Crockford's alphabet: no I, L, O, U, so ids read aloud or retyped are not misread.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id(prefix: str, length: int = 10) -> str:
    return prefix + "-" + "".join(secrets.choice(_ALPHABET) for _ in range(length))
