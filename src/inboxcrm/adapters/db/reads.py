"""Read queries for the API: contacts, a contact's timeline, threads and tickets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, func, or_, select

from inboxcrm.adapters.db import tables as t
from inboxcrm.adapters.db.segments import segment_clause
from inboxcrm.adapters.db.statements import aware
from inboxcrm.core.audiences import Segment
from inboxcrm.core.model import Address, Attachment
from inboxcrm.core.views import CompanyView, ContactView, MessageView, ThreadView, TicketView, TimelineEntry


def _addresses(value: Sequence[dict[str, str]] | None) -> tuple[Address, ...]:
    return tuple(Address(email=a["email"], name=a.get("name", "")) for a in value or ())


def _message(row: Any) -> MessageView:
    return MessageView(
        id=row.id,
        thread_id=row.thread_id,
        mailbox=row.mailbox,
        direction=row.direction,
        message_id=row.message_id,
        subject=row.subject,
        from_=Address(row.from_email, row.from_name) if row.from_email else None,
        to=_addresses(row.to),
        cc=_addresses(row.cc),
        sent_at=aware(row.sent_at),
        text=row.text,
        attachments=tuple(Attachment(a["filename"], a["content_type"], a["size"]) for a in row.attachments or ()),
        kind=row.kind,
        new_text=row.new_text,
        quoted_text=row.quoted_text,
        signature=row.signature,
        forwarded_by=row.forwarded_by,
        role=row.role,
        headers=tuple((str(k), str(v)) for k, v in row.headers or ()),
    )


def _when(value: datetime | None) -> datetime | None:
    return aware(value) if value is not None else None


def _ticket(row: Any, tags: Sequence[str] = ()) -> TicketView:
    return TicketView(
        row.id,
        row.thread_id,
        row.mailbox,
        row.contact_id,
        row.subject,
        row.status,
        aware(row.created_at),
        aware(row.updated_at),
        row.queue,
        row.priority,
        row.assignee,
        tuple(sorted(tags)),
        _when(row.first_response_at),
        _when(row.solved_at),
        _when(row.first_response_due),
        _when(row.resolution_due),
        _when(row.first_response_breached_at),
        _when(row.resolution_breached_at),
        _when(row.snoozed_until),
    )


_MESSAGE_COLUMNS = (
    t.messages.c.id,
    t.messages.c.thread_id,
    t.messages.c.mailbox,
    t.messages.c.direction,
    t.messages.c.message_id,
    t.messages.c.subject,
    t.messages.c.from_email,
    t.messages.c.from_name,
    t.messages.c.to,
    t.messages.c.cc,
    t.messages.c.sent_at,
    t.messages.c.text,
    t.messages.c.attachments,
    t.messages.c.kind,
    t.messages.c.new_text,
    t.messages.c.quoted_text,
    t.messages.c.signature,
    t.messages.c.forwarded_by,
    t.messages.c.role,
    t.messages.c.headers,
)


class SqlReads:
    """Read-only queries; each opens and closes its own connection."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(select(1))

    def contacts(
        self,
        email: str | None,
        query: str | None,
        after_id: int,
        limit: int,
        tag: str | None = None,
        stage: str | None = None,
        company: str | None = None,
        segment: Segment | None = None,
    ) -> list[ContactView]:
        stmt = (
            select(t.contacts, t.companies.c.domain.label("company_domain"), t.companies.c.name.label("company_name"))
            .outerjoin(t.companies, t.companies.c.id == t.contacts.c.company_id)
            .where(t.contacts.c.id > after_id)
            .order_by(t.contacts.c.id)
            .limit(limit)
        )
        if email:
            stmt = stmt.where(t.contacts.c.email == email.strip().lower())
        if query:
            pattern = f"%{query.strip().lower()}%"
            stmt = stmt.where(or_(t.contacts.c.email.like(pattern), t.contacts.c.name.ilike(pattern)))
        if tag:
            tagged = select(t.contact_tags.c.contact_id).where(
                t.contact_tags.c.contact_id == t.contacts.c.id, t.contact_tags.c.tag == tag
            )
            stmt = stmt.where(tagged.exists())
        if stage:
            stmt = stmt.where(t.contacts.c.stage == stage)
        if company:
            stmt = stmt.where(t.companies.c.domain == company.strip().lower())
        if segment is not None:
            stmt = stmt.where(segment_clause(segment.condition))
        with self.engine.connect() as connection:
            return [self._contact(row) for row in connection.execute(stmt)]

    def companies(self, query: str | None, after_id: int, limit: int) -> list[dict[str, Any]]:
        """Companies by id, with how many contacts each has; `query` matches the domain or the name."""
        co, c = t.companies, t.contacts
        members = select(func.count()).where(c.c.company_id == co.c.id).scalar_subquery()
        stmt = (
            select(co.c.id, co.c.domain, co.c.name, co.c.created_at, members.label("contacts"))
            .where(co.c.id > after_id)
            .order_by(co.c.id)
            .limit(limit)
        )
        if query:
            pattern = f"%{query.strip().lower()}%"
            stmt = stmt.where(or_(co.c.domain.like(pattern), co.c.name.ilike(pattern)))
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(stmt)]

    def deals(self, stage: str | None, after_id: int, limit: int) -> list[dict[str, Any]]:
        """Deals by id, with their company or contact."""
        d = t.deals
        stmt = (
            select(d, t.companies.c.domain.label("company_domain"))
            .outerjoin(t.companies, t.companies.c.id == d.c.company_id)
            .where(d.c.id > after_id)
            .order_by(d.c.id)
            .limit(limit)
        )
        if stage:
            stmt = stmt.where(d.c.stage == stage)
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(stmt)]

    def contact(self, contact_id: int) -> ContactView | None:
        stmt = (
            select(t.contacts, t.companies.c.domain.label("company_domain"), t.companies.c.name.label("company_name"))
            .outerjoin(t.companies, t.companies.c.id == t.contacts.c.company_id)
            .where(t.contacts.c.id == contact_id)
        )
        with self.engine.connect() as connection:
            row = connection.execute(stmt).first()
            tags = connection.execute(
                select(t.contact_tags.c.tag)
                .where(t.contact_tags.c.contact_id == contact_id)
                .order_by(t.contact_tags.c.tag)
            ).scalars()
            return replace(self._contact(row), tags=tuple(tags)) if row else None

    @staticmethod
    def _contact(row: Any) -> ContactView:
        company = CompanyView(row.company_id, row.company_domain, row.company_name) if row.company_id else None
        return ContactView(
            row.id, row.email, row.name, company, row.undeliverable, aware(row.created_at), row.score, row.stage
        )

    def timeline(self, contact_id: int, before: tuple[datetime, int] | None, limit: int) -> list[TimelineEntry]:
        """Events of one contact, newest first, strictly before `before` = (at, id)."""
        e = t.timeline_events
        stmt = (
            select(
                e.c.id.label("event_id"),
                e.c.at,
                e.c.kind.label("event_kind"),  # `kind` is the message's (normal, auto_reply, bounce …)
                e.c.summary,
                e.c.ticket_id,
                e.c.message_id.label("message_ref"),
                *_MESSAGE_COLUMNS,
            )
            .outerjoin(t.messages, t.messages.c.id == e.c.message_id)
            .where(e.c.contact_id == contact_id)
            .order_by(e.c.at.desc(), e.c.id.desc())
            .limit(limit)
        )
        if before is not None:
            at, event_id = before
            stmt = stmt.where(or_(e.c.at < at, and_(e.c.at == at, e.c.id < event_id)))
        with self.engine.connect() as connection:
            rows = connection.execute(stmt).all()
        return [
            TimelineEntry(
                row.event_id,
                aware(row.at),
                row.event_kind,
                row.summary,
                _message(row) if row.message_ref is not None else None,
                row.ticket_id,
            )
            for row in rows
        ]

    def thread(self, thread_id: int) -> ThreadView | None:
        with self.engine.connect() as connection:
            head = connection.execute(select(t.threads).where(t.threads.c.id == thread_id)).first()
            if head is None:
                return None
            rows = connection.execute(
                select(*_MESSAGE_COLUMNS)
                .where(t.messages.c.thread_id == thread_id)
                .order_by(t.messages.c.sent_at, t.messages.c.id)
            ).all()
            ticket = connection.execute(
                select(t.tickets).where(t.tickets.c.thread_id == thread_id).order_by(t.tickets.c.id.desc())
            ).first()
            tags = self._ticket_tags(connection, [ticket.id]) if ticket else {}
        return ThreadView(
            head.id,
            head.subject,
            head.mailbox,
            aware(head.created_at),
            aware(head.last_message_at),
            tuple(_message(r) for r in rows),
            _ticket(ticket, tags.get(ticket.id, ())) if ticket else None,
        )

    def threads(self, after_id: int, limit: int) -> list[tuple[int, str, list[str]]]:
        """(thread id, subject, Message-IDs of its stored messages in date order)."""
        with self.engine.connect() as connection:
            heads = connection.execute(
                select(t.threads.c.id, t.threads.c.subject)
                .where(t.threads.c.id > after_id)
                .order_by(t.threads.c.id)
                .limit(limit)
            ).all()
            ids = [h.id for h in heads]
            members: dict[int, list[str]] = {i: [] for i in ids}
            if ids:
                for row in connection.execute(
                    select(t.messages.c.thread_id, t.messages.c.message_id)
                    .where(t.messages.c.thread_id.in_(ids))
                    .order_by(t.messages.c.sent_at, t.messages.c.id)
                ):
                    if row.message_id:
                        members[row.thread_id].append(row.message_id)
        return [(h.id, h.subject, members[h.id]) for h in heads]

    def tickets(
        self,
        status: str | None,
        after_id: int,
        limit: int,
        queue: str | None = None,
        assignee: str | None = None,
        priority: str | None = None,
        sla: str | None = None,
    ) -> list[TicketView]:
        tk = t.tickets
        stmt = select(tk).where(tk.c.id > after_id).order_by(tk.c.id).limit(limit)
        for column, value in ((tk.c.status, status), (tk.c.queue, queue), (tk.c.assignee, assignee)):
            if value:
                stmt = stmt.where(column == value)
        if priority:
            stmt = stmt.where(tk.c.priority == priority)
        if sla == "breached":
            stmt = stmt.where(
                or_(tk.c.first_response_breached_at.is_not(None), tk.c.resolution_breached_at.is_not(None))
            )
        elif sla == "ok":
            stmt = stmt.where(tk.c.first_response_breached_at.is_(None), tk.c.resolution_breached_at.is_(None))
        with self.engine.connect() as connection:
            rows = list(connection.execute(stmt))
            tags = self._ticket_tags(connection, [r.id for r in rows])
            return [_ticket(row, tags.get(row.id, ())) for row in rows]

    @staticmethod
    def _ticket_tags(connection: Any, ids: Sequence[int]) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        if ids:
            tt = t.ticket_tags
            for row in connection.execute(select(tt.c.ticket_id, tt.c.tag).where(tt.c.ticket_id.in_(ids))):
                out.setdefault(row.ticket_id, []).append(row.tag)
        return out

    def counts(self) -> dict[str, int]:
        """Row counts shown by `/health` and `inboxcrm status`."""
        out: dict[str, int] = {}
        with self.engine.connect() as connection:
            for name, table in (
                ("messages", t.messages),
                ("contacts", t.contacts),
                ("threads", t.threads),
                ("tickets", t.tickets),
                ("raw_messages", t.raw_messages),
            ):
                out[name] = int(connection.execute(select(func.count()).select_from(table)).scalar_one())
            for status in ("queued", "sent", "failed", "cancelled"):
                out[f"outbox_{status}"] = int(
                    connection.execute(
                        select(func.count()).select_from(t.outbox).where(t.outbox.c.status == status)
                    ).scalar_one()
                )
            w = t.webhook_deliveries
            for status, count in connection.execute(select(w.c.status, func.count()).group_by(w.c.status)):
                out[f"webhooks_{status}"] = int(count)
            out["quarantined"] = int(
                connection.execute(
                    select(func.count()).select_from(t.quarantine).where(t.quarantine.c.resolved_at.is_(None))
                ).scalar_one()
            )
        return out

    def outbox(self, status: str | None, limit: int) -> list[dict[str, Any]]:
        """Outbox rows, newest first (without their bytes), for `inboxcrm outbox list`."""
        o = t.outbox
        columns = (o.c.id, o.c.key, o.c.kind, o.c.recipients, o.c.status, o.c.attempts, o.c.last_error)
        stmt = select(*columns, o.c.created_at, o.c.sent_at, o.c.message_id).order_by(o.c.id.desc()).limit(limit)
        if status:
            stmt = stmt.where(o.c.status == status)
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(stmt)]

    def campaign_figures(self) -> dict[str, list[dict[str, int]]]:
        """Per campaign and step: sent, replied, bounced, unsubscribed (a reply, bounce or unsubscribe counts
        against the last step sent before it)."""
        o, e = t.outbox, t.enrolments
        out: dict[str, dict[int, dict[str, int]]] = {}
        with self.engine.connect() as connection:
            sent = connection.execute(
                select(o.c.campaign, o.c.step, func.count())
                .where(o.c.campaign.is_not(None), o.c.status == "sent")
                .group_by(o.c.campaign, o.c.step)
            )
            for campaign, step, count in sent:
                out.setdefault(campaign, {}).setdefault(step, _zero(step))["sent"] = int(count)
            ended = connection.execute(
                select(e.c.campaign, e.c.step, e.c.exit_reason, func.count())
                .where(e.c.status == "exited", e.c.exit_reason.in_(["replied", "bounced", "unsubscribed"]))
                .group_by(e.c.campaign, e.c.step, e.c.exit_reason)
            )
            for campaign, step, reason, count in ended:
                last_sent = max(1, int(step) - 1)  # `step` is the next one to send
                row = out.setdefault(campaign, {}).setdefault(last_sent, _zero(last_sent))
                row[str(reason)] += int(count)
        return {name: [steps[n] for n in sorted(steps)] for name, steps in out.items()}

    def enrolment_counts(self) -> dict[str, dict[str, int]]:
        """Per campaign: enrolments by status (active, finished, exited)."""
        e = t.enrolments
        out: dict[str, dict[str, int]] = {}
        with self.engine.connect() as connection:
            rows = connection.execute(select(e.c.campaign, e.c.status, func.count()).group_by(e.c.campaign, e.c.status))
            for campaign, status, count in rows:
                out.setdefault(campaign, {})[status] = int(count)
        return out

    def cursors(self) -> list[tuple[str, str, int, int, datetime]]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(t.folder_cursors).order_by(t.folder_cursors.c.mailbox))
            return [(r.mailbox, r.folder, r.uidvalidity, r.last_uid, aware(r.updated_at)) for r in rows]

    def messages_since(
        self, since: datetime, after_id: int, limit: int
    ) -> list[tuple[int, str, str, datetime, bytes, dict[str, Any] | None]]:
        """Stored inbound and outbound messages sent at or after `since`, with their raw bytes and the
        decision the rules of the day recorded, in id order."""
        m = t.messages
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(m.c.id, m.c.mailbox, m.c.subject, m.c.sent_at, t.raw_messages.c.raw, m.c.decision)
                .join(t.raw_messages, t.raw_messages.c.id == m.c.raw_id)
                .where(m.c.sent_at >= since, m.c.id > after_id)
                .order_by(m.c.id)
                .limit(limit)
            ).all()
        return [(r.id, r.mailbox, r.subject, aware(r.sent_at), r.raw, r.decision) for r in rows]

    def score_history(self, contact_id: int, limit: int) -> list[tuple[datetime, float, str]]:
        """A contact's score changes, newest first: (when, points, reason)."""
        c = t.score_changes.c
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(c.at, c.points, c.reason)
                .where(c.contact_id == contact_id)
                .order_by(c.at.desc(), c.id.desc())
                .limit(limit)
            )
            return [(aware(r.at), float(r.points), r.reason) for r in rows]

    def pipeline(self) -> dict[str, tuple[int, float]]:
        """Deal stage → (number of deals, their total value)."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(t.deals.c.stage, func.count(), func.coalesce(func.sum(t.deals.c.value), 0.0)).group_by(
                    t.deals.c.stage
                )
            )
            return {row[0]: (int(row[1]), float(row[2])) for row in rows}

    def segment_contacts(self, segment: Segment, after_id: int, limit: int) -> list[ContactView]:
        """Contacts in `segment`, by id, after `after_id` — one SQL statement whatever the segment."""
        stmt = (
            select(t.contacts, t.companies.c.domain.label("company_domain"), t.companies.c.name.label("company_name"))
            .outerjoin(t.companies, t.companies.c.id == t.contacts.c.company_id)
            .where(t.contacts.c.id > after_id, segment_clause(segment.condition))
            .order_by(t.contacts.c.id)
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [self._contact(row) for row in connection.execute(stmt)]


def _zero(step: int) -> dict[str, int]:
    return {"step": step, "sent": 0, "replied": 0, "bounced": 0, "unsubscribed": 0}
