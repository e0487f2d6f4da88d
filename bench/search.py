"""How fast is full-text search (`GET /search`: the query, a page of 20, snippets) on SQLite FTS5 and
PostgreSQL tsvector + GIN, as the number of stored messages grows?

Messages are generated (a Zipf-like mix of 3,000 English words, some German and French, names and company
domains, a few attachments), written straight into the tables in bulk (what ingest stores, without parsing),
then indexed with the indexer the ingest transaction uses (its throughput is printed). Then a mix of queries
(a rare word, a common word, two words, a phrase, a prefix, from:, filters, OR, exclusion) is run and p50/p95
of each size printed. The aim is p95 < 50 ms at 1M messages; this machine builds what it can in a few minutes
(--sizes), and the last column extrapolates to 1M linearly from the two largest sizes — an estimate, not a
measurement, and pessimistic for queries that stop at a page.
Run: `.venv/bin/python bench/search.py [--sizes 20000,80000] [--postgres URL] [--rounds 3]`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy import create_engine, insert, text  # noqa: E402

from inboxcrm.adapters.db import migrate  # noqa: E402
from inboxcrm.adapters.db import tables as t  # noqa: E402
from inboxcrm.adapters.db.search import SqlSearch  # noqa: E402
from inboxcrm.adapters.db.store import SqlStore, make_engine  # noqa: E402
from inboxcrm.services.search import SearchService  # noqa: E402

QUERIES = (
    "zanzibar",  # rare
    "order",  # common
    "invoice refund",
    '"late delivery"',
    "warrant*",
    "from:globex.example",
    "mailbox:support has:attachment contract",
    "after:2026-06-01 before:2026-07-01 renewal",
    "rechnung OR facture",
    "delivery -shipping",
)
START = datetime(2026, 1, 1, tzinfo=UTC)


def _vocabulary(rng: random.Random) -> list[str]:
    base = [
        "order",
        "invoice",
        "refund",
        "delivery",
        "shipping",
        "late",
        "price",
        "quote",
        "contract",
        "renewal",
        "warranty",
        "account",
        "login",
        "password",
        "upgrade",
        "cancel",
        "discount",
        "meeting",
        "demo",
        "trial",
        "broken",
        "error",
        "urgent",
        "thanks",
        "please",
        "question",
        "seats",
        "license",
        "rechnung",
        "lieferung",
        "bestellung",
        "vertrag",
        "facture",
        "livraison",
        "commande",
        "contrat",
    ]
    made = ["".join(rng.choice("abcdefghijklmnoprstuvwy") for _ in range(rng.randint(4, 10))) for _ in range(3000)]
    return base + made + ["zanzibar"]


def _fill(engine_url: str, start_id: int, count: int, rng: random.Random, words: list[str]) -> float:
    """Add `count` messages (ids from `start_id`) and index them; returns the indexing seconds."""
    engine = make_engine(engine_url)
    weights = [1 / (i + 1) for i in range(len(words) - 1)] + [0.00002]
    people = [(f"{n}@{d}", n.title()) for n in ("ana", "bob", "carol", "dora", "erik", "fay") for d in
              ("acme.example", "globex.example", "initech.example", "gmail.example")]  # fmt: skip
    with engine.begin() as connection:
        connection.execute(
            insert(t.threads),
            [{"id": start_id, "subject": "bench", "subject_key": "bench", "mailbox": "support",
              "created_at": START, "last_message_at": START}],
        )  # fmt: skip
        for chunk in range(start_id, start_id + count, 5000):
            ids = range(chunk, min(chunk + 5000, start_id + count))
            connection.execute(
                insert(t.raw_messages),
                [
                    {"id": i, "content_hash": uuid.uuid4().hex, "size": 1, "raw": b"x", "first_seen_at": START}
                    for i in ids
                ],
            )
            rows = []
            for i in ids:
                email, name = rng.choice(people)
                body = " ".join(rng.choices(words, weights, k=rng.randint(30, 150)))
                rows.append(
                    {"id": i, "raw_id": i, "thread_id": start_id, "mailbox": rng.choice(("support", "sales")),
                     "direction": "in", "references": [], "subject": " ".join(rng.choices(words, weights, k=5)),
                     "from_email": email, "from_name": name, "to": [{"email": "support@northwind.example", "name": ""}],
                     "cc": [], "sent_at": START + timedelta(minutes=i % 500_000), "received_at": START, "text": body,
                     "attachments": [{"filename": "contract.pdf", "content_type": "application/pdf", "size": 1}]
                     if i % 20 == 0 else [], "headers": [], "defects": []}
                )  # fmt: skip
            connection.execute(insert(t.messages), rows)
    store = SqlStore(engine)
    began = time.perf_counter()
    for chunk in range(start_id, start_id + count, 2000):
        with store.transaction() as tx:
            tx.index_messages(range(chunk, min(chunk + 2000, start_id + count)))
    took = time.perf_counter() - began
    engine.dispose()
    return took


def _latencies(engine_url: str, rounds: int) -> list[float]:
    engine = create_engine(engine_url)
    service = SearchService(SqlSearch(engine))
    found: list[float] = []
    for query in QUERIES:
        service.search(query)  # warm
    for _ in range(rounds):
        for query in QUERIES:
            began = time.perf_counter()
            service.search(query, limit=20)
            found.append((time.perf_counter() - began) * 1000)
    engine.dispose()
    return found


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="20000,80000")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sqlite", default="/tmp/inboxcrm-bench-search.db")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = random.Random(7)
    words = _vocabulary(rng)
    targets = []
    Path(args.sqlite).unlink(missing_ok=True)
    targets.append(("sqlite", f"sqlite:///{args.sqlite}", None))
    name = f"inboxcrm_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    targets.append(("postgresql", args.postgres.rsplit("/", 1)[0] + f"/{name}", name))
    print(f"{'database':<11}{'messages':>10}{'index msg/s':>13}{'p50 ms':>9}{'p95 ms':>9}{'p95 @1M (est.)':>16}")
    try:
        for label, url, _ in targets:
            engine = create_engine(url)
            migrate.upgrade(engine)
            engine.dispose()
            done, p95s = 0, []
            for size in sizes:
                took = _fill(url, done + 1, size - done, random.Random(size), words)
                rate = (size - done) / took
                done = size
                if label == "postgresql":
                    with create_engine(url, isolation_level="AUTOCOMMIT").connect() as connection:
                        connection.execute(text("VACUUM ANALYZE"))
                times = _latencies(url, args.rounds)
                p50, p95 = _percentile(times, 50), _percentile(times, 95)
                p95s.append((size, p95))
                estimate = ""
                if len(p95s) >= 2:
                    (n1, a), (n2, b) = p95s[-2], p95s[-1]
                    estimate = f"{b + (b - a) / (n2 - n1) * (1_000_000 - n2):.0f}"
                print(f"{label:<11}{size:>10,}{rate:>13,.0f}{p50:>9.1f}{p95:>9.1f}{estimate:>16}", flush=True)
            slowest = statistics.mean(sorted(_latencies(url, 1))[-3:])
            print(f"{'':<11}slowest queries at {done:,}: {slowest:.1f} ms on average (of the 3 slowest)")
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
