"""What the customer-data tests (tests/services/test_privacy_*.py) share: a CRM with support and sales mailboxes, a
trial campaign and a rule; Carol (with a merged alias) and Dave as `World` builds them; the `clock`,
`settings_path`, `crm` and `world` fixtures; and `mentions`, which finds an address anywhere in the database."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from inboxcrm import bootstrap
from inboxcrm.adapters.db import migrate
from inboxcrm.adapters.db import tables as t
from inboxcrm.cli.contacts import privacy_service
from inboxcrm.core.model import MailboxKind, MailboxProfile
from inboxcrm.core.ports import Envelope, FetchedMessage, Outcome, SendResult
from inboxcrm.services.outbox import Dispatcher
from inboxcrm.services.outreach import tick_campaigns
from inboxcrm.services.privacy import Privacy
from tests.conftest import make_settings
from tests.support.clock import Clock
from tests.support.desk import ANA, BEN, desk_config
from tests.support.mail import mail

SUPPORT = MailboxProfile("support", MailboxKind.SUPPORT, frozenset({"support@northwind.example"}))
SALES = MailboxProfile("sales", MailboxKind.SALES, frozenset({"sales@northwind.example"}))
SECRET = "privacy-secret"
CAROL = "carol@acme-corp.example"
ALIAS = "carol.d@gmail.example"
DAVE = "dave@initech.example"
EXTRA = (
    desk_config(ANA, BEN, secret=SECRET)
    + """
[campaigns]
public_url = "https://crm.northwind.example"
"""
)
CAMPAIGN = """
[[campaign]]
name = "trial-nurture"
from = "Northwind Sales <sales@northwind.example>"
timezone = "UTC"
postal_address = "Northwind GmbH, Hauptstr. 1, 10115 Berlin"
trigger = "rule"

[campaign.exit]
ticket = false  # Carol has support tickets open and still gets her trial mail

[[campaign.step]]
delay = "0d"
template = "campaigns/trial-1"

