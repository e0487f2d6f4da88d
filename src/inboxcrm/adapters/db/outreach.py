"""SQL for campaigns (see `core.ports.OutreachTransaction`): enrolments, suppressions, who a trigger enrols.

A mixin of `SqlTransaction`: it shares the transaction's connection.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, not_, select, update

from inboxcrm.adapters.db import tables as t
from inboxcrm.adapters.db.segments import segment_clause
from inboxcrm.adapters.db.statements import Statements, aware, chunks
from inboxcrm.core.audiences import Segment
from inboxcrm.core.model import TicketStatus
from inboxcrm.core.ports import CampaignMail, Enrolment, Recipient


def _enrolment(row: Any) -> Enrolment:
    return Enrolment(
        row.id,
        row.contact_id,
        row.campaign,
        row.status,
        row.source,
        aware(row.enrolled_at),
        row.step,
        aware(row.next_due_at) if row.next_due_at is not None else None,
        aware(row.last_sent_at) if row.last_sent_at is not None else None,
    )


class OutreachStatements(Statements):
    """Enrolments in campaigns, the suppression list, and the contacts a trigger or segment picks."""

    def enrolment_statuses(self, contact_id: int, campaign: str) -> list[str]:
        e = t.enrolments
        query = select(e.c.status).where(e.c.contact_id == contact_id, e.c.campaign == campaign)
        return list(self.connection.execute(query).scalars())

    def add_enrolment(self, contact_id: int, campaign: str, source: str, at: datetime, due: datetime) -> int:
        result = self.connection.execute(
            insert(t.enrolments)
            .values(
                contact_id=contact_id,
                campaign=campaign,
                status="active",
                source=source,
                enrolled_at=at,
                step=1,
                next_due_at=due,
            )
            .returning(t.enrolments.c.id)
        )
        return int(result.scalar_one())

    def due_enrolments(self, now: datetime, limit: int) -> list[Enrolment]:
        e = t.enrolments
        query = (
            select(e)
            .where(e.c.status == "active", e.c.next_due_at <= now)
            .order_by(e.c.next_due_at, e.c.id)
            .limit(limit)
        )
        if self._dialect == "postgresql":
            # several daemons may tick at once: each takes enrolments nobody else holds
            query = query.with_for_update(skip_locked=True)
        return [_enrolment(row) for row in self.connection.execute(query)]

    def active_enrolments(self, contact_ids: Iterable[int]) -> list[Enrolment]:
        ids = sorted(set(contact_ids))
        if not ids:
            return []
        e = t.enrolments
        query = select(e).where(e.c.status == "active", e.c.contact_id.in_(ids)).order_by(e.c.id)
        return [_enrolment(row) for row in self.connection.execute(query)]

    def advance_enrolments(self, sent: Sequence[tuple[int, int, datetime | None]], at: datetime) -> None:
        """Each (enrolment id, next step, when it is due) had a step sent `at`, in one statement; a next step
        due at None means that was the last one: the enrolment is finished."""
        if not sent:
            return
        e = t.enrolments
        self.connection.execute(
            update(e)
            .where(e.c.id == bindparam("enrolment_id"), e.c.status == "active")
            .values(
                step=bindparam("next_step"),
                next_due_at=bindparam("due"),
                last_sent_at=at,
                status=bindparam("new_status"),
                exited_at=bindparam("ended"),
            ),
            [
                {
                    "enrolment_id": enrolment_id,
                    "next_step": step,
                    "due": due,
                    "new_status": "active" if due is not None else "finished",
                    "ended": None if due is not None else at,
                }
                for enrolment_id, step, due in sent
            ],
        )

    def end_enrolment(self, enrolment_id: int, status: str, reason: str | None, at: datetime) -> None:
        self.connection.execute(
            update(t.enrolments)
            .where(t.enrolments.c.id == enrolment_id, t.enrolments.c.status == "active")
            .values(status=status, exit_reason=reason, exited_at=at, next_due_at=None)
        )

    def hold_enrolment(self, enrolment_id: int, until: datetime) -> None:
        self.connection.execute(update(t.enrolments).where(t.enrolments.c.id == enrolment_id).values(next_due_at=until))

    def recipient(self, contact_id: int, since: datetime) -> Recipient | None:
        """What a campaign step needs to know about the contact, `replied_since_enrolment` counting from `since`;
        None when there is no such contact."""
        return self.recipients([(contact_id, since)])[0]

    def recipients(self, wanted: Sequence[tuple[int, datetime]]) -> list[Recipient | None]:
        """`recipient(contact id, since)` for each of `wanted`, in its order, with six queries per 500 contacts
        whatever their number (a contact may be wanted twice, with two `since`s)."""
        ids = sorted({contact_id for contact_id, _ in wanted})
        c, m, tk, f = t.contacts, t.messages, t.tickets, t.contact_fields
        rows: dict[int, Any] = {}
        tags: dict[int, set[str]] = {}
        last_reply: dict[int, datetime] = {}
        open_tickets: set[int] = set()
        fields: dict[int, dict[str, str]] = {}
        for chunk in chunks(ids):
            query = (
                select(c, t.companies.c.name.label("company_name"), t.companies.c.domain.label("company_domain"))
                .outerjoin(t.companies, t.companies.c.id == c.c.company_id)
                .where(c.c.id.in_(chunk))
            )
            rows.update((row.id, row) for row in self.connection.execute(query))
            tag_rows = select(t.contact_tags.c.contact_id, t.contact_tags.c.tag).where(
                t.contact_tags.c.contact_id.in_(chunk)
            )
            for contact_id, tag in self.connection.execute(tag_rows):
                tags.setdefault(contact_id, set()).add(tag)
            # replied since a moment ⇔ their last person's message came after it
            replies = (
                select(m.c.contact_id, func.max(m.c.received_at))
                .where(
                    m.c.contact_id.in_(chunk),
                    m.c.direction == "in",
                    m.c.kind == "normal",
                    m.c.ignored.is_(False),
                )
                .group_by(m.c.contact_id)
            )
            last_reply.update((i, aware(at)) for i, at in self.connection.execute(replies) if at is not None)
            statuses = [TicketStatus.NEW.value, TicketStatus.OPEN.value, TicketStatus.PENDING.value]
            open_tickets.update(
                self.connection.execute(
                    select(tk.c.contact_id).where(tk.c.contact_id.in_(chunk), tk.c.status.in_(statuses)).distinct()
                ).scalars()
            )
            for contact_id, name, value in self.connection.execute(
                select(f.c.contact_id, f.c.name, f.c.value).where(f.c.contact_id.in_(chunk))
            ):
                fields.setdefault(contact_id, {})[name] = value
        suppressed = self.suppressed(row.email for row in rows.values())
        found: list[Recipient | None] = []
        for contact_id, since in wanted:
            row = rows.get(contact_id)
            if row is None:
                found.append(None)
                continue
            replied = last_reply.get(contact_id)
            found.append(
                Recipient(
                    contact_id=row.id,
                    email=row.email,
                    name=row.name,
                    company=row.company_name,
                    company_domain=row.company_domain,
                    undeliverable=bool(row.undeliverable),
                    suppressed=suppressed.get(row.email),
                    tags=frozenset(tags.get(contact_id, ())),
                    stage=row.stage,
                    score=float(row.score),
                    replied_since_enrolment=replied is not None and replied > since,
                    open_ticket=contact_id in open_tickets,
                    fields=fields.get(contact_id, {}),
                )
            )
        return found

    def suppress(self, email: str, reason: str, campaign: str | None, at: datetime) -> bool:
        """Add `email` to the suppression list; False when it was there already (the first reason stays)."""
        done = self.connection.execute(
            self._insert_ignore(t.suppressions).values(email=email.lower(), reason=reason, campaign=campaign, at=at)
        )
        return bool(done.rowcount)

    def suppressed(self, emails: Iterable[str]) -> dict[str, str]:
        wanted = sorted({e.lower() for e in emails})
        if not wanted:
            return {}
        s = t.suppressions
        rows = self.connection.execute(select(s.c.email, s.c.reason).where(s.c.email.in_(wanted)))
        return {row.email: row.reason for row in rows}

    def add_soft_bounce(self, email: str, at: datetime, reason: str, source: str) -> None:
        """Record one soft bounce of `email` (counted by `soft_bounces_since`)."""
        self.connection.execute(
            insert(t.soft_bounces).values(email=email.lower(), at=at, reason=reason[:40], source=source[:20])
        )

    def soft_bounces_since(self, email: str, since: datetime) -> int:
        """How many soft bounces of `email` were recorded at or after `since`."""
        b = t.soft_bounces
        query = select(func.count()).select_from(b).where(b.c.email == email.lower(), b.c.at >= since)
        return int(self.connection.execute(query).scalar_one())

    def _not_enrolled(self, campaign: str) -> Any:
        e = t.enrolments
        return not_(select(e.c.id).where(e.c.contact_id == t.contacts.c.id, e.c.campaign == campaign).exists())

    def _mailable(self) -> Any:
        s = t.suppressions
        return and_(
            t.contacts.c.undeliverable.is_(False),
            t.contacts.c.from_history.is_(False),  # known only from history: state triggers never mail them
            not_(select(s.c.email).where(s.c.email == t.contacts.c.email).exists()),
        )

    def trigger_candidates(
        self, campaign: str, kind: str, value: str | float, stages: Sequence[str], limit: int
    ) -> list[int]:
        c = t.contacts
        condition: Any
        if kind == "tag":
            condition = (
                select(t.contact_tags.c.contact_id)
                .where(t.contact_tags.c.contact_id == c.c.id, t.contact_tags.c.tag == str(value))
                .exists()
            )
        elif kind == "stage":
            order = list(stages)
            reached = order[order.index(str(value)) :] if str(value) in order else [str(value)]
            condition = c.c.stage.in_(reached)
        elif kind == "score":
            condition = c.c.score >= float(value)
        else:
            raise ValueError(f"not a state trigger: {kind}")
        query = (
            select(c.c.id)
            .where(condition, self._not_enrolled(campaign), self._mailable())
            .order_by(c.c.id)
            .limit(limit)
        )
        return list(self.connection.execute(query).scalars())

    def segment_candidates(self, campaign: str, segment: Segment, limit: int) -> list[int]:
        c = t.contacts
        query = (
            select(c.c.id)
            .where(segment_clause(segment.condition), self._not_enrolled(campaign), self._mailable())
            .order_by(c.c.id)
            .limit(limit)
        )
        return list(self.connection.execute(query).scalars())

    def campaign_message_ids(self, message_ids: Iterable[str]) -> set[str]:
        """Which of `message_ids` (with or without <>) are campaign mail we sent, as `<id>`."""
        wanted = sorted({i if i.startswith("<") else f"<{i}>" for i in message_ids if i})
        o = t.outbox
        found: set[str] = set()
        for chunk in chunks(wanted):
            query = select(o.c.message_id).where(o.c.message_id.in_(chunk), o.c.campaign.is_not(None))
            found.update(str(i) for i in self.connection.execute(query).scalars())
        return found

    def campaign_mail(self, message_ids: Iterable[str]) -> list[CampaignMail]:
        wanted = sorted({i if i.startswith("<") else f"<{i}>" for i in message_ids if i})
        if not wanted:
            return []
        o = t.outbox
        rows = self.connection.execute(
            select(o.c.enrolment_id, o.c.campaign, o.c.step, o.c.contact_id).where(
                o.c.message_id.in_(wanted), o.c.campaign.is_not(None)
            )
        )
        return [CampaignMail(r.enrolment_id, r.campaign, r.step, r.contact_id) for r in rows]

    def contact_ids_for(self, emails: Iterable[str]) -> dict[str, int]:
        wanted = sorted({e.lower() for e in emails})
        if not wanted:
            return {}
        c, a = t.contacts, t.contact_aliases
        found = {
            row.email: row.id for row in self.connection.execute(select(c.c.email, c.c.id).where(c.c.email.in_(wanted)))
        }
        for row in self.connection.execute(select(a.c.email, a.c.contact_id).where(a.c.email.in_(wanted))):
            found.setdefault(row.email, row.contact_id)
        return found

    # campaign mail in the outbox
    def campaign_sent_since(self, since: datetime) -> dict[str, int]:
        o = t.outbox
        rows = self.connection.execute(
            select(o.c.campaign, func.count())
            .where(o.c.campaign.is_not(None), o.c.status == "sent", o.c.sent_at > since)
            .group_by(o.c.campaign)
        )
        return {str(campaign): int(count) for campaign, count in rows}

    def mail_cancelled(self, mail_id: int, at: datetime, detail: str) -> None:
        self.connection.execute(
            update(t.outbox)
            .where(t.outbox.c.id == mail_id)
            .values(status="cancelled", last_error=detail[:2000], claimed_until=None, sent_at=None)
        )
