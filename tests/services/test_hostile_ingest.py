"""Hostile mail through the real ingest (SQLite and PostgreSQL): an oversized message is kept raw and
quarantined with the reason, and read once the limit is raised; one message never creates more than
`[ingest] new_contacts_per_message` contacts, and a stranger's Cc creates none."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from inboxcrm import bootstrap
from inboxcrm.adapters.db import tables as t
from inboxcrm.core.admission import DEFAULT_NEW_CONTACTS_PER_MESSAGE
from inboxcrm.core.model import MailboxKind, MailboxProfile
from inboxcrm.core.ports import FetchedMessage
from tests.conftest import make_settings
from tests.support import hostile
from tests.support.mail import mail

SUPPORT = MailboxProfile("support", MailboxKind.SUPPORT, frozenset({"support@northwind.example"}))


def test_a_message_over_the_size_limit_is_kept_raw_and_quarantined(tmp_path: Path, database_url: str) -> None:
    small = bootstrap.build(make_settings(tmp_path, database_url, extra="[ingest]\nmax_message_bytes = 100_000\n"))
    big = mail(subject="Our logs", body="log line\n" * 20_000)
    try:
        result = small.ingest.ingest_batch(SUPPORT, "INBOX", 1, [FetchedMessage(1, big), FetchedMessage(2, mail())])
        assert (result.stored, result.quarantined) == (1, 1)
        [held] = small.quarantine.list()
        assert held.raw == big  # kept exactly
        assert f"message of {len(big):,} bytes is larger than the limit of 100,000" in held.error
        assert small.quarantine.retry().recovered == 0  # still over this daemon's limit
    finally:
        small.close()
    raised = bootstrap.build(make_settings(tmp_path, database_url, extra="[ingest]\nmax_message_bytes = 1_000_000\n"))
    try:
        assert raised.quarantine.retry().recovered == 1
        assert [t.subject for t in raised.reads.tickets().items if t.subject == "Our logs"] == ["Our logs"]
    finally:
        raised.close()


def contact_emails(app: bootstrap.App) -> set[str]:
    with app.engine.connect() as connection:
        return set(connection.execute(select(t.contacts.c.email)).scalars())


def test_a_strangers_5_mb_cc_creates_no_contact_but_the_stranger(app: bootstrap.App) -> None:
    result = app.ingest.ingest_batch(SUPPORT, "INBOX", 1, [FetchedMessage(1, hostile.huge_cc(300_000))])
    assert result.stored == 1
    assert contact_emails(app) == {"mallory@evil.example"}


def test_a_5_mb_cc_on_a_known_conversation_creates_at_most_the_cap(app: bootstrap.App) -> None:
    first = mail(message_id="q1@acme-corp.example")
    cc = ", ".join(f"colleague{i}@acme-corp.example" for i in range(300_000))
    reply = mail(message_id="q2@acme-corp.example", in_reply_to="q1@acme-corp.example", cc=cc, subject="Re: fire")
    app.ingest.ingest_batch(SUPPORT, "INBOX", 1, [FetchedMessage(1, first)])
    assert app.ingest.ingest_batch(SUPPORT, "INBOX", 1, [FetchedMessage(2, reply)]).stored == 1
    added = contact_emails(app) - {"carol@acme-corp.example"}
    assert len(added) == DEFAULT_NEW_CONTACTS_PER_MESSAGE
    assert "colleague0@acme-corp.example" in added  # in the order they were named


def test_cc_recipients_become_contacts_on_known_conversations_and_team_mail_only(app: bootstrap.App) -> None:
    cc = "Dan <dan@acme-corp.example>, eve@acme-corp.example"
    app.ingest.ingest_batch(SUPPORT, "INBOX", 1, [FetchedMessage(1, mail(message_id="n1@acme-corp.example", cc=cc))])
    assert contact_emails(app) == {"carol@acme-corp.example"}  # a new conversation: its Cc is not ours to keep
    reply = mail(message_id="n2@acme-corp.example", in_reply_to="n1@acme-corp.example", cc=cc)
    app.ingest.ingest_batch(SUPPORT, "INBOX", 1, [FetchedMessage(2, reply)])
    assert contact_emails(app) == {"carol@acme-corp.example", "dan@acme-corp.example", "eve@acme-corp.example"}
    ours = mail(from_="Ana <ana@northwind.example>", to="zoe@zeta.example", cc="yan@zeta.example")
    app.ingest.ingest_batch(SUPPORT, "INBOX", 1, [FetchedMessage(3, ours)])
    assert {"zoe@zeta.example", "yan@zeta.example"} <= contact_emails(app)
