"""A throwaway PostgreSQL database for a benchmark: created fresh, dropped at the end even while connections
to it are still open. SQLAlchemy is imported only when one is made, so the benchmarks' child processes do
not pay for it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def temporary_database(admin_url: str, name: str) -> Iterator[str]:
    """The URL of a new, empty database `name` on the server of `admin_url` (a database left by a crashed
    run under that name is dropped first); the database is dropped on leaving, WITH (FORCE)."""
    import sqlalchemy as sa

    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()
