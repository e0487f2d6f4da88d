"""Alembic environment: runs migrations on the connection `migrate.upgrade` hands in, inside the one
transaction it began (with DDL inside it on SQLite too: see migrate.py)."""

from __future__ import annotations

from alembic import context

from inboxcrm.adapters.db.migrate import include_name
from inboxcrm.adapters.db.tables import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when someone runs the alembic CLI by hand
    from sqlalchemy import create_engine

    from inboxcrm.adapters.db.migrate import one_transaction

    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///var/inboxcrm.db")
    with engine.connect() as connection, one_transaction(connection):
        context.configure(
            connection=connection, target_metadata=metadata, render_as_batch=True, include_name=include_name
        )
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()
