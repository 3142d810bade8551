"""The database fixtures every member's tests share, loaded as a pytest plugin (``-p`` in pyproject.toml).

``database`` is an empty database with every table on ``shared_core.db.metadata``: a new SQLite file per
test, or, when PARCOURS_TEST_POSTGRES_URL is set, the PostgreSQL schema created once per test module and
truncated before each test. A module that needs rows in it overrides ``database`` with a fixture of the
same name that takes this one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shared_core.db import Database, metadata
from shared_core.testing import fresh_database, prepare_postgres_schema

__all__ = ["_postgres_schema", "database"]


@pytest.fixture(scope="module")
def _postgres_schema() -> str | None:
    return prepare_postgres_schema(metadata)


@pytest.fixture
def database(tmp_path: Path, _postgres_schema: str | None) -> Iterator[Database]:
    with fresh_database(tmp_path, _postgres_schema, metadata) as db:
        yield db
