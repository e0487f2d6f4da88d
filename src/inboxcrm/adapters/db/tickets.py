"""SQL for the support desk's tickets (see `core.ports`): opening, reading, saving, what needs attention.

A mixin of `SqlTransaction`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, or_, select, update

from inboxcrm.adapters.db import tables as t
from inboxcrm.adapters.db.statements import Statements, aware, chunks
from inboxcrm.core.model import TicketStatus
from inboxcrm.core.ports import (
    NewTicket,
)
from inboxcrm.core.tickets import Ticket


class TicketStatements(Statements):
    """Tickets: one per conversation with a customer, with their SLA clocks and tags."""

    def tickets_for_threads(self, thread_ids: Iterable[int]) -> dict[int, tuple[int, TicketStatus]]:
        wanted = list(set(thread_ids))
        found: dict[int, tuple[int, TicketStatus]] = {}
        for chunk in chunks(wanted):
            rows = self.connection.execute(
                select(t.tickets.c.thread_id, t.tickets.c.id, t.tickets.c.status)
                .where(t.tickets.c.thread_id.in_(chunk))
                .order_by(t.tickets.c.id)
            )
            # a thread may hold several tickets (after a merge): the newest one is the live one
            found.update({row.thread_id: (row.id, TicketStatus(row.status)) for row in rows})
        return found

    def open_tickets(self, tickets: Sequence[NewTicket]) -> list[int]:
        return self._insert_ids(
            t.tickets,
            [
                {
                    "thread_id": n.thread_id,
                    "mailbox": n.mailbox,
                    "contact_id": n.contact_id,
                    "subject": n.subject,
                    "status": TicketStatus.NEW.value,
                    "created_at": n.at,
                    "updated_at": n.at,
                    "queue": n.queue,
                    "priority": n.priority,
                    "assignee": n.assignee,
                    "first_response_due": n.first_response_due,
                    "resolution_due": n.resolution_due,
                }
                for n in tickets
            ],
        )

    def set_ticket_status(self, ticket_id: int, status: TicketStatus, at: datetime) -> None:
        self.connection.execute(
            update(t.tickets).where(t.tickets.c.id == ticket_id).values(status=status.value, updated_at=at)
        )

    def _tickets(self, where: Any, limit: int | None = None, lock: bool = False) -> list[Ticket]:
        tk = t.tickets
        query = select(tk).where(where).order_by(tk.c.id)
        if limit is not None:
            query = query.limit(limit)
        if lock and self._dialect == "postgresql":
            # several daemons share the ticks: each takes tickets nobody else is working on
            query = query.with_for_update(skip_locked=True)
        rows = self.connection.execute(query).all()
        tags: dict[int, set[str]] = {}
        for chunk in chunks([r.id for r in rows]):
            for tag_row in self.connection.execute(
                select(t.ticket_tags.c.ticket_id, t.ticket_tags.c.tag).where(t.ticket_tags.c.ticket_id.in_(chunk))
            ):
                tags.setdefault(tag_row.ticket_id, set()).add(tag_row.tag)

        def when(value: datetime | None) -> datetime | None:
            return aware(value) if value is not None else None

        return [
            Ticket(
                id=r.id,
                thread_id=r.thread_id,
                mailbox=r.mailbox,
                subject=r.subject,
                status=TicketStatus(r.status),
                priority=r.priority,
                queue=r.queue,
                assignee=r.assignee,
                contact_id=r.contact_id,
                created_at=aware(r.created_at),
                first_response_at=when(r.first_response_at),
                solved_at=when(r.solved_at),
                first_response_due=when(r.first_response_due),
                resolution_due=when(r.resolution_due),
                first_response_breached_at=when(r.first_response_breached_at),
                resolution_breached_at=when(r.resolution_breached_at),
                snoozed_until=when(r.snoozed_until),
                tags=frozenset(tags.get(r.id, ())),
            )
            for r in rows
        ]

    def ticket(self, ticket_id: int) -> Ticket | None:
        found = self._tickets(t.tickets.c.id == ticket_id)
        return found[0] if found else None

    def tickets_by_id(self, ticket_ids: Iterable[int]) -> dict[int, Ticket]:
        wanted = sorted(set(ticket_ids))
        return {ticket.id: ticket for chunk in chunks(wanted) for ticket in self._tickets(t.tickets.c.id.in_(chunk))}

    def tickets_needing_attention(self, now: datetime, solved_before: datetime, limit: int) -> list[Ticket]:
        tk = t.tickets
        live = tk.c.status != TicketStatus.CLOSED.value
        return self._tickets(
            or_(
                (tk.c.status == TicketStatus.SOLVED.value) & (tk.c.solved_at <= solved_before),
                (tk.c.status == TicketStatus.PENDING.value) & (tk.c.snoozed_until <= now),
                live
                & tk.c.first_response_at.is_(None)
                & (tk.c.first_response_due <= now)
                & tk.c.first_response_breached_at.is_(None),
                live & tk.c.solved_at.is_(None) & (tk.c.resolution_due <= now) & tk.c.resolution_breached_at.is_(None),
            ),
            limit,
            lock=True,
        )

    def save_ticket(self, ticket: Ticket, at: datetime) -> None:
        self.save_tickets([(ticket, at)])

    def save_tickets(self, changed: Sequence[tuple[Ticket, datetime]]) -> None:
        """Write tickets as they are now (each with the time of its last change): one UPDATE statement for all
        of them, and their tags' differences in one DELETE and one INSERT."""
        if not changed:
            return
        self.connection.execute(
            update(t.tickets).where(t.tickets.c.id == bindparam("ticket_id")),
            [
                {
                    "ticket_id": ticket.id,
                    "status": ticket.status.value,
                    "priority": ticket.priority,
                    "queue": ticket.queue,
                    "assignee": ticket.assignee,
                    "first_response_at": ticket.first_response_at,
                    "solved_at": ticket.solved_at,
                    "first_response_due": ticket.first_response_due,
                    "resolution_due": ticket.resolution_due,
                    "first_response_breached_at": ticket.first_response_breached_at,
                    "resolution_breached_at": ticket.resolution_breached_at,
                    "snoozed_until": ticket.snoozed_until,
                    "updated_at": at,
                }
                for ticket, at in changed
            ],
        )
        tt = t.ticket_tags
        wanted = {ticket.id: ticket.tags for ticket, _ in changed}
        present: dict[int, set[str]] = {}
        for chunk in chunks(sorted(wanted)):
            for row in self.connection.execute(select(tt.c.ticket_id, tt.c.tag).where(tt.c.ticket_id.in_(chunk))):
                present.setdefault(row.ticket_id, set()).add(row.tag)
        gone = [{"t": i, "g": tag} for i, tags in wanted.items() for tag in sorted(present.get(i, set()) - tags)]
        new = [
            {"ticket_id": i, "tag": tag} for i, tags in wanted.items() for tag in sorted(tags - present.get(i, set()))
        ]
        if gone:
            self.connection.execute(
                delete(tt).where(tt.c.ticket_id == bindparam("t"), tt.c.tag == bindparam("g")), gone
            )
        if new:
            self.connection.execute(self._insert_ignore(tt), new)

    def open_ticket_load(self, agents: Sequence[str]) -> dict[str, int]:
        if not agents:
            return {}
        rows = self.connection.execute(
            select(t.tickets.c.assignee, func.count())
            .where(
                t.tickets.c.assignee.in_(list(agents)),
                t.tickets.c.status.in_([TicketStatus.NEW.value, TicketStatus.OPEN.value, TicketStatus.PENDING.value]),
            )
            .group_by(t.tickets.c.assignee)
        )
        return {row[0]: int(row[1]) for row in rows}
