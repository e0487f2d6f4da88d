"""Rows whose new ids the caller needs (messages, threads, tickets, deals): each id is its row's, in the
order given, on both databases; on SQLite inside a transaction that has written, in one statement, with
the ids SQLite itself would have given (one above the largest, after deletions too)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, insert, select

from inboxcrm.adapters.db import tables as t
from inboxcrm.adapters.db.store import SqlStore, make_engine

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def rows(*domains: str) -> list[dict[str, object]]:
    return [{"domain": d, "name": d.split(".")[0].title(), "created_at": NOW} for d in domains]


def test_each_new_id_is_its_rows_in_the_order_given(database_url: str) -> None:
    store = SqlStore(make_engine(database_url))
    try:
        with store.transaction() as tx:  # nothing written yet: the driver's way
            first = tx._insert_ids(t.companies, rows("a.example", "b.example", "c.example"))
        with store.transaction() as tx:
            tx.connection.execute(delete(t.companies).where(t.companies.c.domain == "c.example"))
            # written already (SQLite: the write lock is held): given here, in one statement
            later = tx._insert_ids(t.companies, rows(*(f"x{n}.example" for n in range(300))))
            assert tx._insert_ids(t.companies, []) == []
        with store.engine.connect() as c:
            stored = dict(c.execute(select(t.companies.c.domain, t.companies.c.id)).all())
    finally:
        store.engine.dispose()
    assert first == [stored["a.example"], stored["b.example"], first[2]] and len(set(first)) == 3
    assert later == [stored[f"x{n}.example"] for n in range(300)]
    assert later == list(range(later[0], later[0] + 300))
    if database_url.startswith("sqlite"):
        assert later[0] == first[1] + 1  # as SQLite gives them: the deleted largest id is given again


def test_sqlite_gives_the_same_ids_as_the_fast_path_does(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/ids.db")
    t.companies.create(engine)
    try:
        with engine.begin() as c:  # SQLite's own choice, one row at a time
            own = [c.execute(insert(t.companies), rows(f"s{n}.example")[0]).inserted_primary_key[0] for n in range(3)]
            c.execute(delete(t.companies).where(t.companies.c.id == own[-1]))
            again = c.execute(insert(t.companies), rows("again.example")[0]).inserted_primary_key[0]
    finally:
        engine.dispose()
    assert own == [1, 2, 3] and again == 3  # one above the largest now: what `_insert_ids` gives too
