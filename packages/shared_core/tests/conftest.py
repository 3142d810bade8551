from __future__ import annotations

import pytest

from shared_core.actors import Actor
from shared_core.db import Database
from shared_core.scales import ScaleCatalogue, load_catalogue
from shared_core.tables import Organisation


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
