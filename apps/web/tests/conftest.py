"""Fixtures for HTTP tests: a migrated database (SQLite file, or PostgreSQL when asked) and a client per role."""

from __future__ import annotations

import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from parcours_web.app import create_app
from parcours_web.auth.users import UserInput, create_user
from parcours_web.migrate import upgrade
from parcours_web.models import metadata
from parcours_web.settings import Settings
from shared_core.actors import Actor
from shared_core.db import Database
from shared_core.tables import Organisation
from shared_core.testing import postgres_url, reset_postgres, truncate_postgres

PASSWORD = "correct horse battery staple"
ROLE_ORGANISATION = {
    "psychiatrist": "org-centre-a",
    "operator": "org-centre-a",
    "referrer": "org-cabinet",
    "coordinator": "org-mss",
    "observer": None,
    "admin": "org-centre-a",
}
CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Migrate once per session: a template SQLite file copied per test, or the PostgreSQL schema."""
    url = postgres_url()
    if url is not None:
        reset_postgres(url)
        database = Database(url)
        upgrade(database)
        database.dispose()
        return url
    path = tmp_path_factory.mktemp("template") / "template.db"
    database = Database(f"sqlite:///{path}")
    upgrade(database)
    database.dispose()
    return str(path)


@pytest.fixture
def database(tmp_path: Path, migrated_template: str) -> Iterator[Database]:
    if migrated_template.startswith("postgresql"):
        truncate_postgres(migrated_template, metadata)
        db = Database(migrated_template)
    else:
        target = tmp_path / "parcours.db"
        shutil.copyfile(migrated_template, target)
        db = Database(f"sqlite:///{target}")
    with db.write() as session:
        session.add(Organisation(id="org-centre-a", kind="centre", name="Centre A"))
        session.add(Organisation(id="org-centre-b", kind="centre", name="Centre B"))
        session.add(Organisation(id="org-cabinet", kind="referrer_practice", name="Cabinet"))
        session.add(Organisation(id="org-mss", kind="mss", name="Maison Sport-Santé"))
    yield db
    db.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url="unused", secret_key=secrets.token_urlsafe(32), cookie_secure=False,
                    var_dir=tmp_path / "var")


@pytest.fixture
def app(settings: Settings, database: Database) -> Litestar:
    return create_app(settings, database)


@pytest.fixture
def make_user(database: Database) -> Callable[..., str]:
    def _make(role: str, email: str | None = None, organisation_id: str | None = "default") -> str:
        org = ROLE_ORGANISATION[role] if organisation_id == "default" else organisation_id
        address = email or f"{role}@test.parcours.fr"
        create_user(database, Actor(id="test", role="admin"),
                    UserInput(address, role.title(), role, org, True, PASSWORD))
        return address
    return _make


def csrf_token(client: TestClient[Litestar], path: str = "/login") -> str:
    match = CSRF_INPUT.search(client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def log_in(client: TestClient[Litestar], email: str, password: str = PASSWORD) -> str:
    """Log in through the real form; returns the CSRF token of the new session."""
    response = client.post("/login", data={"email": email, "password": password, "_csrf_token": csrf_token(client)},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    return csrf_token(client, "/")


@pytest.fixture
def client_for(app: Litestar, make_user: Callable[..., str]) -> Iterator[Callable[..., tuple[TestClient[Litestar], str]]]:
    clients: list[TestClient[Litestar]] = []

    def _client(role: str | None, email: str | None = None,
                organisation_id: str | None = "default") -> tuple[TestClient[Litestar], str]:
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        if role is None:
            return client, csrf_token(client)
        return client, log_in(client, make_user(role, email, organisation_id))

    yield _client
    for client in reversed(clients):  # newest first: closing an older client first never returns
        client.__exit__(None, None, None)
