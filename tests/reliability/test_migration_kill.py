"""kill -9 of ``parcours db upgrade`` part-way, then the same command again.

quality.md, Reliability: "Kill during migration — database usable, migration re-runnable". Each
attempt starts from a fresh database (empty, or already at the first revision), starts
``parcours db upgrade``, and kills it a random moment after it has opened the database (SQLite: its
WAL file appears; PostgreSQL: its session shows in pg_stat_activity), when the migration is under
way. Then ``parcours db upgrade`` must succeed and reach the head revision, and on the last attempt
the application must start and answer /health.
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from parcours_web.migrate import MIGRATIONS_DIR, current_revision, head_revision, upgrade
from parcours_web.models import metadata
from shared_core.db import Database
from shared_core.testing import postgres_url

if TYPE_CHECKING:  # conftest belongs to pytest: never imported at run time
    from conftest import Kit, ServerPool

pytestmark = [pytest.mark.db, pytest.mark.timeout(300)]  # timeout: a safety net, loops are bounded

ATTEMPTS = 4  # even attempts start from an empty database, odd ones from the first revision
KILL_DELAY_SECONDS = {"sqlite": (0.0, 0.06), "postgresql": (0.0, 0.5)}  # SQLite: all migrations take ~0.05 s
OPEN_TIMEOUT_SECONDS = 60.0


def _base_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    bases = ScriptDirectory.from_config(config).get_bases()
    assert len(bases) == 1, bases
    return bases[0]


def _state(url: str) -> str:
    database = Database(url)
    try:
        with database.engine.connect() as connection:
            tables = len(inspect(connection).get_table_names())
        return f"{tables} tables, revision {current_revision(database)}"
    finally:
        database.dispose()


def test_a_killed_upgrade_can_be_run_again_and_the_app_starts(
        kit: type[Kit], pg_database_factory: Callable[[], tuple[str, str]], servers: ServerPool,
        tmp_path: Path) -> None:
    rng = random.Random()
    seed = rng.randrange(1_000_000)
    rng.seed(seed)
    kind = "sqlite" if postgres_url() is None else "postgresql"
    head = head_revision()
    base = _base_revision()
    observed: list[str] = []
    for attempt in range(ATTEMPTS):
        context = f"attempt {attempt} (seed {seed}, {kind})"
        workdir = tmp_path / f"attempt-{attempt}"
        workdir.mkdir()
        if kind == "sqlite":
            path = workdir / "parcours.db"
            url = f"sqlite:///{path.as_posix()}"
            wal = Path(f"{path}-wal")

            def opened(wal: Path = wal) -> bool:
                return wal.exists()
        else:
            name, url = pg_database_factory()
            admin = postgres_url()
            assert admin is not None

            def opened(name: str = name, admin: str = admin) -> bool:
                rows = kit.pg_admin_execute(admin, f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{name}'")
                return bool(rows[0][0][0])

        start = "empty"
        if attempt % 2 == 1:
            database = Database(url)
            upgrade(database, base)
            database.dispose()
            start = f"at {base}"
        if kind == "sqlite":
            assert not wal.exists(), "the WAL file must appear only when the killed upgrade opens the database"
        env = kit.base_env(url, workdir / "var", "reliability-migration-secret-key-0123456789")

        process = subprocess.Popen(kit.cli_command("db", "upgrade"), env=env, cwd=workdir,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            deadline = time.monotonic() + OPEN_TIMEOUT_SECONDS
            while not opened() and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.002)
            time.sleep(rng.uniform(*KILL_DELAY_SECONDS[kind]))
            finished_first = process.poll() is not None
            if not finished_first:
                process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)
        killed_state = "finished before the kill" if finished_first else f"killed: {_state(url)}"
        observed.append(f"{context}, from {start}: {killed_state}")

        if kind == "sqlite":
            integrity, foreign_keys = kit.sqlite_integrity(path)
            assert integrity == ["ok"], f"{context}: {integrity}"
            assert foreign_keys == [], f"{context}: {foreign_keys}"

        completed = subprocess.run(kit.cli_command("db", "upgrade"), env=env, cwd=workdir, capture_output=True,
                                   text=True, timeout=120, check=False)
        assert completed.returncode == 0, (
            f"{context}: re-run failed after {killed_state}\n{completed.stdout}\n{completed.stderr}")
        assert f"database at revision {head}" in completed.stdout, completed.stdout
        database = Database(url)
        try:
            assert current_revision(database) == head
            with database.engine.connect() as connection:
                missing = set(metadata.tables) - set(inspect(connection).get_table_names())
            assert missing == set(), f"{context}: tables missing after the re-run: {sorted(missing)}"
        finally:
            database.dispose()

        if attempt == ATTEMPTS - 1:
            deployment = kit.Deployment(kit.Backend(kind, url), env, workdir, token="")
            server = servers.start(deployment)  # `parcours serve` refuses an out-of-date schema
            assert kit.http_status(server.base_url + "/health") == 200
            server.stop()
    print("\n".join(observed))
