"""The contenders of bench/reference.py, each run as its own measured process: inboxcrm `run --once` (with
a config like a real support desk's), the straightforward imapclient → policy.default → SQLite loop, a bare
compat32 parse, and `notmuch new`. Only the standard library is imported up front, so that the children
(`reference.py --child …`) measure their own work."""

from __future__ import annotations

import email
import email.policy
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from proctree import Figures, measure
from reference_mailbox import deliver

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = os.environ.get("INBOXCRM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PASSWORD_ENV = "INBOXCRM_BENCH_IMAP_PASSWORD"
BATCH = 200
# the command as users run it: the console script (multiprocessing treats it unlike `python -m inboxcrm`)
INBOXCRM = [str(Path(sys.executable).parent / "inboxcrm")]


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
