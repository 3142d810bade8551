"""Migrations: from an empty database to head, in step with the models, and idempotent.

Runs on SQLite by default and on PostgreSQL when PARCOURS_TEST_POSTGRES_URL is set. On PostgreSQL
each test uses a database of its own (created by ``upgrade`` itself, dropped afterwards), so the
schema the other HTTP tests share is never touched.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from parcours_web.migrate import _config, current_revision, head_revision, is_up_to_date, upgrade
from parcours_web.models import metadata
from shared_core.db import Database, normalise_url
from shared_core.testing import postgres_url

pytestmark = pytest.mark.db


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[Database]:
    base = postgres_url()
    if base is None:
        database = Database(f"sqlite:///{tmp_path / 'empty.db'}")
        yield database
        database.dispose()
        return
    url = normalise_url(base).set(database=f"parcours_migration_{secrets.token_hex(6)}")
    database = Database(url.render_as_string(hide_password=False))
    yield database
    database.dispose()
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}"'))
    finally:
        admin.dispose()


def schema_snapshot(database: Database) -> dict[str, Any]:
    with database.engine.connect() as connection:
        inspector = inspect(connection)
        return {
            table: {
                "columns": [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
                "indexes": sorted(i["name"] or "" for i in inspector.get_indexes(table)),
                "foreign_keys": sorted(fk["name"] or "" for fk in inspector.get_foreign_keys(table)),
            }
            for table in sorted(inspector.get_table_names())
        }


def test_upgrade_from_empty_reaches_head(empty_database: Database) -> None:
    upgrade(empty_database)  # on PostgreSQL this also creates the database
    head = head_revision()
    assert head is not None
    assert current_revision(empty_database) == head
    assert is_up_to_date(empty_database)


def test_the_migrated_schema_has_every_model_table(empty_database: Database) -> None:
    upgrade(empty_database)
    tables = set(schema_snapshot(empty_database))
    assert set(metadata.tables) <= tables
    assert tables - set(metadata.tables) == {"alembic_version"}


def test_models_and_migrations_do_not_drift(empty_database: Database) -> None:
    upgrade(empty_database)
    with empty_database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                                "compare_server_default": False})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_upgrading_twice_is_a_no_op(empty_database: Database) -> None:
    upgrade(empty_database)
    before = schema_snapshot(empty_database)
    upgrade(empty_database)
    assert schema_snapshot(empty_database) == before
    with empty_database.engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    assert versions == [head_revision()]


def test_the_audit_trail_trigger_is_installed(empty_database: Database) -> None:
    upgrade(empty_database)
    with empty_database.engine.connect() as connection:
        if empty_database.is_sqlite:
            names = connection.execute(text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_event'")).scalars().all()
            assert set(names) == {"audit_event_no_update", "audit_event_no_delete"}
        else:
            names = connection.execute(text(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_event'::regclass AND NOT tgisinternal"
            )).scalars().all()
            assert names == ["audit_event_append_only"]


def test_downgrade_to_base_removes_everything_and_upgrade_rebuilds_it(empty_database: Database) -> None:
    upgrade(empty_database)
    migrated = schema_snapshot(empty_database)
    config = _config()
    with empty_database.engine.connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
        connection.commit()
    assert set(schema_snapshot(empty_database)) <= {"alembic_version"}
    assert current_revision(empty_database) is None
    upgrade(empty_database)
    assert schema_snapshot(empty_database) == migrated
