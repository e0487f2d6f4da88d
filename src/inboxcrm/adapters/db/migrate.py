"""Alembic migrations run from code: `inboxcrm db upgrade`, and `run` on a SQLite database.

An upgrade is one transaction, on SQLite too: a crash (even SIGKILL) at any point leaves the schema as it
was, and the next start upgrades again. pysqlite begins a transaction only before INSERT/UPDATE/DELETE, so
CREATE/ALTER/DROP would each commit on their own; we turn its own handling off for the upgrade and begin
the transaction ourselves (SQLAlchemy's pysqlite notes, "Serializable isolation / Savepoints /
Transactional DDL"). SQLite's DDL is transactional once it runs inside BEGIN … COMMIT.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from inboxcrm.adapters.db.search_schema import is_search_table

MIGRATIONS = Path(__file__).with_name("migrations")


def include_name(name: str | None, type_: Any, _parents: Any) -> bool:
    """What schema comparisons look at: everything but the search index's tables (see `search_schema`)."""
    return not (type_ == "table" and is_search_table(name))


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


@contextmanager
def one_transaction(connection: Connection) -> Iterator[None]:
    """Run the block in one transaction that also holds DDL (committed at the end, rolled back on error)."""
    if connection.dialect.name != "sqlite":
        with connection.begin():
            yield
        return
    driver: Any = connection.connection.driver_connection
    saved = driver.isolation_level
    driver.isolation_level = None  # pysqlite's implicit BEGIN off: it would leave DDL outside the transaction
    try:
        with connection.begin():
            # IMMEDIATE: take the write lock now, so two daemons starting together upgrade one after the other
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            yield
    finally:
        driver.isolation_level = saved


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database at `engine` to `revision` (the newest by default), all or nothing."""
    config = alembic_config(engine)
    with engine.connect() as connection, one_transaction(connection):
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
