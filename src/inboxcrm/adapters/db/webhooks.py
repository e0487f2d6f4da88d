"""Webhook deliveries (a mixin of `SqlTransaction`): durable rows, claimed for sending like the outbox's."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection, and_, insert, or_, select, update

from inboxcrm.adapters.db import tables as t
from inboxcrm.core.record_ports import Delivery, NewDelivery


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class WebhookStatements:
    connection: Connection

    def queue_deliveries(self, deliveries: Sequence[NewDelivery]) -> None:
        if deliveries:
            self.connection.execute(
                insert(t.webhook_deliveries),
                [
                    {
                        "webhook": d.webhook,
                        "event": d.event,
                        "delivery_id": d.delivery_id,
                        "body": d.body,
                        "contact_id": d.contact_id,
                        "status": "queued",
                        "attempts": 0,
                        "next_attempt_at": d.at,
                        "created_at": d.at,
                    }
                    for d in deliveries
                ],
            )

    def claim_deliveries(self, now: datetime, claim_until: datetime, limit: int) -> list[Delivery]:
        """Due deliveries, oldest first, claimed until `claim_until` (several daemons never send one twice at
        once; a crashed one's claim runs out and the delivery is sent again)."""
        w = t.webhook_deliveries
        query = (
            select(w.c.id, w.c.webhook, w.c.event, w.c.delivery_id, w.c.body, w.c.attempts, w.c.created_at)
            .where(
                and_(
                    w.c.status == "queued",
                    w.c.next_attempt_at <= now,
                    or_(w.c.claimed_until.is_(None), w.c.claimed_until < now),
                )
            )
            .order_by(w.c.next_attempt_at, w.c.id)
            .limit(limit)
        )
        if self.connection.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = self.connection.execute(query).all()
        if rows:
            self.connection.execute(update(w).where(w.c.id.in_([r.id for r in rows])).values(claimed_until=claim_until))
        return [
            Delivery(r.id, r.webhook, r.event, r.delivery_id, r.body, r.attempts, _aware(r.created_at)) for r in rows
        ]

    def delivery_sent(self, delivery_id: int, at: datetime) -> None:
        w = t.webhook_deliveries
        self.connection.execute(
            update(w)
            .where(w.c.id == delivery_id)
            .values(status="sent", sent_at=at, claimed_until=None, last_error=None, attempts=w.c.attempts + 1)
        )

    def delivery_retry(self, delivery_id: int, next_attempt_at: datetime, detail: str) -> None:
        w = t.webhook_deliveries
        self.connection.execute(
            update(w)
            .where(w.c.id == delivery_id)
            .values(
                next_attempt_at=next_attempt_at, claimed_until=None, last_error=detail[:2000], attempts=w.c.attempts + 1
            )
        )

    def delivery_failed(self, delivery_id: int, at: datetime, detail: str) -> None:
        w = t.webhook_deliveries
        self.connection.execute(
            update(w)
            .where(w.c.id == delivery_id)
            .values(status="failed", claimed_until=None, last_error=detail[:2000], attempts=w.c.attempts + 1)
        )

    def release_deliveries(self, delivery_ids: Sequence[int]) -> None:
        """Give claimed deliveries back untried (their endpoint failed a moment ago: next round)."""
        if delivery_ids:
            w = t.webhook_deliveries
            self.connection.execute(update(w).where(w.c.id.in_(list(delivery_ids))).values(claimed_until=None))
