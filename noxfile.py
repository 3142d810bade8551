"""Developer and CI sessions. ``nox`` alone runs the default set, which passes on a fresh machine.

Every session installs the workspace from the one ``uv.lock`` into its own virtualenv.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "typecheck", "tests", "reliability", "security", "bench-smoke"]

ROOT = Path(__file__).parent
MEMBERS = {
    "shared_core": "packages/shared_core",
    "rtms_pathway": "packages/rtms_pathway",
    "sport_referral": "packages/sport_referral",
    "web": "apps/web",
}
TYPED_SOURCES = [f"{path}/src" for path in MEMBERS.values()]
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _sync(session: nox.Session) -> None:
    session.run_install(
        "uv", "sync", "--frozen", "--all-packages", "--group", "dev",
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location},
        external=True,
        silent=True,
    )


@nox.session
@nox.parametrize("member", list(MEMBERS))
def tests(session: nox.Session, member: str) -> None:
    """Unit and HTTP tests of one workspace member (database tests on SQLite)."""
    _sync(session)
    session.run("pytest", f"{MEMBERS[member]}/tests", "-q", *session.posargs,
                env={"PARCOURS_TEST_POSTGRES_URL": ""})


@nox.session
def reliability(session: nox.Session) -> None:
    """Reliability: kill -9 during writes, concurrent writers and edits, kill during migration (SQLite)."""
    _sync(session)
    session.run("pytest", "tests/reliability", "-q", *session.posargs, env={"PARCOURS_TEST_POSTGRES_URL": ""})


@nox.session
def security(session: nox.Session) -> None:
    """Security suites over the demo data set: minimisation crawl, object-level access swaps (SQLite)."""
    _sync(session)
    session.run("pytest", "tests/security", "-q", *session.posargs, env={"PARCOURS_TEST_POSTGRES_URL": ""})


@nox.session
def lint(session: nox.Session) -> None:
    """ruff, then the import-linter contracts of architecture.md."""
    _sync(session)
    session.run("ruff", "check", ".")
    session.run("lint-imports")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy, strict on every package."""
    _sync(session)
    session.run("mypy", *TYPED_SOURCES)


@nox.session
def postgres(session: nox.Session) -> None:
    """The database-touching tests against PostgreSQL (PARCOURS_TEST_POSTGRES_URL)."""
    url = os.environ.get("PARCOURS_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL
    _sync(session)
    session.run("python", "-c", _PROBE, url, env={"CI": os.environ.get("CI", "")})
    session.run("pytest", "-m", "db", "-q", *[f"{path}/tests" for path in MEMBERS.values()], "tests/reliability",
                "tests/security",
                *session.posargs, env={"PARCOURS_TEST_POSTGRES_URL": url})


# Under CI an unreachable PostgreSQL fails the run; on a laptop it is reported and skipped.
_PROBE = """
import os, sys
from sqlalchemy import create_engine, text
from shared_core.db import normalise_url
try:
    with create_engine(normalise_url(sys.argv[1])).connect() as c:
        c.execute(text("select 1"))
except Exception as error:
    print(f"PostgreSQL unreachable at {sys.argv[1]}: {error}", file=sys.stderr)
    sys.exit(1 if os.environ.get("CI") == "true" else 0)
"""


@nox.session
def e2e(session: nox.Session) -> None:
    """Browser journeys on Debian chromium with axe-core; screenshots under test-artifacts/."""
    _sync(session)
    session.run("pytest", "tests/browser", "-m", "browser", "-q", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """Set up the embedded SQLite database with demo data and serve it on http://127.0.0.1:8000."""
    _sync(session)
    env = {"PARCOURS_COOKIE_SECURE": "false"}
    session.run("parcours", "db", "upgrade", env=env)
    session.run("parcours", "demo", "seed", env=env)
    session.log("Parcours demo: open http://127.0.0.1:8000 and log in with one of the accounts above.")
    session.run("parcours", "serve", "--host", "127.0.0.1", "--port", os.environ.get("PARCOURS_PORT", "8000"),
                env=env)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks (timings are reported, never asserted): calculators in-process, then pages and writes
    on a served data set (``nox -s bench -- --scale medium``; results in bench/results/)."""
    _sync(session)
    session.run("python", "-m", "bench.calculators")
    session.run("python", "-m", "bench.run", *session.posargs)


@nox.session(name="bench-smoke")
def bench_smoke(session: nox.Session) -> None:
    """The page benchmark for a second per figure at small scale: checks it works, asserts no timing."""
    _sync(session)
    session.run("python", "-m", "bench.run", "--smoke")


@nox.session(name="demo-check")
def demo_check(session: nox.Session) -> None:
    """What the README's demo command does, on a throw-away database, without serving."""
    _sync(session)
    with tempfile.TemporaryDirectory() as directory:
        env = {"PARCOURS_VAR_DIR": directory, "PARCOURS_SECRET_KEY": secrets.token_urlsafe(32)}
        session.run("parcours", "db", "upgrade", env=env)
        session.run("parcours", "demo", "seed", env=env)
        session.run("parcours", "demo", "seed", env=env)
