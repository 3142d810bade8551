"""Typed data of the sport side (domain-sport): inputs, results and loaded reference data.

This module holds the few types every other model and rule shares:

- :class:`Reason`: one rule outcome, always with its rule id (E-x, L-x, P-x, M-x, C-x, A-x, R-x),
  its legal or reference source, and a French and an English text;
- :class:`Provenance`: where a reference-data value comes from and how sure we are of it
  (domain-sport §0: ``verified`` | ``to_verify`` | ``conflict``).

Submodules are not re-exported here, so they can import these types without cycles.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Literal

import msgspec

__all__ = ["Provenance", "Reason", "ReasonKind", "Status", "cite", "to_verify_keys"]

Status = Literal["verified", "to_verify", "conflict"]
ReasonKind = Literal["pass", "fail", "warning", "info"]


class Provenance(msgspec.Struct, frozen=True, kw_only=True):
    """The origin of one reference value (domain-sport §0). ``key`` is the ``cfg:`` key without the prefix."""

    key: str
    status: Status
    source: str
    last_checked: date | None
    note: str = ""


class Reason(msgspec.Struct, frozen=True, kw_only=True):
    """One rule outcome.

    ``rule`` is the rule id (``E-3``), ``code`` a lower-case snake_case outcome code,
    ``source`` the article or reference the rule rests on, ``kind`` whether it passed, failed,
    warns or only informs. ``text_fr`` is written for a French physician or coordinator.
    """

    rule: str
    code: str
    source: str
    text_fr: str
    text_en: str
    kind: ReasonKind = "info"


_STATUS_NOTE = {
    "verified": "",
    "to_verify": " — à vérifier / to verify",
    "conflict": " — sources divergentes / conflicting sources",
}


def cite(provenance: Mapping[str, Provenance], key: str, fallback: str = "") -> str:
    """A source string for a reason: the entry's source, its ``cfg:`` key and, when not verified, a marker."""
    entry = provenance.get(key)
    if entry is None:
        return f"{fallback} (cfg:{key})" if fallback else f"cfg:{key}"
    return f"{entry.source} (cfg:{key}{_STATUS_NOTE[entry.status]})"


def to_verify_keys(provenance: Mapping[str, Provenance]) -> list[Provenance]:
    """Entries an admin must still check (status ``to_verify`` or ``conflict``), sorted by key."""
    return sorted((p for p in provenance.values() if p.status != "verified"), key=lambda p: p.key)
