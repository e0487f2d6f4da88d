"""The report queries' exact figures, on SQLite and PostgreSQL, from tickets, contacts, events, enrolments,
outgoing mail and deals inserted row by row, so that medians, percentiles, day boundaries and funnels can be
checked against numbers worked out by hand. Percentiles are nearest-rank: the p-th of n sorted values is the
one at rank ceil(p·n/100).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, create_engine, insert

from inboxcrm.adapters.db import tables as t
from inboxcrm.adapters.db.reports import SqlReports
from inboxcrm.core.reports import CampaignFunnel, CampaignStep, PipelineStage
from tests.web.reports_support import NOW, STAGES, at, client_for


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
