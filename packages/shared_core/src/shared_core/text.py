"""Text normalisation for search keys."""

from __future__ import annotations

import unicodedata


def fold(value: str) -> str:
    """Lower-case, accent-free, single-spaced: "Élodie  D'Artagnan" -> "elodie d'artagnan"."""
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(stripped.lower().split())


def prefix_upper_bound(prefix: str) -> str:
    """The smallest string greater than every string starting with ``prefix`` (index range scans)."""
    return prefix + "\uffff"
