"""SQL for the outbox (see `core.ports`): queueing mail, claiming what is due, recording how sending went.

A mixin of `SqlTransaction`; a mail's key makes queueing it twice a no-op.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update

from inboxcrm.adapters.db import tables as t
from inboxcrm.adapters.db.statements import Statements, aware, chunks
from inboxcrm.core.ports import (
    NewMail,
    QueuedMail,
)


class OutboxStatements(Statements):
    """Mail waiting to be sent, being sent, sent or failed."""

    def queue_mail(self, mails: Sequence[NewMail]) -> list[str]:
        """Queue `mails` in one statement; the keys of those queued now (a key queued before is left alone)."""
        if not mails:
            return []
        statement = self._insert_ignore(t.outbox).returning(t.outbox.c.key)
        rows = [
            {
                "key": mail.key,
                "kind": mail.kind,
                "message_id": mail.message_id,
                "mailbox": mail.mailbox,
                "sender": mail.sender,
                "recipients": list(mail.recipients),
                "raw": mail.raw,
                "automatic": mail.automatic,
                "cause": mail.cause,
                "ticket_id": mail.ticket_id,
                "contact_id": mail.contact_id,
                "author": mail.author,
                "source_message_id": mail.source_message_id,
                "campaign": mail.campaign,
                "step": mail.step,
                "enrolment_id": mail.enrolment_id,
                "status": "queued",
                "attempts": 0,
                "next_attempt_at": mail.at,
                "created_at": mail.at,
            }
            for mail in mails
        ]
        # one statement for the batch (SQLAlchemy writes it as multi-row INSERTs: "insertmanyvalues")
        return [str(key) for key in self.connection.execute(statement, rows).scalars()]

    def automatic_mail_count(self, cause: str, since: datetime) -> int:
        o = t.outbox
        return int(
            self.connection.execute(
                select(func.count()).where(o.c.cause == cause, o.c.automatic.is_(True), o.c.created_at >= since)
            ).scalar_one()
        )

    def claim_mail(
        self,
        now: datetime,
        claim_until: datetime,
        limit: int,
        campaign_allowance: Mapping[str, int] | None = None,
    ) -> list[QueuedMail]:
        """Due mail, claimed until `claim_until`: everything but campaign mail up to `limit`, and campaign mail
        only as `campaign_allowance` allows (campaign → how many now; None = no limits)."""
        o = t.outbox
        due = and_(
            o.c.status == "queued",
            o.c.next_attempt_at <= now,
            or_(o.c.claimed_until.is_(None), o.c.claimed_until < now),
        )
        picks = [(due if campaign_allowance is None else and_(due, o.c.campaign.is_(None)), limit)]
        for campaign, allowed in sorted((campaign_allowance or {}).items()):
            if allowed > 0:
                picks.append((and_(due, o.c.campaign == campaign), allowed))
        rows: list[Any] = []
        for condition, most in picks:
            room = min(most, limit - len(rows))
            if room <= 0:
                break
            query = select(o).where(condition).order_by(o.c.next_attempt_at, o.c.id).limit(room)
            if self._dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows += self.connection.execute(query).all()
        if rows:
            self.connection.execute(update(o).where(o.c.id.in_([r.id for r in rows])).values(claimed_until=claim_until))
        return [
            QueuedMail(
                r.id,
                r.key,
                r.kind,
                r.message_id,
                r.sender,
                tuple(r.recipients),
                r.raw,
                r.attempts,
                aware(r.created_at),
                r.mailbox,
                r.ticket_id,
                r.contact_id,
                r.author,
                r.campaign,
                r.step,
                r.enrolment_id,
            )
            for r in rows
        ]

    def mails_sent(self, mail_ids: Sequence[int], at: datetime) -> None:
        for chunk in chunks(list(mail_ids)):
            self.connection.execute(
                update(t.outbox)
                .where(t.outbox.c.id.in_(chunk))
                .values(
                    status="sent", sent_at=at, last_error=None, claimed_until=None, attempts=t.outbox.c.attempts + 1
                )
            )

    def mail_retry(self, mail_id: int, next_attempt_at: datetime, detail: str) -> None:
        self.connection.execute(
            update(t.outbox)
            .where(t.outbox.c.id == mail_id)
            .values(
                next_attempt_at=next_attempt_at,
                last_error=detail[:2000],
                claimed_until=None,
                attempts=t.outbox.c.attempts + 1,
            )
        )

    def mail_failed(self, mail_id: int, at: datetime, detail: str) -> None:
        self.connection.execute(
            update(t.outbox)
            .where(t.outbox.c.id == mail_id)
            .values(status="failed", last_error=detail[:2000], claimed_until=None, attempts=t.outbox.c.attempts + 1)
        )

    def requeue_mail(self, key: str, now: datetime) -> bool:
        """Send a failed mail again (same bytes, same Message-ID); False when no failed mail has that key."""
        o = t.outbox
        done = self.connection.execute(
            update(o)
            .where(o.c.key == key, o.c.status == "failed")
            .values(status="queued", next_attempt_at=now, claimed_until=None, created_at=now)
        )
        return bool(done.rowcount)
