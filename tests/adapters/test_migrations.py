"""Alembic migrations build exactly the schema in tables.py, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from inboxcrm.adapters.db import migrate
from inboxcrm.adapters.db.tables import metadata


def test_migrations_match_the_tables(empty_database_url: str) -> None:
    engine = create_engine(empty_database_url)
    try:
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision(engine)
        with engine.connect() as connection:
            differences = compare_metadata(
                MigrationContext.configure(connection, opts={"include_name": migrate.include_name}), metadata
            )
        assert differences == []
        migrate.upgrade(engine)  # a second upgrade is a no-op
    finally:
        engine.dispose()
