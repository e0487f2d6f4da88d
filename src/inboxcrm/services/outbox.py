"""Sending what the outbox holds: claim due mail, hand it to the sender, record each result.

A claim lasts `lease`; a dispatcher that dies mid-send leaves its claim to run out, and the same bytes (same
Message-ID) are sent again by the next one — a receiving client folds such a duplicate, and nothing is lost.
4xx and lost connections are retried with doubling delays until `give_up_after`; 5xx fails at once, and the
agent whose reply was refused is told by mail.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from inboxcrm.core.ports import Envelope, IngestTransaction, NewEvent, Outcome, QueuedMail, Sender, Store
from inboxcrm.services.outreach import Outreach
from inboxcrm.services.support import CUSTOMER_MAIL, Support

log = logging.getLogger(__name__)

_MINUTE = timedelta(minutes=1)
_WHAT = {"relay": "Reply", "ack": "Acknowledgement", "auto_reply": "Automatic reply"}


@dataclass
class DispatchResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.retried + self.failed + self.cancelled


@dataclass(frozen=True)
class RetryPolicy:
    first: timedelta = timedelta(minutes=1)
    most: timedelta = timedelta(hours=1)
    give_up_after: timedelta = timedelta(days=2)

    def next_attempt(self, attempts: int, now: datetime) -> datetime:
        """After the `attempts`-th failed try: first, 2×first, 4×first … capped at `most`."""
        delay: timedelta = min(self.first * (2 ** min(attempts, 20)), self.most)
        return now + delay


class Dispatcher:
    """One `dispatch()` sends up to `batch_size` due messages over one connection."""

    def __init__(
        self,
        store: Store,
        sender: Sender,
        clock: Callable[[], datetime],
        support: Support | None = None,
        retry: RetryPolicy | None = None,
        batch_size: int = 50,
        lease: timedelta = timedelta(minutes=10),
        outreach: Outreach | None = None,
        campaign_rate_limit: int | None = None,
        interval: timedelta = timedelta(seconds=5),
    ) -> None:
        self._store = store
        self._sender = sender
        self._clock = clock
        self._support = support
        self._retry = retry or RetryPolicy()
        self._batch_size = batch_size
        self._lease = lease
        self._outreach = outreach
        self._overall = campaign_rate_limit
        self._interval = interval
        self._last_round: datetime | None = None

    def dispatch(self) -> DispatchResult:
        """Send what is due now; safe to call from several threads or daemons (claims don't overlap)."""
        now = self._clock()
        done = DispatchResult()
        with self._store.transaction() as tx:
            allowance = self._allowance(tx, now) if self._outreach is not None else None
            claimed = tx.claim_mail(now, now + self._lease, self._batch_size, allowance)
            if self._outreach is not None:
                # the suppression list is checked at send time too: an unsubscribe after queueing still counts
                sendable = []
                for mail in claimed:
                    reason = self._outreach.cancel_reason(tx, mail) if mail.campaign else None
                    if reason is None:
                        sendable.append(mail)
                    else:
                        tx.mail_cancelled(mail.id, now, reason)
                        done.cancelled += 1
                claimed = sendable
        self._last_round = now
        if not claimed:
            return done
        envelopes = [Envelope(m.key, m.sender, m.recipients, m.raw) for m in claimed]
        results = asyncio.run(self._sender.send_many(envelopes))
        finished = self._clock()
        with self._store.transaction() as tx:
            for mail, result in zip(claimed, results, strict=True):
                self._record(tx, mail, result.outcome, result.detail, finished, done)
        return done

    def _allowance(self, tx: IngestTransaction, now: datetime) -> dict[str, int]:
        """How many mails of each campaign may go now: at most its limit (and the overall limit) per trailing
        minute, spread over the minute in proportion to the time since the last round."""
        assert self._outreach is not None
        sent = tx.campaign_sent_since(now - _MINUTE)
        since_last = now - self._last_round if self._last_round is not None else self._interval
        share = min(max(since_last, self._interval), _MINUTE) / _MINUTE
        overall_left: float = float("inf")
        if self._overall is not None:
            overall_left = min(self._overall - sum(sent.values()), math.ceil(self._overall * share))
        allowance: dict[str, int] = {}
        for name, campaign in sorted(self._outreach.marketing.campaigns.items()):
            limit = campaign.rate_limit
            room = (
                float(self._batch_size) if limit is None else min(limit - sent.get(name, 0), math.ceil(limit * share))
            )
            allowed = int(max(0, min(room, overall_left)))
            allowance[name] = allowed
            overall_left -= allowed
        return allowance

    def drain(self, rounds: int = 100) -> DispatchResult:
        """Dispatch until nothing more is due (tests, `inboxcrm outbox send`)."""
        total = DispatchResult()
        for _ in range(rounds):
            step = self.dispatch()
            if step.total == 0:
                break
            total.sent += step.sent
            total.retried += step.retried
            total.failed += step.failed
            total.cancelled += step.cancelled
        return total

    def _record(
        self,
        tx: IngestTransaction,
        mail: QueuedMail,
        outcome: Outcome,
        detail: str,
        now: datetime,
        done: DispatchResult,
    ) -> None:
        what = _WHAT.get(mail.kind)
        if mail.campaign:
            what = f"Campaign {mail.campaign} step {mail.step}"
        if outcome is Outcome.SENT:
            tx.mail_sent(mail.id, now, detail)
            done.sent += 1
            if what and mail.contact_id is not None:
                tx.add_events(
                    [
                        NewEvent(
                            mail.contact_id,
                            now,
                            "mail_sent",
                            f"{what} sent to {', '.join(mail.recipients)}",
                            ticket_id=mail.ticket_id,
                        )
                    ]
                )
            return
        if outcome is Outcome.RETRY and now - mail.created_at < self._retry.give_up_after:
            tx.mail_retry(mail.id, self._retry.next_attempt(mail.attempts, now), detail)
            done.retried += 1
            log.warning("outbox %s to %s: will retry: %s", mail.key, ", ".join(mail.recipients), detail)
            return
        if outcome is Outcome.RETRY:
            detail = f"gave up after {mail.attempts + 1} attempts over {now - mail.created_at}: {detail}"
        tx.mail_failed(mail.id, now, detail)
        done.failed += 1
        log.error("outbox %s to %s failed: %s", mail.key, ", ".join(mail.recipients), detail)
        if what and mail.contact_id is not None:
            tx.add_events(
                [
                    NewEvent(
                        mail.contact_id,
                        now,
                        "mail_failed",
                        f"{what} to {', '.join(mail.recipients)} failed: {detail}"[:500],
                        ticket_id=mail.ticket_id,
                    )
                ]
            )
        if mail.kind in CUSTOMER_MAIL and mail.author and self._support is not None:
            self._support.delivery_failed(tx, mail.key, mail.author, mail.mailbox, mail.ticket_id, detail, now)
        if mail.campaign and self._outreach is not None and outcome is Outcome.FAILED:
            tx.add_events(self._outreach.refused(tx, mail, detail, now))
