"""History and live mail on SQLite and PostgreSQL: what a folder holds when inboxcrm first connects is filed
quietly (as much of it as `backlog` says), what arrives afterwards is live; imports and renumbered folders are
history; history never re-opens a live ticket, and contacts known only from history are left out of
state-triggered campaigns. The full story with Dovecot, aiosmtpd and the daemon is tests/e2e/test_history.py."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from inboxcrm import bootstrap
from inboxcrm.adapters.db import migrate
from inboxcrm.adapters.db import tables as t
from inboxcrm.adapters.db.history import folder_histories
from inboxcrm.adapters.files import MaildirSource
from inboxcrm.core.history import Backlog
from inboxcrm.core.model import MailboxKind, MailboxProfile, TicketStatus
from inboxcrm.core.ports import FetchedMessage, FolderSnapshot
from inboxcrm.core.tickets import with_status
from inboxcrm.services.ingest import IngestResult
from inboxcrm.services.outreach import tick_campaigns
from inboxcrm.services.polling import MailboxPoller
from tests.conftest import make_settings
from tests.support.clock import Clock
from tests.support.desk import ANA, BEN, desk_config
from tests.support.mail import mail

SUPPORT = MailboxProfile("support", MailboxKind.SUPPORT, frozenset({"support@northwind.example"}))
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
CAMPAIGN = """
[[campaign]]
name = "vip-care"
from = "support"
postal_address = "Northwind GmbH, Hauptstr. 1, 10115 Berlin"
trigger = { tag = "vip" }

