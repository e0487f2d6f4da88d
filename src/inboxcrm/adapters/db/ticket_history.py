"""What the ticket page reads besides the thread: the ticket's timeline events and the mails relayed to the
customer for agents' replies (`core.activity.TicketHistory`)."""

from __future__ import annotations

from collections.abc import Sequence
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from sqlalchemy import Engine, select

from inboxcrm.adapters.db import tables as t
from inboxcrm.adapters.db.statements import aware
from inboxcrm.core.activity import Relayed, TicketEvent


def _text_of(raw: bytes) -> str:
    """The text part of a mail we built ourselves (the relay writes text/plain, maybe with attachments)."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    body = message.get_body(preferencelist=("plain",))
    if body is None:
        return ""
    assert isinstance(body, EmailMessage)
    return str(body.get_content())


class SqlTicketHistory:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def ticket_events(self, ticket_id: int) -> list[TicketEvent]:
        e = t.timeline_events
        stmt = select(e.c.id, e.c.at, e.c.kind, e.c.summary, e.c.message_id).where(e.c.ticket_id == ticket_id)
        with self.engine.connect() as connection:
            rows = connection.execute(stmt.order_by(e.c.at, e.c.id)).all()
        return [TicketEvent(r.id, aware(r.at), r.kind, r.summary, r.message_id) for r in rows]

    def relayed(self, message_ids: Sequence[int]) -> dict[int, Relayed]:
        if not message_ids:
            return {}
        o = t.outbox
        stmt = (
            select(o.c.source_message_id, o.c.raw, o.c.recipients, o.c.status, o.c.sent_at)
            .where(o.c.kind == "relay", o.c.source_message_id.in_(list(message_ids)))
            .order_by(o.c.id)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(stmt).all()
        return {
            r.source_message_id: Relayed(
                _text_of(bytes(r.raw)),
                tuple(str(x) for x in r.recipients or ()),
                r.status,
                aware(r.sent_at) if r.sent_at else None,
            )
            for r in rows
        }
