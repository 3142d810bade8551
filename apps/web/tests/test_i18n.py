"""The French catalogue covers every message the pages can show.

Template strings are found with Babel's own extraction (driven by ``apps/web/babel.cfg``), so a new
``_("...")`` without a French translation fails here. Strings computed in Python and translated in a
template with ``_(value)`` are not extractable; they are collected from the code that produces them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import get_args

import pytest
from babel.dates import format_date, format_datetime
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from parcours_web.auth.passwords import password_problem
from parcours_web.auth.roles import ROLE_LABELS
from parcours_web.auth.users import parse_user_input
from parcours_web.errors import _TITLES
from parcours_web.i18n import PARIS, Translator, catalogue_files, load_translators
from parcours_web.navigation import NAV_ITEMS
from shared_core.errors import ValidationFailed
from shared_core.rules.identifiers import nir_key
from shared_core.scales import ProgressStatus, load_catalogue, score
from shared_core.scales.model import Rater
from shared_core.services.assessments import SOURCES
from shared_core.services.patients import parse_patient_input

WEB_DIR = Path(__file__).resolve().parents[1]
PACKAGE_DIR = WEB_DIR / "src" / "parcours_web"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2)}

MessageId = str | tuple[str, ...]


def read_catalogue(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale="fr", abort_invalid=True)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    """Every catalogue file merged, as the application loads them."""
    merged = Catalog(locale="fr")
    for path in catalogue_files():
        for message in read_catalogue(path):
            if message.id:
                merged[message.id] = message
    return merged


def extracted_ids() -> set[MessageId]:
    with (WEB_DIR / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)  # type: ignore[no-untyped-call]
    return {message for _, _, message, _, _ in extract_from_dir(PACKAGE_DIR, method_map, options_map, KEYWORDS)}


def untranslated(catalog: Catalog, ids: Iterable[MessageId]) -> list[MessageId]:
    """The ids with no usable French text: absent, fuzzy, empty, or a plural entry that does not match."""
    missing: list[MessageId] = []
    for msgid in ids:
        entry = catalog.get(msgid)
        strings = () if entry is None else entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if entry is None or entry.fuzzy or entry.id != msgid or not all(strings):
            missing.append(msgid)
    return missing


def validation_messages(parse: Callable[[], object]) -> list[str]:
    with pytest.raises(ValidationFailed) as failure:
        parse()
    return [error.message for error in failure.value.errors]


@pytest.mark.parametrize("path", catalogue_files(), ids=lambda path: path.name)
def test_catalogue_parses_without_errors_or_fuzzy_entries(path: Path) -> None:
    catalog = read_catalogue(path)
    assert not catalog.fuzzy, "the header is marked fuzzy"
    assert [m.id for m in catalog if m.fuzzy] == []
    assert catalog.obsolete == {}, "obsolete (#~) entries: delete them or restore the msgid"
    assert [(m.id, errors) for m, errors in catalog.check() if errors] == []  # placeholders match
    entries = [line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("msgid ")]
    assert len(entries) == len(catalog) + 1, "a msgid appears twice (read_po keeps only the last)"


def test_no_message_is_translated_in_two_files() -> None:
    seen: dict[object, str] = {}
    twice = []
    for path in catalogue_files():
        for message in read_catalogue(path):
            if message.id and message.id in seen:
                twice.append(f"{message.id!r} in {seen[message.id]} and {path.name}")
            seen.setdefault(message.id, path.name)
    assert twice == []


def test_every_template_string_has_a_french_translation(catalog: Catalog) -> None:
    ids = extracted_ids()
    assert "Skip to main content" in ids and ("%(n)s patient", "%(n)s patients") in ids, "extraction is broken"
    assert untranslated(catalog, ids) == []


def test_the_check_fails_on_a_missing_translation(catalog: Catalog) -> None:
    assert untranslated(catalog, ["A sentence no template contains."]) == ["A sentence no template contains."]
    assert untranslated(catalog, [("%(n)s patient", "%(n)s people")]) != []


def test_python_labels_and_codes_shown_through_templates_are_translated(catalog: Catalog) -> None:
    subscores = {key for d in load_catalogue().all() for key in score(d, [item.min for item in d.items]).subscores}
    ids = [
        *ROLE_LABELS.values(),
        *(item.label for item in NAV_ITEMS),
        *_TITLES.values(),
        "Error",
        *get_args(ProgressStatus),
        *get_args(Rater),
        *SOURCES,
        *subscores,
    ]
    assert "percentage" in subscores and "anxiety" in subscores
    assert untranslated(catalog, ids) == []


def test_validation_messages_shown_through_templates_are_translated(catalog: Catalog) -> None:
    today = dt.date(2026, 1, 15)
    ins = "1850567482123" + nir_key("1850567482123")  # a man born in May 1985; the form says otherwise
    bad_patient = {
        "family_name": "x" * 101,
        "given_names": "y" * 151,
        "birth_date": "15/01/1990",
        "sex": "Z",
        "phone": "12",
        "email": "no",
        "address_line": "z" * 251,
    }
    messages = [
        *validation_messages(lambda: parse_patient_input({}, today)),
        *validation_messages(lambda: parse_patient_input(bad_patient, today)),
        *validation_messages(lambda: parse_patient_input({"birth_date": "2030-01-01"}, today)),
        *validation_messages(lambda: parse_patient_input({"birth_date": "1899-12-31"}, today)),
        *validation_messages(lambda: parse_patient_input({"birth_date": "1990-03-01", "sex": "F", "ins": ins}, today)),
        *validation_messages(lambda: parse_user_input({"role": "coordinator", "password": "short"}, creating=True)),
        *validation_messages(lambda: parse_user_input({"role": "nobody"}, creating=True)),
    ]
    too_long = password_problem("x" * 300)
    assert too_long is not None
    messages.append(too_long)
    assert len(set(messages)) >= 20
    assert untranslated(catalog, set(messages)) == []


def test_the_application_serves_the_french_text() -> None:
    french = load_translators()["fr"]
    assert french.gettext("Log out") == "Se déconnecter"
    assert french.gettext("partial_response") == "réponse partielle"
    assert french.gettext("Administrator") == "Administrateur"


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_cached_date_patterns_format_exactly_like_babel(locale: str) -> None:
    translator = Translator(locale, {})  # type: ignore[arg-type]
    moment = dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC)  # the night Paris moves to summer time
    for step in range(0, 400 * 24, 7):
        value = moment + dt.timedelta(hours=step)
        for style in ("short", "medium", "long", "full"):
            assert translator.datetime(value, style) == format_datetime(value.astimezone(PARIS), format=style,
                                                                         locale=locale)
            assert translator.date(value.date(), style) == format_date(value.date(), format=style, locale=locale)
        assert translator.date(value.date(), "LLLL yyyy") == format_date(value.date(), format="LLLL yyyy",
                                                                          locale=locale)