[[campaign.step]]
delay = "0d"
template = "vip"
"""
RULES = """
[[rule]]
name = "VIPs say so"
when.subject.contains_word = "vip"
then.add_tags = ["vip"]
"""


def days_ago(days: float) -> str:
    return format_datetime(NOW - timedelta(days=days))


def build(tmp_path: Path, database_url: str, backlog: str = "all", more: str = "") -> bootstrap.App:
    (tmp_path / "templates" / "support").mkdir(parents=True)
    (tmp_path / "templates" / "support" / "ack.subject.j2").write_text("Got it: {{ ticket.subject }}\n")
    (tmp_path / "templates" / "support" / "ack.text.j2").write_text("Hello {{ contact.first_name }}.\n")
    (tmp_path / "templates" / "vip.subject.j2").write_text("For our VIPs\n")
    (tmp_path / "templates" / "vip.text.j2").write_text("Hello {{ contact.first_name }}.\n")
    (tmp_path / "campaigns").mkdir()
    (tmp_path / "campaigns" / "vip.toml").write_text(CAMPAIGN)
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "10.toml").write_text(RULES)
    # the agents' answers here are unsigned Cc replies: history and reports, not authentication, are tested
    # (that is tests/*/test_agent_mail.py), so the From header is believed
    extra = (
        desk_config(ANA, BEN, secret="history", agent_mail="from-header")
        + '\n[campaigns]\npublic_url = "https://crm.northwind.example"\n'
        + more
    )
    settings = make_settings(
        tmp_path, database_url, extra, support_extra=f'acknowledge = "support/ack"\nbacklog = "{backlog}"'
    )
    app = bootstrap.build(settings, clock=Clock(NOW))
    migrate.upgrade(app.engine)
    return app


@pytest.fixture
def crm(tmp_path: Path, database_url: str) -> Iterator[bootstrap.App]:
    app = build(tmp_path, database_url)
    yield app
    app.close()


def support_poller(app: bootstrap.App) -> MailboxPoller:
    return next(p for p in bootstrap.pollers(app) if p.mailbox.name == "support")


_arrival = itertools.count(1_790_000_000)


def deliver(tmp_path: Path, *raws: bytes) -> None:
    """Delivered one after the other: each file name starts with a later time, as a mail server writes them."""
    folder = tmp_path / "maildir" / "support"
    for raw in raws:
        stamp = next(_arrival)
        (folder / "tmp" / f"{stamp}.x").write_bytes(raw)
        (folder / "tmp" / f"{stamp}.x").rename(folder / "new" / f"{stamp}.{stamp}_test.inboxcrm")


def poll(app: bootstrap.App) -> IngestResult:
    poller = support_poller(app)
    with poller.open_source() as source:
        return poller.poll_once(source)


def outbox(app: bootstrap.App) -> list[tuple[str, tuple[str, ...]]]:
    with app.engine.connect() as c:
        return sorted((r.kind, tuple(r.recipients)) for r in c.execute(select(t.outbox.c.kind, t.outbox.c.recipients)))


def tickets(app: bootstrap.App) -> dict[str, t.Row]:  # type: ignore[name-defined]
    with app.engine.connect() as c:
        return {r.subject: r for r in c.execute(select(t.tickets))}


def aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


PAST = (
    mail(subject="Printer on fire", message_id="c1@acme-corp.example", date=days_ago(10)),
    mail(
        from_="Ana <ana@northwind.example>",
        to="Carol Danvers <carol@acme-corp.example>",
        cc="support@northwind.example",
        subject="Re: Printer on fire",
        message_id="a1@northwind.example",
        in_reply_to="c1@acme-corp.example",
        body="Hi Carol, a technician is on the way.\n",
        date=days_ago(9.9),
    ),
    mail(
        from_="Dave <dave@initech.example>",
        subject="VIP: invoice copy",
        message_id="d1@initech.example",
        date=days_ago(2),
    ),
)


def test_what_the_folder_holds_at_first_connection_is_filed_quietly_and_new_mail_is_live(
    crm: bootstrap.App, tmp_path: Path
) -> None:
    deliver(tmp_path, *PAST)
    result = poll(crm)
    assert (result.stored, result.history) == (3, 3)
    assert outbox(crm) == []  # no acknowledgement, no notification, for mail that was already there
    found = tickets(crm)
    printer, invoice = found["Printer on fire"], found["VIP: invoice copy"]
    # answered by the team 9.9 days ago: solved then, closed four days later; Dave still waits for an answer
    assert printer.status == "closed" and aware(printer.first_response_at) == NOW - timedelta(days=9.9)
    assert invoice.status == "new" and invoice.first_response_at is None
    [history] = [h for h in folder_histories(crm.engine) if h.mailbox == "support"]
    assert (history.read, history.total, history.done) == (3, 3, True)

    deliver(tmp_path, mail(from_="Erin <erin@hooli.example>", subject="Login broken", message_id="e1@hooli.example"))
    again = poll(crm)
    assert (again.stored, again.history) == (1, 0), again
    assert outbox(crm) == [
        ("ack", ("erin@hooli.example",)),
        ("notification", ("ana@northwind.example",)),
        ("notification", ("ben@northwind.example",)),
    ]


def test_history_tells_no_webhook_and_live_mail_does(tmp_path: Path, database_url: str) -> None:
    hook = '[[webhooks]]\nname = "shop"\nurl = "https://shop.example/hooks"\nevents = ["*"]\nsecret = "s"\n'
    app = build(tmp_path, database_url, more=hook)
    try:
        deliver(tmp_path, *PAST)
        assert poll(app).history == 3
        assert deliveries(app) == []  # three contacts, tickets and messages of the past: nothing to announce

        deliver(
            tmp_path, mail(from_="Erin <erin@hooli.example>", subject="Login broken", message_id="e1@hooli.example")
        )
        assert poll(app).history == 0
        assert deliveries(app) == ["contact.created", "message.received", "ticket.opened"]
    finally:
        app.close()


def deliveries(app: bootstrap.App) -> list[str]:
    with app.engine.connect() as c:
        return sorted(c.execute(select(t.webhook_deliveries.c.event)).scalars())


@pytest.mark.parametrize(("backlog", "stored"), [("none", set()), ("5d", {"VIP: invoice copy"})])
def test_the_backlog_setting_limits_what_history_is_stored(
    tmp_path: Path, database_url: str, backlog: str, stored: set[str]
) -> None:
    app = build(tmp_path, database_url, backlog)
    try:
        deliver(tmp_path, *PAST)
        result = poll(app)
        assert set(tickets(app)) == stored
        assert result.stored == len(stored) and outbox(app) == []
        if backlog == "5d":
            assert result.too_old == 2  # left in the mailbox, unread by inboxcrm
            older = tmp_path / "older"
            for sub in ("cur", "new", "tmp"):
                (older / sub).mkdir(parents=True)
            (older / "new" / "1.1_test.inboxcrm").write_bytes(PAST[0])
            (older / "new" / "2.2_test.inboxcrm").write_bytes(PAST[1])
            only_old = app.ingest.sync_folder(MaildirSource(older), SUPPORT, "older", 1, backlog=Backlog.parse("5d"))
            assert (only_old.fetched, only_old.stored, only_old.too_old) == (2, 0, 2)  # batches of nothing to keep
        deliver(tmp_path, mail(from_="Erin <erin@hooli.example>", subject="Login broken"))
        assert poll(app).stored == 1
        assert [kind for kind, _ in outbox(app)] == ["ack", "notification", "notification"]
    finally:
        app.close()


class Folder:
    """A folder whose server renumbers it (a new UIDVALIDITY) when asked: the one thing a Maildir cannot do."""

    def __init__(self, raws: Sequence[bytes]) -> None:
        self.raws = list(raws)
        self.validity = 1

    def uidvalidity(self, folder: str) -> int:
        return self.validity

    def snapshot(self, folder: str) -> FolderSnapshot:
        return FolderSnapshot(len(self.raws), len(self.raws))

    def fetch_after(self, folder: str, last_uid: int, batch_size: int) -> Iterator[list[FetchedMessage]]:
        found = [FetchedMessage(uid, raw) for uid, raw in enumerate(self.raws, start=1) if uid > last_uid]
        for start in range(0, len(found), batch_size):
            yield found[start : start + batch_size]

    def after_commit(self, folder: str, uids: Sequence[int]) -> None:
        """Nothing to flag."""


def test_a_renumbered_folder_is_read_again_quietly(crm: bootstrap.App) -> None:
    folder = Folder([])
    crm.ingest.sync_folder(folder, SUPPORT, "INBOX", 50)  # connected while empty: what comes now is live
    folder.raws.append(mail(subject="Printer on fire", message_id="c1@acme-corp.example"))
    crm.ingest.sync_folder(folder, SUPPORT, "INBOX", 50)
    assert [kind for kind, _ in outbox(crm)] == ["ack", "notification", "notification"]
    # the server renumbers the folder; a message that was never read before is among what it holds now
    folder.raws.insert(0, mail(from_="Dave <dave@initech.example>", subject="Old question", date=days_ago(30)))
    folder.validity = 2
    result = crm.ingest.sync_folder(folder, SUPPORT, "INBOX", 50)
    assert (result.stored, result.duplicates, result.history) == (1, 1, 1)
    assert [kind for kind, _ in outbox(crm)] == ["ack", "notification", "notification"]  # nothing more


def test_imported_history_never_reopens_a_live_ticket_but_corrects_its_first_response(
    crm: bootstrap.App, tmp_path: Path
) -> None:
    poll(crm)  # connected while empty
    clock: Clock = crm.clock  # type: ignore[assignment]
    deliver(tmp_path, mail(subject="Printer on fire", message_id="c1@acme-corp.example", date=days_ago(1)))
    poll(crm)
    with crm.store.transaction() as tx:
        ticket = tx.ticket(tickets(crm)["Printer on fire"].id)
        assert ticket is not None
        tx.save_ticket(with_status(ticket, TicketStatus.SOLVED, NOW), NOW)  # an agent solved it today
    clock.now = NOW + timedelta(hours=1)
    # an archive shows Ana answered by phone-and-mail yesterday (Cc the shared address) and Carol's thanks after
    archive = Folder(
        [
            mail(
                from_="Ana <ana@northwind.example>",
                to="Carol Danvers <carol@acme-corp.example>",
                cc="support@northwind.example",
                subject="Re: Printer on fire",
                in_reply_to="c1@acme-corp.example",
                message_id="a1@northwind.example",
                date=days_ago(0.9),
            ),
            mail(
                subject="Re: Printer on fire",
                in_reply_to="a1@northwind.example",
                message_id="c2@acme-corp.example",
                date=days_ago(0.5),
            ),
        ]
    )
    result = crm.ingest.sync_folder(archive, SUPPORT, "archive.mbox", 50, history=True)
    assert (result.stored, result.history) == (2, 2)
    printer = tickets(crm)["Printer on fire"]
    assert printer.status == "solved"  # old mail re-opens nothing now
    assert aware(printer.first_response_at) == NOW - timedelta(days=0.9)
    assert [kind for kind, _ in outbox(crm)] == ["ack", "notification", "notification"]  # from the live mail only


def test_contacts_known_only_from_history_are_left_out_of_state_triggered_campaigns(
    crm: bootstrap.App, tmp_path: Path
) -> None:
    deliver(tmp_path, *PAST)  # Dave's "VIP" mail is history: the rule tags him, nothing mails him
    poll(crm)
    assert tick_campaigns(crm.store, crm.outreach, NOW).enrolled == 0
    deliver(tmp_path, mail(from_="Dave <dave@initech.example>", subject="VIP: one more thing"))
    poll(crm)  # Dave writes now: he is a live contact, and the tag trigger takes him
    assert tick_campaigns(crm.store, crm.outreach, NOW).enrolled == 1
