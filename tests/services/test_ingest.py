"""The ingest contract, on SQLite and PostgreSQL: stored once, threaded, ticketed, never lost."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from inboxcrm.adapters.db import tables as t
from inboxcrm.adapters.db.store import SqlStore, SqlTransaction
from inboxcrm.bootstrap import App
from inboxcrm.core.model import MailboxKind, MailboxProfile, TicketStatus
from inboxcrm.core.ports import FetchedMessage, NewMessage
from inboxcrm.services.ingest import IngestService
from tests.support.mail import mail

SUPPORT = MailboxProfile("support", MailboxKind.SUPPORT, frozenset({"support@northwind.example"}))
SALES = MailboxProfile("sales", MailboxKind.SALES, frozenset({"sales@northwind.example"}))


def count(app: App, table: Any) -> int:
    with app.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def batch(*raws: bytes, first_uid: int = 1) -> list[FetchedMessage]:
    return [FetchedMessage(first_uid + i, raw) for i, raw in enumerate(raws)]


def test_a_conversation_becomes_contact_thread_ticket_and_timeline(app: App) -> None:
    first = mail(message_id="q1@acme-corp.example", date="Mon, 02 Nov 2026 10:00:00 +0000")
    answer = mail(
        from_="Ana Lima <ana@northwind.example>",
        to="Carol <carol@acme-corp.example>",
        subject="Re: Printer on fire",
        message_id="a1@northwind.example",
        in_reply_to="q1@acme-corp.example",
        references="<q1@acme-corp.example>",
        date="Mon, 02 Nov 2026 11:00:00 +0000",
        cc="support@northwind.example",
    )
    result = app.ingest.ingest_batch(SUPPORT, "INBOX", 7, batch(first, answer))
    assert (result.fetched, result.stored, result.duplicates, result.quarantined) == (2, 2, 0, 0)

    contacts = app.reads.contacts().items
    assert [(c.email, c.name) for c in contacts] == [("carol@acme-corp.example", "Carol Danvers")]
    assert contacts[0].company is not None and contacts[0].company.domain == "acme-corp.example"

    timeline = app.reads.timeline(contacts[0].id).items
    assert [(e.kind, e.message.direction if e.message else None) for e in timeline] == [
        ("message_out", "out"),
        ("ticket_opened", None),
        ("message_in", "in"),
    ]

    tickets = app.reads.tickets().items
    assert len(tickets) == 1 and tickets[0].status == "new"
    thread = app.reads.thread(tickets[0].thread_id)
    assert thread is not None
    assert [m.message_id for m in thread.messages] == ["q1@acme-corp.example", "a1@northwind.example"]
    assert app.reads.cursors()[0][:4] == ("support", "INBOX", 7, 2)


def test_same_message_twice_is_stored_once_and_linked(app: App) -> None:
    raw = mail(message_id="dup@acme-corp.example")
    app.ingest.ingest_batch(SUPPORT, "INBOX", 1, batch(raw))
    # the same message again: in another mailbox (with its own trace headers) and after a UIDVALIDITY change
    again = b"Delivered-To: sales@northwind.example\r\nReceived: from mx by imap; now\r\n" + raw
    second = app.ingest.ingest_batch(SALES, "INBOX", 1, batch(again))
    third = app.ingest.ingest_batch(SUPPORT, "INBOX", 2, batch(raw, first_uid=40))
    assert (second.duplicates, third.duplicates) == (1, 1)
    assert count(app, t.raw_messages) == 1
    assert count(app, t.messages) == 1
    assert count(app, t.message_locations) == 3


def test_reply_in_a_later_batch_joins_the_thread_and_reopens_the_ticket(app: App) -> None:
    app.ingest.ingest_batch(SUPPORT, "INBOX", 1, batch(mail(message_id="q@acme-corp.example")))
    ticket = app.reads.tickets().items[0]
    with app.engine.begin() as connection:
        connection.execute(t.tickets.update().values(status=TicketStatus.SOLVED.value))
    reply = mail(
        subject="Re: Printer on fire",
        message_id="r@acme-corp.example",
        references="<q@acme-corp.example>",
        date="Tue, 03 Nov 2026 10:00:00 +0000",
    )
    app.ingest.ingest_batch(SUPPORT, "INBOX", 1, batch(reply, first_uid=2))
    assert count(app, t.threads) == 1
    assert [x.status for x in app.reads.tickets().items] == ["open"]
    kinds = [e.kind for e in app.reads.timeline(ticket.contact_id or 0).items]
    assert kinds[:2] == ["ticket_reopened", "message_in"]


def test_reply_before_its_parent_still_threads(app: App) -> None:
    child = mail(message_id="child@x.example", in_reply_to="parent@x.example")
    parent = mail(message_id="parent@x.example")
    app.ingest.ingest_batch(SALES, "INBOX", 1, batch(child, parent))
    assert count(app, t.threads) == 1


def test_sales_mailbox_opens_no_ticket(app: App) -> None:
    app.ingest.ingest_batch(SALES, "INBOX", 1, batch(mail(to="sales@northwind.example")))
    assert app.reads.tickets().items == ()


def test_unreadable_message_is_quarantined_and_the_batch_goes_on(app: App) -> None:
    good1, good2 = mail(message_id="g1@x.example"), mail(message_id="g2@x.example")
    result = app.ingest.ingest_batch(SUPPORT, "INBOX", 1, batch(good1, b"\x00\x01 not mail", good2))
    assert (result.stored, result.quarantined) == (2, 1)
    held = app.quarantine.list()
    assert len(held) == 1 and held[0].raw == b"\x00\x01 not mail" and "not look like an email" in held[0].error
    assert app.reads.cursors()[0][3] == 3
    # retrying changes nothing for a message that is still not mail, and counts the attempt
    assert app.quarantine.retry().still_failing == 1
    assert app.quarantine.list()[0].attempts == 2


class _FailOnSubject:
    """A store whose transaction fails while recording one particular message (as a database might)."""

    def __init__(self, store: SqlStore, subject: str) -> None:
        self.store, self.subject, self.armed = store, subject, True

    @contextmanager
    def transaction(self) -> Iterator[SqlTransaction]:
        with self.store.transaction() as tx:
            original = tx.add_messages
            outer = self

            def add_messages(rows: Sequence[NewMessage]) -> list[int]:
                if outer.armed and any(r.message.subject == outer.subject for r in rows):
                    raise RuntimeError("value too long for type character varying")
                return original(rows)

            tx.add_messages = add_messages  # type: ignore[method-assign]
            yield tx


def test_a_message_the_database_rejects_is_quarantined_not_lost(app: App) -> None:
    store = _FailOnSubject(SqlStore(app.engine), "poison")
    service = IngestService(store, app.settings.team_profile(), lambda: datetime(2026, 11, 2, tzinfo=UTC))
    raws = [
        mail(message_id="a@x.example"),
        mail(subject="poison", message_id="p@x.example"),
        mail(message_id="b@x.example"),
    ]
    result = service.ingest_batch(SUPPORT, "INBOX", 1, batch(*raws))
    assert (result.fetched, result.stored, result.quarantined) == (3, 2, 1)
    assert count(app, t.raw_messages) == 3
    held = app.quarantine.list()
    assert "value too long" in held[0].error
    # once the cause is fixed, retry files it normally
    store.armed = False
    assert app.quarantine.retry().recovered == 1
    assert count(app, t.messages) == 3
    assert app.quarantine.list() == []


def test_another_daemon_already_took_the_batch(app: App) -> None:
    raws = batch(mail(message_id="1@x.example"), mail(message_id="2@x.example"))
    app.ingest.ingest_batch(SUPPORT, "INBOX", 1, raws)
    again = app.ingest.ingest_batch(SUPPORT, "INBOX", 1, raws)
    assert again.fetched == 0
    assert count(app, t.message_locations) == 2
