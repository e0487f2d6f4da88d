"""Webhooks out: every timeline event a webhook asked for becomes a delivery row in the same transaction
(so nothing is told that did not happen, and nothing that happened is lost), and a dispatcher sends the
due rows, signed, retrying with backoff. Delivery is at least once: each row keeps one id across attempts.

A dead or slow endpoint never blocks ingest: queuing is one INSERT, sending happens on its own clock; after a
failure the endpoint's other deliveries wait for the next round instead of each waiting for a timeout.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from inboxcrm.core.ports import IngestTransaction, NewEvent, Store
from inboxcrm.core.record_ports import NewDelivery, Posted, Poster
from inboxcrm.core.webhooks import (
    ANY,
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    body,
    event_name,
    next_attempt,
    signature,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Webhook:
    name: str
    url: str
    events: frozenset[str]
    secret: bytes | None
    timeout: float = 10.0

    def wants(self, event: str) -> bool:
        return ANY in self.events or event in self.events


def _data(event: NewEvent, event_name: str, card: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"summary": event.summary, "kind": event.kind}
    if card is not None:
        data["contact"] = {
            "id": card.id,
            "email": card.email,
            "name": card.name,
            "stage": card.stage,
            "company_domain": card.company_domain,
        }
    if event.ticket_id is not None:
        data["ticket_id"] = event.ticket_id
    if event.message_id is not None:
        data["message_id"] = event.message_id
    return data


class Webhooks:
    """Turns timeline events into delivery rows (the store's event hook; see `adapters/db/record.py`)."""

    def __init__(self, hooks: Sequence[Webhook], new_id: Callable[[], str] = lambda: uuid.uuid4().hex) -> None:
        self.hooks = tuple(hooks)
        self._new_id = new_id

    def __call__(self, tx: IngestTransaction, events: Sequence[NewEvent]) -> None:
        if not self.hooks or not events:
            return
        statuses = tx.ticket_statuses({e.ticket_id for e in events if e.kind == "ticket_status" and e.ticket_id})
        named: list[tuple[NewEvent, str]] = []
        seen_messages: set[tuple[str, int]] = set()
        for event in events:
            name = event_name(event.kind, statuses.get(event.ticket_id or 0))
            if name is None or not any(h.wants(name) for h in self.hooks):
                continue
            if event.message_id is not None and name.startswith("message."):
                # a message is on the timeline of each participant; the webhook tells of it once
                if (name, event.message_id) in seen_messages:
                    continue
                seen_messages.add((name, event.message_id))
            named.append((event, name))
        if not named:
            return
        cards = tx.contact_cards({e.contact_id for e, _ in named})
        rows = []
        for event, name in named:
            data = _data(event, name, cards.get(event.contact_id))
            for hook in self.hooks:
                if hook.wants(name):
                    delivery = self._new_id()
                    rows.append(
                        NewDelivery(
                            hook.name, name, delivery, body(delivery, name, event.at, data), event.contact_id, event.at
                        )
                    )
        tx.queue_deliveries(rows)


@dataclass(frozen=True, slots=True)
class RetryTiming:
    first: timedelta = timedelta(seconds=30)
    most: timedelta = timedelta(hours=1)
    give_up_after: timedelta = timedelta(days=3)


@dataclass
class Dispatched:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    waiting: int = 0  # left for the next round: their endpoint had just failed
    errors: list[str] = field(default_factory=list)


class WebhookDispatcher:
    """Sends due deliveries: `dispatch(now)` is one round (the daemon runs it every `[webhook_delivery] interval`)."""

    def __init__(
        self,
        store: Store,
        poster: Poster,
        hooks: Sequence[Webhook],
        timing: RetryTiming = RetryTiming(),
        batch: int = 100,
    ) -> None:
        self._store = store
        self._poster = poster
        self._hooks = {h.name: h for h in hooks}
        self._timing = timing
        self._batch = batch

    def dispatch(self, now: datetime) -> Dispatched:
        done = Dispatched()
        with self._store.transaction() as tx:
            claimed = tx.claim_deliveries(now, now + timedelta(minutes=5), self._batch)
        down: set[str] = set()
        for delivery in claimed:
            hook = self._hooks.get(delivery.webhook)
            if delivery.webhook in down:
                done.waiting += 1
                with self._store.transaction() as tx:
                    tx.release_deliveries([delivery.id])
                continue
            if hook is None or hook.secret is None:
                why = "no such webhook in the config" if hook is None else "its secret is not set"
                posted = Posted(None, why)
            else:
                payload = delivery.body.encode()
                headers = {
                    "Content-Type": "application/json",
                    "User-Agent": "inboxcrm-webhooks",
                    EVENT_HEADER: delivery.event,
                    DELIVERY_HEADER: delivery.delivery_id,
                    SIGNATURE_HEADER: signature(hook.secret, int(now.timestamp()), payload),
                }
                posted = self._poster.post(hook.url, payload, headers, hook.timeout)
            with self._store.transaction() as tx:
                if posted.ok:
                    tx.delivery_sent(delivery.id, now)
                    done.sent += 1
                    continue
                detail = f"HTTP {posted.status}: {posted.detail}" if posted.status else posted.detail
                down.add(delivery.webhook)
                if now - delivery.created_at >= self._timing.give_up_after:
                    tx.delivery_failed(delivery.id, now, detail)
                    done.failed += 1
                    log.error("webhook %s: gave up on delivery %s: %s", delivery.webhook, delivery.delivery_id, detail)
                else:
                    again = next_attempt(delivery.attempts + 1, now, self._timing.first, self._timing.most)
                    tx.delivery_retry(delivery.id, again, detail)
                    done.retried += 1
                    log.warning("webhook %s: %s; trying again at %s", delivery.webhook, detail, again.isoformat())
                done.errors.append(f"{delivery.webhook}: {detail}")
        return done
