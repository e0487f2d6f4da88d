"""Automatic mail answers the sender (From), never a Reply-To that anyone can set to a victim's address."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from inboxcrm import bootstrap
from inboxcrm.adapters.db import tables as t
from inboxcrm.core.model import MailboxKind, MailboxProfile
from inboxcrm.core.ports import FetchedMessage
from tests.conftest import make_settings
from tests.support.mail import mail

SUPPORT = MailboxProfile("support", MailboxKind.SUPPORT, frozenset({"support@northwind.example"}))


@pytest.fixture
def desk(tmp_path: Path, database_url: str) -> Iterator[bootstrap.App]:
    folder = tmp_path / "templates" / "support"
    folder.mkdir(parents=True)
    (folder / "ack.subject.j2").write_text("We got your message: {{ ticket.subject }}\n")
    (folder / "ack.text.j2").write_text("Hello, your request is {{ ticket.token }}.\n")
    extra = '[security]\nsecret = "s"\n\n[outbox]\ntransport = "file"\npath = "outbox"\n'
    settings = make_settings(tmp_path, database_url, extra, support_extra='acknowledge = "support/ack"')
    app = bootstrap.build(settings, clock=lambda: datetime(2026, 11, 2, 10, 5, tzinfo=UTC))
    yield app
    app.close()


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
