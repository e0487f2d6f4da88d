"""SQL for threads, messages and the timeline (see `core.ports`): threading, filing messages, events.

A mixin of `SqlTransaction`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from email.utils import parseaddr
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update

from inboxcrm.adapters.db import tables as t
from inboxcrm.adapters.db.statements import Statements, aware, chunks
from inboxcrm.core.model import Address
from inboxcrm.core.ports import (
    CustomerMessage,
    NewEvent,
    NewMessage,
    NewThread,
)


def _address_json(addresses: Sequence[Address]) -> list[dict[str, str]]:
    return [{"email": a.email, "name": a.name} for a in addresses]


def _analysis_columns(row: NewMessage) -> dict[str, Any]:
    a, meaning = row.analysis, row.meaning
    forwarded = meaning.forwarded_by is not None
    return {
        "kind": meaning.kind.value,
        "new_text": a.segments.new_text if a else None,
        "quoted_text": a.segments.quoted if a else None,
        "signature": a.segments.signature if a else None,
        "forwarded_text": a.segments.forwarded if a else None,
        "bounce": [{"email": b.email, "status": b.status, "hard": b.hard, "diagnostic": b.diagnostic} for b in a.bounce]
        if a and a.bounce
        else None,
        "original_from_email": meaning.contact.email if forwarded and meaning.contact else None,
        "forwarded_by": meaning.forwarded_by.email if meaning.forwarded_by else None,
        "forward_confidence": meaning.forward_confidence,
    }


class MessageStatements(Statements):
    """Threads and the Message-IDs in them, stored messages, and timeline events."""

    after_events: Any  # the customer record's (RecordStatements): webhooks see the events, in the transaction

    def threads_for(self, message_ids: Iterable[str]) -> dict[str, int]:
        return self._lookup(t.thread_message_ids.c.message_id, t.thread_message_ids.c.thread_id, message_ids)

    def new_threads(self, threads: Sequence[NewThread]) -> list[int]:
        return self._insert_ids(
            t.threads,
            [
                {
                    "subject": n.subject,
                    "subject_key": n.subject_key,
                    "mailbox": n.mailbox,
                    "created_at": n.at,
                    "last_message_at": n.at,
                }
                for n in threads
            ],
        )

    def map_threads(self, pairs: Sequence[tuple[str, int]]) -> None:
        if pairs:
            self.connection.execute(
                self._insert_ignore(t.thread_message_ids),
                [{"message_id": mid, "thread_id": thread_id} for mid, thread_id in pairs],
            )

    def touch_threads(self, last_message_at: Mapping[int, datetime]) -> None:
        if last_message_at:
            self.connection.execute(
                update(t.threads)
                .where(t.threads.c.id == bindparam("tid"), t.threads.c.last_message_at < bindparam("at"))
                .values(last_message_at=bindparam("at")),
                [{"tid": tid, "at": at} for tid, at in last_message_at.items()],
            )

    def merge_threads(self, moves: Mapping[int, int]) -> None:
        """Move everything of each thread in `moves` to the thread it maps to, then drop the empty thread."""
        for old, new in moves.items():
            for table in (t.messages, t.thread_message_ids, t.tickets):
                self.connection.execute(update(table).where(table.c.thread_id == old).values(thread_id=new))
            self.connection.execute(t.threads.delete().where(t.threads.c.id == old))

    def thread_exists(self, thread_id: int) -> bool:
        return self.connection.execute(select(t.threads.c.id).where(t.threads.c.id == thread_id)).first() is not None

    def _thread_has_contact(self, thread_id: Any, contact_id: int) -> Any:
        return (
            select(t.messages.c.id)
            .where(t.messages.c.thread_id == thread_id, t.messages.c.contact_id == contact_id)
            .exists()
        )

    def thread_of_ticket(self, ticket_id: int, contact_id: int) -> int | None:
        found = self.connection.execute(
            select(t.tickets.c.thread_id).where(
                t.tickets.c.id == ticket_id, self._thread_has_contact(t.tickets.c.thread_id, contact_id)
            )
        ).scalar()
        return int(found) if found is not None else None

    def thread_by_subject(self, mailbox: str, subject_key: str, contact_id: int, since: datetime) -> int | None:
        found = self.connection.execute(
            select(t.threads.c.id)
            .where(
                t.threads.c.subject_key == subject_key,
                t.threads.c.mailbox == mailbox,
                t.threads.c.last_message_at >= since,
                self._thread_has_contact(t.threads.c.id, contact_id),
            )
            .order_by(t.threads.c.last_message_at.desc())
            .limit(1)
        ).scalar()
        return int(found) if found is not None else None

    def add_messages(self, rows: Sequence[NewMessage]) -> list[int]:
        if not rows:
            return []
        values = []
        for row in rows:
            m = row.message
            values.append(
                {
                    "raw_id": row.raw_id,
                    "thread_id": row.thread_id,
                    "contact_id": row.contact_id,
                    "mailbox": row.mailbox,
                    "direction": row.direction.value,
                    "message_id": m.message_id,
                    "in_reply_to": m.in_reply_to,
                    "references": list(m.references),
                    "subject": m.subject,
                    "from_email": m.from_.email if m.from_ else None,
                    "from_name": m.from_.name if m.from_ else "",
                    "to": _address_json(m.to),
                    "cc": _address_json(m.cc),
                    "sent_at": row.sent_at,
                    "received_at": row.received_at,
                    "text": m.text,
                    "html": m.html,
                    "attachments": [
                        {"filename": a.filename, "content_type": a.content_type, "size": a.size} for a in m.attachments
                    ],
                    "headers": [[k, v] for k, v in m.headers],
                    "defects": list(m.defects),
                    **_analysis_columns(row),
                    "decision": dict(row.decision) if row.decision is not None else None,
                    "ignored": row.ignored,
                    "role": row.role,
                }
            )
        return self._insert_ids(t.messages, values)

    def last_outbound_at(self, thread_ids: Iterable[int]) -> dict[int, datetime]:
        wanted = list(set(thread_ids))
        found: dict[int, datetime] = {}
        for chunk in chunks(wanted):
            rows = self.connection.execute(
                select(t.messages.c.thread_id, func.max(t.messages.c.sent_at))
                .where(t.messages.c.thread_id.in_(chunk), t.messages.c.direction == "out")
                .group_by(t.messages.c.thread_id)
            )
            found.update({row[0]: aware(row[1]) for row in rows})
        return found

    def last_customer_message(self, thread_id: int) -> CustomerMessage | None:
        m = t.messages
        row = self.connection.execute(
            select(m.c.message_id, m.c.references, m.c.subject, m.c.from_email, m.c.from_name, m.c.headers)
            .add_columns(m.c.sent_at, m.c.new_text, m.c.text)
            .where(
                m.c.thread_id == thread_id,
                m.c.direction == "in",
                m.c.kind == "normal",
                m.c.ignored.is_(False),
                m.c.from_email.is_not(None),
            )
            .order_by(m.c.sent_at.desc(), m.c.id.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        reply_to = tuple(
            Address(a.strip().lower())
            for name, value in row.headers
            if name.lower() == "reply-to"
            for a in [parseaddr(value)[1]]
            if "@" in a
        )
        return CustomerMessage(
            row.message_id,
            tuple(row.references or ()),
            row.subject,
            Address(row.from_email, row.from_name),
            reply_to[:1],
            aware(row.sent_at),
            row.new_text if row.new_text is not None else row.text,
        )

    def add_events(self, events: Sequence[NewEvent]) -> None:
        if events:
            self.connection.execute(
                insert(t.timeline_events),
                [
                    {
                        "contact_id": e.contact_id,
                        "at": e.at,
                        "kind": e.kind,
                        "summary": e.summary,
                        "message_id": e.message_id,
                        "ticket_id": e.ticket_id,
                    }
                    for e in events
                ],
            )
            self.after_events(events)
