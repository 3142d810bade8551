"""Security suites: the application in-process over the full demo data set, one database per module.

SQLite by default; a PostgreSQL database of its own when PARCOURS_TEST_POSTGRES_URL is set (the shared
test database is never touched). Routes are discovered from the application itself, so a page added
later is crawled without anyone remembering to list it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from demo_databases import seeded_database
from litestar import Litestar
from litestar.testing import TestClient

from parcours_web.app import create_app
from parcours_web.demo import DEMO_PASSWORD
from parcours_web.settings import Settings
from shared_core.db import Database

CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')
DEMO_ACCOUNTS = {
    "psychiatrist": "psychiatre@demo.parcours.fr",
    "operator": "infirmier@demo.parcours.fr",
    "referrer": "adresseur@demo.parcours.fr",
    "coordinator": "coordinateur@demo.parcours.fr",
    "observer": "observateur@demo.parcours.fr",
    "admin": "admin@demo.parcours.fr",
    "psychiatrist_centre_b": "psychiatre.b@demo.parcours.fr",
    "referrer_2": "adresseur2@demo.parcours.fr",
    "coordinator_esms": "referent.esms@demo.parcours.fr",
}


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    with seeded_database(tmp_path_factory.mktemp("security"), "security") as database:
        yield database


@pytest.fixture(scope="module")
def demo_app(demo_database: Database, tmp_path_factory: pytest.TempPathFactory) -> Litestar:
    settings = Settings(database_url="unused", secret_key=secrets.token_urlsafe(32), cookie_secure=False,
                        var_dir=Path(tmp_path_factory.mktemp("var")))
    return create_app(settings, demo_database)


def _csrf(client: TestClient[Litestar], path: str) -> str:
    match = CSRF_INPUT.search(client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


@pytest.fixture(scope="module")
def logged_in(demo_app: Litestar) -> Iterator[Callable[[str], tuple[TestClient[Litestar], str]]]:
    """A client logged in as a demo account (a key of DEMO_ACCOUNTS), one per account, reused by the module."""
    clients: dict[str, tuple[TestClient[Litestar], str]] = {}

    def _client(role: str) -> tuple[TestClient[Litestar], str]:
        if role not in clients:
            client = TestClient(demo_app)
            client.__enter__()
            response = client.post("/login", data={"email": DEMO_ACCOUNTS[role], "password": DEMO_PASSWORD,
                                                    "_csrf_token": _csrf(client, "/login")}, follow_redirects=False)
            assert response.status_code == 303, response.text
            clients[role] = (client, _csrf(client, "/"))
        return clients[role]

    yield _client
    for client, _ in reversed(list(clients.values())):
        client.__exit__(None, None, None)
