"""Tickets without a database: when one opens, what a reply or an agent's command does to it, and its clocks.

Statuses: new → open → pending → solved → closed. A customer reply reopens a pending or solved ticket; a
solved ticket closes by itself after a while; `#snooze` keeps a ticket pending until a given time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from inboxcrm.core.model import Direction, MailboxKind, TicketStatus
from inboxcrm.core.sla import Breach, Due, breaches


@dataclass(frozen=True, slots=True)
class Ticket:
    """A ticket as the support desk reasons about it."""

    id: int
    thread_id: int
    mailbox: str
    subject: str
    status: TicketStatus
    priority: str
    queue: str | None
    assignee: str | None
    contact_id: int | None
    created_at: datetime
    first_response_at: datetime | None = None
    solved_at: datetime | None = None
    first_response_due: datetime | None = None
    resolution_due: datetime | None = None
    first_response_breached_at: datetime | None = None
    resolution_breached_at: datetime | None = None
    snoozed_until: datetime | None = None
    tags: frozenset[str] = field(default_factory=frozenset)

    @property
    def token(self) -> str:
        """The ticket token in subjects: `[#12]`."""
        return f"[#{self.id}]"


@dataclass(frozen=True, slots=True)
class Change:
    """What happened to a ticket, for its timeline: `kind` such as status, assignee, priority, tags, sla_breached."""

    kind: str
    summary: str


def opens_ticket(kind: MailboxKind, direction: Direction, starts_thread: bool) -> bool:
    """A new inbound conversation on a support mailbox opens a ticket."""
    return kind is MailboxKind.SUPPORT and direction is Direction.INBOUND and starts_thread


def after_customer_reply(status: TicketStatus) -> TicketStatus:
    """A customer writing again reopens a pending or solved ticket; a closed one stays closed."""
    if status in (TicketStatus.PENDING, TicketStatus.SOLVED):
        return TicketStatus.OPEN
    return status


def with_status(ticket: Ticket, status: TicketStatus, now: datetime, snoozed_until: datetime | None = None) -> Ticket:
    """`ticket` moved to `status`: solving stamps `solved_at` (reopening clears it); only a pending ticket
    keeps a snooze."""
    done = status in (TicketStatus.SOLVED, TicketStatus.CLOSED)
    return replace(
        ticket,
        status=status,
        solved_at=(ticket.solved_at or now) if done else None,
        snoozed_until=snoozed_until if status is TicketStatus.PENDING else None,
    )


def customer_replied(ticket: Ticket, now: datetime) -> tuple[Ticket, list[Change]]:
    """A customer's (not automatic) reply: a pending, snoozed or solved ticket opens again."""
    status = after_customer_reply(ticket.status)
    if status is ticket.status:
        return ticket, []
    return with_status(ticket, status, now), [
        Change("reopened", f"Ticket #{ticket.id} reopened by the customer's reply")
    ]


def agent_replied(ticket: Ticket, at: datetime) -> tuple[Ticket, list[Change]]:
    """An agent answered the customer: the first answer stops the first-response clock, and a new ticket is
    now open (other statuses change only by command). An answer older than the recorded first response (found
    later, in a backfill) becomes the first response; a breach it shows was no breach is taken back."""
    changes: list[Change] = []
    if ticket.first_response_at is None or at < ticket.first_response_at:
        if ticket.first_response_at is None:
            changes.append(Change("first_response", f"Ticket #{ticket.id}: first response"))
        ticket = replace(ticket, first_response_at=at)
        due = ticket.first_response_due
        if ticket.first_response_breached_at is not None and due is not None and at <= due:
            ticket = replace(ticket, first_response_breached_at=None)
    if ticket.status is TicketStatus.NEW:
        ticket = with_status(ticket, TicketStatus.OPEN, at)
    return ticket, changes


_STATUS_OF_COMMAND = {
    "close": TicketStatus.SOLVED,
    "pending": TicketStatus.PENDING,
    "snooze": TicketStatus.PENDING,
    "open": TicketStatus.OPEN,
    "spam": TicketStatus.CLOSED,
}


@dataclass(frozen=True, slots=True)
class Order:
    """One command as the ticket needs it (see core/commands.py for how agents write them)."""

    name: str
    values: tuple[str, ...] = ()
    until: datetime | None = None


def apply_orders(
    ticket: Ticket, orders: Sequence[Order], by: str, now: datetime, due_for: Callable[[str], Due]
) -> tuple[Ticket, list[Change]]:
    """`ticket` after an agent's commands, and what changed. `due_for(priority)` gives the SLA due times of
    the ticket at a new priority (counted from when it was opened)."""
    changes: list[Change] = []
    for order in orders:
        name = order.name
        if name in _STATUS_OF_COMMAND:
            status = _STATUS_OF_COMMAND[name]
            if name == "spam":
                ticket = replace(ticket, tags=ticket.tags | {"spam"})
            ticket = with_status(ticket, status, now, order.until)
            until = f" until {order.until:%Y-%m-%d %H:%M %Z}" if order.until else ""
            changes.append(Change("status", f"Ticket #{ticket.id} {status.value}{until} by {by}"))
        elif name == "assign" and order.values:
            ticket = replace(ticket, assignee=order.values[0])
            changes.append(Change("assignee", f"Ticket #{ticket.id} assigned to {order.values[0]} by {by}"))
        elif name == "priority" and order.values:
            due = due_for(order.values[0])
            ticket = replace(
                ticket,
                priority=order.values[0],
                first_response_due=due.first_response,
                resolution_due=due.resolution,
            )
            changes.append(Change("priority", f"Ticket #{ticket.id} priority {order.values[0]} by {by}"))
        elif name in ("tag", "untag") and order.values:
            values = frozenset(order.values)
            ticket = replace(ticket, tags=ticket.tags | values if name == "tag" else ticket.tags - values)
            verb = "tagged" if name == "tag" else "untagged"
            changes.append(Change("tags", f"Ticket #{ticket.id} {verb} {', '.join(sorted(values))} by {by}"))
    return ticket, changes


def closes_now(ticket: Ticket, now: datetime, close_after: timedelta) -> bool:
    """A solved ticket closes by itself `close_after` after it was solved."""
    return (
        ticket.status is TicketStatus.SOLVED and ticket.solved_at is not None and now >= ticket.solved_at + close_after
    )


def wakes_now(ticket: Ticket, now: datetime) -> bool:
    """A snoozed ticket opens again when its snooze ends."""
    return ticket.status is TicketStatus.PENDING and ticket.snoozed_until is not None and now >= ticket.snoozed_until


def new_breaches(ticket: Ticket, now: datetime) -> tuple[Breach, ...]:
    """SLA targets `ticket` has missed as of `now` that are not recorded on it yet."""
    due = Due(ticket.first_response_due, ticket.resolution_due)
    found = breaches(due, ticket.first_response_at, ticket.solved_at, now)
    recorded = {
        "first_response": ticket.first_response_breached_at,
        "resolution": ticket.resolution_breached_at,
    }
    return tuple(b for b in found if recorded[b.kind] is None)


def with_breaches(ticket: Ticket, found: Sequence[Breach]) -> Ticket:
    """`ticket` with the breaches in `found` recorded."""
    for breach in found:
        if breach.kind == "first_response":
            ticket = replace(ticket, first_response_breached_at=breach.at)
        else:
            ticket = replace(ticket, resolution_breached_at=breach.at)
    return ticket
