"""What every statement mixin of `SqlTransaction` shares: the connection, the dialect, and small helpers.

Each area's statements (`intake`, `contacts`, `messages`, `tickets`, `outbox`, `outreach`, `access`,
`privacy`) is a class deriving from `Statements`; `store.SqlTransaction` is all of them on one connection.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, func, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite

CHUNK = 500  # keeps IN (...) lists under SQLite's and PostgreSQL's parameter limits

T = TypeVar("T")


def chunks(values: Sequence[T]) -> Iterator[Sequence[T]]:
    """`values` in slices of at most `CHUNK`, for `IN (...)` lists."""
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every datetime we store is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class Statements:
    """The open transaction's connection and dialect name ("sqlite" or "postgresql")."""

    connection: Connection
    _dialect: str

    def _insert_ignore(self, table: Any) -> Any:
        """INSERT … ON CONFLICT DO NOTHING: several daemons may race to create the same row."""
        if self._dialect == "postgresql":
            return postgresql.insert(table).on_conflict_do_nothing()
        return sqlite.insert(table).on_conflict_do_nothing()

    def _insert_ids(self, table: Any, values: Sequence[Mapping[str, Any]]) -> list[int]:
        """Insert `values`; the new ids, in the order of `values`."""
        if not values:
            return []
        if self._dialect == "sqlite" and self._writing():
            # SQLite does not promise RETURNING's order, so SQLAlchemy inserts one row per statement there (a
            # tenth of an ingest's time in the daemon). This transaction has written already, so it holds
            # SQLite's one write lock: nobody else inserts until it ends, and the ids SQLite would give (one
            # above the largest; the tables have no AUTOINCREMENT) are given here, all in one statement.
            top = self.connection.execute(select(func.max(table.c.id))).scalar() or 0
            ids = list(range(top + 1, top + 1 + len(values)))
            self.connection.execute(insert(table), [{**row, "id": i} for row, i in zip(values, ids, strict=True)])
            return ids
        if self._dialect == "postgresql":
            # INSERT … RETURNING in the rows' order is a statement of many VALUES per batch there, each parsed
            # anew; taking the ids from the table's sequence first (safe with other writers: a sequence never
            # gives a number twice) lets the rows go in as one prepared statement run for each.
            taken = self.connection.execute(
                text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
                {"table": table.name, "n": len(values)},
            )
            ids = sorted(int(i) for i in taken.scalars())
            self.connection.execute(insert(table), [{**row, "id": i} for row, i in zip(values, ids, strict=True)])
            return ids
        result = self.connection.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), values)
        return [int(i) for i in result.scalars()]

    def _writing(self) -> bool:
        """Whether this SQLite transaction holds the write lock: the driver begins one only to write."""
        return bool(getattr(self.connection.connection.dbapi_connection, "in_transaction", False))

    def _lookup(self, key: Any, value: Any, keys: Iterable[Any]) -> dict[Any, Any]:
        """`key` → `value` of the rows whose `key` is one of `keys`."""
        found: dict[Any, Any] = {}
        for chunk in chunks(list(set(keys))):
            found.update({row[0]: row[1] for row in self.connection.execute(select(key, value).where(key.in_(chunk)))})
        return found

    def _ids_present(self, column: Any, ids: Iterable[int]) -> set[int]:
        """Which of `ids` occur in `column`."""
        wanted = list(set(ids))
        present: set[int] = set()
        for chunk in chunks(wanted):
            present.update(self.connection.execute(select(column).where(column.in_(chunk))).scalars())
        return present
