"""rTMS service tests run against two centres and one patient of centre A."""

from __future__ import annotations

import datetime as dt

import pytest

from shared_core.db import Database
from shared_core.tables import Organisation, Patient


@pytest.fixture
def database(database: Database) -> Database:
    """The shared empty database (shared_core.testing_fixtures) with centres A and B and patient P1."""
    with database.write() as session:
        session.add(Organisation(id="org-a", kind="centre", name="Centre A"))
        session.add(Organisation(id="org-b", kind="centre", name="Centre B"))
        session.flush()
        session.add(Patient(id="P1", organisation_id="org-a", family_name="Durand", given_names="Anne",
                            birth_date=dt.date(1970, 1, 1), sex="F", search_key="durand anne", created_by="t"))
    return database