[[campaign.step]]
delay = "2d"
template = "campaigns/trial-1"
"""
RULES = """
[[rule]]
name = "Trial requests"
when.subject.contains_word = "trial"
[rule.then]
enrol = "trial-nurture"
add_tags = "trial"
score = { points = 10, reason = "asked for a trial" }
deal = { name = "Trial", stage = "qualified" }
"""


class Recorder:
    """A sender that accepts everything and remembers it."""

    def __init__(self) -> None:
        self.sent: list[Envelope] = []

    async def send_many(self, envelopes: Sequence[Envelope]) -> list[SendResult]:
        self.sent += envelopes
        return [SendResult(e.key, Outcome.SENT, "250 ok") for e in envelopes]


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 2, 9, 30, tzinfo=UTC))


@pytest.fixture
def settings_path(tmp_path: Path, database_url: str) -> Path:
    (tmp_path / "campaigns").mkdir()
    (tmp_path / "campaigns" / "trial.toml").write_text(CAMPAIGN)
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "10.toml").write_text(RULES)
    support = tmp_path / "templates" / "support"
    support.mkdir(parents=True)
    (support / "ack.subject.j2").write_text("We got your message: {{ ticket.subject }}\n")
    (support / "ack.text.j2").write_text("Hello {{ contact.first_name }}, your request is {{ ticket.token }}.\n")
    campaigns = tmp_path / "templates" / "campaigns"
    campaigns.mkdir(parents=True)
    (campaigns / "trial-1.subject.j2").write_text("Your trial, {{ contact.first_name }}\n")
    (campaigns / "trial-1.text.j2").write_text("Hello {{ contact.first_name }} ({{ contact.email }}).\n")
    make_settings(tmp_path, database_url, EXTRA, support_extra='acknowledge = "support/ack"')
    return tmp_path / "inboxcrm.toml"


def build(tmp_path: Path, database_url: str, clock: Clock) -> bootstrap.App:
    settings = make_settings(tmp_path, database_url, EXTRA, support_extra='acknowledge = "support/ack"')
    return bootstrap.build(settings, clock=clock)


@pytest.fixture
def crm(settings_path: Path, database_url: str, clock: Clock) -> Iterator[bootstrap.App]:
    app = build(settings_path.parent, database_url, clock)
    migrate.upgrade(app.engine)
    yield app
    app.close()


_uid = iter(range(1, 1_000_000))


def ingest(app: bootstrap.App, profile: MailboxProfile, *raws: bytes) -> None:
    app.ingest.ingest_batch(profile, "INBOX", 1, [FetchedMessage(next(_uid), r) for r in raws])


def contact_id(app: bootstrap.App, email: str) -> int:
    with app.store.transaction() as tx:
        found = tx.contact_id_for(email)
    assert found is not None, email
    return found


class World:
    """Carol (with a merged alias) has support tickets, a trial enrolment with a sent campaign mail, tags, a
    score, deals and an unsubscribe; Dave has a ticket of his own and must not be touched."""

    def __init__(self, app: bootstrap.App, clock: Clock) -> None:
        self.carol_raws = [
            mail(from_=f"Carol Danvers <{CAROL}>", message_id="c1@acme-corp.example", subject="Printer on fire"),
            mail(
                from_=f"Carol Danvers <{CAROL}>",
                message_id="c2@acme-corp.example",
                in_reply_to="c1@acme-corp.example",
                subject="Re: Printer on fire",
                body="Still burning.\n",
                date="Mon, 02 Nov 2026 10:30:00 +0000",
            ),
        ]
        trial = mail(
            from_=f"Carol Danvers <{CAROL}>",
            to="sales@northwind.example",
            message_id="t1@acme-corp.example",
            subject="A free trial please",
        )
        alias = mail(from_=f"Carol D <{ALIAS}>", message_id="g1@gmail.example", subject="Invoice question")
        self.dave_raws = [mail(from_=f"Dave <{DAVE}>", message_id="d1@initech.example", subject="Login broken")]
        ingest(app, SUPPORT, *self.carol_raws)
        ingest(app, SALES, trial)
        ingest(app, SUPPORT, alias)
        ingest(app, SUPPORT, *self.dave_raws)
        self.carol_raws += [trial, alias]
        self.carol = contact_id(app, CAROL)
        self.dave = contact_id(app, DAVE)
        app.contacts.merge(self.carol, contact_id(app, ALIAS))
        tick_campaigns(app.store, app.outreach, clock.now)
        self.sender = Recorder()
        Dispatcher(app.store, self.sender, clock, app.support, outreach=app.outreach).drain()
        with app.engine.begin() as c:
            # a deal of her own (no company): the rules only open company deals for company addresses
            c.execute(
                insert(t.deals).values(
                    contact_id=self.carol,
                    name="Consulting",
                    stage="qualified",
                    created_at=clock.now,
                    updated_at=clock.now,
                )
            )
        with app.store.transaction() as tx:
            tx.suppress(CAROL, "unsubscribed", "trial-nurture", clock.now)


@pytest.fixture
def world(crm: bootstrap.App, clock: Clock) -> World:
    return World(crm, clock)


def mentions(app: bootstrap.App, *needles: str) -> list[str]:
    """Every (table.column) whose value contains one of `needles`: text, JSON and bytes columns alike."""
    found = []
    with app.engine.connect() as c:
        for table in t.metadata.sorted_tables:
            for row in c.execute(select(table)):
                for column, value in row._mapping.items():
                    if value is None:
                        continue
                    if isinstance(value, bytes | memoryview):
                        text = bytes(value).decode("utf-8", "replace")
                    elif isinstance(value, dict | list):
                        text = json.dumps(value, ensure_ascii=False)
                    else:
                        text = str(value)
                    found += [f"{table.name}.{column}" for n in needles if n.lower() in text.lower()]
    return sorted(set(found))


def rows(app: bootstrap.App, table: Any) -> list[Any]:
    with app.engine.connect() as c:
        return list(c.execute(select(table)))


def without_time(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "exported_at"}


def privacy(app: bootstrap.App) -> Privacy:
    return privacy_service(app)
