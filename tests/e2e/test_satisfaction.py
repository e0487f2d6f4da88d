"""Customer satisfaction end to end with real servers (a private Dovecot, a real aiosmtpd): an agent solves a
ticket through the relay → the customer's copy asks "How did we do?" with three signed links → a GET shows a
page and records nothing (link scanners follow links) → a POST to the bad link records it on the ticket and
the timeline → the assignee is told by mail → /reports/satisfaction and the reports page show it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from inboxcrm import bootstrap
from inboxcrm.adapters.db import tables as t
from inboxcrm.config import parse_settings
from inboxcrm.web.app import create_app
from tests.e2e.test_support_desk import CAROL, PASSWORD_ENV, Desk, reply, text_of
from tests.support.clock import Clock
from tests.support.desk import ANA, BEN, desk_config, smtp_outbox, support_mailbox
from tests.support.dovecot import Dovecot
from tests.support.mail import mail
from tests.support.smtpd import SmtpServer

pytestmark = pytest.mark.imap
TOKEN = "reports-token"
LINK = re.compile(r"(Good, I'm satisfied|Okay|Bad, I'm not satisfied): (https://crm\.northwind\.example/\S+)")


def _desk(tmp_path: Path, dovecot: Dovecot, smtp_server: SmtpServer, survey: str) -> Iterator[Desk]:
    folder = f"s{uuid.uuid4().hex[:10]}"
    dovecot.create_folder(folder)
    config = f"""
[database]
url = "sqlite:///{tmp_path / "inboxcrm.db"}"

[team]
domains = ["northwind.example"]

[campaigns]
public_url = "https://crm.northwind.example"

