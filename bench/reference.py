"""Ingest on the reference mailbox, next to its baselines, in ONE run (issue 18).

The reference mailbox is `../shared/bench/gen_mailbox.py` with seed 42 and 20,000 messages (long header
blocks, HTML alternatives, 5% with a ~270 KB attachment, legacy charsets, threads). It is generated once
and cached under `var/reference/`, then served from a private Dovecot (tests/support/dovecot.py). Every
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
import email
import email.policy
import os
import pwd
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GENERATOR = ROOT.parent / "shared" / "bench" / "gen_mailbox.py"
POSTGRES = os.environ.get("INBOXCRM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PASSWORD_ENV = "INBOXCRM_BENCH_IMAP_PASSWORD"
BATCH = 200
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
# the command as users run it: the console script (multiprocessing treats it unlike `python -m inboxcrm`)
INBOXCRM = [str(Path(sys.executable).parent / "inboxcrm")]


# --- the mailbox -------------------------------------------------------------------------------------
def reference_maildir(count: int, seed: int) -> Path:
    """The generated Maildir for (count, seed), made once and cached under var/reference/."""
    target = ROOT / "var" / "reference" / f"seed{seed}-{count}"
    done = target / ".complete"
    if not done.exists():
        shutil.rmtree(target, ignore_errors=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        print(f"generating the mailbox (seed {seed}, {count} messages) into {target} …", flush=True)
        subprocess.run(
            [sys.executable, str(GENERATOR), str(target), "--count", str(count), "--seed", str(seed)], check=True
        )
        done.write_text("ok\n")
    return target


def serve(maildir: Path, work: Path, empty: bool = False) -> object:
    """A private Dovecot whose INBOX holds the Maildir's messages (hard links when possible); `empty`: none
    yet (`deliver` puts them there later)."""
    from tests.support.dovecot import start_dovecot

    server = start_dovecot(work / "dovecot")
    for sub in ("cur", "new", "tmp"):
        (server.maildir / sub).mkdir(parents=True, exist_ok=True)
    _give_to_dovecot(server.maildir)
    if not empty:
        deliver(server, maildir)
    return server


def _give_to_dovecot(inbox: Path) -> None:
    if os.geteuid() == 0:  # the test Dovecot runs as nobody
        nobody = pwd.getpwnam("nobody")
        for path in [inbox, *inbox.rglob("*")]:
            os.chown(path, nobody.pw_uid, nobody.pw_gid)


def deliver(server: object, maildir: Path) -> None:
    """The Maildir's messages into the server's INBOX, indexed by Dovecot before anything is timed."""
    inbox = server.maildir
    for file in sorted((maildir / "cur").iterdir()):
        try:
            os.link(file, inbox / "cur" / file.name)
        except OSError:
            shutil.copy2(file, inbox / "cur" / file.name)
    _give_to_dovecot(inbox)
    with server.client() as client:
        client.select_folder("INBOX", readonly=True)


# --- measuring a process tree ------------------------------------------------------------------------
@dataclass
class Figures:
    name: str
    seconds: float
    cpu: float
    peak_mb: float  # resident memory of the whole tree, summed over its processes (shared pages counted in each)
    messages: int
    note: str = ""
    peak_pss_mb: float = 0.0  # the same as proportional set size: shared pages split between the processes
    curve: list[tuple[float, float]] = field(default_factory=list)  # (seconds, tree RSS in MB), every 0.1 s


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(entry))
    return tree


def _sample(root: int) -> tuple[dict[int, float], int, int]:
    """CPU seconds of each process of the tree under `root`, and the tree's resident and proportional bytes."""
    tree = _children()
    todo, cpu, rss, pss = [root], {}, 0, 0
    while todo:
        pid = todo.pop()
        todo.extend(tree.get(pid, []))
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/statm") as f:
                resident = int(f.read().split()[1])
            with open(f"/proc/{pid}/smaps_rollup") as f:
                proportional = next((int(line.split()[1]) for line in f if line.startswith("Pss:")), 0)
        except OSError:
            continue
        cpu[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        rss += resident * PAGE
        pss += proportional * 1024
    return cpu, rss, pss


def measure(name: str, command: Sequence[str], messages: int, env: dict[str, str] | None = None) -> Figures:
    """Run `command`, sampling its process tree every 0.1 s; stdout is kept for the note."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: dict[int, float] = {}
    peak = peak_pss = 0
    curve: list[tuple[float, float]] = []
    stop = threading.Event()

    def sampler() -> None:
        nonlocal peak, peak_pss
        while not stop.is_set():
            cpu, rss, pss = _sample(process.pid)
            seen.update(cpu)
            peak = max(peak, rss)
            peak_pss = max(peak_pss, pss)
            curve.append((time.perf_counter() - start, rss / 1e6))
            stop.wait(0.1)

    thread = threading.Thread(target=sampler, daemon=True)
    thread.start()
    out, err = process.communicate()
    seconds = time.perf_counter() - start
    stop.set()
    thread.join()
    if process.returncode != 0:
        raise SystemExit(f"{name} failed ({process.returncode}):\n{out}\n{err[-4000:]}")
    return Figures(
        name, seconds, sum(seen.values()), peak / 1e6, messages, out.strip(), curve=curve, peak_pss_mb=peak_pss / 1e6
    )


# --- the contenders ----------------------------------------------------------------------------------
def inboxcrm_config(work: Path, server: object, url: str) -> Path:
    """A config like a real support desk's: rules, agents, scoring, SLA, acknowledgements."""
    file = work / f"inboxcrm-{abs(hash(url))}.toml"
    for sub in ("cur", "new", "tmp"):
        (work / "sales" / sub).mkdir(parents=True, exist_ok=True)
    file.write_text(
        f"""
[database]
url = "{url}"
[team]
addresses = ["ana@helpdesk.example", "ben@helpdesk.example"]
domains = ["helpdesk.example"]
[[mailboxes]]
name = "support"
kind = "support"
addresses = ["support@helpdesk.example"]
source = "imap"
host = "{server.host}"
port = {server.port}
security = "none"
user = "{server.user}"
password_env = "{PASSWORD_ENV}"
folders = ["INBOX"]
batch_size = {BATCH}
from_name = "Helpdesk Support"
acknowledge = "support/ack"
[[mailboxes]]
name = "sales"
kind = "sales"
addresses = ["sales@helpdesk.example"]
source = "maildir"
path = "{work / "sales"}"
from_name = "Helpdesk Sales"
[[agents]]
name = "ana"
addresses = ["ana@helpdesk.example"]
queues = ["support", "billing"]
[[agents]]
name = "ben"
addresses = ["ben@helpdesk.example"]
queues = ["support", "sales", "billing"]
[rules]
dir = "{ROOT / "rules"}"
timezone = "Europe/Berlin"
queues = ["billing"]
[lifecycle]
stages = ["subscriber", "lead", "mql", "sql", "customer"]
[pipeline]
stages = ["qualified", "demo", "proposal", "won", "lost"]
[segments]
dir = "{ROOT / "segments"}"
[scoring]
half_life = "30d"
keywords = {{ pricing = 8, demo = 12, quote = 10, contract = 15 }}
stages = {{ lead = 10, mql = 30, sql = 60 }}
[security]
secret = "bench-only-secret"
[templates]
dir = "{ROOT / "templates"}"
[outbox]
transport = "file"
path = "{work / "outbox"}"
[campaigns]
dir = "{ROOT / "campaigns"}"
public_url = "http://127.0.0.1:8000"
[sla]
timezone = "Europe/Berlin"
business_hours = {{ days = ["mon", "tue", "wed", "thu", "fri"], start = "09:00", end = "17:00" }}
[sla.targets]
normal = {{ first_response = "8h", resolution = "5d" }}
[logging]
level = "WARNING"
"""
    )
    return file


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


def postgres_database() -> tuple[str, str]:
    """A fresh PostgreSQL database: (its URL, its name)."""
    import sqlalchemy as sa

    name = f"inboxcrm_bench_{os.getpid()}"
    engine = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return POSTGRES.rsplit("/", 1)[0] + "/" + name, name


def drop_postgres(name: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def run_inboxcrm(
    name: str, work: Path, server: object, url: str, count: int, profile: str | None = None, live: Path | None = None
) -> Figures:
    """`inboxcrm run --once` (under cProfile into `profile` when given: the main process only). With `live`
    (a Maildir), the mailbox is connected while empty and then that mail arrives: all of it is live mail
    (acknowledgements, agent notifications, rules' replies — queued to the file outbox)."""
    config = inboxcrm_config(work, server, url)
    env = {**os.environ, PASSWORD_ENV: server.password, "INBOXCRM_CONFIG": str(config)}
    cli = INBOXCRM
    subprocess.run([*cli, "db", "upgrade"], env=env, check=True, capture_output=True)
    if live is not None:
        # an empty Maildir has no lasting UIDVALIDITY yet: one message makes the folder's, then inboxcrm
        # connects (that message is history) and the mail arrives
        server.append("INBOX", b"From: someone@example.org\r\nSubject: before\r\n\r\nhello\r\n")
        subprocess.run([*cli, "run", "--once"], env=env, check=True, capture_output=True)
        deliver(server, live)
    if profile:
        cli = [sys.executable, "-m", "cProfile", "-o", profile, "-m", "inboxcrm"]
    figures = measure(name, [*cli, "run", "--once"], count, env)
    figures.note = next((line for line in figures.note.splitlines() if line.startswith("support:")), figures.note)
    if f"{count} read, {count} stored" not in figures.note:
        raise SystemExit(f"{name}: expected {count} read and stored, got: {figures.note}")
    if live is not None:
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            kinds = db.execute("SELECT kind, count(*) FROM outbox GROUP BY kind ORDER BY kind").fetchall()
        figures.note += "; outbox: " + ", ".join(f"{n} {kind}" for kind, n in kinds)
    return figures


def straightforward(host: str, port: int, user: str, password: str, database: str) -> None:
    """The loop anyone would write first: imapclient → policy.default → one INSERT per message."""
    from imapclient import IMAPClient

    db = sqlite3.connect(database)
    db.execute(
        "CREATE TABLE messages (id INTEGER PRIMARY KEY, uid INTEGER, message_id TEXT, sender TEXT,"
        " recipients TEXT, subject TEXT, sent TEXT, body TEXT, raw BLOB)"
    )
    stored = 0
    with IMAPClient(host, port=port, ssl=False, timeout=120) as client:
        client.login(user, password)
        client.select_folder("INBOX", readonly=True)
        uids = sorted(client.search(["ALL"]))
        for start in range(0, len(uids), BATCH):
            chunk = uids[start : start + BATCH]
            for uid, data in client.fetch(chunk, ["BODY.PEEK[]"]).items():
                raw = data[b"BODY[]"]
                message = email.message_from_bytes(raw, policy=email.policy.default)
                part = message.get_body(preferencelist=("plain", "html"))
                try:
                    body = part.get_content() if part is not None else ""
                except (LookupError, ValueError):
                    body = ""
                db.execute(
                    "INSERT INTO messages (uid, message_id, sender, recipients, subject, sent, body, raw)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        uid,
                        str(message.get("message-id", "")),
                        str(message.get("from", "")),
                        str(message.get("to", "")),
                        str(message.get("subject", "")),
                        str(message.get("date", "")),
                        body,
                        raw,
                    ),
                )
                stored += 1
            db.commit()
    print(f"{stored} stored")


def bare_parse(maildir: str) -> None:
    """compat32 parse of every file, nothing else."""
    count = 0
    for file in sorted(Path(maildir, "cur").iterdir()):
        email.message_from_bytes(file.read_bytes(), policy=email.policy.compat32)
        count += 1
    print(f"{count} parsed")


def run_notmuch(work: Path, maildir: Path, count: int) -> Figures | None:
    binary = shutil.which("notmuch")
    if binary is None:
        return None
    database = work / "notmuch"
    database.mkdir()
    config = work / "notmuch-config"
    config.write_text(f"[database]\npath={database}\nmail_root={maildir}\n[new]\ntags=inbox;unread;\n")
    env = {**os.environ, "NOTMUCH_CONFIG": str(config)}
    return measure("notmuch new", [binary, "new", "--quiet"], count, env)


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
                url, name = postgres_database()
                try:
                    rows.append(run_inboxcrm("inboxcrm run --once, PostgreSQL", work, server, url, count))
                    print(f"  {rows[-1].name}: {rows[-1].seconds:.1f}s ({rows[-1].note})", flush=True)
                finally:
                    drop_postgres(name)
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
