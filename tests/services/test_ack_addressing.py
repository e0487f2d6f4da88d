"""Automatic mail answers the sender (From), never a Reply-To that anyone can set to a victim's address; and
to a sender we have no mail of, it repeats none of their words (From is not authenticated: a spammer can
name a victim there and have us carry their subject to them)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from inboxcrm import bootstrap
from inboxcrm.adapters.db import tables as t
from inboxcrm.core.model import MailboxKind, MailboxProfile
from inboxcrm.core.ports import FetchedMessage
from tests.conftest import make_settings
from tests.support.clock import Clock
from tests.support.mail import mail

SUPPORT = MailboxProfile("support", MailboxKind.SUPPORT, frozenset({"support@northwind.example"}))
START = datetime(2026, 11, 2, 10, 5, tzinfo=UTC)


def build(tmp_path: Path, database_url: str, clock: Clock, echo: str | None = None) -> bootstrap.App:
    folder = tmp_path / "templates" / "support"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ack.subject.j2").write_text("We got your message: {{ ticket.subject }}\n")
    (folder / "ack.text.j2").write_text(
        "Hello {{ contact.name }}, about {{ message.subject }}: your request is {{ ticket.token }}.\n"
    )
    extra = '[security]\nsecret = "s"\n\n[outbox]\ntransport = "file"\npath = "outbox"\n'
    support = 'acknowledge = "support/ack"' + (f'\nacknowledge_echo = "{echo}"' if echo else "")
    settings = make_settings(tmp_path, database_url, extra, support_extra=support)
    return bootstrap.build(settings, clock=clock)


@pytest.fixture
def desk(tmp_path: Path, database_url: str) -> Iterator[bootstrap.App]:
    app = build(tmp_path, database_url, Clock(START))
    yield app
    app.close()


def acks(app: bootstrap.App) -> list[tuple[list[str], EmailMessage]]:
    """(recipients, parsed mail) of every acknowledgement queued, oldest first."""
    query = select(t.outbox.c.recipients, t.outbox.c.raw).where(t.outbox.c.kind == "ack").order_by(t.outbox.c.id)
    with app.engine.connect() as connection:
        rows = connection.execute(query).all()
    return [(list(r.recipients), message_from_bytes(r.raw, _class=EmailMessage, policy=policy.default)) for r in rows]


def words(mail: EmailMessage) -> str:
    body = mail.get_body(("plain",))
    assert body is not None
    return f"{mail['Subject']}\n{body.get_content()}"


def test_an_acknowledgement_never_goes_to_a_forged_reply_to(desk: bootstrap.App) -> None:
    spam = mail(
        from_="Mallory <mallory@evil.example>",
        subject="Cheap pills at evil.example",
        headers={"Reply-To": "Victim <victim@innocent.example>"},
    )
    desk.ingest.ingest_batch(SUPPORT, "INBOX", 1, [FetchedMessage(1, spam)])
    with desk.engine.connect() as connection:
        recipients = [r for rs in connection.execute(select(t.outbox.c.recipients)).scalars() for r in rs]
    assert recipients == ["mallory@evil.example"]


SPAM = "Cheap pills at evil.example"


def test_a_first_time_sender_gets_an_acknowledgement_without_their_words(desk: bootstrap.App) -> None:
    # Mallory names her victim in From: the acknowledgement goes there, so it must carry nothing of hers.
    spam = mail(from_=f"{SPAM} <victim@innocent.example>", subject=SPAM, body=f"{SPAM}, click here")
    desk.ingest.ingest_batch(SUPPORT, "INBOX", 1, [FetchedMessage(1, spam)])
    [(recipients, ack)] = acks(desk)
    assert recipients == ["victim@innocent.example"]
    assert "pills" not in words(ack)
    assert "[#" in ack["Subject"]  # still an acknowledgement of a ticket the customer can answer on


def test_a_sender_we_have_mail_of_gets_their_subject_back(tmp_path: Path, database_url: str) -> None:
    clock = Clock(START)
    app = build(tmp_path, database_url, clock)
    try:
        first = mail(from_="Ada Lovelace <ada@customer.example>", subject="Printer on fire", message_id="a1@c")
        app.ingest.ingest_batch(SUPPORT, "INBOX", 1, [FetchedMessage(1, first)])
        clock.now += timedelta(minutes=5)
        second = mail(from_="Ada Lovelace <ada@customer.example>", subject="Invoice 42 is wrong", message_id="a2@c")
        app.ingest.ingest_batch(SUPPORT, "INBOX", 1, [FetchedMessage(2, second)])
        [(_, to_a_stranger), (recipients, to_ada)] = acks(app)
    finally:
        app.close()
    assert recipients == ["ada@customer.example"]
    assert "Printer on fire" not in words(to_a_stranger) and "Ada" not in words(to_a_stranger)
    assert "Invoice 42 is wrong" in to_ada["Subject"]
    assert "Hello Ada Lovelace, about Invoice 42 is wrong" in words(to_ada)


def test_two_messages_in_one_fetch_do_not_make_a_stranger_known(tmp_path: Path, database_url: str) -> None:
    app = build(tmp_path, database_url, Clock(START))
    try:
        batch = [
            FetchedMessage(n, mail(from_="victim@innocent.example", subject=f"{SPAM} {n}", message_id=f"s{n}@e"))
            for n in (1, 2)
        ]
        app.ingest.ingest_batch(SUPPORT, "INBOX", 1, batch)
        sent = acks(app)
    finally:
        app.close()
    assert len(sent) == 2
    assert all("pills" not in words(ack) for _, ack in sent)


@pytest.mark.parametrize(("echo", "repeated"), [("always", True), ("never", False)])
def test_what_acknowledgements_repeat_is_configurable(
    tmp_path: Path, database_url: str, echo: str, repeated: bool
) -> None:
    clock = Clock(START)
    app = build(tmp_path, database_url, clock, echo)
    try:
        for n in (1, 2):  # the second from a sender we have mail of
            clock.now += timedelta(minutes=5)
            one = mail(from_="Ada <ada@customer.example>", subject=f"Question {n}", message_id=f"q{n}@c")
            app.ingest.ingest_batch(SUPPORT, "INBOX", 1, [FetchedMessage(n, one)])
        sent = acks(app)
    finally:
        app.close()
    assert [f"Question {n}" in ack["Subject"] for n, (_, ack) in enumerate(sent, 1)] == [repeated, repeated]
