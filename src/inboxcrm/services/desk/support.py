"""The desk as one object: everything a customer's and an agent's mail does to tickets (live, or replayed
from history), and the clock."""

from __future__ import annotations

from inboxcrm.services.desk.commands import Commands
from inboxcrm.services.desk.history import History
from inboxcrm.services.desk.opening import Opening


class Support(Opening, Commands, History):
    """The desk's reactions to stored mail, and its periodic clock.

    Everything runs inside the ingest transaction of the message that caused it (or the tick's own
    transaction): a mail to send is an outbox row with its final bytes, committed with the decision, so a
    crash neither loses it nor sends a different one."""
