"""The report routes over the real report queries, on SQLite and PostgreSQL, for one desk worked through the
real ingest: customer mail opens tickets, agents answer through the relay or directly, `tick_tickets`
records breaches, scoring moves contacts to a stage. Exact figures from rows written directly:
tests/web/test_report_figures.py; what the routes accept and refuse: tests/web/test_report_routes.py.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from inboxcrm import bootstrap
from inboxcrm.adapters.db import migrate
from inboxcrm.adapters.db.reports import SqlReports
from inboxcrm.core.model import MailboxKind, MailboxProfile
from inboxcrm.core.ports import FetchedMessage
from inboxcrm.core.reply_tokens import relay_address
from inboxcrm.services.desk import tick_tickets
from tests.conftest import make_settings
from tests.support.clock import Clock
from tests.support.desk import ANA, BEN, desk_config
from tests.support.mail import mail
from tests.web.reports_support import at, client_for

SUPPORT = MailboxProfile("support", MailboxKind.SUPPORT, frozenset({"support@northwind.example"}))
SECRET = "test-secret"
DESK = (
    # unsigned Cc replies are the agents' answers here; authentication is tested in tests/*/test_agent_mail.py
    desk_config(ANA, BEN, secret=SECRET, agent_mail="from-header")
    + """
[sla]
timezone = "UTC"

[sla.targets]
normal = { first_response = "4h", resolution = "2d" }

[scoring]
stages = { lead = 10, mql = 30 }

