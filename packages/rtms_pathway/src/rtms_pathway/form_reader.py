"""Reading submitted forms field by field, collecting one FieldError per bad field (nothing is half-read).

Shared by the session, motor-threshold, adverse-event and treatment-history services, so every form says
the same thing about the same mistake.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from shared_core.errors import FieldError


class FormReader:
    """A form mapping and the errors found so far; each method returns None for a blank or bad value."""

    def __init__(self, raw: Mapping[str, str | None], *, text_max_length: int = 2000) -> None:
        self.raw = raw
        self.errors: list[FieldError] = []
        self.text_max_length = text_max_length

    def text(self, name: str, *, required: bool = False, max_length: int | None = None) -> str | None:
        value = (self.raw.get(name) or "").strip()
        if not value:
            if required:
                self.errors.append(FieldError(name, "This field is required."))
            return None
        if len(value) > (max_length or self.text_max_length):
            self.errors.append(FieldError(name, "This answer is too long."))
            return None
        return value

    def choice(self, name: str, allowed: tuple[str, ...], *, required: bool = False,
               default: str | None = None) -> str | None:
        value = self.text(name, required=required and default is None)
        if value is None:
            return default
        if value not in allowed:
            self.errors.append(FieldError(name, "Choose one of the proposed values."))
            return default
        return value

    def integer(self, name: str, *, required: bool = False, low: int | None = None,
                high: int | None = None) -> int | None:
        value = self.text(name, required=required, max_length=20)
        if value is None:
            return None
        try:
            number = int(value)
        except ValueError:
            self.errors.append(FieldError(name, "Enter a whole number."))
            return None
        if (low is not None and number < low) or (high is not None and number > high):
            self.errors.append(FieldError(name, "This number is outside the allowed range."))
            return None
        return number

    def decimal(self, name: str, *, low: Decimal | None = None, high: Decimal | None = None,
                low_inclusive: bool = True) -> Decimal | None:
        value = self.text(name, max_length=20)
        if value is None:
            return None
        try:
            number = Decimal(value.replace(",", "."))
        except InvalidOperation:
            self.errors.append(FieldError(name, "Enter a number."))
            return None
        if not number.is_finite():
            self.errors.append(FieldError(name, "Enter a number."))
            return None
        too_low = low is not None and (number < low if low_inclusive else number <= low)
        if too_low or (high is not None and number > high):
            self.errors.append(FieldError(name, "This number is outside the allowed range."))
            return None
        return number

    def date(self, name: str, *, required: bool = False) -> dt.date | None:
        value = self.text(name, required=required, max_length=20)
        if value is None:
            return None
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.errors.append(FieldError(name, "Enter a valid date."))
            return None

    def time(self, name: str, *, required: bool = False) -> dt.time | None:
        value = self.text(name, required=required, max_length=20)
        if value is None:
            return None
        try:
            return dt.time.fromisoformat(value)
        except ValueError:
            self.errors.append(FieldError(name, "Enter a valid time."))
            return None

    def flag(self, name: str) -> bool:
        return (self.raw.get(name) or "") in ("on", "true", "1", "yes")

    def tristate(self, name: str) -> bool | None:
        value = self.raw.get(name)
        return True if value == "yes" else False if value == "no" else None
