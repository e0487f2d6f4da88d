"""Sending what the outbox holds: claim due mail, hand it to the sender, record each result.

A claim lasts `lease` (2 minutes); while the dispatcher sends and records, a heartbeat pushes it forward every
`heartbeat` seconds. A dispatcher that dies mid-send leaves its claim to run out within one lease, and the
same bytes (same Message-ID) are sent again by the next one — a receiving client folds such a duplicate, and
nothing is lost.
4xx and lost connections are retried with doubling delays until `give_up_after`; 5xx fails at once, and the
agent whose reply was refused is told by mail.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from inboxcrm.core.ports import Envelope, IngestTransaction, NewEvent, Outcome, QueuedMail, Sender, SendResult, Store
from inboxcrm.services.desk import CUSTOMER_MAIL, Support
from inboxcrm.services.outreach import Outreach
from inboxcrm.services.patience import Sleep, patiently

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
        lease: timedelta = timedelta(minutes=2),
        outreach: Outreach | None = None,
        campaign_rate_limit: int | None = None,
        interval: timedelta = timedelta(seconds=5),
        sleep: Sleep = time.sleep,
        record_patience: float = 600.0,
        heartbeat: float = 20.0,
    ) -> None:
        self._heartbeat = heartbeat  # seconds between two pushes of the claim, well inside the lease
        self._store = store
        self._sleep = sleep
        self._record_patience = record_patience  # how long to keep trying to record what was sent
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
        self._credit: dict[str, float] = {}  # campaign ("" = all campaigns) → mails it may send now

    @property
    def sender(self) -> Sender:
        """What sends the mail (the alerts ask it whether its sign-in was refused)."""
        return self._sender

    def dispatch(self) -> DispatchResult:
        """Send what is due now; safe to call from several threads or daemons (claims don't overlap)."""
        now = self._clock()
        done = DispatchResult()
        with self._store.transaction() as tx:
            allowance = self._allowance(tx, now) if self._outreach is not None else None
            claimed = tx.claim_mail(now, now + self._lease, self._batch_size, allowance)
            for mail in claimed:
                if mail.campaign:
                    self._credit[mail.campaign] = self._credit.get(mail.campaign, 0.0) - 1
                    self._credit[""] = self._credit.get("", 0.0) - 1
            if self._outreach is not None:
                # the suppression list is checked at send time too: an unsubscribe after queueing still counts
                recipients = {r for m in claimed if m.campaign for r in m.recipients}
                suppressed = tx.suppressed(recipients)
                suppressed.update(dict.fromkeys(self._outreach.erased(tx, recipients), "erased"))
                sendable = []
                for mail in claimed:
                    hit = next((r for r in mail.recipients if r.lower() in suppressed), None) if mail.campaign else None
                    if hit is None:
                        sendable.append(mail)
                        continue
                    tx.mail_cancelled(mail.id, now, f"{hit} is on the suppression list ({suppressed[hit.lower()]})")
                    done.cancelled += 1
                claimed = sendable
        self._last_round = now
        if not claimed:
            return done
        envelopes = [Envelope(m.key, m.sender, m.recipients, m.raw) for m in claimed]
        with self._keeping_claims([mail.id for mail in claimed]):
            results = asyncio.run(self._sender.send_many(envelopes))
            finished = self._clock()
            # What was sent must be recorded, or it is sent again once the claim runs out: a database that is
            # locked or full right now is waited for (the write is done again), the mail is not sent again.
            recorded = patiently(
                lambda: self._record_round(claimed, results, finished), self._sleep, "outbox", self._record_patience
            )
        done.sent, done.retried, done.failed = recorded.sent, recorded.retried, recorded.failed
        return done

    @contextmanager
    def _keeping_claims(self, mail_ids: list[int]) -> Iterator[None]:
        """While the block runs, push the claim on `mail_ids` to a lease from now, every `heartbeat` seconds."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self._heartbeat):
                try:
                    with self._store.transaction() as tx:
                        tx.extend_claims(mail_ids, self._clock() + self._lease)
                except Exception as exc:  # the next beat tries again; the lease leaves room for a few misses
                    log.warning("outbox: could not extend the claim on %d mail(s): %s", len(mail_ids), exc)

        heart = threading.Thread(target=beat, name="outbox-heartbeat", daemon=True)
        heart.start()
        try:
            yield
        finally:
            stop.set()
            heart.join()

    def _record_round(self, claimed: list[QueuedMail], results: list[SendResult], finished: datetime) -> DispatchResult:
        """Record one round's results in one transaction."""
        done = DispatchResult()
        with self._store.transaction() as tx:
            events: list[NewEvent] = []
            sent = [mail for mail, result in zip(claimed, results, strict=True) if result.outcome is Outcome.SENT]
            tx.mails_sent([mail.id for mail in sent], finished)  # one statement for the usual case
            done.sent += len(sent)
            for mail in sent:
                what = self._what(mail)
                if what and mail.contact_id is not None:
                    summary = f"{what} sent to {', '.join(mail.recipients)}"
                    events.append(NewEvent(mail.contact_id, finished, "mail_sent", summary, ticket_id=mail.ticket_id))
            for mail, result in zip(claimed, results, strict=True):
                if result.outcome is not Outcome.SENT:
                    events += self._record(tx, mail, result.outcome, result.detail, finished, done)
            tx.add_events(events)
        return done

    def _allowance(self, tx: IngestTransaction, now: datetime) -> dict[str, int]:
        """How many mails of each campaign may go now. Each campaign (and the overall limit) earns credit at its
        rate per minute for the time since the last round, so mail is spread evenly over the minute; the count
        of the trailing minute in the database caps it too, for several daemons sharing the work."""
        assert self._outreach is not None
        sent = tx.campaign_sent_since(now - _MINUTE)
        since_last = now - self._last_round if self._last_round is not None else self._interval
        elapsed = min(max(since_last, timedelta(0)), _MINUTE) / _MINUTE
        window = max(self._interval, since_last) / _MINUTE

        def earn(key: str, limit: int) -> float:
            # credit never piles up beyond one round's worth (plus one): an idle minute is no licence to burst
            credit = min(self._credit.get(key, 0.0) + limit * elapsed, limit * window + 1)
            self._credit[key] = credit
            return credit

        overall_left = float("inf")
        if self._overall is not None:
            overall_left = min(self._overall - sum(sent.values()), math.floor(earn("", self._overall)))
        allowance: dict[str, int] = {}
        for name, campaign in sorted(self._outreach.marketing.campaigns.items()):
            limit = campaign.rate_limit
            room = float(self._batch_size)
            if limit is not None:
                room = min(limit - sent.get(name, 0), math.floor(earn(name, limit)))
            allowed = int(max(0, min(room, overall_left)))
            allowance[name] = allowed
            overall_left -= allowed
        return allowance

    def _what(self, mail: QueuedMail) -> str | None:
        if mail.campaign:
            return f"Campaign {mail.campaign} step {mail.step}"
        return _WHAT.get(mail.kind)

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
    ) -> list[NewEvent]:
        """A mail that was not sent: retried later, or failed for good (and who must hear of it)."""
        if outcome is Outcome.RETRY and now - mail.created_at < self._retry.give_up_after:
            tx.mail_retry(mail.id, self._retry.next_attempt(mail.attempts, now), detail)
            done.retried += 1
            log.warning("outbox %s to %s: will retry: %s", mail.key, ", ".join(mail.recipients), detail)
            return []
        if outcome is Outcome.RETRY:
            detail = f"gave up after {mail.attempts + 1} attempts over {now - mail.created_at}: {detail}"
        tx.mail_failed(mail.id, now, detail)
        done.failed += 1
        log.error("outbox %s to %s failed: %s", mail.key, ", ".join(mail.recipients), detail)
        events: list[NewEvent] = []
        what = self._what(mail)
        if what and mail.contact_id is not None:
            summary = f"{what} to {', '.join(mail.recipients)} failed: {detail}"[:500]
            events.append(NewEvent(mail.contact_id, now, "mail_failed", summary, ticket_id=mail.ticket_id))
        if mail.kind in CUSTOMER_MAIL and mail.author and self._support is not None:
            self._support.delivery_failed(tx, mail.key, mail.author, mail.mailbox, mail.ticket_id, detail, now)
        if mail.campaign and self._outreach is not None and outcome is Outcome.FAILED:
            events += self._outreach.refused(tx, mail, detail, now)
        return events
