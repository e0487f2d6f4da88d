"""The tickets a batch of mail touches, read once and written once (used where nothing is sent: history)."""

from __future__ import annotations

from datetime import datetime

from inboxcrm.core.ports import SupportTransaction
from inboxcrm.core.tickets import Ticket


class TicketBook:
    """Tickets as they are now (`known`: the batch's, read together by the caller; others are read when
    asked for), changed here message by message, written with one statement by `save` (each with the time
    of its last change). Nothing else may write these tickets between opening the book and `save`."""

    def __init__(self, tx: SupportTransaction, known: dict[int, Ticket]) -> None:
        self._tx = tx
        self._tickets = known
        self._changed: dict[int, datetime] = {}

    def get(self, ticket_id: int) -> Ticket | None:
        found = self._tickets.get(ticket_id)
        if found is None:
            found = self._tx.ticket(ticket_id)
            if found is not None:
                self._tickets[ticket_id] = found
        return found

    def put(self, ticket: Ticket, at: datetime) -> None:
        """`ticket` changed at `at` (written by `save`)."""
        self._tickets[ticket.id] = ticket
        self._changed[ticket.id] = at

    def save(self) -> None:
        self._tx.save_tickets([(self._tickets[i], at) for i, at in sorted(self._changed.items())])
        self._changed.clear()
