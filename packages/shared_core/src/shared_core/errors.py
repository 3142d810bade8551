"""The error vocabulary shared by every package.

Services and rules raise these; the web layer maps them to HTTP answers (422 with one entry per
bad field, 404, 409) so a user always learns every problem at once and nothing is half-written.
"""

from __future__ import annotations

import msgspec


class FieldError(msgspec.Struct, frozen=True):
    """One invalid input field. ``field`` is a path such as ``items[8]`` or ``birth_date``."""

    field: str
    message: str


class ParcoursError(Exception):
    """Base class of the errors that carry a message meant for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationFailed(ParcoursError):
    """Input is invalid; ``errors`` lists every bad field, not only the first."""

    def __init__(self, errors: list[FieldError], message: str = "Invalid input") -> None:
        super().__init__(message)
        self.errors = errors


class NotFound(ParcoursError):
    """The object does not exist, or the caller may not know that it exists."""


class Conflict(ParcoursError):
    """The write was based on a stale version, or the object's state forbids it."""


class PermissionDenied(ParcoursError):
    """The caller is authenticated but may not do this."""