[scoring.signals]
company_domain = 10
message_in = 1
"""
)


@pytest.fixture
def desk(tmp_path: Path, database_url: str) -> Iterator[tuple[bootstrap.App, Clock]]:
    clock = Clock(datetime(2026, 11, 2, 10, 5, tzinfo=UTC))
    app = bootstrap.build(make_settings(tmp_path, database_url, DESK), clock=clock)
    migrate.upgrade(app.engine)
    yield app, clock
    app.close()


_uid = itertools.count(1)


def ingest(app: bootstrap.App, raw: bytes) -> None:
    app.ingest.ingest_batch(SUPPORT, "INBOX", 1, [FetchedMessage(next(_uid), raw)])


def smtp_date(moment: str) -> str:
    return at(moment).strftime("%a, %d %b %Y %H:%M:%S +0000")


def customer(sender: str, subject: str, moment: str) -> bytes:
    local = sender.partition("<")[2].partition("@")[0]
    return mail(from_=sender, subject=subject, message_id=f"{local}@customer.example", date=smtp_date(moment))


def relayed(ticket: int, text: str, moment: str, mid: str) -> bytes:
    to = relay_address("support@northwind.example", ticket, False, date(2027, 1, 1), SECRET.encode())
    return mail(
        from_="Ana <ana@northwind.example>",
        to=to,
        subject=f"Re: [#{ticket}] New ticket",
        message_id=f"{mid}@northwind.example",
        body=text + "\n",
        date=smtp_date(moment),
    )


def test_the_reports_of_a_desk_worked_by_mail(desk: tuple[bootstrap.App, Clock]) -> None:
    app, clock = desk
    ingest(app, customer("Carol <carol@acme-corp.example>", "Printer on fire", "2026-11-02 10:00"))  # #1
    ingest(app, customer("Dave <dave@globex.example>", "Invoice wrong", "2026-11-02 11:00"))  # #2
    ingest(app, customer("Erin <erin@initech.example>", "Cannot log in", "2026-11-02 12:00"))  # #3
    ingest(app, relayed(1, "#assign ana\nHi Carol, please unplug it.", "2026-11-02 10:30", "r1"))  # 30 min
    ingest(app, relayed(1, "#close\nAll done, Carol.", "2026-11-02 12:00", "r2"))  # solved after 2 h
    ingest(app, relayed(2, "#assign ana\nHello Dave, looking into it.", "2026-11-02 13:00", "r3"))  # 2 h
    clock.now = at("2026-11-03 09:05")  # contacts are created when their first mail is stored
    ingest(app, customer("Frank <frank@umbrella.example>", "Broken link", "2026-11-03 09:00"))  # #4
    direct = mail(  # ben answers Frank himself, the shared address in Cc: 10 min, and solved with it
        from_="Ben <ben@northwind.example>",
        to="Frank <frank@umbrella.example>",
        cc="support@northwind.example",
        subject="Re: Broken link",
        message_id="b1@northwind.example",
        in_reply_to="frank@customer.example",
        body="#assign me\n#close\nHi Frank, fixed.\n",
        date=smtp_date("2026-11-03 09:10"),
    )
    ingest(app, direct)
    # Nobody answers Erin: first response due 16:00 on the 2nd; Dave's and Erin's 2-day resolution targets pass
    clock.now = at("2026-11-05 00:00")
    tick_tickets(app.store, app.support, clock.now)

    client = client_for(SqlReports(app.engine))
    week = {"since": "2026-11-01", "until": "2026-11-07"}

    volume = client.get("/reports/tickets", params=week).json()
    assert volume["total"] == 4 and volume["queues"] == {"support": 4}
    assert volume["days"] == [
        {"day": "2026-11-02", "queue": "support", "tickets": 3},
        {"day": "2026-11-03", "queue": "support", "tickets": 1},
    ]

    times = client.get("/reports/response-times", params=week).json()
    # first responses 30 min, 2 h, 10 min (Erin: none); resolutions 2 h, 10 min
    first = {"tickets": 3, "median_seconds": 1800.0, "p90_seconds": 7200.0}
    solved = {"tickets": 2, "median_seconds": 600.0, "p90_seconds": 7200.0}
    assert times["overall"] == {"first_response": first, "resolution": solved}
    assert times["queues"] == [{"queue": "support", "first_response": first, "resolution": solved}]
    third = client.get("/reports/response-times", params={"since": "2026-11-03", "until": "2026-11-03"}).json()
    assert third["overall"]["first_response"] == {"tickets": 1, "median_seconds": 600.0, "p90_seconds": 600.0}

    sla = client.get("/reports/sla", params=week).json()
    assert (sla["first_response"], sla["resolution"]) == (1, 2)
    assert sla["breaches"] == [{"queue": "support", "priority": "normal", "first_response": 1, "resolution": 2}]
    # breaches count when they happen: Dave's at 11:00 on the 4th, Erin's at 12:00 (a range starts inclusive)
    late = client.get("/reports/sla", params={"since": "2026-11-04T12:00:00Z", "until": "2026-11-06"}).json()
    assert (late["first_response"], late["resolution"]) == (0, 1)

    agents = client.get("/reports/agents", params=week).json()["agents"]
    assert agents == [
        {"assignee": "ana", "open": 1, "assigned": 2, "solved": 1},
        {"assignee": "ben", "open": 0, "assigned": 1, "solved": 1},
        {"assignee": None, "open": 1, "assigned": 1, "solved": 0},
    ]

    # scoring: 10 for a company domain + 1 for the message moves each customer to "lead" when they write
    funnel = client.get("/reports/funnel", params=week).json()
    assert [(s["stage"], s["contacts"], s["reached"]) for s in funnel["stages"]] == [
        ("subscriber", 0, 0),
        ("lead", 4, 4),
        ("mql", 0, 0),
        ("sql", 0, 0),
        ("customer", 0, 0),
    ]
    assert funnel["unstaged"] == 0
    later = client.get("/reports/funnel", params={"since": "2026-11-03", "until": "2026-11-07"}).json()
    assert later["stages"][1] == {"stage": "lead", "contacts": 4, "reached": 1}  # Frank

    scores = client.get("/reports/scores", params={"since": "2026-11-03", "edges": "0,10,20"}).json()["buckets"]
    assert scores == [
        {"low": None, "high": 0.0, "contacts": 0, "new_contacts": 0},
        {"low": 0.0, "high": 10.0, "contacts": 0, "new_contacts": 0},
        {"low": 10.0, "high": 20.0, "contacts": 4, "new_contacts": 1},
        {"low": 20.0, "high": None, "contacts": 0, "new_contacts": 0},
    ]
