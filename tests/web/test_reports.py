"""The report routes over the real report queries, on SQLite and PostgreSQL.

One desk is worked through the real ingest (customer mail opens tickets, agents answer through the relay or
directly, `tick_tickets` records breaches, scoring moves contacts to a stage); the rest is inserted row by
row so that medians, percentiles, day boundaries and funnels can be checked against numbers worked out by
hand. Percentiles are nearest-rank: the p-th of n sorted values is the one at rank ceil(p·n/100).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import Depends, FastAPI, Header, HTTPException
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, insert

from inboxcrm import bootstrap
from inboxcrm.adapters.db import migrate
from inboxcrm.adapters.db import tables as t
from inboxcrm.adapters.db.reports import SqlReports
from inboxcrm.adapters.db.store import make_engine
from inboxcrm.core.model import MailboxKind, MailboxProfile
from inboxcrm.core.ports import FetchedMessage
from inboxcrm.core.reply_tokens import relay_address
from inboxcrm.core.reports import CampaignFunnel, CampaignStep, PipelineStage
from inboxcrm.services.desk import tick_tickets
from inboxcrm.web.auth import Scope
from inboxcrm.web.reports import report_routes
from tests.conftest import make_settings
from tests.support.desk import ANA, BEN, desk_config
from tests.support.mail import mail

SUPPORT = MailboxProfile("support", MailboxKind.SUPPORT, frozenset({"support@northwind.example"}))
SECRET = "test-secret"
STAGES = ("subscriber", "lead", "mql", "sql", "customer")
NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
DESK = (
    desk_config(ANA, BEN, secret=SECRET)
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


def client_for(reports: SqlReports, require: Any = None) -> TestClient:
    app = FastAPI()
    require = require or (lambda scope: Depends(lambda: None))
    app.include_router(report_routes(reports, require=require, stages=STAGES, now=lambda: NOW))
    return TestClient(app)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- a desk worked through the real ingest ----------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 10, 5, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def desk(tmp_path: Path, database_url: str) -> Iterator[tuple[bootstrap.App, Clock]]:
    clock = Clock()
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


# --- rows written directly, for exact figures -------------------------------------------------------------


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


class Rows:
    """Writes tickets and contacts straight into the tables."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        with engine.begin() as c:
            self.thread = c.execute(
                insert(t.threads).returning(t.threads.c.id),
                {"subject": "x", "mailbox": "support", "created_at": NOW, "last_message_at": NOW},
            ).scalar_one()
        self.tickets: list[dict[str, Any]] = []
        self.contacts: list[dict[str, Any]] = []
        self.events: list[tuple[int, datetime, str, str]] = []

    def ticket(
        self,
        created: datetime,
        queue: str | None = "support",
        first: float | None = None,
        solved: float | None = None,
        **columns: Any,
    ) -> None:
        """A ticket answered `first` and solved `solved` seconds after it opened."""
        row = {
            "thread_id": self.thread,
            "mailbox": "support",
            "subject": "s",
            "status": "open",
            "created_at": created,
            "updated_at": created,
            "queue": queue,
            "priority": "normal",
            "assignee": None,
            "first_response_at": created + timedelta(seconds=first) if first is not None else None,
            "solved_at": created + timedelta(seconds=solved) if solved is not None else None,
            "first_response_breached_at": None,
            "resolution_breached_at": None,
        }
        self.tickets.append(row | columns)

    def contact(self, score: float = 0.0, stage: str | None = None, created: datetime = NOW) -> int:
        self.contacts.append(
            {
                "email": f"c{len(self.contacts) + 1}@example.org",
                "name": "",
                "undeliverable": False,
                "created_at": created,
                "score": score,
                "stage": stage,
            }
        )
        return len(self.contacts)

    def event(self, contact: int, moment: datetime, summary: str, kind: str = "stage_changed") -> None:
        self.events.append((contact, moment, kind, summary))

    def save(self) -> None:
        with self.engine.begin() as c:
            if self.tickets:
                c.execute(insert(t.tickets), self.tickets)
            ids: list[int] = []
            if self.contacts:
                ids = list(c.execute(insert(t.contacts).returning(t.contacts.c.id, sort_by_parameter_order=True),
                                     self.contacts).scalars())  # fmt: skip
            if self.events:
                c.execute(
                    insert(t.timeline_events),
                    [{"contact_id": ids[n - 1], "at": m, "kind": k, "summary": s} for n, m, k, s in self.events],
                )


