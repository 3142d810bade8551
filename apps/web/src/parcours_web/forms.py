"""HTML form parsing in one place: empty strings become None, every field error is collected.

msgspec alone rejects "" for numbers, a single checkbox for a list and "on" for booleans, and
stops at the first error; forms go through here instead so the page can show every message.
"""

from __future__ import annotations

from litestar import Request

from shared_core.errors import FieldError, ValidationFailed

NUL_REFUSED = "This field contains a NUL character, which cannot be stored."


class Form:
    def __init__(self, values: dict[str, list[str]]) -> None:
        self._values = values

    @classmethod
    async def read(cls, request: Request) -> Form:  # type: ignore[type-arg]
        form = await request.form()
        values: dict[str, list[str]] = {}
        for key, value in form.multi_items():
            if isinstance(value, str):
                values.setdefault(key, []).append(value)
        # PostgreSQL refuses NUL in text (a 500 at the write, found by the form fuzzing); no page needs one.
        refused = [FieldError(key, NUL_REFUSED) for key, texts in values.items() if any("\x00" in t for t in texts)]
        if refused:
            raise ValidationFailed(refused)
        return cls(values)

    def get(self, name: str) -> str | None:
        values = self._values.get(name)
        if not values:
            return None
        value = values[0].strip()
        return value or None

    def getall(self, name: str) -> list[str]:
        return [v.strip() for v in self._values.get(name, []) if v.strip()]

    def checkbox(self, name: str) -> bool:
        return self.get(name) in {"on", "true", "1", "yes"}

    def as_dict(self) -> dict[str, str | None]:
        return {key: self.get(key) for key in self._values}

    def integer(self, name: str, errors: list[FieldError], label: str) -> int | None:
        raw = self.get(name)
        if raw is None:
            return None
        try:
            return int(raw)
        except ValueError:
            errors.append(FieldError(name, f"{label} must be a whole number."))
            return None
