"""SQLite writers of one process take turns in Python: every concurrent write lands, none meets
"database is locked", and a writer that waits too long gets the database-unavailable error."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

import shared_core.db
from shared_core.db import Database, metadata
from shared_core.tables import Organisation

WRITERS = 16
ROUNDS = 20


@pytest.fixture
def database(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'writers.db'}")
    metadata.create_all(database.engine)
    return database


def test_concurrent_writers_all_land_without_busy_errors(database: Database,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # A short busy timeout: left to SQLite's busy handler, 16 threads would exhaust it.
    monkeypatch.setattr(shared_core.db, "SQLITE_BUSY_TIMEOUT_MS", 2_000)
    failures: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def writer(number: int) -> None:
        start.wait()
        try:
            for round_number in range(ROUNDS):
                with database.write() as session:
                    session.add(Organisation(id=f"org-{number}-{round_number}", kind="centre", name="x"))
        except BaseException as error:  # collected: the assertion below names it
            failures.append(error)

    threads = [threading.Thread(target=writer, args=(number,)) for number in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(Organisation)) == WRITERS * ROUNDS


def test_a_writer_that_waits_past_the_busy_timeout_gets_an_operational_error(
        database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shared_core.db, "SQLITE_BUSY_TIMEOUT_MS", 200)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with database.write():
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(10)
    try:
        with pytest.raises(OperationalError), database.write_rows():
            pass
    finally:
        release.set()
        holder.join()
    with database.write() as session:  # the turn is free again
        session.add(Organisation(id="org-after", kind="centre", name="x"))
