"""The collision guard and saved replies end to end: a private Dovecot, a real aiosmtpd, and the test playing
Carol (the customer), Ana and Ben (agents) in their own mail clients (see test_support_desk.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from inboxcrm import bootstrap
from inboxcrm.adapters.db import tables as t
from inboxcrm.services.desk import tick_tickets
from inboxcrm.web.app import create_app
from tests.e2e.test_support_desk import (
    CAROL,
    Desk,
    desk,  # noqa: F401  (the fixture `team` builds on)
    reply,
    text_of,
)
from tests.support.mail import mail

pytestmark = pytest.mark.imap

ANA = "Ana Alves <ana@northwind.example>"
BEN = "Ben <ben@northwind.example>"
CAROL_EMAIL = "carol@acme-corp.example"


@pytest.fixture
def team(desk: Desk) -> Desk:  # noqa: F811
    """inboxcrm on a private Dovecot folder and a real aiosmtpd, with Ana and Ben as agents."""
    return desk


def api(d: Desk) -> TestClient:
    """The daemon's API on the same database, with an admin token."""
    client = TestClient(create_app(d.app.reads, tokens={"t0k3n": "test"}, features=bootstrap.features(d.app)))
    client.headers["Authorization"] = "Bearer t0k3n"
    return client


def events(d: Desk, kind: str) -> list[str]:
    with d.app.engine.connect() as c:
        return list(c.execute(select(t.timeline_events.c.summary).where(t.timeline_events.c.kind == kind)).scalars())


def held_statuses(d: Desk) -> list[str]:
    with d.app.engine.connect() as c:
        return list(c.execute(select(t.held_replies.c.status).order_by(t.held_replies.c.id)).scalars())


def answers_to_carol(d: Desk) -> list[str]:
    """What Carol received from the team, the acknowledgement left out."""
    return [text_of(m) for m in d.inbox(CAROL_EMAIL) if m["Auto-Submitted"] is None]


def cycle(d: Desk) -> None:
    """A minute passes (as between two polls), then the daemon's round."""
    d.clock.now += timedelta(minutes=1)
    d.cycle()


def open_ticket(d: Desk, subject: str = "Charged twice") -> None:
    d.deliver(mail(from_=CAROL, subject=subject, message_id="c1@acme-corp.example", date=None))
    cycle(d)


def test_ana_and_ben_answer_the_same_notification_carol_gets_one_answer(team: Desk) -> None:
    open_ticket(team)
    (to_ana,) = team.inbox("ana@northwind.example")
    (to_ben,) = team.inbox("ben@northwind.example")
    # both answer within the same minute: the team reads them in one poll
    team.deliver(reply(to_ana, ANA, "Hi Carol, the second charge is refunded.\n\nAna"))
    team.deliver(reply(to_ben, BEN, "#tag billing\nHi Carol, I am looking into it.\n\nBen"))
    cycle(team)

    (answer,) = answers_to_carol(team)
    assert answer.startswith("Hi Carol, the second charge is refunded.")
    notice = team.inbox("ben@northwind.example")[-1]
    assert notice["Subject"] == "[#1] Not sent, Ana Alves answered first: Charged twice"
    body = text_of(notice)
    assert "Ana Alves answered the customer" in body and "> Hi Carol, the second charge is refunded." in body
    assert "#send" in body and "> Hi Carol, I am looking into it." in body
    with team.app.engine.connect() as c:  # the commands in Ben's held reply were applied
        assert list(c.execute(select(t.ticket_tags.c.tag)).scalars()) == ["billing"]
    assert held_statuses(team) == ["held"]
    assert len(events(team, "ticket_reply_held")) == 1

    # Ben reads what Ana wrote and sends his anyway
    team.deliver(reply(notice, BEN, "#send"))
    cycle(team)
    _, second = answers_to_carol(team)
    assert second.startswith("Hi Carol, I am looking into it.") and "#tag" not in second
    assert held_statuses(team) == ["sent"]
    assert any("sent anyway" in e for e in events(team, "ticket_reply_sent"))
    # nothing else reached Carol, and Ben was not told anything more
    assert len(team.inbox("ben@northwind.example")) == 2

    # a second #send finds nothing left to send, and Ben is told so
    team.deliver(reply(notice, BEN, "#send"))
    cycle(team)
    assert len(answers_to_carol(team)) == 2
    assert "already" in text_of(team.inbox("ben@northwind.example")[-1])

    figures = api(team).get("/reports/collisions").json()
    assert (figures["held"], figures["sent"], figures["dropped"], figures["observed"]) == (0, 1, 0, 0)


