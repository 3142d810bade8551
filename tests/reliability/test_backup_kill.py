"""kill -9 of ``parcours backup`` and of ``parcours restore`` part-way.

quality.md, Reliability: "Kill during backup — database usable, backup restorable". A killed backup
must leave no file under its final name (only ``FILE.partial``, which restore refuses), the source
database keeps taking writes, and the next backup restores to identical row counts and checksums. A
killed restore writes nothing (one transaction): running it again succeeds.
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, insert, inspect, select

from parcours_web.backup import BackupError, database_summary, verify_backup
from parcours_web.demo import seed
from shared_core.db import Database, utcnow
from shared_core.tables import AuditEvent, Patient
from shared_core.testing import postgres_url

if TYPE_CHECKING:  # conftest belongs to pytest: never imported at run time
    from collections.abc import Callable

    from conftest import Deployment, Kit

pytestmark = [pytest.mark.db, pytest.mark.timeout(600)]

ROUNDS = 3
EXTRA_AUDIT_ROWS = 40_000  # makes the backup last long enough (about a second) to be killed inside
START_TIMEOUT_SECONDS = 60.0
RESTORE_KILL_AFTER_SECONDS = (3.0, 6.0)  # the command spends ~3 s importing before it writes


def _fill(database: Database) -> None:
    seed(database)
    now = utcnow()
    rows = [{"at": now, "actor_id": "U-FILL", "actor_role": "admin", "action": "read", "object_type": "patient",
             "object_id": f"P-FILL{index:06d}", "patient_id": None, "address": "127.0.0.1", "detail": None}
            for index in range(EXTRA_AUDIT_ROWS)]
    with database.write() as session:
        session.execute(insert(AuditEvent), rows)


def _run_and_kill(command: list[str], env: dict[str, str], cwd: Path, started: Callable[[], bool],
                  delay: float) -> bool:
    """Start the command, wait until ``started()``, wait ``delay`` more, kill -9. True if it finished first."""
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not started() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        time.sleep(delay)
        finished = process.poll() is not None
        if not finished:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        return finished
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def _restore_target(workdir: Path, name: str, pg_database_factory: Callable[[], tuple[str, str]]) -> str:
    if postgres_url() is None:
        return f"sqlite:///{(workdir / f'{name}.db').as_posix()}"
    return pg_database_factory()[1]


def _patients(url: str) -> int:
    database = Database(url)
    try:
        with database.engine.connect() as connection:
            if not inspect(connection).has_table("patient"):
                return 0  # killed before the schema was created
        with database.read() as session:
            return session.scalar(select(func.count()).select_from(Patient)) or 0
    finally:
        database.dispose()


def test_a_killed_backup_leaves_nothing_restorable_by_mistake_and_the_next_one_restores(
        kit: type[Kit], deployment: Deployment, pg_database_factory: Callable[[], tuple[str, str]]) -> None:
    rng = random.Random()
    seed_value = rng.randrange(1_000_000)
    rng.seed(seed_value)
    source = deployment.database()
    try:
        _fill(source)
        outcomes = []
        for attempt in range(ROUNDS):
            context = f"backup attempt {attempt} (seed {seed_value}, {deployment.backend.kind})"
            final = deployment.workdir / f"attempt-{attempt}.backup"
            partial = final.with_name(final.name + ".partial")
            finished = _run_and_kill(kit.cli_command("backup", str(final)), deployment.env, deployment.workdir,
                                     partial.exists, rng.uniform(0.0, 0.4))
            outcomes.append("finished" if finished else "killed")
            if final.exists():
                verify_backup(final)  # a file under the final name is always complete
            else:
                assert not finished, f"{context}: the command ended without writing the file"
                if partial.exists():
                    with pytest.raises(BackupError):
                        verify_backup(partial)
            with source.write() as session:  # the source database still takes writes
                session.execute(insert(AuditEvent), [{"at": utcnow(), "actor_id": "U-AFTER", "actor_role": "admin",
                                                      "action": "read", "object_type": "patient"}])
        assert "killed" in outcomes, f"no backup was killed part-way ({outcomes}); the test proved nothing"

        final = deployment.workdir / "complete.backup"
        completed = subprocess.run(kit.cli_command("backup", str(final)), env=deployment.env, cwd=deployment.workdir,
                                   capture_output=True, text=True, timeout=300, check=False)
        assert completed.returncode == 0, completed.stderr
        expected = database_summary(source)
    finally:
        source.dispose()

    target_url = _restore_target(deployment.workdir, "restored", pg_database_factory)
    target_env = {**deployment.env, "PARCOURS_DATABASE_URL": target_url}
    restored = subprocess.run(kit.cli_command("restore", str(final)), env=target_env, cwd=deployment.workdir,
                              capture_output=True, text=True, timeout=300, check=False)
    assert restored.returncode == 0, restored.stderr
    target = Database(target_url)
    try:
        assert database_summary(target) == expected
    finally:
        target.dispose()


def test_a_killed_restore_writes_nothing_and_runs_again(
        kit: type[Kit], deployment: Deployment, pg_database_factory: Callable[[], tuple[str, str]]) -> None:
    rng = random.Random()
    source = deployment.database()
    try:
        _fill(source)
        final = deployment.workdir / "source.backup"
        completed = subprocess.run(kit.cli_command("backup", str(final)), env=deployment.env, cwd=deployment.workdir,
                                   capture_output=True, text=True, timeout=300, check=False)
        assert completed.returncode == 0, completed.stderr
        expected = database_summary(source)
    finally:
        source.dispose()
    for attempt in range(ROUNDS):
        target_url = _restore_target(deployment.workdir, f"target-{attempt}", pg_database_factory)
        env = {**deployment.env, "PARCOURS_DATABASE_URL": target_url}
        finished = _run_and_kill(kit.cli_command("restore", str(final)), env, deployment.workdir, lambda: True,
                                 rng.uniform(*RESTORE_KILL_AFTER_SECONDS))
        if not finished:
            assert _patients(target_url) in (0, 50), f"attempt {attempt}: a restore was half-applied"
            if _patients(target_url) == 50:
                continue  # killed after its commit, during the final steps: complete, nothing to redo
            again = subprocess.run(kit.cli_command("restore", str(final)), env=env, cwd=deployment.workdir,
                                   capture_output=True, text=True, timeout=300, check=False)
            assert again.returncode == 0, f"attempt {attempt}: {again.stderr}"
        target = Database(target_url)
        try:
            assert database_summary(target) == expected
        finally:
            target.dispose()
