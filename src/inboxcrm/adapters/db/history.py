"""SQL for history and live mail (see `core.history` and `core.ports.HistoryTransaction`): each folder's
history mark, tickets opened by history, contacts known only from history; and how far each folder's
history import has got, for `inboxcrm status` and `/health`.

A mixin of `SqlTransaction`: it shares the transaction's connection.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, Table, insert, select, update

from inboxcrm.adapters.db import tables as t
from inboxcrm.core.history import FolderHistory, HistoryMark
from inboxcrm.core.ports import FolderSnapshot

_CHUNK = 500  # keeps IN (...) lists under SQLite's and PostgreSQL's parameter limits


def _chunks(values: Iterable[int]) -> Iterator[list[int]]:
    listed = sorted(set(values))
    for start in range(0, len(listed), _CHUNK):
        yield listed[start : start + _CHUNK]


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; every datetime we store is UTC
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class HistoryStatements:
    connection: Connection

    def history_mark(self, mailbox: str, folder: str) -> HistoryMark | None:
        fc = t.folder_cursors
        row = self.connection.execute(
            select(
                fc.c.history_until, fc.c.history_since, fc.c.history_total, fc.c.history_read, fc.c.connected_at
            ).where(fc.c.mailbox == mailbox, fc.c.folder == folder)
        ).first()
        if row is None or row.history_until is None:
            return None
        connected = _aware(row.connected_at)
        assert connected is not None  # written together with history_until
        return HistoryMark(
            row.history_until, _aware(row.history_since), row.history_total or 0, row.history_read, connected
        )

    def begin_history(
        self,
        mailbox: str,
        folder: str,
        uidvalidity: int,
        snapshot: FolderSnapshot,
        since: datetime | None,
        start_uid: int,
        now: datetime,
    ) -> None:
        fc = t.folder_cursors
        values = {
            "uidvalidity": uidvalidity,
            "last_uid": start_uid,
            "updated_at": now,
            "history_until": snapshot.last_uid,
            "history_since": since,
            "history_total": snapshot.messages,
            "history_read": 0,
        }
        changed = self.connection.execute(
            update(fc).where(fc.c.mailbox == mailbox, fc.c.folder == folder).values(**values)
        ).rowcount
        if changed:
            # a renumbered folder (UIDVALIDITY changed): the first connection stays what it was
            self.connection.execute(
                update(fc)
                .where(fc.c.mailbox == mailbox, fc.c.folder == folder, fc.c.connected_at.is_(None))
                .values(connected_at=now)
            )
        else:
            self.connection.execute(insert(fc).values(mailbox=mailbox, folder=folder, connected_at=now, **values))

    def count_history(self, mailbox: str, folder: str, read: int) -> None:
        fc = t.folder_cursors
        self.connection.execute(
            update(fc)
            .where(fc.c.mailbox == mailbox, fc.c.folder == folder)
            .values(history_read=fc.c.history_read + read)
        )

    def history_tickets(self, ticket_ids: Iterable[int]) -> set[int]:
        tk = t.tickets
        found: set[int] = set()
        for chunk in _chunks(ticket_ids):
            found.update(
                self.connection.execute(select(tk.c.id).where(tk.c.id.in_(chunk), tk.c.from_history)).scalars()
            )
        return found

    def mark_history(self, ticket_ids: Iterable[int], contact_ids: Iterable[int]) -> None:
        self._flag(t.tickets, ticket_ids, True)
        self._flag(t.contacts, contact_ids, True)

    def end_history(self, ticket_ids: Iterable[int], contact_ids: Iterable[int]) -> None:
        self._flag(t.tickets, ticket_ids, False)
        self._flag(t.contacts, contact_ids, False)

    def _flag(self, table: Table, ids: Iterable[int], value: bool) -> None:
        for chunk in _chunks(ids):
            self.connection.execute(
                update(table)
                .where(table.c.id.in_(chunk), table.c.from_history.is_(not value))
                .values(from_history=value)
            )


def folder_histories(engine: Engine) -> list[FolderHistory]:
    """Every folder's history import as it stands (folders connected before history existed are left out)."""
    fc = t.folder_cursors
    with engine.connect() as connection:
        rows = connection.execute(
            select(fc).where(fc.c.history_until.is_not(None)).order_by(fc.c.mailbox, fc.c.folder)
        ).all()
    return [
        FolderHistory(
            r.mailbox,
            r.folder,
            r.history_read,
            r.history_total or 0,
            r.last_uid >= r.history_until,
            _aware(r.history_since),
            _aware(r.connected_at),
        )
        for r in rows
    ]
