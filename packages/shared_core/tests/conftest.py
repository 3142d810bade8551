from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shared_core.actors import Actor
from shared_core.db import Database, metadata
from shared_core.scales import ScaleCatalogue, load_catalogue
from shared_core.tables import Organisation
from shared_core.testing import fresh_database, prepare_postgres_schema


@pytest.fixture(scope="session")
def _postgres_schema() -> str | None:
    return prepare_postgres_schema(metadata)


@pytest.fixture
def database(tmp_path: Path, _postgres_schema: str | None) -> Iterator[Database]:
    with fresh_database(tmp_path, _postgres_schema, metadata) as db:
        yield db


@pytest.fixture
def centre(database: Database) -> str:
    with database.write() as session:
        session.add(Organisation(id="org-a", kind="centre", name="Centre A"))
        session.add(Organisation(id="org-b", kind="centre", name="Centre B"))
    return "org-a"


@pytest.fixture
def clinician(centre: str) -> Actor:
    return Actor(id="U-CLIN", role="psychiatrist", organisation_id=centre, address="127.0.0.1")


@pytest.fixture
def other_centre_clinician(centre: str) -> Actor:
    return Actor(id="U-OTHER", role="psychiatrist", organisation_id="org-b", address="127.0.0.1")


@pytest.fixture(scope="session")
def catalogue() -> ScaleCatalogue:
    return load_catalogue()
