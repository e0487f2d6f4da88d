"""Webhooks out: which timeline events become which webhook events, what a delivery's body holds, how it is
signed, and when a failed delivery is tried again. Pure (the clock and the secret are passed in).

Signature (header `X-InboxCRM-Signature: t=<unix seconds>,v1=<hex>`): HMAC-SHA256 with the webhook's secret
over `<t>.<body>`. A receiver recomputes it, compares in constant time, and refuses a `t` more than five
minutes old (a replayed request). Every attempt of one delivery has the same `X-InboxCRM-Delivery` id: a
receiver that has seen it already answers 2xx and does nothing (deliveries are at least once).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

# Timeline kinds → webhook events. `ticket_status` is read with the ticket's status (see `event_name`).
_BY_KIND = {
    "contact_created": "contact.created",
    "contact_updated": "contact.updated",
    "stage_changed": "contact.stage_changed",
    "tags_changed": "contact.tags_changed",
    "contacts_merged": "contact.merged",
    "message_in": "message.received",
    "message_out": "message.sent",
    "ticket_opened": "ticket.opened",
    "ticket_reopened": "ticket.reopened",
    "campaign_unsubscribed": "campaign.unsubscribed",
    "deal_opened": "deal.opened",
    "deal_moved": "deal.moved",
    "business_event": "event.recorded",
}
_TICKET_STATUS = {"solved": "ticket.solved", "closed": "ticket.closed"}
EVENTS: tuple[str, ...] = tuple(sorted({*_BY_KIND.values(), *_TICKET_STATUS.values()}))
ANY = "*"
SIGNATURE_HEADER = "X-InboxCRM-Signature"
DELIVERY_HEADER = "X-InboxCRM-Delivery"
EVENT_HEADER = "X-InboxCRM-Event"
TOLERANCE = timedelta(minutes=5)


def event_name(kind: str, ticket_status: str | None = None) -> str | None:
    """The webhook event a timeline event is, if any."""
    if kind == "ticket_status":
        return _TICKET_STATUS.get(ticket_status or "")
    return _BY_KIND.get(kind)


def body(delivery_id: str, event: str, at: datetime, data: Mapping[str, Any]) -> str:
    """The JSON a delivery sends (written once, so that every attempt sends the same bytes)."""
    return json.dumps(
        {"id": delivery_id, "event": event, "occurred_at": at.isoformat(), "data": data},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )


def signature(secret: bytes, timestamp: int, payload: bytes) -> str:
    """The signature header's value for `payload` sent at `timestamp`."""
    digest = hmac.new(secret, str(timestamp).encode() + b"." + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: bytes, header: str, payload: bytes, now: datetime, tolerance: timedelta = TOLERANCE) -> bool:
    """What a receiver checks: the signature is ours and not older than `tolerance`."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now.timestamp() - timestamp) > tolerance.total_seconds():
        return False
    expected = signature(secret, timestamp, payload).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def next_attempt(attempts: int, now: datetime, first: timedelta, most: timedelta) -> datetime:
    """When to try again after `attempts` failed attempts: `first`, doubling, at most `most` apart."""
    wait: timedelta = first * int(2 ** min(max(attempts - 1, 0), 20))
    return now + (wait if wait < most else most)
