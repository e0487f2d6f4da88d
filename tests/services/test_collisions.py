"""The collision guard on SQLite and PostgreSQL: held, sent with #send, dropped by the clock, own follow-ups."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from inboxcrm import bootstrap
from inboxcrm.adapters.db import tables as t
from inboxcrm.services.desk import tick_tickets
from tests.services.desk_support import (  # noqa: F401  (clock, desk: the fixtures `team` builds on)
    Clock,
    agent_reply,
    body,
    clock,
    customer_mail,
    desk,
    events,
    ingest,
    outbox,
    relay_of,
)
from tests.support.mail import mail


@pytest.fixture
def team(desk: bootstrap.App, clock: Clock) -> tuple[bootstrap.App, Clock]:  # noqa: F811
    """A desk with Ana and Ben, a ticket from Carol, and both agents notified."""
    ingest(desk, customer_mail(subject="Printer on fire"))
    clock.now += timedelta(minutes=1)
    return desk, clock


def held(app: bootstrap.App) -> list[str]:
    with app.engine.connect() as c:
        return list(c.execute(select(t.held_replies.c.status).order_by(t.held_replies.c.id)).scalars())


def test_the_second_answer_is_held_and_sent_with_send(team: tuple[bootstrap.App, Clock]) -> None:
    app, time = team
    ben = "Ben <ben@northwind.example>"
    ingest(
        app,
        agent_reply(relay_of(app), "Hi Carol, it is fixed."),
        agent_reply(relay_of(app, "ben@northwind.example"), "#priority high\nHi Carol, on it.", from_=ben, mid="b1"),
    )
    assert len(outbox(app, "relay")) == 1 and held(app) == ["held"]
    (notice,) = outbox(app, "held_notice")
    assert notice.recipients == ["ben@northwind.example"] and "Ana Alves answered" in body(notice.raw)
    with app.engine.connect() as c:
        assert c.execute(select(t.tickets.c.priority)).scalar() == "high"  # his command was applied

    time.now += timedelta(minutes=5)
    send = mail(
        from_=ben,
        to=relay_of(app, "ben@northwind.example"),
        subject="Re: held",
        message_id="b2@northwind.example",
        in_reply_to=notice.message_id.strip("<>"),
        body="#send\n",
        date=None,
    )
    ingest(app, send)
    relays = outbox(app, "relay")
    assert len(relays) == 2 and body(relays[-1].raw).startswith("Hi Carol, on it.")
    assert held(app) == ["sent"]
    with app.store.transaction() as tx:
        counts = tx.collision_counts(time.now - timedelta(days=1), time.now + timedelta(minutes=1))
    assert counts == {"held": 0, "sent": 1, "dropped": 0, "observed": 0}


def test_a_held_reply_is_dropped_by_the_clock_once(team: tuple[bootstrap.App, Clock]) -> None:
    app, time = team
    ingest(app, agent_reply(relay_of(app), "Hi Carol, it is fixed."))
    time.now += timedelta(minutes=1)
    ingest(app, agent_reply(relay_of(app, "ben@northwind.example"), "Hi Carol.", from_="ben@northwind.example"))
    assert held(app) == ["held"]
    time.now += timedelta(days=1, minutes=1)
    tick_tickets(app.store, app.support, time.now)
    tick_tickets(app.store, app.support, time.now)
    assert held(app) == ["dropped"]
    assert [k for k, _ in events(app)].count("ticket_reply_dropped") == 1
    assert len(outbox(app, "relay")) == 1


def test_an_agents_own_follow_up_is_never_held(team: tuple[bootstrap.App, Clock]) -> None:
    app, time = team
    ingest(app, agent_reply(relay_of(app), "Hi Carol, it is fixed."))
    time.now += timedelta(minutes=1)
    ingest(app, agent_reply(relay_of(app), "PS: restart it once.", mid="a2"))
    assert len(outbox(app, "relay")) == 2 and held(app) == []
