"""Backup/restore drill on a benchmark data set (quality.md, Reliability: "Backup / restore drill").

The benchmark generator fills a fresh SQLite database at the scale of PARCOURS_RELIABILITY_BACKUP_SCALE
(``small``, ``medium`` or ``national``; on demand only, skipped when it is unset). The real command line
(``parcours backup`` then ``parcours restore``, each in its own process) copies it into a fresh SQLite
file and, when PARCOURS_TEST_POSTGRES_URL is set, into a PostgreSQL database of its own. Every table
must come back with the same row count and the same checksum, and the restored database must serve:
a bench psychiatrist signs in and opens a patient's page.

Backup and restore times and the file size are printed (``-s`` shows them), never asserted.
"""

from __future__ import annotations

import html
import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from litestar.testing import TestClient
from sqlalchemy import text

from bench.generate import SCALES, bench_email, generate, sign_in
from parcours_web.app import create_app
from parcours_web.backup import TableSummary, database_summary, verify_backup
from parcours_web.settings import Settings
from shared_core.db import Database
from shared_core.testing import postgres_url, throwaway_postgres_database

if TYPE_CHECKING:  # conftest belongs to pytest: never imported at run time
    from conftest import Kit


SCALE_ENV = "PARCOURS_RELIABILITY_BACKUP_SCALE"
SCALE = os.environ.get(SCALE_ENV) or "small"
# On demand only: even the small data set takes about five minutes to back up and restore, and CI
# already runs the backup tests on the demo data (apps/web/tests/test_backup.py, test_backup_kill.py).
REQUESTED = SCALE_ENV in os.environ
# Generous: generation plus one backup and two restores, each a multiple of a bulk load's time.
TIMEOUT_SECONDS = {"small": 900, "medium": 3 * 3600, "national": 24 * 3600}
COMMAND_TIMEOUT_SECONDS = TIMEOUT_SECONDS.get(SCALE, 900)

pytestmark = [pytest.mark.db, pytest.mark.timeout(TIMEOUT_SECONDS.get(SCALE, 900)),
              pytest.mark.skipif(not REQUESTED, reason=f"on demand: set {SCALE_ENV}=small|medium|national")]


@dataclass(frozen=True)
class Drill:
    """The generated source, its backup file and what the source held when the backup was taken."""

    workdir: Path
    env: dict[str, str]
    backup: Path
    expected: dict[str, TableSummary]
    generated_counts: dict[str, int]
    kit: type[Kit]


def _cli(kit: type[Kit], env: dict[str, str], cwd: Path, *args: str) -> float:
    """Run ``parcours ARGS`` in its own process; returns its wall time (interpreter start-up included)."""
    started = time.perf_counter()
    completed = subprocess.run(kit.cli_command(*args), env=env, cwd=cwd, capture_output=True, text=True,
                               timeout=COMMAND_TIMEOUT_SECONDS, check=False)
    elapsed = time.perf_counter() - started
    assert completed.returncode == 0, f"parcours {' '.join(args)} failed:\n{completed.stdout}\n{completed.stderr}"
    print(f"[drill {SCALE}] parcours {args[0]}: {completed.stdout.strip()}")
    return elapsed


def _differences(expected: dict[str, TableSummary], found: dict[str, TableSummary]) -> list[str]:
    """One line per table whose count or checksum differs, so a failure names the tables at once."""
    lines = []
    for name in sorted(set(expected) | set(found)):
        before, after = expected.get(name), found.get(name)
        if before != after:
            lines.append(f"{name}: source {before}, restored {after}")
    return lines


@pytest.fixture(scope="module")
def drill(tmp_path_factory: pytest.TempPathFactory, kit: type[Kit]) -> Drill:
    if SCALE not in SCALES:
        pytest.fail(f"{SCALE_ENV}={SCALE!r}: expected one of {', '.join(sorted(SCALES))}")
    workdir = tmp_path_factory.mktemp(f"backup-drill-{SCALE}")
    source_url = f"sqlite:///{(workdir / 'source.db').as_posix()}"
    source = Database(source_url)
    try:
        generated = generate(source, SCALE)  # migrates the empty database first, as bench/run.py relies on
        print(f"\n[drill {SCALE}] generated {sum(generated.counts.values()):,} rows in {generated.seconds:.1f} s")
        env = kit.base_env(source_url, workdir / "var", secrets.token_urlsafe(48))
        backup = workdir / f"{SCALE}.backup"
        seconds = _cli(kit, env, workdir, "backup", str(backup))
        print(f"[drill {SCALE}] backup: {seconds:.1f} s, {backup.stat().st_size / 1e6:.1f} MB")
        # Nothing writes to the source after the backup: what it holds now is what the file must hold.
        expected = database_summary(source)
    finally:
        source.dispose()
    return Drill(workdir, env, backup, expected, dict(generated.counts), kit)


@pytest.fixture(params=["sqlite", "postgresql"])
def target_url(request: pytest.FixtureRequest, drill: Drill) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{(drill.workdir / f'restored-{secrets.token_hex(4)}.db').as_posix()}"
        return
    base = postgres_url()
    if base is None:
        pytest.skip("PostgreSQL target only when PARCOURS_TEST_POSTGRES_URL is set")
    with throwaway_postgres_database(base, "parcours_drill") as url:  # a database of its own, dropped after
        yield url


def test_the_backup_file_records_exactly_what_the_source_held(drill: Drill) -> None:
    _, recorded = verify_backup(drill.backup)
    assert _differences(drill.expected, recorded.tables) == []
    # The generator's own tally guards against a drill that compares two empty databases.
    assert drill.expected["patient"].rows == drill.generated_counts["patient"] > 0
    for name, count in drill.generated_counts.items():
        if name in drill.expected:
            assert drill.expected[name].rows >= count, f"{name}: fewer rows than the generator wrote"


def test_a_restore_gives_identical_counts_and_checksums_and_serves(drill: Drill, target_url: str) -> None:
    seconds = _cli(drill.kit, {**drill.env, "PARCOURS_DATABASE_URL": target_url}, drill.workdir, "restore",
                   str(drill.backup))
    backend = "sqlite" if target_url.startswith("sqlite") else "postgresql"
    print(f"[drill {SCALE}] restore into {backend}: {seconds:.1f} s")

    target = Database(target_url)
    try:
        assert _differences(drill.expected, database_summary(target)) == []

        with target.read() as session:
            patient_id, family_name = session.execute(text(
                "SELECT p.id, p.family_name FROM patient p JOIN app_user u ON u.organisation_id = p.organisation_id "
                "WHERE u.email = :email ORDER BY p.id LIMIT 1"), {"email": bench_email("psychiatrist")}).one()
        settings = Settings(database_url=target_url, secret_key=secrets.token_urlsafe(32), cookie_secure=False,
                            var_dir=drill.workdir / "var")
        with TestClient(create_app(settings, target)) as client:
            login = sign_in(client, "psychiatrist")
            assert login.status_code == 303, f"bench login on the restored database answered {login.status_code}"
            page = client.get(f"/patients/{patient_id}")
            assert page.status_code == 200, page.text[:500]
            assert html.escape(family_name) in page.text
    finally:
        target.dispose()
