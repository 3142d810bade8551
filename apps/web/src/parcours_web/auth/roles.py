"""The roles of docs/product.md. Every route declares the roles that may call it."""

from __future__ import annotations

from typing import Final

PSYCHIATRIST: Final = "psychiatrist"
OPERATOR: Final = "operator"
REFERRER: Final = "referrer"
COORDINATOR: Final = "coordinator"
OBSERVER: Final = "observer"
ADMIN: Final = "admin"

ROLES: Final = (PSYCHIATRIST, OPERATOR, REFERRER, COORDINATOR, OBSERVER, ADMIN)
ALL_ROLES: Final = frozenset(ROLES)
CLINICAL: Final = frozenset({PSYCHIATRIST, OPERATOR})
CALCULATOR_USERS: Final = frozenset({PSYCHIATRIST, OPERATOR, REFERRER, COORDINATOR})

# Declares a route that answers without a session (login page, health, kiosk with its own token).
PUBLIC: Final = frozenset({"public"})

ROLE_LABELS: Final = {
    PSYCHIATRIST: "Psychiatrist (neuromodulation physician)",
    OPERATOR: "Operator (nurse / technician)",
    REFERRER: "Referring physician",
    COORDINATOR: "Sport-health coordinator",
    OBSERVER: "Observer (regional steering)",
    ADMIN: "Administrator",
}
