"""SQL for keeping the outbox's claims alive while a dispatcher is still at work (its heartbeat).

A mixin of `SqlTransaction`. A claim is short (see services/outbox.py); the dispatcher that holds it pushes
it forward while it sends and records, so a dead dispatcher's mail is taken up again within one lease.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, update

from inboxcrm.adapters.db import tables as t


class ClaimStatements:
    connection: Connection

    def extend_claims(self, mail_ids: Sequence[int], until: datetime) -> None:
        """Claim `mail_ids` until `until`, as long as they are still queued (a recorded one is left alone)."""
        if mail_ids:
            outbox = t.outbox.c
            self.connection.execute(
                update(t.outbox)
                .where(outbox.id.in_(list(mail_ids)), outbox.status == "queued", outbox.claimed_until.is_not(None))
                .values(claimed_until=until)
            )
