"""SQL for which addresses already are contacts (a contact's own address or an alias after a merge).

A mixin of `SqlTransaction`; see `core.admission` for why the ingest asks.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, select

from inboxcrm.adapters.db import tables as t

_CHUNK = 500


class PeopleStatements:
    connection: Connection

    def known_addresses(self, emails: Sequence[str]) -> set[str]:
        """Which of `emails` belong to a contact already."""
        found: set[str] = set()
        wanted = sorted(set(emails))
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            found.update(
                self.connection.execute(select(t.contacts.c.email).where(t.contacts.c.email.in_(chunk))).scalars()
            )
            aliases = select(t.contact_aliases.c.email).where(t.contact_aliases.c.email.in_(chunk))
            found.update(self.connection.execute(aliases).scalars())
        return found