def test_a_held_reply_nobody_sends_is_dropped_but_kept_on_the_timeline(team: Desk) -> None:
    open_ticket(team)
    (to_ana,) = team.inbox("ana@northwind.example")
    (to_ben,) = team.inbox("ben@northwind.example")
    team.deliver(reply(to_ana, ANA, "Hi Carol, refunded.\n\nAna"))
    cycle(team)
    team.deliver(reply(to_ben, BEN, "Hi Carol, on it.\n\nBen"))
    cycle(team)
    notice = team.inbox("ben@northwind.example")[-1]
    assert len(answers_to_carol(team)) == 1 and held_statuses(team) == ["held"]

    team.clock.now += timedelta(hours=23)
    tick_tickets(team.app.store, team.app.support, team.clock.now)
    assert held_statuses(team) == ["held"]
    team.clock.now += timedelta(hours=2)  # past the default drop_held_after of a day
    tick_tickets(team.app.store, team.app.support, team.clock.now)
    assert held_statuses(team) == ["dropped"]
    assert len(events(team, "ticket_reply_dropped")) == 1
    assert any("on it." in e for e in events(team, "ticket_reply_held"))  # what he wrote is still there

    team.deliver(reply(notice, BEN, "#send"))
    cycle(team)
    assert len(answers_to_carol(team)) == 1
    assert "dropped" in text_of(team.inbox("ben@northwind.example")[-1])


def test_a_newer_customer_message_holds_the_reply_and_is_shown(team: Desk) -> None:
    open_ticket(team)
    (to_ana,) = team.inbox("ana@northwind.example")
    team.deliver(
        mail(
            from_=CAROL,
            subject="Re: Charged twice",
            in_reply_to="c1@acme-corp.example",
            message_id="c2@acme-corp.example",
            body="Never mind, the bank fixed it.\n",
            date=None,
        )
    )
    cycle(team)
    team.deliver(reply(to_ana, ANA, "Hi Carol, I refunded it.\n\nAna"))
    cycle(team)
    assert answers_to_carol(team) == []
    notice = team.inbox("ana@northwind.example")[-1]
    assert "the customer wrote again" in notice["Subject"]
    assert "> Never mind, the bank fixed it." in text_of(notice)

    # answering the notice (the newest thing she was told) with a new text goes out as usual
    team.deliver(reply(notice, ANA, "Hi Carol, glad it is sorted.\n\nAna"))
    cycle(team)
    (answer,) = answers_to_carol(team)
    assert answer.startswith("Hi Carol, glad it is sorted.")


def test_an_observed_reply_that_crossed_an_answer_is_recorded(team: Desk) -> None:
    open_ticket(team)
    (to_ana,) = team.inbox("ana@northwind.example")
    team.deliver(reply(to_ana, ANA, "Hi Carol, refunded.\n\nAna"))
    cycle(team)
    team.deliver(
        mail(
            from_=BEN,
            to=CAROL,
            cc="support@northwind.example",
            subject="Re: Charged twice",
            message_id="ben1@northwind.example",
            in_reply_to="c1@acme-corp.example",
            body="Hi Carol, refund on its way.\n",
            date=None,
        )
    )
    cycle(team)
    (recorded,) = events(team, "ticket_collision")
    assert "ben answered the customer directly" in recorded and "Ana Alves" in recorded
    team.clock.now += timedelta(minutes=1)  # the reports' range ends (exclusive) now
    assert api(team).get("/reports/collisions").json()["observed"] == 1


def test_a_saved_reply_reaches_the_customer_rendered(team: Desk) -> None:
    folder = team.app.templates.directory / "replies"
    folder.mkdir()
    (folder / "refund-policy.j2").write_text(
        "Hi {{ contact.first_name }},\n\nRefunds for {{ ticket.token }} take 5 to 10 days.\n"
    )
    assert team.app.templates.load() == []
    open_ticket(team)
    (to_ana,) = team.inbox("ana@northwind.example")

    team.deliver(reply(to_ana, ANA, "#reply refund-polcy\nI started it myself."))
    cycle(team)
    assert answers_to_carol(team) == []
    error = text_of(team.inbox("ana@northwind.example")[-1])
    assert "no saved reply named 'refund-polcy'" in error and "refund-policy" in error

    team.deliver(reply(to_ana, ANA, "#reply refund-policy\nI started it myself.\n\nAna"))
    cycle(team)
    (answer,) = answers_to_carol(team)
    assert answer.startswith("Hi Carol,\n\nRefunds for [#1] take 5 to 10 days.\n\nI started it myself.")
    assert "#reply" not in answer

    client = api(team)
    (listed,) = client.get("/saved-replies").json()
    assert listed["usage"] == "#reply refund-policy" and listed["preview"].startswith("Hi Ada,")
    page = client.get("/saved-replies/page")
    assert page.status_code == 200 and "#reply refund-policy" in page.text and "Refunds for [#42]" in page.text
