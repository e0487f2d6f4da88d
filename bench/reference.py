"""Ingest on the reference mailbox, next to its baselines, in ONE run (issue 18).

The reference mailbox is `../shared/bench/gen_mailbox.py` with seed 42 and 20,000 messages (long header
blocks, HTML alternatives, 5% with a ~270 KB attachment, legacy charsets, threads). It is generated once
and cached under `var/reference/`, then served from a private Dovecot (tests/support/dovecot/). Every
contender runs as its own process, measured the same way: wall seconds, CPU seconds of the whole process
tree (sampled from /proc, and the child's rusage), peak RSS of the whole tree (sum over its processes).

- inboxcrm `run --once` on SQLite and on PostgreSQL: fetch → read → thread → rules → desk → commit, with
  the repository's rules, two agents, scoring, SLA and acknowledgements configured (outbox to files);
- the straightforward loop: imapclient → `email.message_from_bytes(policy=policy.default)` → SQLite,
  one INSERT per message and one commit per batch of 200;
- a bare compat32 parse of the Maildir's files, one process;
- `notmuch new` on the Maildir, when notmuch is installed (skipped with a note otherwise).

The machine is shared, so the figures move with the load (printed); compare the ratios from one run.
Run: `.venv/bin/python bench/reference.py [--count 20000] [--skip notmuch,postgresql,...]`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from postgres_temp import temporary_database  # noqa: E402
from proctree import Figures, measure  # noqa: E402
from reference_contenders import (  # noqa: E402
    INBOXCRM,
    PASSWORD_ENV,
    POSTGRES,
    bare_parse,
    inboxcrm_config,
    run_inboxcrm,
    run_notmuch,
    straightforward,
)
from reference_mailbox import reference_maildir, serve  # noqa: E402


def backfill(counts: Sequence[int], seed: int) -> None:
    """`inboxcrm import` of generated Maildirs of each size into SQLite: time, peak RSS, and the RSS curve
    (the process tree's resident memory at each tenth of the run) — flat memory means the same peak at
    every size."""
    print(f"\nbackfill: inboxcrm import of a generated Maildir into SQLite (load {os.getloadavg()[0]:.1f})")
    print(
        f"{'messages':>9}  {'seconds':>8}  {'msg/s':>6}  {'peak MB':>7}  {'PSS MB':>6}  RSS MB at each tenth of the run"
    )
    for count in counts:
        maildir = reference_maildir(count, seed)
        with tempfile.TemporaryDirectory(prefix="inboxcrm-backfill-") as tmp:
            work = Path(tmp)
            server = argparse.Namespace(host="127.0.0.1", port=1, password="unused", user="unused")
            config = inboxcrm_config(work, server, f"sqlite:///{work / 'inboxcrm.db'}")
            env = {**os.environ, PASSWORD_ENV: "unused", "INBOXCRM_CONFIG": str(config)}
            cli = INBOXCRM
            subprocess.run([*cli, "db", "upgrade"], env=env, check=True, capture_output=True)
            got = measure(f"import {count}", [*cli, "import", str(maildir)], count, env)
        if f"{count} read, {count} stored" not in got.note:
            raise SystemExit(f"backfill of {count}: {got.note}")
        tenths = [next((mb for at, mb in reversed(got.curve) if at <= got.seconds * k / 10), 0.0) for k in range(1, 11)]
        print(
            f"{count:9d}  {got.seconds:8.1f}  {count / got.seconds:6.0f}  {got.peak_mb:7.0f}  {got.peak_pss_mb:6.0f}  "
            + " ".join(f"{mb:.0f}" for mb in tenths),
            flush=True,
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=20000, help="messages in the mailbox (default 20000)")
    parser.add_argument("--seed", type=int, default=42, help="seed of the generated mailbox (default 42)")
    parser.add_argument("--skip", default="", help="comma-separated: sqlite,postgresql,straightforward,bare,notmuch")
    parser.add_argument("--backfill", help="instead: `inboxcrm import` of Maildirs of these sizes (e.g. 2000,20000)")
    parser.add_argument("--profile", help="profile the first SQLite ingest's main process into this file (cProfile)")
    parser.add_argument("--live", action="store_true", help="add a row: the same mail arriving live, on SQLite")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, *rest = args.child
        if kind == "straightforward":
            straightforward(rest[0], int(rest[1]), rest[2], rest[3], rest[4])
        else:
            bare_parse(rest[0])
        return 0
    if args.backfill:
        backfill([int(n) for n in args.backfill.split(",")], args.seed)
        return 0
    skip = set(filter(None, args.skip.split(",")))
    count = args.count
    maildir = reference_maildir(count, args.seed)
    size = sum(f.stat().st_size for f in (maildir / "cur").iterdir())
    load = os.getloadavg()
    print(
        f"reference mailbox: seed {args.seed}, {count} messages, {size / 1e6:.0f} MB; {os.cpu_count()} cores, "
        f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}",
        flush=True,
    )
    me = [sys.executable, str(Path(__file__).resolve())]
    rows: list[Figures] = []
    with tempfile.TemporaryDirectory(prefix="inboxcrm-reference-") as tmp:
        work = Path(tmp)
        server = serve(maildir, work)
        try:
            if "sqlite" not in skip:
                url = f"sqlite:///{work / 'inboxcrm.db'}"
                rows.append(run_inboxcrm("inboxcrm run --once, SQLite", work, server, url, count, args.profile))
                print(f"  {rows[-1].name}: {rows[-1].seconds:.1f}s ({rows[-1].note})", flush=True)
            if "postgresql" not in skip:
                with temporary_database(POSTGRES, f"inboxcrm_bench_{os.getpid()}") as url:
                    rows.append(run_inboxcrm("inboxcrm run --once, PostgreSQL", work, server, url, count))
                    print(f"  {rows[-1].name}: {rows[-1].seconds:.1f}s ({rows[-1].note})", flush=True)
            if args.live:
                live = serve(maildir, work / "live", empty=True)
                try:
                    url = f"sqlite:///{work / 'live.db'}"
                    profile = args.profile if "sqlite" in skip else None  # --profile: the first SQLite row run
                    rows.append(run_inboxcrm("inboxcrm, live mail, SQLite", work, live, url, count, profile, maildir))
                    print(f"  {rows[-1].name}: {rows[-1].seconds:.1f}s ({rows[-1].note})", flush=True)
                finally:
                    live.stop()
            if "straightforward" not in skip:
                child = [str(server.host), str(server.port), server.user, server.password, str(work / "plain.db")]
                rows.append(
                    measure("imapclient → policy.default → SQLite", [*me, "--child", "straightforward", *child], count)
                )
                print(f"  {rows[-1].name}: {rows[-1].seconds:.1f}s", flush=True)
        finally:
            server.stop()
        if "bare" not in skip:
            rows.append(measure("bare compat32 parse (1 process)", [*me, "--child", "bare", str(maildir)], count))
        if "notmuch" not in skip:
            found = run_notmuch(work, maildir, count)
            if found is None:
                print("notmuch is not installed: its row is left out")
            else:
                rows.append(found)
    report(rows, count)
    if args.profile:
        import pstats

        print(f"\nmain process of the SQLite ingest, top functions by own time ({args.profile}):")
        pstats.Stats(args.profile).sort_stats("tottime").print_stats(25)
    return 0


def report(rows: Sequence[Figures], count: int) -> None:
    by_name = {row.name: row for row in rows}
    plain = by_name.get("imapclient → policy.default → SQLite")
    notmuch = by_name.get("notmuch new")
    width = max(len(row.name) for row in rows)
    head = (
        f"{'seconds':>8}  {'msg/s':>7}  {'CPU ms/msg':>10}  {'peak MB':>7}  {'PSS MB':>6}  {'× plain':>7}  "
        f"{'× notmuch':>9}"
    )
    print(f"\n{'contender':<{width}}  {head}")
    for row in rows:
        rate = count / row.seconds
        vs_plain = f"{plain.seconds / row.seconds:7.2f}" if plain else f"{'-':>7}"
        vs_notmuch = f"{notmuch.seconds / row.seconds:9.2f}" if notmuch else f"{'-':>9}"
        print(
            f"{row.name:<{width}}  {row.seconds:8.1f}  {rate:7.0f}  {1000 * row.cpu / count:10.2f}  "
            f"{row.peak_mb:7.0f}  {row.peak_pss_mb:6.0f}  {vs_plain}  {vs_notmuch}"
        )
    load = os.getloadavg()
    print(
        f"\npeak MB: the tree's resident memory (each process's, summed); PSS MB: the same with shared pages "
        f"split between the processes.\n× plain / × notmuch: how many times faster than that row (same run). "
        f"Load now {load[0]:.1f}."
    )


if __name__ == "__main__":
    raise SystemExit(main())
