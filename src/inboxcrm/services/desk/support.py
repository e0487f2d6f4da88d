"""The desk as one object: everything a customer's and an agent's mail does to tickets (live, or replayed
from history), and the clock."""

from __future__ import annotations

from datetime import datetime

from inboxcrm.core.ports import Store
from inboxcrm.services.desk.commands import Commands
from inboxcrm.services.desk.history import History
from inboxcrm.services.desk.opening import Opening
from inboxcrm.services.desk.trust import Trust


class Support(Opening, Commands, History, Trust):
    """The desk's reactions to stored mail, and its periodic clock.

    Everything runs inside the ingest transaction of the message that caused it (or the tick's own
    transaction): a mail to send is an outbox row with its final bytes, committed with the decision, so a
    crash neither loses it nor sends a different one."""


def tick_tickets(store: Store, support: Support, now: datetime) -> int:
    """One run of the desk's clock in its own transaction: tickets (see `Clocks.tick`), then held replies
    nobody sent in time (see `Holding.drop_held`)."""
    with store.transaction() as tx:
        return support.tick(tx, now) + support.drop_held(tx, now)
