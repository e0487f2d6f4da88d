"""Rules applied to incoming mail (SQLite and PostgreSQL), and rule files reloaded while running."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from inboxcrm import bootstrap
from inboxcrm.adapters.db import tables as t
from inboxcrm.core.model import MailboxKind, MailboxProfile
from inboxcrm.core.ports import FetchedMessage
from inboxcrm.services.rulebook import LiveRules
from tests.conftest import make_settings
from tests.support.desk import ANA, BEN, desk_config
from tests.support.mail import mail

SUPPORT = MailboxProfile("support", MailboxKind.SUPPORT, frozenset({"support@northwind.example"}))
AGENTS = (
    desk_config(ANA, BEN.but(queues=("support", "billing")))
    + """
[rules]
queues = ["billing"]
"""
)
RULES = """
[[rule]]
name = "Support mail is a ticket for whoever has least to do"
when.mailbox = "support"
then = { queue = "support", assign = "round-robin" }

[[rule]]
name = "Invoices go to billing, urgently"
when.subject.contains_word = "invoice"
then.queue = "billing"
then.priority = "high"
then.add_tags = ["billing"]
then.score = { points = 10, reason = "asks about money" }

[[rule]]
name = "Vendor pitches are ignored"
when.subject.contains = "seo services"
then = { ignore = true, stop = true }

