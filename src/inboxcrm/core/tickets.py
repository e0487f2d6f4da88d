"""Ticket rules that do not need a database: when a ticket opens, and what a customer reply does."""

from __future__ import annotations

from inboxcrm.core.model import Direction, MailboxKind, TicketStatus


def opens_ticket(kind: MailboxKind, direction: Direction, starts_thread: bool) -> bool:
    """A new inbound conversation on a support mailbox opens a ticket."""
    return kind is MailboxKind.SUPPORT and direction is Direction.INBOUND and starts_thread


def after_customer_reply(status: TicketStatus) -> TicketStatus:
    """A customer writing again reopens a pending or solved ticket; a closed one stays closed."""
    if status in (TicketStatus.PENDING, TicketStatus.SOLVED):
        return TicketStatus.OPEN
    return status
