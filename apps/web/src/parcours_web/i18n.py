"""French by default, English available: Babel catalogues loaded from the .po files at start-up.

Message ids are English; ``locale/fr/LC_MESSAGES/messages.po`` holds the French text. Compiling in
memory keeps the repository free of binary .mo files and the catalogue in one reviewable place.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.messages.pofile import read_po
from shared_core.scales.model import Language

LOCALES: tuple[Language, ...] = ("fr", "en")
LOCALE_DIR = Path(__file__).parent / "locale"
PARIS = ZoneInfo("Europe/Paris")


class Translator:
    def __init__(self, locale: Language, messages: dict[str, str]) -> None:
        self.locale: Language = locale
        self._messages = messages

    def gettext(self, message: str) -> str:
        return self._messages.get(message) or message

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        return self.gettext(singular if count == 1 else plural)

    def date(self, value: dt.date | None, style: str = "medium") -> str:
        return "" if value is None else format_date(value, format=style, locale=self.locale)

    def datetime(self, value: dt.datetime | None, style: str = "medium") -> str:
        if value is None:
            return ""
        return format_datetime(value.astimezone(PARIS), format=style, locale=self.locale)


def load_translators() -> dict[str, Translator]:
    translators: dict[str, Translator] = {"en": Translator("en", {})}
    with (LOCALE_DIR / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="fr")
    messages = {str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy}
    translators["fr"] = Translator("fr", messages)
    return translators
