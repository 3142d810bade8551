"""French by default, English available: Babel catalogues loaded from the .po files at start-up.

Message ids are English; the ``*.po`` files of ``locale/fr/LC_MESSAGES/`` hold the French text, one
file per area of the application (``messages.po`` for the shared pages) so parallel work on two
areas never edits the same file. Compiling in memory keeps the repository free of binary .mo files.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from shared_core.scales.model import Language

LOCALES: tuple[Language, ...] = ("fr", "en")
LOCALE_DIR = Path(__file__).parent / "locale"
PARIS = ZoneInfo("Europe/Paris")


class Translator:
    def __init__(self, locale: Language, messages: dict[str, str],
                 plurals: dict[str, tuple[str, str]] | None = None) -> None:
        self.locale: Language = locale
        self._messages = messages
        self._plurals = plurals or {}

    def gettext(self, message: str) -> str:
        return self._messages.get(message) or message

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        # French uses the singular for 0 and 1 ("0 patient"), English only for 1.
        use_singular = count <= 1 if self.locale == "fr" else count == 1
        forms = self._plurals.get(singular)
        if forms is None:
            return singular if use_singular else plural
        return forms[0] if use_singular else forms[1]

    def date(self, value: dt.date | None, style: str = "medium") -> str:
        return "" if value is None else format_date(value, format=style, locale=self.locale)

    def datetime(self, value: dt.datetime | None, style: str = "medium") -> str:
        if value is None:
            return ""
        return format_datetime(value.astimezone(PARIS), format=style, locale=self.locale)


def catalogue_files(locale: str = "fr") -> list[Path]:
    """The catalogue files of a locale, in a stable order."""
    return sorted((LOCALE_DIR / locale / "LC_MESSAGES").glob("*.po"))


def load_translators() -> dict[str, Translator]:
    translators: dict[str, Translator] = {"en": Translator("en", {})}
    messages: dict[str, str] = {}
    plurals: dict[str, tuple[str, str]] = {}
    for path in catalogue_files():
        with path.open("rb") as handle:
            _merge(read_po(handle, locale="fr"), messages, plurals)
    translators["fr"] = Translator("fr", messages, plurals)
    return translators


def _merge(catalog: Catalog, messages: dict[str, str], plurals: dict[str, tuple[str, str]]) -> None:
    for message in catalog:
        if not message.id or not message.string or message.fuzzy:
            continue
        if isinstance(message.id, tuple | list):
            forms = tuple(message.string)
            plurals[str(message.id[0])] = (str(forms[0]), str(forms[-1]))
        else:
            messages[str(message.id)] = str(message.string)
