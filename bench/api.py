"""Are the timeline and the reports fast enough on a big database?

Builds a database with the real migrations, then fills it with bulk INSERTs (executemany in chunks, not
through the ingest, which would take hours): --contacts contacts, --messages messages (each with its raw
row), threads of 4 messages, a ticket for every 5th thread (queues, priorities, agents, first responses,
solutions, SLA due times and breaches), a timeline event for every message plus ticket openings and stage
changes, deals, and campaign enrolments with their sent mail; everything spread over the last 365 days.
Then it measures, with the real read code:
- `SqlReads.timeline`, the first page (51 rows, as the API asks for a page of 50) of --samples random
  contacts that have mail, after a short warm-up;
- each `SqlReports` report over the last 30 days, --repeat times,
and prints p50/p95/max in ms against the aims: timeline p95 < 25 ms, each report p95 < 300 ms.
With --candidate-indexes it then adds the indexes in CANDIDATE_INDEXES to the bench database, one at a time,
measuring again after each (what each would buy in tables.py; the schema itself is not touched).

--db sqlite (a temporary file), postgresql (a temporary database on --postgres, dropped afterwards; ANALYZE
after the load, as autovacuum would do) or both. Quick mode: --messages 100000 --contacts 10000.
Run: `.venv/bin/python bench/api.py [--messages N] [--contacts N] [--db sqlite|postgresql|both]`.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, Table, create_engine, insert, text  # noqa: E402

from inboxcrm.adapters.db import migrate  # noqa: E402
from inboxcrm.adapters.db import tables as t  # noqa: E402
from inboxcrm.adapters.db.reads import SqlReads  # noqa: E402
from inboxcrm.adapters.db.reports import SqlReports  # noqa: E402
from inboxcrm.adapters.db.store import make_engine  # noqa: E402

POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TIMELINE_AIM_MS = 25.0
REPORT_AIM_MS = 300.0
PAGE = 51  # ReadService asks for one more than the page of 50 to know whether there is a next page
CHUNK = 5_000
SPAN = timedelta(days=365)
WINDOW = timedelta(days=30)
QUEUES = ("support", "billing", "tech")
AGENTS = ("ana", "ben", "cy", "dee", "eli", "flo")
PRIORITIES = ("low", "normal", "high", "urgent")
STAGES = ("subscriber", "lead", "mql", "sql", "customer")
DEAL_STAGES = ("qualified", "demo", "proposal", "won", "lost")
CAMPAIGNS = ("welcome", "nurture", "winback")
SCORE_EDGES = tuple(float(edge) for edge in range(0, 101, 10))
TEXT = (
    "Hello team,\n\nthank you for the quick answer yesterday. We tried what you suggested and the export now "
    "runs, but the totals in the second sheet still do not match what the dashboard shows for October. "
    "Could you have another look? I attached the file and a screenshot of the settings we use.\n\n"
) * 3
RAW = b"From: someone@example.org\r\nSubject: bench\r\n\r\n(raw bytes are not read by these queries)\r\n"
# (name, table, columns), in the order --candidate-indexes adds them: the lead funnel scans every timeline
# event for the few `stage_changed` ones without the first, and sorts every contact by stage without the second.
CANDIDATE_INDEXES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("ix_timeline_events_kind_at", "timeline_events", ("kind", "at")),
    ("ix_contacts_stage", "contacts", ("stage",)),
)


@dataclass(frozen=True)
class Sizes:
    messages: int
    contacts: int

    @property
    def threads(self) -> int:
        return math.ceil(self.messages / 4)


@dataclass(frozen=True)
class Result:
    db: str
    query: str
    millis: list[float]
    aim: float

    def quantile(self, q: float) -> float:
        """Nearest rank, like the reports."""
        ordered = sorted(self.millis)
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)]

    @property
    def ok(self) -> bool:
        return self.quantile(0.95) < self.aim


def chunks(rows: Iterable[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def load(engine: Engine, table: Table, rows: Iterable[dict[str, Any]]) -> int:
    count = 0
    for batch in chunks(rows):
        with engine.begin() as connection:
            connection.execute(insert(table), batch)
        count += len(batch)
    return count


class World:
    """The generated data: who owns which thread and when it started, decided once so that messages, tickets
    and events agree."""

    def __init__(self, sizes: Sizes, seed: int, end: datetime) -> None:
        self.sizes, self.end = sizes, end
        self.rng = random.Random(seed)
        # a few contacts write a lot, most a little: the owner's id is skewed towards the small ones
        self.owner = [int(sizes.contacts * self.rng.random() ** 2) + 1 for _ in range(sizes.threads)]
        self.start = [end - SPAN * self.rng.random() for _ in range(sizes.threads)]
        self.stage: dict[int, str | None] = {}
        self.created: dict[int, datetime] = {}

    def contacts(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        for i in range(1, self.sizes.contacts + 1):
            created = self.end - SPAN * rng.random()
            stage = rng.choices((None, *STAGES), weights=(30, 30, 20, 10, 5, 5))[0]
            self.stage[i], self.created[i] = stage, created
            yield {
                "id": i,
                "email": f"person{i}@company{i % 997}.example",
                "name": f"Person {i}",
                "company_id": None,
                "undeliverable": False,
                "created_at": created,
                "score": round(rng.gauss(25, 30), 1),
                "score_at": created,
                "stage": stage,
            }

    def threads(self) -> Iterator[dict[str, Any]]:
        for j, start in enumerate(self.start):
            yield {
                "id": j + 1,
                "subject": f"Question {j}",
                "subject_key": f"question {j}",
                "mailbox": "support" if j % 5 == 0 else "sales",
                "created_at": start,
                "last_message_at": start + timedelta(days=1),
            }

    def message_batches(self) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]]:
        """(raw rows, message rows, timeline events) per chunk of messages."""
        rng = self.rng
        for first in range(0, self.sizes.messages, CHUNK):
            raws: list[dict[str, Any]] = []
            messages: list[dict[str, Any]] = []
            events: list[dict[str, Any]] = []
            for i in range(first, min(first + CHUNK, self.sizes.messages)):
                thread, k = divmod(i, 4)
                sent = min(self.start[thread] + timedelta(hours=6 * k + 6 * rng.random()), self.end)
                inbound = k % 2 == 0
                contact = self.owner[thread]
                mid = f"m{i}@bench.example"
                raws.append(
                    {
                        "id": i + 1,
                        "content_hash": f"{i + 1:064x}",
                        "message_id": mid,
                        "size": len(RAW),
                        "raw": RAW,
                        "first_seen_at": sent,
                    }
                )
                messages.append(
                    {
                        "id": i + 1,
                        "raw_id": i + 1,
                        "thread_id": thread + 1,
                        "contact_id": contact,
                        "mailbox": "support" if thread % 5 == 0 else "sales",
                        "direction": "in" if inbound else "out",
                        "message_id": mid,
                        "in_reply_to": None,
                        "references": [],
                        "subject": f"Re: Question {thread}" if k else f"Question {thread}",
                        "from_email": f"person{contact}@company{contact % 997}.example"
                        if inbound
                        else "ana@team.example",
                        "from_name": "",
                        "to": [{"email": "support@team.example", "name": ""}],
                        "cc": [],
                        "sent_at": sent,
                        "received_at": sent,
                        "text": TEXT,
                        "attachments": [],
                        "headers": {},
                        "defects": [],
                        "kind": "normal",
                        "new_text": TEXT[:300],
                        "ignored": False,
                    }
                )
                events.append(
                    {
                        "contact_id": contact,
                        "at": sent,
                        "kind": "message_in" if inbound else "message_out",
                        "message_id": i + 1,
                        "ticket_id": None,
                        "summary": f"Question {thread}",
                    }
                )
            yield raws, messages, events

    def tickets(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        for j in range(0, self.sizes.threads, 5):
            created = self.start[j]
            age = self.end - created
            first = created + timedelta(seconds=rng.lognormvariate(8.5, 1.2)) if rng.random() < 0.9 else None
            if first is not None and first > self.end:
                first = None
            done = age > timedelta(days=14) or rng.random() < 0.5
            solved = (first or created) + timedelta(seconds=rng.lognormvariate(11, 1)) if done else None
            if solved is not None and solved > self.end:
                solved = None
            status = (
                ("closed" if age > timedelta(days=4) else "solved")
                if solved
                else rng.choice(("new", "open", "pending"))
            )
            if first is None and status in ("open", "pending"):
                status = "new"
            first_due, resolution_due = created + timedelta(hours=4), created + timedelta(days=2)
            first_breach = first_due if (first or self.end) > first_due else None
            resolution_breach = resolution_due if (solved or self.end) > resolution_due else None
            yield {
                "id": j // 5 + 1,
                "thread_id": j + 1,
                "mailbox": "support",
                "contact_id": self.owner[j],
                "subject": f"Question {j}",
                "status": status,
                "created_at": created,
                "updated_at": solved or first or created,
                "queue": rng.choice(QUEUES),
                "priority": rng.choices(PRIORITIES, weights=(20, 60, 15, 5))[0],
                "assignee": rng.choice(AGENTS) if rng.random() < 0.85 else None,
                "first_response_at": first,
                "solved_at": solved,
                "first_response_due": first_due,
                "resolution_due": resolution_due,
                "first_response_breached_at": first_breach,
                "resolution_breached_at": resolution_breach,
            }

    def ticket_events(self) -> Iterator[dict[str, Any]]:
        for j in range(0, self.sizes.threads, 5):
            yield {
                "contact_id": self.owner[j],
                "at": self.start[j],
                "kind": "ticket_opened",
                "message_id": None,
                "ticket_id": j // 5 + 1,
                "summary": f"Ticket #{j // 5 + 1} opened: Question {j}",
            }

    def stage_events(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        for contact, stage in self.stage.items():
            if stage is None:
                continue
            created = self.created[contact]
            moved = created + (self.end - created) * rng.random()
            summary = f"Stage (none) → {stage}: score 12 reached 10" if rng.random() < 0.5 else f"Stage lead → {stage}"
            yield {
                "contact_id": contact,
                "at": moved,
                "kind": "stage_changed",
                "message_id": None,
                "ticket_id": None,
                "summary": summary,
            }

    def deals(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        for n in range(1, self.sizes.contacts // 20 + 1):
            created = self.end - SPAN * rng.random()
            yield {
                "id": n,
                "company_id": None,
                "contact_id": rng.randint(1, self.sizes.contacts),
                "name": f"Deal {n}",
                "value": float(rng.randrange(500, 50_000, 500)),
                "stage": rng.choice(DEAL_STAGES),
                "created_at": created,
                "updated_at": created,
            }

    def enrolments_and_mail(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        rng = self.rng
        enrolments: list[dict[str, Any]] = []
        mail: list[dict[str, Any]] = []
        for n in range(1, self.sizes.contacts // 5 + 1):
            contact = rng.randint(1, self.sizes.contacts)
            enrolled = self.end - SPAN * rng.random()
            sent_steps = rng.randint(0, 3)
            status = rng.choices(("active", "finished", "exited"), weights=(40, 30, 30))[0]
            reason = rng.choice(("replied", "bounced", "unsubscribed", "ticket")) if status == "exited" else None
            enrolments.append(
                {
                    "id": n,
                    "contact_id": contact,
                    "campaign": rng.choice(CAMPAIGNS),
                    "status": status,
                    "source": "tag",
                    "enrolled_at": enrolled,
                    "step": sent_steps + 1,
                    "next_due_at": enrolled + timedelta(days=3 * (sent_steps + 1)) if status == "active" else None,
                    "last_sent_at": None,
                    "exited_at": enrolled + timedelta(days=5) if status == "exited" else None,
                    "exit_reason": reason,
                }
            )
            for step in range(1, sent_steps + 1):
                at = enrolled + timedelta(days=3 * step)
                mail.append(
                    {
                        "key": f"campaign-{n}-{step}",
                        "kind": "campaign",
                        "message_id": f"<c{n}.{step}@bench.example>",
                        "mailbox": "sales",
                        "sender": "sales@team.example",
                        "recipients": [f"person{contact}@company{contact % 997}.example"],
                        "raw": RAW,
                        "automatic": False,
                        "cause": None,
                        "contact_id": contact,
                        "status": "sent",
                        "attempts": 1,
                        "next_attempt_at": at,
                        "created_at": at,
                        "sent_at": at,
                        "campaign": enrolments[-1]["campaign"],
                        "step": step,
                        "enrolment_id": n,
                    }
                )
        return enrolments, mail


def populate(engine: Engine, sizes: Sizes, seed: int, end: datetime) -> dict[str, int]:
    world = World(sizes, seed, end)
    counts = {"contacts": load(engine, t.contacts, world.contacts())}
    counts["threads"] = load(engine, t.threads, world.threads())
    counts["messages"] = events = 0
    for raws, messages, message_events in world.message_batches():
        with engine.begin() as connection:
            connection.execute(insert(t.raw_messages), raws)
            connection.execute(insert(t.messages), messages)
            connection.execute(insert(t.timeline_events), message_events)
        counts["messages"] += len(messages)
        events += len(message_events)
    counts["tickets"] = load(engine, t.tickets, world.tickets())
    events += load(engine, t.timeline_events, world.ticket_events())
    events += load(engine, t.timeline_events, world.stage_events())
    counts["timeline_events"] = events
    counts["deals"] = load(engine, t.deals, world.deals())
    enrolments, mail = world.enrolments_and_mail()
    counts["enrolments"] = load(engine, t.enrolments, enrolments)
    counts["outbox"] = load(engine, t.outbox, mail)
    return counts


def timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return (time.perf_counter() - start) * 1000


def measure(db: str, engine: Engine, sizes: Sizes, samples: int, repeat: int, seed: int, end: datetime) -> list[Result]:
    reads, reports = SqlReads(engine), SqlReports(engine)
    rng = random.Random(seed + 1)
    owners = World(sizes, seed, end).owner  # the same draw as the load: contacts that have mail
    contacts = [rng.choice(owners) for _ in range(samples + 20)]
    for contact in contacts[:20]:  # warm-up: the pool's connections, the statement caches
        reads.timeline(contact, None, PAGE)
    timeline = [timed(partial(reads.timeline, contact, None, PAGE)) for contact in contacts[20:]]
    results = [Result(db, "timeline, first page", timeline, TIMELINE_AIM_MS)]
    since, until = end - WINDOW, end
    queries: list[tuple[str, Callable[[], object]]] = [
        ("report: ticket volume", lambda: reports.ticket_volume(since, until)),
        ("report: response times", lambda: reports.response_times(since, until)),
        ("report: SLA breaches", lambda: reports.sla_breaches(since, until)),
        ("report: agent load", lambda: reports.agent_load(since, until)),
        ("report: lead funnel", lambda: reports.lead_funnel(since, until, STAGES)),
        ("report: score histogram", lambda: reports.score_histogram(since, until, SCORE_EDGES)),
        ("report: campaign funnel", reports.campaign_funnel),
        ("report: pipeline", lambda: reports.pipeline(DEAL_STAGES)),
    ]
    for name, run in queries:
        run()  # warm-up
        results.append(Result(db, name, [timed(run) for _ in range(repeat)], REPORT_AIM_MS))
    return results


def print_table(title: str, results: Sequence[Result]) -> None:
    print(f"\n{title}")
    width = max(len(r.query) for r in results)
    print(
        f"{'db':<10}  {'query':<{width}}  {'runs':>5}  {'p50 ms':>8}  {'p95 ms':>8}  {'max ms':>8}  {'aim (p95)':>10}"
    )
    for r in results:
        verdict = "ok" if r.ok else "MISSED"
        print(
            f"{r.db:<10}  {r.query:<{width}}  {len(r.millis):>5}  {r.quantile(0.5):8.1f}  {r.quantile(0.95):8.1f}  "
            f"{max(r.millis):8.1f}  {'< ' + format(r.aim, 'g') + ' ms':>10}  {verdict}"
        )


def add_index(engine: Engine, name: str, table: str, columns: Sequence[str]) -> None:
    with engine.begin() as connection:
        connection.execute(text(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({', '.join(columns)})"))
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"ANALYZE {table}"))


def run_one(db: str, engine: Engine, args: argparse.Namespace, end: datetime) -> list[list[Result]]:
    """The measurements with the schema as declared, then (--candidate-indexes) after each added index."""
    sizes = Sizes(args.messages, args.contacts)
    migrate.upgrade(engine)
    start = time.perf_counter()
    counts = populate(engine, sizes, args.seed, end)
    if db == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    loaded = ", ".join(f"{n:,} {name}" for name, n in counts.items())
    print(f"{db}: loaded {loaded} in {time.perf_counter() - start:.0f}s", flush=True)
    rounds = [measure(db, engine, sizes, args.samples, args.repeat, args.seed, end)]
    for name, table, columns in CANDIDATE_INDEXES if args.candidate_indexes else ():
        add_index(engine, name, table, columns)
        print(f"{db}: added {name}", flush=True)
        rounds.append(measure(db, engine, sizes, args.samples, args.repeat, args.seed, end))
    return rounds


def merge(rounds: list[list[Result]], more: list[list[Result]]) -> None:
    for n, results in enumerate(more):
        if n == len(rounds):
            rounds.append([])
        rounds[n].extend(results)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1_000_000, help="messages (default 1,000,000)")
    parser.add_argument("--contacts", type=int, default=100_000, help="contacts (default 100,000)")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--postgres", default=POSTGRES_ADMIN, help=f"admin URL (default {POSTGRES_ADMIN})")
    parser.add_argument("--samples", type=int, default=500, help="contacts whose timeline is read (default 500)")
    parser.add_argument("--repeat", type=int, default=20, help="runs of each report (default 20)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--candidate-indexes", action="store_true", help="then add CANDIDATE_INDEXES, measure again")
    args = parser.parse_args(argv)
    end = datetime.now(UTC).replace(microsecond=0)
    rounds: list[list[Result]] = []  # per round (as declared, + each candidate index), both databases

    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="inboxcrm-bench-api-") as tmp:
            engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
            try:
                merge(rounds, run_one("sqlite", engine, args, end))
            finally:
                engine.dispose()
    if args.db in ("postgresql", "both"):
        name = f"inboxcrm_bench_{uuid.uuid4().hex[:10]}"
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            engine = make_engine(args.postgres.rsplit("/", 1)[0] + f"/{name}")
            try:
                merge(rounds, run_one("postgresql", engine, args, end))
            finally:
                engine.dispose()
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

    size = f"{args.messages:,} messages, {args.contacts:,} contacts; reports over the last 30 days"
    titles = ["Schema as declared", *(f"+ {name}" for name, _, _ in CANDIDATE_INDEXES)]
    for title, results in zip(titles, rounds, strict=False):
        print_table(f"{title} ({size})", results)
    return 0 if all(r.ok for r in rounds[0]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