{support_mailbox(dovecot, folder, PASSWORD_ENV, f'survey = "{survey}"', 'timeout = "10s"')}
{desk_config(ANA, BEN, secret="csat-secret", outbox=smtp_outbox(smtp_server, timeout="10s"))}
"""
    file = tmp_path / "inboxcrm.toml"
    file.write_text(config)
    environ = {PASSWORD_ENV: dovecot.password}
    clock = Clock(datetime.now(UTC).replace(microsecond=0))
    app = bootstrap.build(parse_settings(config, str(file), environ), clock=clock)
    bootstrap.prepare_database(app)
    [poller] = bootstrap.pollers(app, environ)
    with poller.open_source() as source:
        poller.poll_once(source)
    yield Desk(app, poller, dovecot, folder, smtp_server, clock)
    app.close()


@pytest.fixture
def desk(tmp_path: Path, dovecot: Dovecot, smtp_server: SmtpServer) -> Iterator[Desk]:
    yield from _desk(tmp_path, dovecot, smtp_server, "reply")


@pytest.fixture
def mail_desk(tmp_path: Path, dovecot: Dovecot, smtp_server: SmtpServer) -> Iterator[Desk]:
    yield from _desk(tmp_path, dovecot, smtp_server, "mail")


def web(desk: Desk) -> TestClient:
    app = create_app(desk.app.reads, tokens={TOKEN: "lead"}, features=bootstrap.features(desk.app))
    return TestClient(app, base_url="https://crm.northwind.example")


def solve(desk: Desk) -> dict[str, str]:
    """Carol writes, Ana solves it with her answer; the survey links Carol got, by answer."""
    desk.deliver(mail(from_=CAROL, subject="Printer on fire", message_id="c1@acme-corp.example", date=None))
    desk.cycle()
    (notification,) = desk.inbox("ana@northwind.example")
    desk.deliver(reply(notification, "ana@northwind.example", "#assign me\n#close\n\nUnplug it, Carol.\n\nAna"))
    desk.cycle()
    return dict(LINK.findall("\n".join(text_of(m) for m in desk.inbox("carol@acme-corp.example"))))


def test_solved_survey_bad_rating_assignee_told_and_reported(desk: Desk) -> None:
    links = solve(desk)
    (answer,) = desk.inbox("carol@acme-corp.example")  # one mail: the survey is below Ana's answer
    text = text_of(answer)
    assert text.index("Unplug it, Carol.") < text.index("How did we do?")
    assert set(links) == {"Good, I'm satisfied", "Okay", "Bad, I'm not satisfied"}
    assert desk.ticket().status == "solved"
    bad = links["Bad, I'm not satisfied"].removeprefix("https://crm.northwind.example")

    with web(desk) as client:
        page = client.get(bad)  # a link scanner, or Carol opening the link: a page, no vote
        assert page.status_code == 200 and 'value="bad" checked' in page.text
        with desk.app.engine.connect() as c:
            assert c.execute(select(t.satisfaction.c.rating)).scalar() is None
        assert client.get(bad[:-2] + "xx").status_code == 404  # a forged link

        done = client.post(bad, data={"comment": "It took three days."})
        assert done.status_code == 200 and "Bad" in done.text
        with desk.app.engine.connect() as c:
            row = c.execute(select(t.satisfaction)).one()
            events = c.execute(select(t.timeline_events.c.summary).where(t.timeline_events.c.kind == "csat_rated"))
            summaries = list(events.scalars())
        assert (row.rating, row.comment, row.assignee) == ("bad", "It took three days.", "ana")
        assert summaries == ["Ticket #1 rated bad by the customer: It took three days."]

        desk.cycle()
        told = [m for m in desk.inbox("ana@northwind.example") if "Rated bad" in str(m["Subject"])]
        assert len(told) == 1 and "It took three days." in text_of(told[0])
        assert not [m for m in desk.inbox("ben@northwind.example") if "Rated bad" in str(m["Subject"])]

        desk.clock.now += timedelta(minutes=5)  # reports run to now (exclusive)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        report = client.get("/reports/satisfaction", headers=headers).json()
        assert report["overall"] == {"good": 0, "okay": 0, "bad": 1, "total": 1, "csat": 0}
        assert [(a["name"], a["bad"]) for a in report["agents"]] == [("ana", 1)]
        assert [(q["name"], q["bad"]) for q in report["queues"]] == [("support", 1)]
        page = client.get("/reports/page", headers=headers)
        assert "CSAT 0%" in page.text and "It took three days." in page.text

        # Carol thinks better of it: the good link changes the rating, and nobody is mailed again
        client.post(links["Good, I'm satisfied"].removeprefix("https://crm.northwind.example"), data={})
        desk.clock.now += timedelta(minutes=5)
        assert client.get("/reports/satisfaction", headers=headers).json()["overall"]["csat"] == 100
    desk.cycle()
    assert len([m for m in desk.inbox("ana@northwind.example") if "Rated bad" in str(m["Subject"])]) == 1


def test_a_mail_of_its_own_after_the_answer_and_asked_once(mail_desk: Desk) -> None:
    links = solve(mail_desk)
    answer, survey = mail_desk.inbox("carol@acme-corp.example")
    assert "How did we do?" not in text_of(answer) and "How did we do?" in text_of(survey)
    assert survey["Auto-Submitted"] == "auto-generated" and survey["Subject"] == "Re: Printer on fire [#1]"
    assert len(links) == 3
    # Carol writes again, Ana solves it again: she is not asked twice
    mail_desk.deliver(reply(answer, CAROL, "Still smoking."))
    mail_desk.cycle()
    notification = mail_desk.inbox("ana@northwind.example")[-1]
    mail_desk.deliver(reply(notification, "ana@northwind.example", "#close\n\nThen call the fire brigade."))
    mail_desk.cycle()
    assert sum("How did we do?" in text_of(m) for m in mail_desk.inbox("carol@acme-corp.example")) == 1


def test_no_survey_to_a_list_or_an_unsubscribed_customer(desk: Desk) -> None:
    desk.deliver(
        mail(
            from_="Acme Announce <announce@acme-corp.example>",
            subject="Newsletter",
            message_id="l1@acme-corp.example",
            date=None,
            headers={"List-Id": "<announce.acme-corp.example>"},
        )
    )
    with desk.app.store.transaction() as tx:
        tx.suppress("dave@acme-corp.example", "unsubscribed", None, desk.clock())
    desk.deliver(
        mail(from_="Dave <dave@acme-corp.example>", subject="Help", message_id="d1@acme-corp.example", date=None)
    )
    desk.cycle()
    for notification in desk.inbox("ana@northwind.example"):
        desk.deliver(reply(notification, "ana@northwind.example", "#close\n\nDone."))
    desk.cycle()
    sent = desk.inbox("announce@acme-corp.example") + desk.inbox("dave@acme-corp.example")
    assert not any("How did we do?" in text_of(m) for m in sent)
    with desk.app.engine.connect() as c:
        skipped = set(
            c.execute(select(t.timeline_events.c.summary).where(t.timeline_events.c.kind == "csat_skipped")).scalars()
        )
        assert c.execute(select(t.satisfaction)).all() == []
    assert any("unsubscribed" in s for s in skipped)


def test_off_by_default(tmp_path: Path, dovecot: Dovecot, smtp_server: SmtpServer) -> None:
    for off in _desk(tmp_path, dovecot, smtp_server, "off"):
        assert solve(off) == {}
        assert off.ticket().status == "solved"
