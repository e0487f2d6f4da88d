"""SQL for the collision guard (see `core.collisions` and `core.ports.HoldingTransaction`): the desk's notices
to agents, what crossed a reply, held replies, and their figures for the reports.

A mixin of `SqlTransaction`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update

from inboxcrm.adapters.db import tables as t
from inboxcrm.adapters.db.statements import Statements, aware
from inboxcrm.core.collisions import HELD, Crossing, HeldReply, Notice

NOTICE_KINDS = ("notification", "held_notice")


def _held(row: Any) -> HeldReply:
    return HeldReply(
        id=row.id,
        ticket_id=row.ticket_id,
        message_id=row.message_id,
        raw_id=row.raw_id,
        agent=row.agent,
        author=row.author,
        mailbox=row.mailbox,
        body=row.body,
        notice_message_id=row.notice_message_id,
        held_at=aware(row.held_at),
        drop_at=aware(row.drop_at),
        status=row.status,
        resolved_at=aware(row.resolved_at) if row.resolved_at is not None else None,
    )


class HoldingStatements(Statements):
    """Held replies and what the collision guard compares a reply with."""

    def desk_notices(self, ticket_id: int) -> list[Notice]:
        o = t.outbox
        rows = self.connection.execute(
            select(o.c.message_id, o.c.created_at, o.c.recipients).where(
                o.c.ticket_id == ticket_id, o.c.kind.in_(NOTICE_KINDS)
            )
        )
        return [Notice(r.message_id, aware(r.created_at), tuple(r.recipients or ())) for r in rows]

    def crossings_since(
        self, ticket_id: int, thread_id: int, since: datetime, excluding: Sequence[str]
    ) -> list[Crossing]:
        o, m = t.outbox, t.messages
        mine = [e.lower() for e in excluding]
        found: list[Crossing] = []
        # relayed answers: the customer got them from the shared address
        relayed = self.connection.execute(
            select(o.c.author, o.c.created_at, m.c.new_text, m.c.text)
            .join(m, m.c.id == o.c.source_message_id)
            .where(o.c.ticket_id == ticket_id, o.c.kind == "relay", o.c.created_at > since)
        )
        for r in relayed:
            if (r.author or "").lower() not in mine:
                found.append(Crossing("answer", r.author or "", aware(r.created_at), r.new_text or r.text))
        others = self.connection.execute(  # observed answers, and the customer writing again
            select(m.c.role, m.c.direction, m.c.from_email, m.c.from_name, m.c.received_at, m.c.new_text, m.c.text)
            .where(
                m.c.thread_id == thread_id,
                m.c.received_at > since,
                m.c.ignored.is_(False),
                or_(
                    m.c.role == "observed_reply",
                    and_(m.c.role.is_(None), m.c.direction == "in", m.c.kind == "normal"),
                ),
            )
            .order_by(m.c.received_at, m.c.id)
        )
        for o_row in others:
            if (o_row.from_email or "").lower() in mine:
                continue
            kind = "answer" if o_row.role == "observed_reply" else "customer"
            name = o_row.from_name or o_row.from_email or "the customer"
            who = (o_row.from_email or "") if kind == "answer" else name
            found.append(Crossing(kind, who, aware(o_row.received_at), o_row.new_text or o_row.text))
        return found

    def hold_reply(self, held: HeldReply) -> int | None:
        h = t.held_replies
        values = {
            "ticket_id": held.ticket_id,
            "message_id": held.message_id,
            "raw_id": held.raw_id,
            "agent": held.agent,
            "author": held.author,
            "mailbox": held.mailbox,
            "body": held.body,
            "notice_message_id": held.notice_message_id,
            "held_at": held.held_at,
            "drop_at": held.drop_at,
            "status": held.status,
        }
        # one hold per message: deciding twice (a retried batch, two daemons) holds it once
        result = self.connection.execute(self._insert_ignore(h).values(values).returning(h.c.id))
        new = result.scalar()
        return int(new) if new is not None else None

    def held_reply(self, ticket_id: int, answering: Sequence[str], author: str) -> HeldReply | None:
        h = t.held_replies
        named = [f"<{m.strip().strip('<>')}>" for m in answering if m.strip()]
        base = select(h).where(h.c.ticket_id == ticket_id, func.lower(h.c.author) == author.lower())
        row: Any = None
        if named:
            row = self.connection.execute(base.where(h.c.notice_message_id.in_(named)).order_by(h.c.id.desc())).first()
        if row is None:  # a mail client that dropped In-Reply-To: the agent's newest held reply on the ticket
            row = self.connection.execute(base.order_by(h.c.id.desc())).first()
        return _held(row) if row is not None else None

    def resolve_held(self, held_id: int, status: str, at: datetime) -> bool:
        h = t.held_replies
        result = self.connection.execute(
            update(h).where(h.c.id == held_id, h.c.status == HELD).values(status=status, resolved_at=at)
        )
        return result.rowcount == 1

    def held_replies_due(self, now: datetime, limit: int) -> list[HeldReply]:
        h = t.held_replies
        query = select(h).where(h.c.status == HELD, h.c.drop_at <= now).order_by(h.c.id).limit(limit)
        if self._dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return [_held(r) for r in self.connection.execute(query)]

    def collision_counts(self, since: datetime, until: datetime) -> dict[str, int]:
        """Held replies by what became of them, and observed replies that crossed another answer, in the range."""
        h, e = t.held_replies, t.timeline_events
        counts = {"held": 0, "sent": 0, "dropped": 0}
        for status, count in self.connection.execute(
            select(h.c.status, func.count()).where(h.c.held_at >= since, h.c.held_at < until).group_by(h.c.status)
        ):
            counts[status] = int(count)
        counts["observed"] = int(
            self.connection.execute(
                select(func.count()).where(e.c.kind == "ticket_collision", e.c.at >= since, e.c.at < until)
            ).scalar_one()
        )
        return counts
