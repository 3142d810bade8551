"""Applying migrations, and creating the database first when it is absent."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError

from shared_core.db import Database, normalise_url

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def ensure_database_exists(url: URL) -> bool:
    """PostgreSQL: create the database on a first run (SQLite creates its file when it connects)."""
    if url.get_backend_name() != "postgresql":
        return False
    probe = create_engine(url, pool_pre_ping=True)
    try:
        with probe.connect():
            return False
    except OperationalError as error:
        if "does not exist" not in str(error):
            raise
    finally:
        probe.dispose()
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    finally:
        admin.dispose()
    return True


def upgrade(database: Database, revision: str = "head") -> None:
    ensure_database_exists(database.url)
    config = _config()
    with database.engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.commit()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


def revisions_up_to(revision: str) -> set[str]:
    """The revision and all its ancestors: the states a database can be upgraded from to reach it."""
    scripts = ScriptDirectory.from_config(_config())
    return {script.revision for script in scripts.iterate_revisions(revision, "base")}


def current_revision(database: Database) -> str | None:
    with database.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_up_to_date(database: Database) -> bool:
    return current_revision(database) == head_revision()


def normalised(url: str) -> URL:
    return normalise_url(url)