[[rule]]
name = "Pricing questions make a lead"
when.subject.contains = "pricing"
then = { stage = "lead", score = 5 }
"""


@pytest.fixture
def ruled(tmp_path: Path, database_url: str) -> Iterator[bootstrap.App]:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "10-support.toml").write_text(RULES)
    app = bootstrap.build(make_settings(tmp_path, database_url, AGENTS))
    from inboxcrm.adapters.db import migrate

    migrate.upgrade(app.engine)
    yield app
    app.close()


def ingest(app: bootstrap.App, *raws: bytes, first_uid: int = 1) -> None:
    app.ingest.ingest_batch(SUPPORT, "INBOX", 1, [FetchedMessage(first_uid + i, r) for i, r in enumerate(raws)])


def test_rules_route_tickets_and_change_contacts(ruled: bootstrap.App) -> None:
    ingest(
        ruled,
        mail(from_="Carol <carol@acme-corp.example>", subject="Invoice 1042 is wrong", message_id="1@x"),
        mail(from_="dave@globex.example", subject="Printer jam", message_id="2@x"),
        mail(from_="erin@initech.example", subject="Toner", message_id="3@x"),
        mail(from_="spam@seo.example", subject="SEO services for you", message_id="4@x"),
        mail(from_="Carol <carol@acme-corp.example>", subject="Pricing for 40 seats", message_id="5@x"),
    )
    with ruled.engine.connect() as connection:
        tickets = connection.execute(
            select(t.tickets.c.subject, t.tickets.c.queue, t.tickets.c.priority, t.tickets.c.assignee).order_by(
                t.tickets.c.id
            )
        ).all()
        ignored = connection.execute(select(t.messages.c.subject).where(t.messages.c.ignored)).scalars().all()
        carol = connection.execute(select(t.contacts).where(t.contacts.c.email == "carol@acme-corp.example")).one()
        tags = connection.execute(select(t.contact_tags.c.tag)).scalars().all()
        decision = connection.execute(select(t.messages.c.decision).where(t.messages.c.message_id == "1@x")).scalar()
    # invoice → billing, which only ben works; then the least loaded support agent, ties by name
    assert tickets == [
        ("Invoice 1042 is wrong", "billing", "high", "ben"),
        ("Printer jam", "support", "normal", "ana"),
        ("Toner", "support", "normal", "ana"),
        ("Pricing for 40 seats", "support", "normal", "ben"),
    ]
    assert "SEO services for you" not in [s for s, *_ in tickets] and ignored == ["SEO services for you"]
    assert (carol.score, carol.stage, tags) == (15.0, "lead", ["billing"])
    assert [r["rule"] for r in decision["rules"]] == [
        "Support mail is a ticket for whoever has least to do",
        "Invoices go to billing, urgently",
    ]
    kinds = [e.kind for e in ruled.reads.timeline(carol.id).items]
    assert {"tags_changed", "score_changed", "stage_changed"} <= set(kinds)
    spam = ruled.reads.contacts(email="spam@seo.example").items[0]
    assert ruled.reads.timeline(spam.id).items == ()  # an ignored message is kept but shows on no timeline


def test_round_robin_gives_the_next_ticket_to_the_least_loaded_agent(ruled: bootstrap.App) -> None:
    ingest(
        ruled, *[mail(from_=f"c{i}@acme-corp.example", subject=f"Question {i}", message_id=f"{i}@x") for i in range(4)]
    )
    with ruled.engine.connect() as connection:
        assignees = connection.execute(select(t.tickets.c.assignee).order_by(t.tickets.c.id)).scalars().all()
    assert sorted(assignees) == ["ana", "ana", "ben", "ben"]


def test_a_bad_edit_keeps_the_last_good_rules_until_fixed(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    file = tmp_path / "rules" / "10-support.toml"
    file.write_text(RULES)
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'x.db'}", AGENTS)
    ticks = iter(range(0, 1000, 10))
    live = LiveRules(bootstrap.rulebook(settings), lambda r: bootstrap.routing(settings, r), 5.0, lambda: next(ticks))
    first = live.current()
    assert first is not None and len(first.rules.rules) == 4

    file.write_text(RULES.replace('when.subject.contains = "pricing"', 'when.subjct.contains = "pricing"'))
    assert live.current() is first  # the bad file never half-loads
    assert [str(p) for p in live.problems] == [
        f"{file}:{RULES.count(chr(10), 0, RULES.index('pricing')) + 1}: unknown condition 'subjct' "
        "(did you mean 'subject'?)"
    ]

    file.write_text(RULES.replace("score = 5 }", "score = 7 }"))
    fixed = live.current()
    assert fixed is not None and fixed is not first and live.problems == ()


def test_backtest_replays_stored_mail_without_side_effects(ruled: bootstrap.App, tmp_path: Path) -> None:
    from datetime import timedelta

    from inboxcrm.services.backtest import backtest

    ingest(
        ruled,
        mail(from_="Carol <carol@acme-corp.example>", subject="Invoice 1042 is wrong", message_id="1@x"),
        mail(from_="dave@globex.example", subject="Printer jam", message_id="2@x"),
    )
    changed = tmp_path / "branch"
    changed.mkdir()
    (changed / "10-support.toml").write_text(
        RULES.replace('then.priority = "high"', 'then.priority = "urgent"').replace('"Printer', '"Printer')
        + '\n[[rule]]\nname = "Printers"\nwhen.subject.contains = "printer"\nthen.add_tags = ["hardware"]\n'
    )
    settings = ruled.settings
    book = bootstrap.rulebook(settings, changed)
    mailboxes = {m.name: m.profile() for m in settings.mailboxes}
    before = ruled.reads.status()
    report = backtest(ruled.reads.source, book, book.compile(), ruled.clock() - timedelta(days=365), mailboxes)
    assert report.replayed == 2
    assert [(d.subject, d.changes) for d in report.differences] == [
        ("Invoice 1042 is wrong", ("priority: high → urgent",)),
        ("Printer jam", ("tags added: — → hardware",)),
    ]
    assert report.counts() == {"priority": 1, "tags added": 1}
    # the same rules as the day the mail came in: nothing differs; and nothing was written
    same = bootstrap.rulebook(settings)
    assert (
        backtest(ruled.reads.source, same, same.compile(), ruled.clock() - timedelta(days=365), mailboxes).differences
        == []
    )
    assert ruled.reads.status() == before


DEALS = """
[[rule]]
name = "Quote requests open a deal"
when.subject.contains = "quote"
then.deal = { name = "Volume order", value = 12000 }

