"""The settings every connection of the store gets: SQLite in WAL mode with foreign keys on; PostgreSQL
compressing stored mail with lz4 (the test server is PostgreSQL 15 built with it)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import text

from inboxcrm.adapters.db.store import make_engine


def test_each_connection_gets_the_settings_the_store_relies_on(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
                assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
                assert connection.execute(text("PRAGMA page_size")).scalar() == 16384  # a new file
            else:
                assert connection.execute(text("SHOW default_toast_compression")).scalar() == "lz4"
                # the setting survives the transactions the connection goes through
                connection.rollback()
                assert connection.execute(text("SHOW default_toast_compression")).scalar() == "lz4"
    finally:
        engine.dispose()


def test_an_existing_sqlite_database_keeps_its_page_size(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as old:  # made by an earlier inboxcrm, with the default 4 KB pages
        old.execute("PRAGMA journal_mode=WAL")
        old.execute("CREATE TABLE kept (id INTEGER PRIMARY KEY, raw BLOB)")
        old.execute("INSERT INTO kept (raw) VALUES (?)", (b"x" * 50_000,))
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            assert connection.execute(text("PRAGMA page_size")).scalar() == 4096
            connection.execute(text("INSERT INTO kept (raw) VALUES (:raw)"), {"raw": b"y" * 50_000})
            assert [len(r) for r in connection.execute(text("SELECT raw FROM kept ORDER BY id")).scalars()] == [
                50_000,
                50_000,
            ]
    finally:
        engine.dispose()
