#!/usr/bin/env python3
"""The mail world around the demo: what customers and agents send once inboxcrm is running.

    python3 scripts/demo_mail.py prepare [--var var/demo]   copy demo/maildir into var/demo/maildir (once)
    python3 scripts/demo_mail.py deliver [--var var/demo]   customers write: demo/arriving/*.eml arrive, dated now
    python3 scripts/demo_mail.py answer  [--var var/demo]   each agent notified of a new ticket answers it once
    python3 scripts/demo_mail.py play    [--var var/demo]   what ./scripts/demo runs beside the daemon: waits
                                                            until the shipped history is filed, then deliver,
                                                            then answer

Standard library only. Messages are delivered the way a mail server does (a file written into tmp/, then
moved into new/), so the daemon, which polls var/demo/maildir, picks them up as live mail. The checkout itself
is never written to.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import shutil
import sys
import time
import uuid
from email.message import EmailMessage
from email.utils import formatdate, getaddresses
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARRIVING = ROOT / "demo" / "arriving"
AGENT_REPLY = """#pending
Hello {first},

thank you for the details. This sounds like the thermal cut-out of the first NW-ID20 batch: please send
us the serial numbers of the six drivers and we will replace them at no cost.

Kind regards,
{name}
{dashes}
{name} | Northwind Tools Support
{address} | +49 30 5550 1234
Mobile: +49 171 555 1234
"""


def prepare(var: Path) -> None:
    """The demo's mailboxes live in var/ (a copy of the shipped demo/maildir), so running it never
    changes the checkout."""
    target = var / "maildir"
    if not target.exists():
        shutil.copytree(ROOT / "demo" / "maildir", target)
        print(f"demo: copied demo/maildir into {target}")


_sequence = iter(range(1, 10_000))


def _deliver(folder: Path, raw: bytes) -> None:
    """Written into tmp/, then moved into new/, as a mail server delivers; named like the shipped messages
    (`<unix time>.<n>_demo.inboxcrm`), so that sorting the names gives the order of arrival."""
    name = f"{int(time.time())}.{next(_sequence):04d}_demo.inboxcrm"
    (folder / "tmp").mkdir(parents=True, exist_ok=True)
    (folder / "tmp" / name).write_bytes(raw)
    (folder / "tmp" / name).rename(folder / "new" / name)


def deliver(var: Path) -> int:
    """Each message in demo/arriving, dated now, into the mailbox its To names."""
    count = 0
    for path in sorted(ARRIVING.glob("*.eml")):
        text = path.read_text(encoding="utf-8")
        to = text.split("\nTo:", 1)[1].split("\n", 1)[0]
        folder = "sales" if "sales@" in to else "support"
        raw = f"Date: {formatdate(localtime=False)}\n{text}".replace("\n", "\r\n").encode("utf-8")
        _deliver(var / "maildir" / folder, raw)
        count += 1
    print(f"demo: {count} new message(s) arrived in {var / 'maildir'}")
    return count


def answer(var: Path, quiet: bool = False) -> int:
    """Every agent notified of a new ticket answers it once, to the notification's Reply-To (the relay)."""
    answered = var / "answered"
    answered.mkdir(parents=True, exist_ok=True)
    count = 0
    for path in sorted((var / "outbox").glob("notify-*.eml")):
        note = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if "New ticket" not in str(note["Subject"]) or (answered / path.name).exists():
            continue
        [(name, address)] = getaddresses([str(note["To"])])
        customer = str(note["From"]).split(" via ")[0].strip('"')
        reply = EmailMessage()
        reply["From"] = f"{name} <{address}>"
        reply["To"] = str(note["Reply-To"])
        reply["Subject"] = f"Re: {note['Subject']}"
        reply["Date"] = formatdate(localtime=False)
        reply["Message-ID"] = f"<{uuid.uuid4().hex}@{address.split('@')[1]}>"
        reply["In-Reply-To"] = str(note["Message-ID"])
        reply["References"] = str(note["Message-ID"])
        quoted = "\n".join(f"> {line}" for line in str(note.get_body(("plain",)).get_content()).splitlines())
        body = AGENT_REPLY.format(first=customer.split()[0], name=name or address, address=address, dashes="-- ")
        reply.set_content(f"{body}\nOn {note['Date']}, {note['From']} wrote:\n{quoted}\n")
        _deliver(var / "maildir" / "support", reply.as_bytes(policy=email.policy.SMTP))
        (answered / path.name).touch()
        count += 1
    if count or not quiet:
        print(f"demo: {count} agent answer(s) sent through the relay")
    return count


def _history_filed(var: Path) -> bool:
    """The daemon's database holds at least the shipped messages (it files them within one poll)."""
    import sqlite3

    database = var / "inboxcrm.db"
    if not database.exists():
        return False
    shipped = sum(1 for p in (ROOT / "demo" / "maildir").glob("*/new/*") if not p.name.startswith("."))
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1) as connection:
            (stored,) = connection.execute("select count(*) from raw_messages").fetchone()
    except sqlite3.Error:
        return False
    return int(stored) >= shipped


def play(var: Path, pause: float, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not _history_filed(var):
        if time.monotonic() > deadline:
            print("demo: the daemon did not file the shipped mail in time; nothing delivered", file=sys.stderr)
            return
        time.sleep(1)
    print("demo: the shipped history is filed (quietly: nothing in the outbox for it)")
    time.sleep(pause)
    deliver(var)
    while time.monotonic() < deadline:
        time.sleep(1)
        if answer(var, quiet=True):
            return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["prepare", "deliver", "answer", "play"])
    parser.add_argument("--var", type=Path, default=ROOT / "var" / "demo", help="the demo's var folder")
    parser.add_argument("--pause", type=float, default=5.0, help="play: seconds between history and new mail")
    parser.add_argument("--timeout", type=float, default=300.0, help="play: give up after this many seconds")
    args = parser.parse_args()
    if args.step == "prepare":
        prepare(args.var)
    elif args.step == "deliver":
        deliver(args.var)
    elif args.step == "answer":
        answer(args.var)
    else:
        play(args.var, args.pause, args.timeout)


if __name__ == "__main__":
    main()