[[rule]]
name = "A purchase order moves it"
when.subject.contains = "purchase order"
then.deal = { name = "Volume order", stage = "won" }
"""


def test_rule_deals_open_and_move_on_the_company(tmp_path: Path, database_url: str) -> None:
    from fastapi.testclient import TestClient

    from inboxcrm.adapters.db import migrate
    from inboxcrm.web.app import create_app

    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "50-deals.toml").write_text(DEALS)
    extra = AGENTS + '\n[pipeline]\nstages = ["qualified", "proposal", "won", "lost"]\n'
    app = bootstrap.build(make_settings(tmp_path, database_url, extra))
    migrate.upgrade(app.engine)
    try:
        sales = MailboxProfile("sales", MailboxKind.SALES, frozenset({"sales@northwind.example"}))
        app.ingest.ingest_batch(
            sales, "INBOX", 1, [FetchedMessage(1, mail(subject="Quote for 25 sets", message_id="q@x"))]
        )
        app.ingest.ingest_batch(sales, "INBOX", 1, [
            FetchedMessage(2, mail(from_="dan@acme-corp.example", subject="Our purchase order", message_id="p@x")),
        ])  # fmt: skip
        with app.engine.connect() as connection:
            deals = connection.execute(select(t.deals.c.name, t.deals.c.value, t.deals.c.stage)).all()
        assert deals == [("Volume order", 12000.0, "won")]  # one deal: both people work at acme-corp
        carol = app.reads.contacts(email="carol@acme-corp.example").items[0]
        assert "Deal 'Volume order' opened (qualified, 12,000)" in [
            e.summary for e in app.reads.timeline(carol.id).items
        ]
        dan = app.reads.contacts(email="dan@acme-corp.example").items[0]
        assert "Deal 'Volume order' qualified → won" in [e.summary for e in app.reads.timeline(dan.id).items]
        client = TestClient(create_app(app.reads, {"t": "x"}, pipeline_stages=app.settings.pipeline.stages))
        report = client.get("/reports/pipeline", headers={"Authorization": "Bearer t"}).json()
        assert report == [
            {"stage": "qualified", "deals": 0, "value": 0.0},
            {"stage": "proposal", "deals": 0, "value": 0.0},
            {"stage": "won", "deals": 1, "value": 12000.0},
            {"stage": "lost", "deals": 0, "value": 0.0},
        ]
    finally:
        app.close()


TAG_RULES = """
[[rule]]
name = "A complaint makes a contact unhappy"
when.subject.contains_word = "broken"
then.add_tags = ["unhappy", "support"]

[[rule]]
name = "Thanks make them happy again"
when.subject.contains_word = "thanks"
then.add_tags = ["happy"]
then.remove_tags = ["unhappy"]
"""


def test_tags_changed_by_several_messages_of_one_batch_end_as_applied_in_order(
    tmp_path: Path, database_url: str
) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "10-tags.toml").write_text(TAG_RULES)
    app = bootstrap.build(make_settings(tmp_path, database_url, AGENTS))
    from inboxcrm.adapters.db import migrate

    migrate.upgrade(app.engine)
    carol, dave = "Carol <carol@acme-corp.example>", "dave@globex.example"
    try:
        ingest(
            app,
            mail(from_=carol, subject="Drill broken", message_id="1@x"),
            mail(from_=carol, subject="Thanks, it works", message_id="2@x"),  # unhappy, then not
            mail(from_=dave, subject="Thanks for the quote", message_id="3@x"),
            mail(from_=dave, subject="Now the printer is broken", message_id="4@x"),  # not unhappy, then unhappy
        )
        with app.engine.connect() as connection:
            rows = connection.execute(
                select(t.contacts.c.email, t.contact_tags.c.tag).join(
                    t.contact_tags, t.contact_tags.c.contact_id == t.contacts.c.id
                )
            ).all()
    finally:
        app.close()
    tags: dict[str, set[str]] = {}
    for email, tag in rows:
        tags.setdefault(email, set()).add(tag)
    assert tags == {
        "carol@acme-corp.example": {"support", "happy"},
        "dave@globex.example": {"happy", "unhappy", "support"},
    }