RANGE = (at("2026-11-01 00:00"), at("2026-11-08 00:00"))
IN = at("2026-11-03 08:00")


def test_medians_and_90th_percentiles_per_queue_and_overall(engine: Engine) -> None:
    rows = Rows(engine)
    for n in range(1, 11):  # billing answered after 60, 120 … 600 s, in no particular order
        rows.ticket(IN + timedelta(minutes=(7 * n) % 11), "billing", first=60 * ((n * 3) % 10 + 1))
    for seconds in (3600, 86400, 7200):
        rows.ticket(IN, "billing", solved=seconds)
    rows.ticket(IN, "support", first=200)
    rows.ticket(IN, "support", first=50000)
    rows.ticket(IN, "support", first=100)
    rows.ticket(IN, "support")  # not answered: no first response at all
    rows.ticket(IN, None, first=400.25)  # from before queues: counts under its mailbox, "support"
    rows.ticket(RANGE[0] - timedelta(seconds=1), "support", first=1, solved=1)  # opened before the range
    rows.ticket(RANGE[1], "support", first=1, solved=1)  # the range ends before it
    rows.save()
    times = {r.queue: r for r in SqlReports(engine).response_times(*RANGE)}
    assert list(times) == [None, "billing", "support"]
    # billing: 60 … 600 (10 values): median rank 5 → 300, p90 rank 9 → 540; resolutions 3600, 7200, 86400
    assert (times["billing"].first_response.median, times["billing"].first_response.p90) == (300.0, 540.0)
    assert times["billing"].first_response.tickets == 10
    assert (times["billing"].resolution.tickets, times["billing"].resolution.median) == (3, 7200.0)
    assert times["billing"].resolution.p90 == 86400.0
    # support: 100, 200, 400.25, 50000: median rank 2 → 200, p90 rank ceil(3.6) = 4 → 50000; none solved
    support = times["support"]
    assert (support.first_response.tickets, support.first_response.median, support.first_response.p90) == (
        4,
        200.0,
        50000.0,
    )
    assert (support.resolution.tickets, support.resolution.median, support.resolution.p90) == (0, None, None)
    # overall, 14 values: 60 100 120 180 200 240 300 360 400.25 420 480 540 600 50000 → rank 7 = 300, rank 13 = 600
    overall = times[None]
    assert (overall.first_response.tickets, overall.first_response.median, overall.first_response.p90) == (
        14,
        300.0,
        600.0,
    )
    assert (overall.resolution.median, overall.resolution.p90) == (7200.0, 86400.0)


