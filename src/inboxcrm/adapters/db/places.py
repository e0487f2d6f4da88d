"""SQL for where file-source messages were seen, by name (see `core.ports.IngestTransaction`).

A mixin of `SqlTransaction`. Maildir, mbox and .eml sources name their messages (a Maildir unique name, an
mbox offset and hash, a file name); a message is stored once per (mailbox, folder, name), whatever order
the names sort in.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from inboxcrm.adapters.db import tables as t

_CHUNK = 500  # keeps IN (...) lists under the databases' parameter limits


class PlaceStatements:
    connection: Connection
    _dialect: str

    def names_stored(self, mailbox: str, folder: str, names: Sequence[str]) -> set[str]:
        """Which of `names` already have a stored message at (mailbox, folder)."""
        places = t.message_locations.c
        found: set[str] = set()
        for start in range(0, len(names), _CHUNK):
            chunk = list(names[start : start + _CHUNK])
            query = select(places.name).where(
                places.mailbox == mailbox, places.folder == folder, places.name.in_(chunk)
            )
            found.update(str(name) for name in self.connection.execute(query).scalars())
        return found

    def link_named(
        self,
        mailbox: str,
        folder: str,
        uidvalidity: int,
        places: Sequence[tuple[int, str, int | None]],
        now: datetime,
    ) -> None:
        """Record (uid, name, raw id) places (no raw id: left out by the backlog, remembered by name only); a
        place another daemon recorded first is left as it is."""
        if not places:
            return
        dialect = postgresql if self._dialect == "postgresql" else sqlite
        self.connection.execute(
            dialect.insert(t.message_locations).on_conflict_do_nothing(),
            [
                {
                    "raw_id": raw_id,
                    "mailbox": mailbox,
                    "folder": folder,
                    "uidvalidity": uidvalidity,
                    "uid": uid,
                    "name": name,
                    "seen_at": now,
                }
                for uid, name, raw_id in places
            ],
        )
