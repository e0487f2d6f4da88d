"""Campaign mail through a real aiosmtpd: the daemon killed (SIGKILL) in the middle of sending, and an SMTP
server that answers 421/451, drops the connection after DATA, and refuses with 550."""

from __future__ import annotations

import email
import email.policy
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from inboxcrm import bootstrap
from inboxcrm.adapters.db import tables as t
from inboxcrm.config import parse_settings
from inboxcrm.core.model import MailboxKind, MailboxProfile
from inboxcrm.core.ports import FetchedMessage
from inboxcrm.services.outreach import tick_campaigns
from tests.support.clock import Clock
from tests.support.desk import desk_config, smtp_outbox
from tests.support.mail import mail
from tests.support.smtpd import SmtpServer

SALES = MailboxProfile("sales", MailboxKind.SALES, frozenset({"sales@northwind.example"}))
PEOPLE = ["laura@twinpeaks.example", "dale@fbi.example", "audrey@greatnorthern.example"]


def write_config(tmp_path: Path, smtp: SmtpServer) -> Path:
    (tmp_path / "campaigns").mkdir()
    (tmp_path / "campaigns" / "trial.toml").write_text(
        """
[[campaign]]
name = "trial"
from = "Northwind Sales <sales@northwind.example>"
timezone = "UTC"
postal_address = "Northwind GmbH, Hauptstr. 1, 10115 Berlin"
trigger = "rule"

[[campaign.step]]
delay = "0d"
template = "trial-1"
"""
    )
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "10.toml").write_text(
        '[[rule]]\nname = "Trials enrol"\nwhen.subject.contains = "trial"\nthen.enrol = "trial"\n'
    )
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "trial-1.subject.j2").write_text("Your trial, {{ contact.first_name }}\n")
    (tmp_path / "templates" / "trial-1.text.j2").write_text("Hello {{ contact.name }}, welcome.\n")
    (tmp_path / "maildir" / "sales").mkdir(parents=True)
    config = tmp_path / "inboxcrm.toml"
    config.write_text(
        f"""
[database]
url = "sqlite:///{tmp_path / "crm.db"}"

[team]
domains = ["northwind.example"]

[[mailboxes]]
name = "sales"
kind = "sales"
addresses = ["sales@northwind.example"]
source = "maildir"
path = "maildir/sales"

{desk_config(secret="e2e", outbox=smtp_outbox(smtp, timeout="60s"))}
[campaigns]
public_url = "https://crm.northwind.example"
"""
    )
    return config


@pytest.fixture
def setup(tmp_path: Path, smtp_server: SmtpServer) -> Iterator[tuple[Path, bootstrap.App, Clock]]:
    config = write_config(tmp_path, smtp_server)
    clock = Clock(datetime.now(UTC))
    app = bootstrap.build(parse_settings(config.read_text(), str(config), {}), clock=clock)
    bootstrap.prepare_database(app)
    requests = [
        mail(
            from_=f"{p.split('@')[0].title()} <{p}>",
            to="sales@northwind.example",
            subject="A trial?",
            message_id=f"{n}@x",
        )
        for n, p in enumerate(PEOPLE)
    ]
    app.ingest.ingest_batch(SALES, "INBOX", 1, [FetchedMessage(n + 1, r) for n, r in enumerate(requests)])
    tick_campaigns(app.store, app.outreach, clock.now)
    yield config, app, clock
    app.close()


def outbox(app: bootstrap.App) -> dict[str, t.Row]:  # type: ignore[name-defined]
    with app.engine.connect() as c:
        return {row.recipients[0]: row for row in c.execute(select(t.outbox))}


def message_id(raw: bytes) -> str:
    return str(email.message_from_bytes(raw, policy=email.policy.default)["Message-ID"])


def test_sigkill_during_dispatch_loses_nothing_and_never_changes_a_message_id(
    setup: tuple[Path, bootstrap.App, Clock], smtp_server: SmtpServer
) -> None:
    config, app, clock = setup
    queued = outbox(app)
    assert len(queued) == 3
    smtp_server.stall_after_data()  # the first message is taken in, and then the server says nothing …
    exe = Path(sys.executable).with_name("inboxcrm")
    daemon = subprocess.Popen(
        [str(exe), "--config", str(config), "outbox", "send"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while not smtp_server.dropped and time.monotonic() < deadline and daemon.poll() is None:
            time.sleep(0.05)
        assert smtp_server.dropped, "the dispatcher never reached DATA"
        os.kill(daemon.pid, signal.SIGKILL)  # … while the dispatcher waits for the answer
    finally:
        daemon.kill()
        daemon.wait()
    assert {r.status for r in outbox(app).values()} == {"queued"}  # claimed, nothing recorded
    clock.now += timedelta(minutes=3)  # the dead dispatcher's claim runs out (a 2-minute lease)
    app.dispatcher.drain()
    after = outbox(app)
    assert {r.status for r in after.values()} == {"sent"}
    with smtp_server.lock:
        delivered = {r.rcpt_tos[0]: message_id(r.raw) for r in smtp_server.received}
        interrupted = [(r.rcpt_tos[0], message_id(r.raw)) for r in smtp_server.dropped]
    assert set(delivered) == set(PEOPLE)  # none lost
    for person, sent_id in delivered.items():
        assert sent_id == after[person].message_id == queued[person].message_id
    for person, seen_id in interrupted:  # the one that may have arrived twice has one Message-ID
        assert seen_id == delivered[person]


def test_temporary_trouble_is_retried_and_a_550_suppresses_the_address(
    setup: tuple[Path, bootstrap.App, Clock], smtp_server: SmtpServer
) -> None:
    _, app, clock = setup
    smtp_server.fail_next("MAIL", "421 4.7.0 closing, try later")
    smtp_server.fail_next("DATA", "451 4.3.0 temporary trouble")
    smtp_server.drop_after_data()
    app.dispatcher.drain()
    for _ in range(5):
        clock.now += timedelta(minutes=10)
        app.dispatcher.drain()
    assert {r.status for r in outbox(app).values()} == {"sent"}
    with smtp_server.lock:
        assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == sorted(PEOPLE)  # each exactly once

    # Laura enrolled again (by hand); her server now refuses for good: bounce handling applies
    with app.store.transaction() as tx:
        contact_id = tx.contact_ids_for([PEOPLE[0]])[PEOPLE[0]]
        tx.add_enrolment(contact_id, "trial", "cli", clock.now, clock.now)
    tick_campaigns(app.store, app.outreach, clock.now)
    smtp_server.fail_next("RCPT", "550 5.1.1 <laura@twinpeaks.example>: no such user")
    app.dispatcher.drain()
    with app.store.transaction() as tx:
        assert tx.suppressed([PEOPLE[0]]) == {PEOPLE[0]: "bounced"}
        # and no campaign may enrol her again
        assert app.outreach.enrol(tx, contact_id, "trial", "cli", clock.now) == (
            None,
            f"{PEOPLE[0]} is bounced: no campaign mails it",
        )
