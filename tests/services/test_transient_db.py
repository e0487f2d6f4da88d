"""A database that is locked, full or gone for a while is waited for: good mail is not quarantined and sent
mail is not sent again (SQLite and PostgreSQL; a real aiosmtpd for the outbox).

Each test holds a lock (or fills the disk) for longer than the store waits for a lock by itself; the
service's wait before it tries again ends the outage, so the tests do not depend on timing."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, create_engine, event, func, select, text

from inboxcrm.adapters.db import tables as t
from inboxcrm.adapters.db.migrate import upgrade
from inboxcrm.adapters.db.store import SqlStore, make_engine
from inboxcrm.adapters.smtp import SmtpSender
from inboxcrm.core.model import MailboxKind, MailboxProfile, Team
from inboxcrm.core.ports import Envelope, FetchedMessage, NewMail, SendResult
from inboxcrm.services.ingest import IngestService
from inboxcrm.services.outbox import Dispatcher
from tests.support.mail import mail
from tests.support.smtpd import SmtpServer

SUPPORT = MailboxProfile("support", MailboxKind.SUPPORT, frozenset({"support@northwind.example"}))
TEAM = Team(frozenset({"ana@northwind.example"}), frozenset({"northwind.example"}))
NOW = datetime(2026, 11, 2, 10, tzinfo=UTC)


def impatient_engine(url: str) -> Engine:
    """The store's engine, waiting only 0.2 s for a lock (30 s by default) so a held lock outlasts it."""
    if url.startswith("sqlite"):
        return make_engine(url, busy_timeout=0.2)
    return create_engine(url, connect_args={"options": "-c lock_timeout=200"})


class Lock:
    """Another client holding a write lock on `table` until `release()`."""

    def __init__(self, url: str, table: str) -> None:
        self.sqlite: sqlite3.Connection | None = None
        self.connection: Connection | None = None
        if url.startswith("sqlite"):
            self.sqlite = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
            self.sqlite.execute("BEGIN IMMEDIATE")
        else:
            self.connection = create_engine(url).connect()
            self.connection.execute(text(f"LOCK TABLE {table} IN EXCLUSIVE MODE"))

    def release(self) -> None:
        if self.sqlite is not None:
            self.sqlite.rollback()
            self.sqlite.close()
        if self.connection is not None:
            self.connection.rollback()
            self.connection.close()
            self.connection.engine.dispose()
        self.sqlite = self.connection = None


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    # overrides tests/conftest.py's `engine`: this one gives up on a lock after 0.2 s (`impatient_engine`)
    built = impatient_engine(database_url)
    yield built
    built.dispose()


def test_a_locked_database_is_waited_for_not_quarantined(database_url: str, engine: Engine) -> None:
    lock = Lock(database_url, "raw_messages")
    waits: list[float] = []

    def wait(seconds: float) -> None:
        waits.append(seconds)
        lock.release()

    ingest = IngestService(SqlStore(engine), TEAM, lambda: NOW, sleep=wait)
    batch = [FetchedMessage(uid, mail(message_id=f"l{uid}@acme-corp.example")) for uid in range(1, 6)]
    result = ingest.ingest_batch(SUPPORT, "INBOX", 1, batch)
    assert (result.stored, result.quarantined) == (5, 0)
    assert count(engine, t.quarantine) == 0 and waits == [1.0]


def test_a_full_disk_is_waited_for_not_quarantined(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'full.db'}"
    engine = make_engine(url, busy_timeout=0.2)
    upgrade(engine)
    with engine.connect() as connection:
        pages = int(connection.exec_driver_sql("PRAGMA page_count").scalar_one())
    cap = {"pages": pages + 8}  # ~32 KB of room: less than the batch, more than a quarantine row

    @event.listens_for(engine, "connect")
    def _small_disk(dbapi_connection: Any, _record: Any) -> None:
        if cap["pages"]:
            dbapi_connection.execute(f"PRAGMA max_page_count = {cap['pages']}")

    engine.dispose()
    waits: list[float] = []

    def wait(seconds: float) -> None:  # the operator frees some space
        waits.append(seconds)
        cap["pages"] = 0
        engine.dispose()

    ingest = IngestService(SqlStore(engine), TEAM, lambda: NOW, sleep=wait)
    batch = [FetchedMessage(uid, mail(body=f"{uid} " + "log line\n" * 2_000)) for uid in range(1, 9)]
    result = ingest.ingest_batch(SUPPORT, "INBOX", 1, batch)
    assert (result.stored, result.quarantined) == (8, 0)
    assert count(engine, t.quarantine) == 0 and len(waits) == 1
    engine.dispose()


class LockAfterSending:
    """A real SMTP sender; right after the server has taken the mail, another client locks the outbox."""

    def __init__(self, inner: SmtpSender, url: str) -> None:
        self.inner = inner
        self.url = url
        self.lock: Lock | None = None

    async def send_many(self, envelopes: Sequence[Envelope]) -> list[SendResult]:
        results = await self.inner.send_many(envelopes)
        if self.lock is None:
            self.lock = Lock(self.url, "outbox")
        return list(results)

    def release(self) -> None:
        if self.lock is not None:
            self.lock.release()


def test_sent_mail_is_recorded_after_a_lock_and_never_sent_again(
    database_url: str, engine: Engine, smtp_server: SmtpServer
) -> None:
    store = SqlStore(engine)
    with store.transaction() as tx:
        tx.queue_mail(
            [
                NewMail(f"ack-{i}", "ack", f"m{i}@northwind.example", "support@northwind.example",
                        ("carol@acme-corp.example",), mail(message_id=f"m{i}@northwind.example"), True, NOW)
                for i in range(5)
            ]
        )  # fmt: skip
    clock = {"now": NOW}
    sender = LockAfterSending(SmtpSender(smtp_server.host, smtp_server.port, "none", None, None), database_url)
    waits: list[float] = []

    def wait(seconds: float) -> None:
        waits.append(seconds)
        sender.release()

    send = Dispatcher(store, sender, lambda: clock["now"], sleep=wait)
    try:
        assert send.dispatch().sent == 5
    finally:
        sender.release()
    clock["now"] += timedelta(hours=1)  # every claim has long run out
    assert send.drain().total == 0
    ids = Counter(r.raw.split(b"Message-ID: <", 1)[1].split(b">", 1)[0] for r in smtp_server.received)
    assert sorted(ids.values()) == [1] * 5 and len(waits) == 1
