"""The desk's clock: solved tickets close after `close_solved_after`, snoozes end, and SLA targets missed by
nobody answering are recorded (and those missed by a late answer, the moment it is recorded)."""

from __future__ import annotations

from datetime import datetime

from inboxcrm.core.model import TicketStatus
from inboxcrm.core.ports import Store, SupportTransaction
from inboxcrm.core.tickets import Change, Ticket, closes_now, new_breaches, wakes_now, with_breaches, with_status
from inboxcrm.services.desk.mail import days
from inboxcrm.services.desk.notifications import Notifications


class Clocks(Notifications):
    """What changes on tickets because time passed."""

    def tick(self, tx: SupportTransaction, now: datetime, limit: int = 200) -> int:
        """Close solved tickets whose time is up, wake snoozed ones, and record SLA breaches. Returns how many
        tickets changed."""
        changed = 0
        for ticket in tx.tickets_needing_attention(now, now - self.desk.close_after, limit):
            updated, changes = ticket, []
            if closes_now(updated, now, self.desk.close_after):
                updated = with_status(updated, TicketStatus.CLOSED, now)
                changes.append(
                    Change("status", f"Ticket #{ticket.id} closed (solved {days(self.desk.close_after)} ago)")
                )
            if wakes_now(updated, now):
                updated = with_status(updated, TicketStatus.OPEN, now)
                changes.append(Change("status", f"Ticket #{ticket.id} open again: its snooze ended"))
                self._notify(tx, updated, None, None, "Snooze ended", now)
            found = new_breaches(updated, now)
            if found:
                updated = with_breaches(updated, found)
                changes += [
                    Change(
                        "sla_breached",
                        f"Ticket #{ticket.id}: {b.kind.replace('_', ' ')} target missed "
                        f"(due {b.due:%Y-%m-%d %H:%M} UTC)",
                    )
                    for b in found
                ]
            if updated != ticket:
                tx.save_ticket(updated, now)
                tx.add_events(self._events(updated, changes, now))
                changed += 1
        return changed

    def sla_on_save(self, ticket: Ticket, at: datetime) -> tuple[Ticket, list[Change]]:
        """Breaches that happened the moment something was recorded late (a late first response)."""
        found = new_breaches(ticket, at)
        if not found:
            return ticket, []
        return with_breaches(ticket, found), [
            Change("sla_breached", f"Ticket #{ticket.id}: {b.kind.replace('_', ' ')} target missed") for b in found
        ]


def tick_tickets(store: Store, support: Clocks, now: datetime) -> int:
    """One run of the desk's clock in its own transaction (see `Clocks.tick`)."""
    with store.transaction() as tx:
        return support.tick(tx, now)
