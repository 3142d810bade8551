"""Helpers for test suites that need a real database (SQLite by default, PostgreSQL on demand).

The ``postgres`` nox session sets PARCOURS_TEST_POSTGRES_URL; the same database tests then run
against PostgreSQL. Under CI an unreachable PostgreSQL is an error, never a silent skip.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, MetaData, column, create_engine, inspect, select, table, text

from shared_core.db import Database, normalise_url

POSTGRES_ENV = "PARCOURS_TEST_POSTGRES_URL"


def postgres_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


def reset_postgres(url: str) -> None:
    """Drop everything in the public schema so migrations start from an empty database."""
    engine = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


def truncate_postgres(url: str, metadata: MetaData) -> None:
    """Empty every table between tests (TRUNCATE does not fire the audit DELETE trigger)."""
    engine = create_engine(normalise_url(url))
    try:
        with engine.begin() as connection:
            existing = set(inspect(connection).get_table_names())
            names = [f'"{table.name}"' for table in metadata.sorted_tables if table.name in existing]
            if names:
                connection.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


@contextmanager
def throwaway_postgres_database(base_url: str, prefix: str) -> Iterator[str]:
    """A URL to a PostgreSQL database of its own (created on first connection by ``db upgrade``), dropped after.

    For tests that must own a whole database (migrations, restore), so the shared test database is
    never touched.
    """
    url = normalise_url(base_url).set(database=f"{prefix}_{secrets.token_hex(6)}")
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        finally:
            admin.dispose()


def prepare_postgres_schema(metadata: MetaData) -> str | None:
    """PostgreSQL runs: an empty public schema with ``metadata``'s tables, once per test module; None on SQLite."""
    url = postgres_url()
    if url is None:
        return None
    reset_postgres(url)
    engine = create_engine(normalise_url(url))
    try:
        metadata.create_all(engine)
    finally:
        engine.dispose()
    return url


@contextmanager
def fresh_database(directory: Path, postgres_schema: str | None, metadata: MetaData) -> Iterator[Database]:
    """An empty database with ``metadata``'s tables: a new SQLite file, or the PostgreSQL schema truncated."""
    if postgres_schema is not None:
        truncate_postgres(postgres_schema, metadata)
        database = Database(postgres_schema)
    else:
        database = Database(f"sqlite:///{directory / 'test.db'}")
        metadata.create_all(database.engine)
    try:
        yield database
    finally:
        database.dispose()


# Transactions waiting behind the holder, directly or behind another waiter (a row's lock queue).
_WAITING_BEHIND = text(
    "WITH RECURSIVE behind(pid) AS (SELECT pid FROM pg_stat_activity WHERE :holder = ANY(pg_blocking_pids(pid)) "
    "UNION SELECT a.pid FROM pg_stat_activity a JOIN behind b ON b.pid = ANY(pg_blocking_pids(a.pid))) "
    "SELECT count(*) FROM behind")


class HeldRow:
    """A row a test holds back from other writers (see :func:`row_held_for_writes`)."""

    def __init__(self, database: Database, connection: Connection) -> None:
        self.database = database
        self.connection = connection  # the holder's transaction: what it writes commits when the hold ends
        self._holder_pid = None if database.is_sqlite else connection.scalar(text("SELECT pg_backend_pid()"))

    def wait_for_writers(self, count: int = 2, timeout_s: float = 20.0) -> None:
        """Until ``count`` transactions wait behind the holder (PostgreSQL). SQLite shows no lock waiters:
        the writers get a second to reach the lock."""
        if self._holder_pid is None:
            time.sleep(1.0)
            return
        deadline = time.monotonic() + timeout_s
        while True:
            # A new transaction each time: PostgreSQL keeps one view of its activity per transaction.
            with self.database.read_rows() as watch:
                waiting = watch.scalar(_WAITING_BEHIND, {"holder": self._holder_pid})
            if waiting >= count:
                return
            assert time.monotonic() < deadline, f"only {waiting} of {count} writers reached the held row"
            time.sleep(0.02)


@contextmanager
def row_held_for_writes(database: Database, table_name: str, row_id: str) -> Iterator[HeldRow]:
    """Hold back every write to one row while the block runs: SQLite's write lock, PostgreSQL's row lock (other
    transactions still read the row)."""
    rows = table(table_name, column("id"))
    with database.write_rows() as holder:
        holder.execute(select(rows.c.id).where(rows.c.id == row_id).with_for_update())  # SQLite: no FOR UPDATE
        yield HeldRow(database, holder)
