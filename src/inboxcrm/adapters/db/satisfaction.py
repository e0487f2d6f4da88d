"""SQL for customer satisfaction (see `core.satisfaction`): whether a solved ticket's customer may be asked,
the survey asked, and the customer's answer. A mixin of `SqlTransaction`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from inboxcrm.adapters.db import tables as t
from inboxcrm.adapters.db.statements import Statements
from inboxcrm.core.satisfaction import SurveyFacts
from inboxcrm.core.tickets import Ticket

# headers that make a message list or bulk mail (the customer is a list, not a person)
_LIST_HEADERS = {"list-id", "list-unsubscribe", "list-post"}


class SatisfactionStatements(Statements):
    """One survey row per ticket: asked once, answered (and changed) by the customer's links."""

    def survey_facts(self, ticket_id: int, email: str | None) -> SurveyFacts:
        tk, m = t.tickets, t.messages
        ticket = self.connection.execute(select(tk.c.thread_id, tk.c.from_history).where(tk.c.id == ticket_id)).first()
        if ticket is None:
            return SurveyFacts(False, "missing", False, False, True)
        inbound = self.connection.execute(
            select(m.c.kind, m.c.headers)
            .where(m.c.thread_id == ticket.thread_id, m.c.direction == "in", m.c.ignored.is_(False))
            .order_by(m.c.sent_at, m.c.id)
        ).all()
        opened_by = inbound[0].kind if inbound else "normal"

        def listed(headers: list[list[str]]) -> bool:
            for name, value in headers or ():
                lowered = name.lower()
                if lowered in _LIST_HEADERS:
                    return True
                if lowered == "precedence" and value.strip().lower() in ("bulk", "list", "junk"):
                    return True
            return False

        list_mail = any(r.kind == "list" or listed(r.headers) for r in inbound)
        suppressed = (
            email is not None
            and self.connection.execute(
                select(t.suppressions.c.email).where(t.suppressions.c.email == email.lower())
            ).first()
            is not None
        )
        asked = self.connection.execute(
            select(t.satisfaction.c.ticket_id).where(t.satisfaction.c.ticket_id == ticket_id)
        ).first()
        return SurveyFacts(bool(ticket.from_history), opened_by, list_mail, suppressed, asked is not None)

    def survey_asked(self, ticket_id: int, at: datetime) -> bool:
        done = self.connection.execute(self._insert_ignore(t.satisfaction).values(ticket_id=ticket_id, asked_at=at))
        return bool(done.rowcount)

    def record_rating(self, ticket: Ticket, rating: str, comment: str | None, at: datetime) -> bool:
        """The customer's answer (a later click changes it). False when the ticket was never asked."""
        s = t.satisfaction
        done = self.connection.execute(
            update(s)
            .where(s.c.ticket_id == ticket.id)
            .values(rating=rating, comment=comment, rated_at=at, assignee=ticket.assignee, queue=ticket.queue)
        )
        return bool(done.rowcount)

    def rating_of(self, ticket_id: int) -> tuple[str | None, str | None] | None:
        s = t.satisfaction
        row = self.connection.execute(select(s.c.rating, s.c.comment).where(s.c.ticket_id == ticket_id)).first()
        return (row.rating, row.comment) if row is not None else None
