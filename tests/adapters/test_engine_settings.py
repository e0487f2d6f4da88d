"""The settings every connection of the store gets: SQLite in WAL mode with foreign keys on; PostgreSQL
compressing stored mail with lz4 (the test server is PostgreSQL 15 built with it)."""

from __future__ import annotations

from sqlalchemy import text

from inboxcrm.adapters.db.store import make_engine


def test_each_connection_gets_the_settings_the_store_relies_on(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
                assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            else:
                assert connection.execute(text("SHOW default_toast_compression")).scalar() == "lz4"
                # the setting survives the transactions the connection goes through
                connection.rollback()
                assert connection.execute(text("SHOW default_toast_compression")).scalar() == "lz4"
    finally:
        engine.dispose()