def nearest_rank(values: list[float], percent: int) -> float:
    ordered = sorted(values)
    return ordered[-(-percent * len(ordered) // 100) - 1]


def test_percentiles_agree_with_the_nearest_rank_definition_on_random_data(engine: Engine) -> None:
    rng = random.Random(5)
    rows = Rows(engine)
    firsts: dict[str, list[float]] = {"a": [], "b": [], "c": []}
    for _ in range(300):
        queue = rng.choice("abc")
        first = float(rng.randint(1, 100_000))
        firsts[queue].append(first)
        rows.ticket(IN + timedelta(seconds=rng.randint(0, 86400)), queue, first=first)
    rows.save()
    found = {r.queue: r.first_response for r in SqlReports(engine).response_times(*RANGE)}
    everything = [v for values in firsts.values() for v in values]
    expected: list[tuple[str | None, list[float]]] = [*firsts.items(), (None, everything)]
    for name, values in expected:
        stats = found[name]
        assert (stats.tickets, stats.median, stats.p90) == (
            len(values),
            nearest_rank(values, 50),
            nearest_rank(values, 90),
        )


def test_no_tickets_in_the_range_gives_empty_figures(engine: Engine) -> None:
    client = client_for(SqlReports(engine))
    times = client.get("/reports/response-times").json()
    empty = {"tickets": 0, "median_seconds": None, "p90_seconds": None}
    assert times["overall"] == {"first_response": empty, "resolution": empty} and times["queues"] == []
    assert client.get("/reports/tickets").json()["days"] == []
    assert client.get("/reports/sla").json()["breaches"] == []
    assert client.get("/reports/agents").json()["agents"] == []
    funnel = client.get("/reports/funnel").json()
    assert [s["contacts"] for s in funnel["stages"]] == [0] * 5 and funnel["unstaged"] == 0


def test_ticket_volume_is_counted_per_utc_day(database_url: str, engine: Engine) -> None:
    rows = Rows(engine)
    rows.ticket(at("2026-11-01 23:59:59"), "support")
    rows.ticket(at("2026-11-02 00:00:00"), "support")
    rows.ticket(at("2026-11-01 23:30"), "billing")  # 00:30 on the 2nd in Berlin, 12:30 in Auckland
    rows.ticket(at("2026-11-02 12:00"), "billing")
    rows.ticket(at("2026-11-02 12:00"), None)  # under its mailbox
    rows.ticket(at("2026-10-31 23:59:59"), "support")  # before the range
    rows.save()
    # a PostgreSQL session in another time zone still counts UTC days
    local = (
        create_engine(database_url, connect_args={"options": "-c timezone=Pacific/Auckland"})
        if database_url.startswith("postgresql")
        else engine
    )
    try:
        client = client_for(SqlReports(local))
        body = client.get("/reports/tickets", params={"since": "2026-11-01", "until": "2026-11-02"}).json()
    finally:
        local.dispose() if local is not engine else None
    assert body["since"] == "2026-11-01T00:00:00Z" and body["until"] == "2026-11-03T00:00:00Z"
    assert body["days"] == [
        {"day": "2026-11-01", "queue": "billing", "tickets": 1},
        {"day": "2026-11-01", "queue": "support", "tickets": 1},
        {"day": "2026-11-02", "queue": "billing", "tickets": 1},
        {"day": "2026-11-02", "queue": "support", "tickets": 2},
    ]
    assert body["queues"] == {"billing": 2, "support": 3} and body["total"] == 5


def test_sla_breaches_per_queue_and_priority(engine: Engine) -> None:
    rows = Rows(engine)
    before = at("2026-10-20 09:00")  # opened long before the range: its breaches still count when they fall in it
    rows.ticket(before, "support", priority="high", first_response_breached_at=at("2026-11-02 10:00"))
    rows.ticket(IN, "support", priority="high", first_response_breached_at=IN, resolution_breached_at=IN)
    rows.ticket(IN, "support", priority="normal", resolution_breached_at=IN)
    rows.ticket(IN, "billing", priority="normal", first_response_breached_at=IN)
    rows.ticket(IN, "billing", priority="normal", first_response_breached_at=at("2026-10-31 23:00"))  # too early
    rows.ticket(IN, "billing", priority="low")  # no breach: not listed
    rows.save()
    body = client_for(SqlReports(engine)).get("/reports/sla", params={"since": "2026-11-01"}).json()
    assert (body["first_response"], body["resolution"]) == (3, 2)
    assert body["breaches"] == [
        {"queue": "billing", "priority": "normal", "first_response": 1, "resolution": 0},
        {"queue": "support", "priority": "high", "first_response": 2, "resolution": 1},
        {"queue": "support", "priority": "normal", "first_response": 0, "resolution": 1},
    ]


def test_agent_load(engine: Engine) -> None:
    rows = Rows(engine)
    old = at("2026-09-01 09:00")
    for status in ("new", "open", "pending", "solved", "closed"):
        rows.ticket(old, assignee="ana", status=status)  # open now: the first three; none opened in the range
    rows.ticket(old, assignee="ana", status="closed", solved_at=IN)  # solved in the range
    rows.ticket(IN, assignee="ben", status="open")
    rows.ticket(IN, assignee="ben", status="solved", solved_at=IN + timedelta(hours=1))
    rows.ticket(IN, assignee="ben", status="solved", solved_at=RANGE[1])  # solved after the range
    rows.ticket(IN, assignee=None, status="new")
    rows.ticket(old, assignee="cy", status="closed", solved_at=old)  # nothing to show: not listed
    rows.save()
    loads = [(a.assignee, a.open_now, a.assigned, a.solved) for a in SqlReports(engine).agent_load(*RANGE)]
    assert loads == [("ana", 3, 0, 1), ("ben", 1, 3, 1), (None, 1, 1, 0)]


def test_the_lead_funnel(engine: Engine) -> None:
    rows = Rows(engine)
    c1, c2, c3 = rows.contact(stage="mql"), rows.contact(stage="lead"), rows.contact(stage="lead")
    c4, c5, c6 = rows.contact(stage="customer"), rows.contact(), rows.contact(stage="legacy")
    rows.event(c1, IN, "Stage (none) → lead: score 11 reached 10")  # scoring's words
    rows.event(c1, IN, "Stage lead → mql")  # a rule's words; "lead" here is where it came from
    rows.event(c2, IN, "Stage (none) → lead")
    rows.event(c2, IN + timedelta(hours=1), "Stage mql → lead")  # c2 reached lead twice: counted once
    rows.event(c3, RANGE[0] - timedelta(seconds=1), "Stage (none) → lead")  # before the range
    rows.event(c4, IN, "Stage sql → customer")
    rows.event(c5, IN, "Stage (none) → Lead")  # another stage: names are exact
    rows.event(c5, IN, "Score +5 → lead", kind="score_changed")  # not a stage change
    rows.event(c6, IN, "Stage (none) → legacy")
    rows.save()
    funnel = SqlReports(engine).lead_funnel(*RANGE, STAGES)
    assert [(s.stage, s.contacts, s.reached) for s in funnel.stages] == [
        ("subscriber", 0, 0),
        ("lead", 2, 2),
        ("mql", 1, 1),
        ("sql", 0, 0),
        ("customer", 1, 1),
        ("legacy", 1, 1),  # a stage no longer configured comes last
    ]
    assert funnel.unstaged == 1


def test_score_histogram(engine: Engine) -> None:
    rows = Rows(engine)
    old = at("2026-01-01 00:00")
    for score in (-5, 0, 9.99, 10, 55, 100, 250):
        rows.contact(score=score, created=IN if score in (0, 100) else old)
    rows.save()
    client = client_for(SqlReports(engine))
    buckets = client.get("/reports/scores", params={"since": "2026-11-01", "until": "2026-11-07"}).json()["buckets"]
    counts = [(b["low"], b["high"], b["contacts"], b["new_contacts"]) for b in buckets]
    assert counts == [
        (None, 0.0, 1, 0),
        (0.0, 10.0, 2, 1),
        (10.0, 20.0, 1, 0),
        *[(float(low), float(low + 10), 0, 0) for low in range(20, 50, 10)],
        (50.0, 60.0, 1, 0),
        *[(float(low), float(low + 10), 0, 0) for low in range(60, 100, 10)],
        (100.0, None, 2, 1),
    ]
    custom = client.get("/reports/scores", params={"edges": "0, 50"}).json()["buckets"]
    assert [(b["low"], b["high"], b["contacts"]) for b in custom] == [(None, 0.0, 1), (0.0, 50.0, 3), (50.0, None, 3)]


def test_campaign_funnel_and_pipeline(engine: Engine) -> None:
    rows = Rows(engine)
    contact = rows.contact()
    rows.save()
    enrolments = [  # (status, next step, exit reason, steps sent)
        ("active", 2, None, 1),
        ("finished", 3, None, 2),
        ("exited", 2, "replied", 1),  # a reply counts against the last step sent: 1
    ]
    mail: list[dict[str, Any]] = []
    with engine.begin() as c:
        for n, (status, step, reason, sent) in enumerate(enrolments, start=1):
            c.execute(
                insert(t.enrolments),
                {"id": n, "contact_id": contact, "campaign": "welcome", "status": status, "source": "tag",
                 "enrolled_at": IN, "step": step, "exit_reason": reason},
            )  # fmt: skip
            for s in range(1, sent + 1):
                mail.append({"key": f"w-{n}-{s}", "status": "sent", "step": s, "enrolment_id": n})
        mail.append({"key": "w-1-2", "status": "failed", "step": 2, "enrolment_id": 1})  # not sent: not counted
        c.execute(
            insert(t.outbox),
            [
                m | {"kind": "campaign", "message_id": f"<{m['key']}@x>", "sender": "s@x", "recipients": ["c@x"],
                     "raw": b"", "automatic": False, "next_attempt_at": IN, "created_at": IN, "campaign": "welcome"}
                for m in mail
            ],
        )  # fmt: skip
        deals = [("qualified", 1000.0), ("qualified", 500.0), ("won", None), ("legacy", 300.0)]
        c.execute(
            insert(t.deals),
            [{"name": f"d{n}", "value": v, "stage": st, "contact_id": contact, "created_at": IN, "updated_at": IN}
             for n, (st, v) in enumerate(deals)],
        )  # fmt: skip
    reports = SqlReports(engine)
    assert reports.campaign_funnel() == [
        CampaignFunnel(
            "welcome",
            3,
            active=1,
            completed=1,
            left=1,
            steps=(CampaignStep(1, 3, 1, 0, 0), CampaignStep(2, 1, 0, 0, 0)),
        )
    ]
    assert reports.pipeline(("qualified", "demo", "won")) == [
        PipelineStage("qualified", 2, 1500.0),
        PipelineStage("demo", 0, 0.0),
        PipelineStage("won", 1, 0.0),
        PipelineStage("legacy", 1, 300.0),  # a stage no longer configured comes last
    ]


# --- the range, and what the routes refuse ----------------------------------------------------------------


def test_the_range_defaults_to_the_last_30_days_and_reads_dates_and_times(engine: Engine) -> None:
    client = client_for(SqlReports(engine))
    body = client.get("/reports/agents").json()
    assert (body["since"], body["until"]) == ("2026-10-11T12:00:00Z", "2026-11-10T12:00:00Z")
    body = client.get("/reports/agents", params={"since": "2026-11-01T10:00:00+02:00"}).json()
    assert (body["since"], body["until"]) == ("2026-11-01T08:00:00Z", "2026-11-10T12:00:00Z")
    body = client.get("/reports/agents", params={"until": "2026-11-01T10:00:00"}).json()  # no offset: UTC
    assert (body["since"], body["until"]) == ("2026-10-02T10:00:00Z", "2026-11-01T10:00:00Z")
    # a "+" the client forgot to encode arrives as a space
    body = client.get("/reports/agents?since=2026-11-01T10:00:00+02:00").json()
    assert body["since"] == "2026-11-01T08:00:00Z"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"since": "yesterday"}, "since: 'yesterday' is not an ISO 8601 date"),
        ({"until": "2026-13-01"}, "until: '2026-13-01' is not an ISO 8601 date"),
        ({"since": "2026-11-05", "until": "2026-11-04"}, "must be before until"),
        ({"since": "2026-11-05T00:00:00Z", "until": "2026-11-05T00:00:00Z"}, "must be before until"),
        ({"until": "9999-12-31"}, "until: '9999-12-31' is out of range"),
        ({"until": "9999-12-31T23:00:00-05:00"}, "is out of range"),
        ({"until": "0001-01-05"}, "give since"),
    ],
)
def test_bad_dates_are_422_with_a_clear_message(engine: Engine, params: dict[str, str], message: str) -> None:
    client = client_for(SqlReports(engine))
    for path in ("/reports/tickets", "/reports/response-times", "/reports/sla", "/reports/agents",
                 "/reports/funnel", "/reports/scores"):  # fmt: skip
        response = client.get(path, params=params)
        assert response.status_code == 422, path
        assert message in response.json()["detail"]


@pytest.mark.parametrize(
    ("edges", "message"),
    [("0,ten", "not a comma-separated list of numbers"), ("10,0", "strictly increasing"), ("0,nan", "finite")],
)
def test_bad_score_edges_are_422(engine: Engine, edges: str, message: str) -> None:
    response = client_for(SqlReports(engine)).get("/reports/scores", params={"edges": edges})
    assert response.status_code == 422 and message in response.json()["detail"]


def test_every_report_needs_the_read_scope(engine: Engine) -> None:
    asked: list[Scope] = []

    def require(scope: Scope) -> Any:
        asked.append(scope)

        def check(x_scope: str = Header("")) -> None:
            if x_scope != "read":
                raise HTTPException(status_code=403, detail="no")

        return Depends(check)

    client = client_for(SqlReports(engine), require)
    assert asked == [Scope.READ]
    for path in ("/reports/tickets", "/reports/response-times", "/reports/sla", "/reports/agents",
                 "/reports/funnel", "/reports/scores"):  # fmt: skip
        assert client.get(path).status_code == 403
        assert client.get(path, headers={"X-Scope": "read"}).status_code == 200
