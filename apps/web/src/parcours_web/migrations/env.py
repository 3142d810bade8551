"""Alembic environment: one history for the whole database (every package's tables)."""

from __future__ import annotations

from alembic import context

from parcours_web.models import metadata

config = context.config


def run_migrations() -> None:
    connection = config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        transaction_per_migration=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
