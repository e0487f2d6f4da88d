"""SQL for mail coming in (see `core.ports`): folder cursors, raw bytes and where each was seen, quarantine.

A mixin of `SqlTransaction`: raw bytes are stored before anything is made of them, once per content hash.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import insert, select, update

from inboxcrm.adapters.db import tables as t
from inboxcrm.adapters.db.statements import Statements, aware
from inboxcrm.core.ports import (
    FolderCursor,
    QuarantinedRaw,
    RawItem,
)


class IntakeStatements(Statements):
    """Where reading a folder got to, the raw messages it found, and what could not be understood."""

    def lock_cursor(self, mailbox: str, folder: str) -> FolderCursor | None:
        query = select(t.folder_cursors.c.uidvalidity, t.folder_cursors.c.last_uid).where(
            t.folder_cursors.c.mailbox == mailbox, t.folder_cursors.c.folder == folder
        )
        if self._dialect == "postgresql":
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        return FolderCursor(row.uidvalidity, row.last_uid) if row else None

    def set_cursor(self, mailbox: str, folder: str, uidvalidity: int, last_uid: int, now: datetime) -> None:
        values = {"uidvalidity": uidvalidity, "last_uid": last_uid, "updated_at": now}
        changed = self.connection.execute(
            update(t.folder_cursors)
            .where(t.folder_cursors.c.mailbox == mailbox, t.folder_cursors.c.folder == folder)
            .values(**values)
        ).rowcount
        if not changed:
            self.connection.execute(insert(t.folder_cursors).values(mailbox=mailbox, folder=folder, **values))

    def store_raw(self, items: Sequence[RawItem], now: datetime) -> dict[str, int]:
        hashes = [item.content_hash for item in items]
        found = self._raw_ids(hashes)
        missing = [item for item in items if item.content_hash not in found]
        if missing:
            self.connection.execute(
                self._insert_ignore(t.raw_messages),
                [
                    {
                        "content_hash": i.content_hash,
                        "message_id": i.message_id,
                        "size": len(i.raw),
                        "raw": i.raw,
                        "first_seen_at": now,
                    }
                    for i in missing
                ],
            )
            found.update(self._raw_ids([i.content_hash for i in missing]))
        return found

    def _raw_ids(self, hashes: Sequence[str]) -> dict[str, int]:
        return self._lookup(t.raw_messages.c.content_hash, t.raw_messages.c.id, hashes)

    def link_locations(
        self, mailbox: str, folder: str, uidvalidity: int, places: Sequence[tuple[int, int]], now: datetime
    ) -> None:
        if places:
            self.connection.execute(
                self._insert_ignore(t.message_locations),
                [
                    {
                        "raw_id": raw_id,
                        "mailbox": mailbox,
                        "folder": folder,
                        "uidvalidity": uidvalidity,
                        "uid": uid,
                        "seen_at": now,
                    }
                    for uid, raw_id in places
                ],
            )

    def raws_with_messages(self, raw_ids: Iterable[int]) -> set[int]:
        return self._ids_present(t.messages.c.raw_id, raw_ids)

    def raws_in_quarantine(self, raw_ids: Iterable[int]) -> set[int]:
        return self._ids_present(t.quarantine.c.raw_id, raw_ids)

    def raw_message(self, raw_id: int) -> bytes | None:
        raw = self.connection.execute(select(t.raw_messages.c.raw).where(t.raw_messages.c.id == raw_id)).scalar()
        return bytes(raw) if raw is not None else None

    def quarantine(self, raw_id: int, mailbox: str, error: str, now: datetime) -> None:
        self.connection.execute(
            insert(t.quarantine).values(raw_id=raw_id, mailbox=mailbox, error=error, attempts=1, created_at=now)
        )

    def open_quarantine(self, limit: int) -> list[QuarantinedRaw]:
        q = t.quarantine
        rows = self.connection.execute(
            select(q.c.id, q.c.raw_id, q.c.mailbox, q.c.error, q.c.attempts, q.c.created_at, t.raw_messages.c.raw)
            .join(t.raw_messages, t.raw_messages.c.id == q.c.raw_id)
            .where(q.c.resolved_at.is_(None))
            .order_by(q.c.id)
            .limit(limit)
        )
        return [
            QuarantinedRaw(r.id, r.raw_id, r.mailbox, r.error, r.attempts, aware(r.created_at), r.raw) for r in rows
        ]

    def resolve_quarantine(self, quarantine_id: int, now: datetime) -> None:
        self.connection.execute(update(t.quarantine).where(t.quarantine.c.id == quarantine_id).values(resolved_at=now))

    def retry_failed(self, quarantine_id: int, error: str) -> None:
        self.connection.execute(
            update(t.quarantine)
            .where(t.quarantine.c.id == quarantine_id)
            .values(error=error, attempts=t.quarantine.c.attempts + 1)
        )
