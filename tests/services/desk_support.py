"""What the support desk tests (tests/services/test_desk_*.py, and the notices, collision and agent-mail tests)
share: the desk's config (agents Ana and Ben, the relay secret, the loop fuse, SLA targets), a settable clock, the
`clock` and `desk` fixtures (a migrated app on the test's database), and helpers that feed mail in and read
the outbox, the ticket and the timeline back."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from inboxcrm import bootstrap
from inboxcrm.adapters.db import migrate
from inboxcrm.adapters.db import tables as t
from inboxcrm.core.model import MailboxKind, MailboxProfile
from inboxcrm.core.ports import FetchedMessage
from tests.conftest import make_settings
from tests.support.clock import Clock
from tests.support.desk import ANA, BEN, SLA, desk_config
from tests.support.mail import mail

SUPPORT = MailboxProfile("support", MailboxKind.SUPPORT, frozenset({"support@northwind.example"}))
SECRET = "test-secret"
EXTRA = (
    desk_config(
        ANA.but(display_name="Ana Alves", addresses=("ana@northwind.example", "ana.alves@gmail.example")),
        BEN,
        secret=SECRET,
    )
    + """
[support]
close_solved_after = "4d"
fuse_limit = 3
fuse_window = "2h"
"""
    + SLA
)
START = datetime(2026, 11, 2, 10, 5, tzinfo=UTC)  # the clock's time when a test begins


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def desk(tmp_path: Path, database_url: str, clock: Clock) -> Iterator[bootstrap.App]:
    folder = tmp_path / "templates" / "support"
    folder.mkdir(parents=True)
    (folder / "ack.subject.j2").write_text("We got your message: {{ ticket.subject }}\n")
    (folder / "ack.text.j2").write_text("Hello {{ contact.first_name }}, your request is {{ ticket.token }}.\n")
    settings = make_settings(
        tmp_path, database_url, EXTRA, support_extra='acknowledge = "support/ack"\nfrom_name = "Northwind Support"'
    )
    app = bootstrap.build(settings, clock=clock)
    migrate.upgrade(app.engine)
    yield app
    app.close()


_uid = iter(range(1, 1_000_000))


def ingest(app: bootstrap.App, *raws: bytes) -> None:
    app.ingest.ingest_batch(SUPPORT, "INBOX", 1, [FetchedMessage(next(_uid), r) for r in raws])


def outbox(app: bootstrap.App, kind: str | None = None) -> list[t.Row]:  # type: ignore[name-defined]
    query = select(t.outbox).order_by(t.outbox.c.id)
    if kind:
        query = query.where(t.outbox.c.kind == kind)
    with app.engine.connect() as c:
        return list(c.execute(query))


def parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def body(raw: bytes) -> str:
    part = parsed(raw).get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def ticket_row(app: bootstrap.App, ticket_id: int = 1) -> t.Row:  # type: ignore[name-defined]
    with app.engine.connect() as c:
        return c.execute(select(t.tickets).where(t.tickets.c.id == ticket_id)).one()


def ticket_tags(app: bootstrap.App, ticket_id: int = 1) -> set[str]:
    with app.engine.connect() as c:
        return set(c.execute(select(t.ticket_tags.c.tag).where(t.ticket_tags.c.ticket_id == ticket_id)).scalars())


def events(app: bootstrap.App) -> list[tuple[str, str]]:
    with app.engine.connect() as c:
        rows = c.execute(select(t.timeline_events.c.kind, t.timeline_events.c.summary).order_by(t.timeline_events.c.id))
        return [(r.kind, r.summary) for r in rows]


def customer_mail(**kw: str) -> bytes:
    kw.setdefault("from_", "Carol Danvers <carol@acme-corp.example>")
    kw.setdefault("message_id", "c1@acme-corp.example")
    return mail(**kw)  # type: ignore[arg-type]


def relay_of(app: bootstrap.App, agent: str = "ana@northwind.example") -> str:
    notes = [r for r in outbox(app, "notification") if r.recipients == [agent]]
    reply_to = parsed(notes[-1].raw)["Reply-To"]
    return str(reply_to)


def agent_reply(to: str, text: str, *, from_: str = "Ana Alves <ana@northwind.example>", mid: str = "a1") -> bytes:
    quoted_notification = "\n\nOn Mon, 2 Nov 2026 at 10:05, Northwind Support wrote:\n> New ticket\n> Hello,\n"
    return mail(
        from_=from_,
        to=to,
        subject="Re: [#1] New ticket: Printer on fire",
        message_id=f"{mid}@northwind.example",
        body=text + quoted_notification,
        date="Mon, 02 Nov 2026 11:00:00 +0000",
    )
