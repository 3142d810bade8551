"""French by default, English available: Babel catalogues loaded from the .po files at start-up.

Message ids are English; the ``*.po`` files of ``locale/fr/LC_MESSAGES/`` hold the French text, one
file per area of the application (``messages.po`` for the shared pages) so parallel work on two
areas never edits the same file. Compiling in memory keeps the repository free of binary .mo files.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal, cast, get_args
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import DateTimePattern, get_date_format, get_datetime_format, get_time_format, parse_pattern
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from shared_core.scales.model import Language

LOCALES: tuple[Language, ...] = ("fr", "en")
LOCALE_DIR = Path(__file__).parent / "locale"
PARIS = ZoneInfo("Europe/Paris")
DateStyle = Literal["full", "long", "medium", "short"]
NAMED_STYLES: frozenset[str] = frozenset(get_args(DateStyle))


class Translator:
    def __init__(self, locale: Language, messages: dict[str, str],
                 plurals: dict[str, tuple[str, str]] | None = None) -> None:
        self.locale: Language = locale
        self._messages = messages
        self._plurals = plurals or {}
        # Babel parses the locale and the pattern on every format_date call; a long timeline
        # formats hundreds of dates per page, so both are resolved once per style here.
        self._babel_locale = Locale.parse(locale)
        self._date_patterns: dict[str, DateTimePattern] = {}
        self._datetime_patterns: dict[DateStyle, tuple[str, DateTimePattern, DateTimePattern]] = {}

    def gettext(self, message: str) -> str:
        return self._messages.get(message) or message

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        # French uses the singular for 0 and 1 ("0 patient"), English only for 1.
        use_singular = count <= 1 if self.locale == "fr" else count == 1
        forms = self._plurals.get(singular)
        if forms is None:
            return singular if use_singular else plural
        return forms[0] if use_singular else forms[1]

    def date(self, value: dt.date | None, style: DateStyle | str = "medium") -> str:
        if value is None:
            return ""
        pattern = self._date_patterns.get(style)
        if pattern is None:
            # A named style (short ... full) or a CLDR pattern of its own ("LLLL yyyy").
            pattern = self._date_patterns[style] = (
                get_date_format(cast(DateStyle, style), self._babel_locale) if style in NAMED_STYLES
                else parse_pattern(style))
        return pattern.apply(value, self._babel_locale)

    def datetime(self, value: dt.datetime | None, style: DateStyle = "medium") -> str:
        """What babel's format_datetime gives for ``style``, in Paris time."""
        if value is None:
            return ""
        patterns = self._datetime_patterns.get(style)
        if patterns is None:
            patterns = self._datetime_patterns[style] = (
                str(get_datetime_format(style, self._babel_locale)).replace("'", ""),
                get_date_format(style, self._babel_locale), get_time_format(style, self._babel_locale),
            )
        combined, date_pattern, time_pattern = patterns
        local = value.astimezone(PARIS)
        return combined.replace("{0}", time_pattern.apply(local, self._babel_locale)).replace(
            "{1}", date_pattern.apply(local, self._babel_locale))


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
