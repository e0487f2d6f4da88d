"""The outbox's claim is short and kept alive by a heartbeat (SQLite and PostgreSQL, a real aiosmtpd): a
dispatcher still at work keeps its mail, a dead one's mail is sent by the next within one lease."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from inboxcrm.adapters.db import tables as t
from inboxcrm.adapters.smtp import SmtpSender
from inboxcrm.bootstrap import App
from inboxcrm.core.ports import Envelope, NewMail, SendResult
from inboxcrm.services.outbox import Dispatcher
from tests.support.clock import Clock
from tests.support.mail import mail
from tests.support.smtpd import SmtpServer

START = datetime(2026, 11, 2, 10, tzinfo=UTC)
LEASE = timedelta(minutes=2)


def queue(app: App, count: int) -> None:
    with app.store.transaction() as tx:
        tx.queue_mail(
            [
                NewMail(f"ack-{i}", "ack", f"m{i}@northwind.example", "support@northwind.example",
                        ("carol@acme-corp.example",), mail(message_id=f"m{i}@northwind.example"), True, START)
                for i in range(count)
            ]
        )  # fmt: skip


def claimed_until(app: App) -> set[datetime | None]:
    with app.engine.connect() as connection:
        rows = connection.execute(select(t.outbox.c.claimed_until)).scalars()
        return {r if r is None or r.tzinfo else r.replace(tzinfo=UTC) for r in rows}


class SlowSender:
    """A real SMTP sender that, before sending, lets far more than a lease pass on the clock, waits for the
    heartbeat to push the claim, and has another dispatcher try to take the same mail meanwhile."""

    def __init__(self, inner: SmtpSender, app: App, clock: Clock, rival: Dispatcher) -> None:
        self.inner, self.app, self.clock, self.rival = inner, app, clock, rival
        self.rival_sent = -1

    async def send_many(self, envelopes: Sequence[Envelope]) -> list[SendResult]:
        self.clock.now += 5 * LEASE
        deadline = time.monotonic() + 30
        while claimed_until(self.app) != {self.clock.now + LEASE} and time.monotonic() < deadline:
            time.sleep(0.02)
        rival = threading.Thread(target=lambda: setattr(self, "rival_sent", self.rival.dispatch().sent))
        rival.start()
        rival.join()
        return list(await self.inner.send_many(envelopes))


def test_a_dispatcher_at_work_keeps_its_claim_and_nothing_is_sent_twice(app: App, smtp_server: SmtpServer) -> None:
    queue(app, 3)
    clock = Clock(START)
    smtp = SmtpSender(smtp_server.host, smtp_server.port, "none", None, None)
    rival = Dispatcher(app.store, smtp, clock, lease=LEASE)
    sender = SlowSender(smtp, app, clock, rival)
    working = Dispatcher(app.store, sender, clock, lease=LEASE, heartbeat=0.05)
    assert working.dispatch().sent == 3
    assert sender.rival_sent == 0  # the claim was alive: the other dispatcher found nothing due
    ids = Counter(r.raw.split(b"Message-ID: <", 1)[1].split(b">", 1)[0] for r in smtp_server.received)
    assert sorted(ids.values()) == [1, 1, 1]
    assert claimed_until(app) == {None}


class Crash(Exception):
    """The dispatcher's process dies in the middle of sending."""


class CrashingSender:
    async def send_many(self, envelopes: Sequence[Envelope]) -> list[SendResult]:
        raise Crash


def test_a_dead_dispatchers_mail_is_sent_within_one_lease(app: App, smtp_server: SmtpServer) -> None:
    queue(app, 2)
    clock = Clock(START)
    with pytest.raises(Crash):
        Dispatcher(app.store, CrashingSender(), clock).dispatch()  # claimed with the default lease, then died
    smtp = SmtpSender(smtp_server.host, smtp_server.port, "none", None, None)
    dispatcher = Dispatcher(app.store, smtp, clock)
    assert dispatcher.dispatch().sent == 0  # still claimed
    clock.now += LEASE + timedelta(seconds=1)  # not the 10 minutes a claim used to last
    assert dispatcher.dispatch().sent == 2
