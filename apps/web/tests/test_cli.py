"""The ``parcours`` command, run in-process against a fresh SQLite file."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from litestar.testing import TestClient
from sqlalchemy import func, select

from parcours_web.app import create_app
from parcours_web.auth.tables import AppUser
from parcours_web.cli import main
from parcours_web.migrate import head_revision
from parcours_web.settings import Settings
from shared_core.db import Database
from shared_core.memory import tune_malloc
from shared_core.tables import Assessment, Organisation, Patient

pytestmark = pytest.mark.db

PASSWORD = "une phrase de passe assez longue"
Run = Callable[..., Result]


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


@pytest.fixture
def run(tmp_path: Path, database_url: str) -> Run:
    runner = CliRunner(env={"PARCOURS_DATABASE_URL": database_url, "PARCOURS_VAR_DIR": str(tmp_path / "var"),
                            "PARCOURS_SECRET_KEY": None})

    def _run(*args: str, input: str | None = None) -> Result:
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)
    return _run


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """The CLI's database, opened by the test to look at what the commands wrote."""
    db = Database(database_url)
    yield db
    db.dispose()


@pytest.fixture
def upgraded(run: Run, database: Database) -> Database:
    assert run("db", "upgrade").exit_code == 0
    with database.write() as session:
        session.add(Organisation(id="org-centre-a", kind="centre", name="Centre A"))
    return database


def count(database: Database, table: type) -> int:
    with database.read() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


# --- db upgrade -------------------------------------------------------------------------------------------

def test_db_upgrade_creates_the_database_and_prints_the_revision(run: Run, tmp_path: Path) -> None:
    assert not (tmp_path / "cli.db").exists()
    result = run("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "cli.db").exists()
    head = head_revision()
    assert head and head in result.stdout


def test_db_upgrade_twice_is_harmless(run: Run) -> None:
    run("db", "upgrade")
    again = run("db", "upgrade")
    assert again.exit_code == 0
    assert str(head_revision()) in again.stdout


# --- users add ---------------------------------------------------------------------------------------------

def test_users_add_creates_a_user(run: Run, upgraded: Database) -> None:
    result = run("users", "add", "X@Y.fr", "--role", "psychiatrist", "--structure", "org-centre-a",
                 "--password-stdin", input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    with upgraded.read() as session:
        user = session.scalar(select(AppUser).where(AppUser.email == "x@y.fr"))
        assert user is not None
        assert (user.role, user.organisation_id, user.active) == ("psychiatrist", "org-centre-a", True)
        assert PASSWORD not in user.password_hash


@pytest.mark.parametrize(("arguments", "password", "named"), [
    (["--role", "wizard", "--structure", "org-centre-a"], PASSWORD, "--role"),
    (["--role", "psychiatrist", "--structure", "org-centre-a"], "court", "password"),
    (["--role", "psychiatrist", "--structure", "org-nowhere"], PASSWORD, "organisation_id"),
    (["--role", "coordinator"], PASSWORD, "organisation_id"),
])
def test_users_add_refuses_bad_input_naming_the_field(run: Run, upgraded: Database, arguments: list[str],
                                                      password: str, named: str) -> None:
    result = run("users", "add", "x@y.fr", *arguments, "--password-stdin", input=password + "\n")
    assert result.exit_code != 0
    assert named in result.output
    assert count(upgraded, AppUser) == 0


def test_users_add_refuses_a_duplicate(run: Run, upgraded: Database) -> None:
    arguments = ("users", "add", "x@y.fr", "--role", "operator", "--structure", "org-centre-a", "--password-stdin")
    assert run(*arguments, input=PASSWORD + "\n").exit_code == 0
    again = run(*arguments, input=PASSWORD + "\n")
    assert again.exit_code != 0
    assert "email" in again.output
    assert count(upgraded, AppUser) == 1


# --- tokens issue --------------------------------------------------------------------------------------------

@pytest.fixture
def user(run: Run, upgraded: Database) -> str:
    result = run("users", "add", "x@y.fr", "--role", "psychiatrist", "--structure", "org-centre-a",
                 "--password-stdin", input=PASSWORD + "\n")
    assert result.exit_code == 0
    return "x@y.fr"


def test_tokens_issue_prints_the_token_alone(run: Run, user: str) -> None:
    result = run("tokens", "issue", user)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].strip() == lines[0] and " " not in lines[0] and len(lines[0]) >= 32


def test_an_issued_token_authenticates_on_the_api(run: Run, user: str, upgraded: Database, database_url: str,
                                                  tmp_path: Path) -> None:
    token = run("tokens", "issue", user).stdout.strip()
    settings = Settings(database_url=database_url, secret_key=secrets.token_urlsafe(32), cookie_secure=False,
                        var_dir=tmp_path / "var")
    with TestClient(create_app(settings, upgraded)) as client:
        accepted = client.get("/api/v1/scales", headers={"Authorization": f"Bearer {token}"})
        refused = client.get("/api/v1/scales", headers={"Authorization": f"Bearer {token}x"})
    assert accepted.status_code == 200
    assert refused.status_code == 401


def test_tokens_issue_for_an_unknown_user_fails(run: Run, upgraded: Database) -> None:
    result = run("tokens", "issue", "unknown@y.fr")
    assert result.exit_code != 0
    assert "unknown@y.fr" in result.output
    assert result.stdout.strip() == ""


# --- demo seed -----------------------------------------------------------------------------------------------

def test_demo_seed_loads_data(run: Run, upgraded: Database) -> None:
    result = run("demo", "seed")
    assert result.exit_code == 0, result.output
    assert count(upgraded, Patient) > 0
    assert count(upgraded, Assessment) > 0
    assert count(upgraded, AppUser) > 0


def test_demo_seed_twice_changes_nothing(run: Run, upgraded: Database) -> None:
    assert run("demo", "seed").exit_code == 0
    before = [count(upgraded, table) for table in (Patient, Assessment, AppUser)]
    again = run("demo", "seed")
    assert again.exit_code == 0
    assert "already present" in again.stdout
    assert [count(upgraded, table) for table in (Patient, Assessment, AppUser)] == before


def test_the_demo_accounts_can_log_in(run: Run, upgraded: Database, database_url: str, tmp_path: Path) -> None:
    from parcours_web.demo import DEMO_PASSWORD

    run("demo", "seed")
    settings = Settings(database_url=database_url, secret_key=secrets.token_urlsafe(32), cookie_secure=False,
                        var_dir=tmp_path / "var")
    with TestClient(create_app(settings, upgraded)) as client:
        page = client.get("/login").text
        csrf = page.split('name="_csrf_token" value="', 1)[1].split('"', 1)[0]
        response = client.post("/login", data={"email": "psychiatre@demo.parcours.fr", "password": DEMO_PASSWORD,
                                               "_csrf_token": csrf}, follow_redirects=False)
        assert response.status_code == 303
        assert client.get("/patients").status_code == 200


def test_serve_tunes_malloc_unless_the_environment_chose(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    tune_malloc()
    # Inherited by the workers uvicorn spawns.
    assert os.environ["MALLOC_ARENA_MAX"] == "2" and os.environ["MALLOC_MMAP_THRESHOLD_"] == "1048576"
    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
    tune_malloc()
    assert os.environ["MALLOC_ARENA_MAX"] == "8" and os.environ["MALLOC_MMAP_THRESHOLD_"] == "65536"
