"""A fresh demo data set for a test module: an SQLite file, or a throwaway PostgreSQL database.

Shared by suites that crawl the demo data (tests/security); PostgreSQL when PARCOURS_TEST_POSTGRES_URL is set.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from parcours_web.demo import seed
from parcours_web.migrate import upgrade
from shared_core.db import Database
from shared_core.testing import postgres_url, throwaway_postgres_database


@contextmanager
def _database_url(directory: Path, name: str) -> Iterator[str]:
    base = postgres_url()
    if base is None:
        yield f"sqlite:///{directory / 'demo.db'}"
        return
    with throwaway_postgres_database(base, f"parcours_{name}") as url:
        yield url


@contextmanager
def seeded_database(directory: Path, name: str) -> Iterator[Database]:
    with _database_url(directory, name) as url:
        database = Database(url)
        try:
            upgrade(database)
            seed(database)
            yield database
        finally:
            database.dispose()
