"""History on the desk (see core/history.py): mail that was in a mailbox before inboxcrm connected, or that
`inboxcrm import` reads, replayed at its own times — tickets, first responses, commands, statuses — without
a single mail to anyone and without re-opening anything now.

A ticket opened by history takes every change history shows. A ticket opened live only learns facts from
history (an earlier first response); its status is what live mail and the agents made it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from inboxcrm.core.history import answered_in_history, as_of, reopenable
from inboxcrm.core.ports import NewEvent, NewMessage, SupportTransaction
from inboxcrm.core.tickets import Change, Order, Ticket, agent_replied, apply_orders, customer_replied
from inboxcrm.services.desk.book import TicketBook
from inboxcrm.services.desk.relay import Prepared, Relay
from inboxcrm.services.desk.setup import sender_of


class History(Relay):
    """The desk's decisions on history, with nothing sent."""

    def agent_wrote_before(
        self,
        tx: SupportTransaction,
        row: NewMessage,
        message_id: int,
        ticket_id: int,
        prepared: Prepared | None,
        from_history: bool,
        book: TicketBook,
    ) -> list[NewEvent]:
        """An agent's reply, note or commands found in history. A reply is the first response if it is the
        earliest; on a ticket opened by history its commands apply and, without a status command, the
        ticket counts as solved when the team answered."""
        ticket = book.get(ticket_id)
        sender = sender_of(row.message)
        if ticket is None or sender is None:
            return []
        at = row.sent_at
        agent = (prepared.agent if prepared else None) or self.desk.agent_for(sender)
        by = agent.name if agent else sender
        reply = prepared.reply if prepared and prepared.reply else self.read_reply(row.message, row.analysis, by, at)
        dated: list[tuple[datetime, Change]] = []
        updated = ticket
        if from_history:
            updated, dated = as_of(updated, at, self.desk.close_after)
        changes: list[Change] = []
        if from_history and not reply.problems:
            orders = [Order(c.name, c.values, c.until) for c in reply.commands]
            updated, changes = apply_orders(updated, orders, by, at, lambda p: self.desk.due_for(p, ticket.created_at))
        events: list[NewEvent] = []
        if row.role in ("agent_reply", "observed_reply"):
            updated, answered = agent_replied(updated, at)
            changes = answered + changes
            if from_history:
                updated, solved = answered_in_history(updated, at, reply.status is not None)
                changes += solved
        elif (reply.is_note or row.role == "note") and ticket.contact_id is not None:
            events.append(
                NewEvent(
                    ticket.contact_id,
                    at,
                    "note",
                    f"Note by {by}: {' '.join(reply.body.split())}"[:500],
                    message_id=message_id,
                    ticket_id=ticket.id,
                )
            )
        if updated != ticket:
            book.put(updated, at)
        return events + self._dated(updated, dated) + self._events(updated, changes, at)

    def customer_wrote_before(
        self, row: NewMessage, ticket_id: int, from_history: bool, book: TicketBook
    ) -> list[NewEvent]:
        """A customer's message found in history: on a ticket opened by history it re-opens what was pending,
        solved or closed (not spam) before it; nobody is told."""
        ticket = book.get(ticket_id) if from_history else None
        if ticket is None:
            return []
        at = row.sent_at
        updated, dated = as_of(ticket, at, self.desk.close_after)
        updated, changes = customer_replied(reopenable(updated, at), at)
        if updated != ticket:
            book.put(updated, at)
        return self._dated(updated, dated) + self._events(updated, changes, at)

    def settle(self, book: TicketBook, ticket_ids: Iterable[int], now: datetime) -> list[NewEvent]:
        """Tickets opened by history as the clock leaves them today: closed `close_solved_after` after they
        were solved, snoozes that ended over, missed targets recorded — each change at the time it happened.
        Then every ticket the book holds is written."""
        events: list[NewEvent] = []
        for ticket_id in sorted(set(ticket_ids)):
            ticket = book.get(ticket_id)
            if ticket is None:
                continue
            updated, dated = as_of(ticket, now, self.desk.close_after)
            if updated != ticket:
                book.put(updated, now)
                events += self._dated(updated, dated)
        book.save()
        return events

    def _dated(self, ticket: Ticket, dated: list[tuple[datetime, Change]]) -> list[NewEvent]:
        return [event for at, change in dated for event in self._events(ticket, [change], at)]
