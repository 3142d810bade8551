"""`parcours backup` / `parcours restore`: a restored database reads back identical, or nothing is written.

Source: the demo data set on SQLite. Targets: a fresh SQLite file, and a PostgreSQL database of its own
when PARCOURS_TEST_POSTGRES_URL is set (a cross-backend restore, the hardest case for the format).
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from parcours_web.backup import BackupError, database_summary, restore_backup, verify_backup, write_backup
from parcours_web.cli import main
from parcours_web.demo import seed
from parcours_web.migrate import head_revision, upgrade
from shared_core.actors import Actor
from shared_core.db import Database
from shared_core.services import audit
from shared_core.tables import AuditEvent, Organisation, Patient
from shared_core.testing import postgres_url, throwaway_postgres_database

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('source') / 'source.db'}")
    upgrade(database)
    seed(database)
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def backup_file(source: Database, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("backup") / "parcours.backup"
    write_backup(source, path)
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'target.db'}")
        yield database
        database.dispose()
        return
    base = postgres_url()
    if base is None:
        pytest.skip("PostgreSQL runs only in the postgres session")
    with throwaway_postgres_database(base, "parcours_restore") as url:
        database = Database(url)
        try:
            yield database
        finally:
            database.dispose()


def test_a_restore_gives_identical_row_counts_and_checksums(source: Database, backup_file: Path,
                                                            target: Database) -> None:
    restored = restore_backup(target, backup_file)
    assert restored.tables["patient"].rows == 50
    assert database_summary(target) == database_summary(source)


def test_the_restored_database_takes_new_writes(backup_file: Path, target: Database) -> None:
    restore_backup(target, backup_file)
    with target.write() as session:
        before = session.scalar(select(func.max(AuditEvent.id)))
        audit.record(session, Actor(id="U-ADMIN", role="admin"), "read", "patient", "P-DEMO00001",
                     patient_id="P-DEMO00001")
    with target.read() as session:
        assert session.scalar(select(func.max(AuditEvent.id))) == (before or 0) + 1
        assert session.scalar(select(func.count()).select_from(Patient)) == 50


def test_a_cut_short_backup_is_refused_and_nothing_is_written(backup_file: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.backup"
    cut.write_bytes(backup_file.read_bytes()[: backup_file.stat().st_size // 2])
    target = Database(f"sqlite:///{tmp_path / 'target.db'}")
    try:
        with pytest.raises(BackupError, match="complete"):
            restore_backup(target, cut)
        assert not (tmp_path / "target.db").exists() or _patients(target) == 0
    finally:
        target.dispose()


def test_a_backup_without_its_end_marker_is_incomplete(backup_file: Path, tmp_path: Path) -> None:
    lines = gzip.decompress(backup_file.read_bytes()).decode().splitlines(keepends=True)
    unfinished = tmp_path / "unfinished.backup"
    unfinished.write_bytes(gzip.compress("".join(lines[:-1]).encode()))
    with pytest.raises(BackupError, match="incomplete backup"):
        verify_backup(unfinished)


def test_a_changed_row_fails_its_checksum(backup_file: Path, tmp_path: Path) -> None:
    text = gzip.decompress(backup_file.read_bytes()).decode()
    assert "P-DEMO00007" in text
    tampered = tmp_path / "tampered.backup"
    tampered.write_bytes(gzip.compress(text.replace("P-DEMO00007", "P-DEMO00070", 1).encode()))
    with pytest.raises(BackupError, match="checksum"):
        verify_backup(tampered)


def test_a_restore_into_a_database_with_data_is_refused(backup_file: Path, tmp_path: Path) -> None:
    target = Database(f"sqlite:///{tmp_path / 'busy.db'}")
    try:
        upgrade(target)
        with target.write() as session:
            session.add(Organisation(id="org-existing", kind="centre", name="Centre existant"))
        with pytest.raises(BackupError, match="not empty"):
            restore_backup(target, backup_file)
        assert _patients(target) == 0
    finally:
        target.dispose()


def test_the_backup_file_appears_only_when_complete(source: Database, tmp_path: Path) -> None:
    path = tmp_path / "atomic.backup"
    summary = write_backup(source, path)
    assert path.exists() and not path.with_name("atomic.backup.partial").exists()
    header, verified = verify_backup(path)
    assert header["revision"] == head_revision() == summary.revision
    assert verified == summary


def test_the_commands_back_up_and_restore(source: Database, tmp_path: Path) -> None:
    path = tmp_path / "cli.backup"
    backup = CliRunner(env={"PARCOURS_DATABASE_URL": source.url.render_as_string(hide_password=False)})
    result = backup.invoke(main, ["backup", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "backup written" in result.output
    target_url = f"sqlite:///{tmp_path / 'cli-target.db'}"
    restore = CliRunner(env={"PARCOURS_DATABASE_URL": target_url})
    result = restore.invoke(main, ["restore", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    again = restore.invoke(main, ["restore", str(path)], catch_exceptions=False)
    assert again.exit_code == 1 and "not empty" in again.output


def _patients(database: Database) -> int:
    with database.read() as session:
        return session.scalar(select(func.count()).select_from(Patient)) or 0
