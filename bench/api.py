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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, text  # noqa: E402

from api_data import DEAL_STAGES, STAGES, Sizes, World, populate  # noqa: E402
from inboxcrm.adapters.db import migrate  # noqa: E402
from inboxcrm.adapters.db.reads import SqlReads  # noqa: E402
from inboxcrm.adapters.db.reports import SqlReports  # noqa: E402
from inboxcrm.adapters.db.store import make_engine  # noqa: E402
from postgres_temp import temporary_database  # noqa: E402

POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TIMELINE_AIM_MS = 25.0
REPORT_AIM_MS = 300.0
PAGE = 51  # ReadService asks for one more than the page of 50 to know whether there is a next page
WINDOW = timedelta(days=30)
SCORE_EDGES = tuple(float(edge) for edge in range(0, 101, 10))
# (name, table, columns), in the order --candidate-indexes adds them: the lead funnel scans every timeline
# event for the few `stage_changed` ones without the first, and sorts every contact by stage without the second.
CANDIDATE_INDEXES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("ix_timeline_events_kind_at", "timeline_events", ("kind", "at")),
    ("ix_contacts_stage", "contacts", ("stage",)),
)


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
        with temporary_database(args.postgres, f"inboxcrm_bench_{uuid.uuid4().hex[:10]}") as url:
            engine = make_engine(url)
            try:
                merge(rounds, run_one("postgresql", engine, args, end))
            finally:
                engine.dispose()

    size = f"{args.messages:,} messages, {args.contacts:,} contacts; reports over the last 30 days"
    titles = ["Schema as declared", *(f"+ {name}" for name, _, _ in CANDIDATE_INDEXES)]
    for title, results in zip(titles, rounds, strict=False):
        print_table(f"{title} ({size})", results)
    return 0 if all(r.ok for r in rounds[0]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
