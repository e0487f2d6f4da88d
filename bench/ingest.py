"""How fast does mail go from IMAP into the database, and where does the time go?

Puts a seeded mailbox of N realistic messages into a private Dovecot (tests/support/dovecot/), then
measures, on the same messages:
- the real ingest: `app.ingest.sync_folder` through `ImapSource` into a fresh SQLite database;
- IMAP fetch only (SELECT, SEARCH, FETCH BODY.PEEK[] in batches), with imaplib's debug level at 0 (what
  `inboxcrm.adapters.imap.connect` sets) and at 5 (what imapclient sets by itself);
- parsing only: stdlib `email.message_from_bytes` with `policy.default` and with `compat32`, and
  inboxcrm's own `parse_message`.
Ratios are against the stdlib policy.default parse. Run: `.venv/bin/python bench/ingest.py [--messages N]`.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from imapclient import IMAPClient  # noqa: E402

from inboxcrm import bootstrap  # noqa: E402
from inboxcrm.adapters.imap import ImapSource  # noqa: E402
from inboxcrm.config import parse_settings  # noqa: E402
from inboxcrm.core.parsing import parse_message  # noqa: E402
from inboxcrm.core.reading import read_many  # noqa: E402
from tests.support.dovecot import Dovecot, sample_messages, start_dovecot  # noqa: E402
from timing import best_of  # noqa: E402

FOLDER = "Bench"
PASSWORD_ENV = "INBOXCRM_BENCH_IMAP_PASSWORD"


def fetch_all(server: Dovecot, batch_size: int, debug: int) -> list[bytes]:
    """What ImapSource.fetch_after does, on a fresh connection with imaplib's debug level at `debug`."""
    with IMAPClient(server.host, port=server.port, ssl=False, timeout=60) as client:
        client._imap.debug = debug
        client.login(server.user, server.password)
        client.select_folder(FOLDER, readonly=True)
        uids = sorted(client.search(["UID", "1:*"]))
        out: list[bytes] = []
        for start in range(0, len(uids), batch_size):
            chunk = uids[start : start + batch_size]
            data = client.fetch(chunk, ["BODY.PEEK[]"])
            out.extend(data[uid][b"BODY[]"] for uid in chunk)
        return out


def ingest_once(server: Dovecot, work: Path, batch_size: int, expected: int, workers: int) -> float:
    """The real ingest into a fresh SQLite database, parsing in `workers` processes; returns seconds."""
    config = f"""
[database]
url = "sqlite:///{work / f"bench-{workers}.db"}"
[ingest]
parse_workers = {workers}
[team]
domains = ["northwind.example"]
[[mailboxes]]
name = "support"
kind = "support"
addresses = ["support@northwind.example"]
source = "imap"
host = "{server.host}"
port = {server.port}
security = "none"
user = "{server.user}"
password_env = "{PASSWORD_ENV}"
folders = ["{FOLDER}"]
batch_size = {batch_size}
"""
    file = work / "inboxcrm.toml"
    file.write_text(config)
    environ = {PASSWORD_ENV: server.password}
    settings = parse_settings(config, str(file), environ)
    app = bootstrap.build(settings)
    try:
        bootstrap.prepare_database(app)
        mailbox = settings.mailboxes[0]
        with ImapSource(bootstrap.imap_account(mailbox, environ)) as source:
            start = time.perf_counter()
            result = app.ingest.sync_folder(source, mailbox.profile(), FOLDER, batch_size)
            seconds = time.perf_counter() - start
        if (result.fetched, result.stored) != (expected, expected):
            raise SystemExit(f"ingest stored {result.stored} of {result.fetched} fetched; expected {expected}")
    finally:
        app.close()
    return seconds


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=2000, help="messages in the mailbox (default 2000)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated mailbox (default 7)")
    parser.add_argument("--batch-size", type=int, default=200, help="messages per FETCH and per transaction")
    parser.add_argument("--repeat", type=int, default=3, help="fetch and parse runs; the best counts (default 3)")
    args = parser.parse_args(argv)
    count = args.messages

    with tempfile.TemporaryDirectory(prefix="inboxcrm-bench-") as tmp:
        work = Path(tmp)
        server = start_dovecot(work / "dovecot")
        try:
            raws = sample_messages(count, seed=args.seed)
            start = time.perf_counter()
            server.append_many(FOLDER, raws)
            setup = time.perf_counter() - start
            size = sum(len(raw) for raw in raws)
            print(
                f"{count} messages ({size / 1e6:.1f} MB, seed {args.seed}) appended to a private Dovecot "
                f"in {setup:.1f}s; batch size {args.batch_size}",
                flush=True,
            )

            ingest_inline = ingest_once(server, work, args.batch_size, count, workers=0)
            ingest_pool = ingest_once(server, work, args.batch_size, count, workers=2)
            if fetch_all(server, args.batch_size, debug=0) != raws:
                raise SystemExit("the fetched bytes differ from the appended ones")
            fetch_0 = best_of(args.repeat, lambda: fetch_all(server, args.batch_size, debug=0))
            fetch_5 = best_of(args.repeat, lambda: fetch_all(server, args.batch_size, debug=5))
        finally:
            server.stop()

    default = best_of(args.repeat, lambda: [email.message_from_bytes(r, policy=email.policy.default) for r in raws])
    compat = best_of(args.repeat, lambda: [email.message_from_bytes(r, policy=email.policy.compat32) for r in raws])
    ours = best_of(args.repeat, lambda: [parse_message(r) for r in raws])
    reading = best_of(args.repeat, lambda: read_many(raws))

    rows = [
        ("stdlib parse, policy.default", default),
        ("stdlib parse, compat32", compat),
        ("inboxcrm parse_message", ours),
        ("inboxcrm read (parse+classify+split+fwd)", reading),
        ("IMAP fetch only, imaplib debug=0", fetch_0),
        ("IMAP fetch only, imaplib debug=5", fetch_5),
        ("real ingest: IMAP → SQLite, parse inline", ingest_inline),
        ("real ingest: IMAP → SQLite, 2 parse procs", ingest_pool),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"\n{'step':<{width}}  {'seconds':>8}  {'msg/s':>9}  {'× default parse':>15}")
    for name, seconds in rows:
        print(f"{name:<{width}}  {seconds:8.3f}  {count / seconds:9.0f}  {seconds / default:15.2f}")
    print(f"\nimaplib debug=5 makes fetching {fetch_5 / fetch_0:.1f}x slower than debug=0.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
