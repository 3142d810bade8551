"""Organisations (FINESS), practitioners (RPPS) and centre closures feeding the working-day calendar."""

from __future__ import annotations

import datetime as dt

import pytest

from shared_core.actors import Actor
from shared_core.db import Database
from shared_core.errors import NotFound, ValidationFailed
from shared_core.rules.identifiers import luhn_valid
from shared_core.services import organisations

pytestmark = pytest.mark.db
ADMIN = Actor(id="U-ADMIN", role="admin")


def _finess_with_bad_key() -> str:
    return next(f"67078{n:04d}" for n in range(10000) if not luhn_valid(f"67078{n:04d}"))


def test_finess_format_is_an_error_but_the_key_only_a_warning(database: Database) -> None:
    with pytest.raises(ValidationFailed) as failure:
        organisations.create_organisation(database, ADMIN, {"kind": "centre", "name": "X", "finess": "12345"})
    assert failure.value.errors[0].field == "finess"
    saved = organisations.create_organisation(database, ADMIN, {"kind": "esms", "name": "IME Exemple",
                                                                "finess": _finess_with_bad_key()})
    assert saved.warnings, "a FINESS whose key does not check must be reported"
    assert any(o.id == saved.id for o in organisations.list_organisations(database))


def test_corsican_finess_is_accepted(database: Database) -> None:
    saved = organisations.create_organisation(database, ADMIN, {"kind": "esms", "name": "ESAT Ajaccio",
                                                                "finess": "2A0001234"})
    assert [o.finess for o in organisations.list_organisations(database) if o.id == saved.id] == ["2A0001234"]


def test_organisation_reports_every_bad_field(database: Database) -> None:
    with pytest.raises(ValidationFailed) as failure:
        organisations.create_organisation(database, ADMIN, {"kind": "castle", "name": "", "commune_insee": "1",
                                                            "holiday_zone": "mars"})
    assert {e.field for e in failure.value.errors} == {"kind", "name", "commune_insee", "holiday_zone"}


def test_rpps_is_eleven_digits(database: Database) -> None:
    with pytest.raises(ValidationFailed) as failure:
        organisations.create_practitioner(database, ADMIN, {"family_name": "Martin", "given_name": "Luc",
                                                            "profession": "psychiatrist", "rpps": "1234"})
    assert failure.value.errors[0].field == "rpps"
    saved = organisations.create_practitioner(database, ADMIN, {"family_name": "Martin", "given_name": "Luc",
                                                                "profession": "psychiatrist", "rpps": "10003456789"})
    with pytest.raises(ValidationFailed, match="Invalid input"):
        organisations.create_practitioner(database, ADMIN, {"family_name": "Other", "given_name": "Luc",
                                                            "profession": "psychiatrist", "rpps": "10003456789"})
    assert [p.rpps for p in organisations.list_practitioners(database) if p.id == saved.id] == ["10003456789"]


def test_closures_shape_the_centre_calendar(database: Database, centre: str) -> None:
    christmas_week = (dt.date(2026, 12, 28), dt.date(2026, 12, 31))
    organisations.add_closure(database, ADMIN, centre, *christmas_week, "Fermeture de fin d'année")
    calendar = organisations.centre_calendar(database, centre, "metropole")
    assert not calendar.is_working_day(dt.date(2026, 12, 29))
    assert not calendar.is_working_day(dt.date(2027, 1, 1))  # New Year's Day
    assert calendar.next_working_day(dt.date(2026, 12, 24)) == dt.date(2026, 12, 24)
    assert calendar.next_working_day(dt.date(2026, 12, 25)) == dt.date(2027, 1, 4)
    closure = organisations.list_closures(database, centre)[0]
    organisations.remove_closure(database, ADMIN, centre, closure.id)
    assert organisations.centre_calendar(database, centre, "metropole").is_working_day(dt.date(2026, 12, 29))


def test_closure_validation(database: Database, centre: str) -> None:
    with pytest.raises(ValidationFailed) as failure:
        organisations.add_closure(database, ADMIN, centre, dt.date(2026, 5, 2), dt.date(2026, 5, 1), "")
    assert {e.field for e in failure.value.errors} == {"end_date", "label"}
    with pytest.raises(NotFound):
        organisations.add_closure(database, ADMIN, "org-missing", dt.date(2026, 5, 1), dt.date(2026, 5, 1), "x")
