"""How fast are campaign mails composed and queued, against how fast SMTP takes them?

What the daemon does when a campaign's steps are due: `tick_campaigns` (services/outreach.py) reads each due
contact, renders the step's templates (subject, text, HTML if any) with the contact's fields, adds the
unsubscribe footer and headers, writes the MIME bytes with a fresh Message-ID and Date, queues the outbox row
and advances the enrolment, in chunks of --chunk enrolments per transaction. The campaign and templates are
the shipped ones (campaigns/trial-nurture.toml, templates/campaigns/), sent as the `sales` mailbox; N contacts
(a third with non-ASCII names, half with a company, all with a custom field), enrolled with one step due
each: steps 1, 2 and 3 in turn (step 1 has an HTML part). Each run gets a fresh SQLite database in a temporary
folder, filled before the clock starts.

Rows, each the best of --repeat runs:
- the baseline: the raw aiosmtplib send rate, `sendmail` N times over one connection to a private aiosmtpd on
  loopback (tests/support/smtpd.py, in a thread of this process), the bytes being the mails the tick queued;
- the campaign tick end to end (contacts read, templates, MIME, outbox rows, enrolments advanced);
- composing alone, without a database: the tick's writer for a due step (`StepMail.mail`, one per step) over
  the same contacts, and a `Draft` per contact written by `outgoing.compose` (how each mail was made before).
Ratios are against the baseline of the same run. The bytes queued are parsed back (policy.default) as a check.
Run: `.venv/bin/python bench/compose.py [--contacts N] [--repeat R] [--profile FILE]`.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import email
import email.policy
import pstats
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiosmtplib  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from inboxcrm import bootstrap  # noqa: E402
from inboxcrm.adapters.db import migrate  # noqa: E402
from inboxcrm.adapters.db import tables as t  # noqa: E402
from inboxcrm.config import parse_settings  # noqa: E402
from inboxcrm.core.outgoing import compose  # noqa: E402
from inboxcrm.core.ports import Recipient  # noqa: E402
from inboxcrm.services.outreach import tick_campaigns  # noqa: E402
from tests.support.smtpd import SmtpServer  # noqa: E402
from timing import best_of  # noqa: E402

CAMPAIGN = "trial-nurture"
GOAL = 1000  # msg/s, the campaign tick end to end
# A Monday, 10:00 in Berlin: inside the shipped campaign's send window.
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
NAMES = ("Ada Lovelace", "Zoë Ångström", "Grace Hopper", "José Ñúñez", "", "Łukasz Żółć", "Alan Turing", "渡辺 健")
CONFIG = """
[database]
url = "sqlite:///{db}"

[team]
domains = ["northwind.example"]

[[mailboxes]]
name = "sales"
kind = "sales"
addresses = ["sales@northwind.example"]
from_name = "Northwind Sales"
source = "maildir"
path = "{folder}/maildir"

[security]
secret = "bench-secret-bench-secret-bench-secret"

[templates]
dir = "{root}/templates"

[campaigns]
dir = "{root}/campaigns"
public_url = "https://crm.northwind.example"

[[fields]]
name = "plan"
type = "text"
"""


def contact_rows(count: int) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Companies and contacts: names cycle through NAMES (a third not ASCII, one in eight empty)."""
    companies: list[dict[str, object]] = [
        {"id": n + 1, "domain": f"lead{n}.example", "name": f"Lead Works {n} GmbH", "created_at": NOW}
        for n in range(97)
    ]
    contacts: list[dict[str, object]] = [
        {
            "id": n + 1,
            "email": f"person{n}@lead{n % 97}.example",
            "name": f"{NAMES[n % len(NAMES)]} {n}".strip() if NAMES[n % len(NAMES)] else "",
            "company_id": (n % 97) + 1 if n % 2 == 0 else None,
            "undeliverable": False,
            "created_at": NOW - timedelta(days=30),
            "score": float(n % 50),
            "stage": "lead",
        }
        for n in range(count)
    ]
    return companies, contacts


class Crm:
    """A fresh SQLite database in `folder`: `count` contacts, each with one step of the campaign due now."""

    def __init__(self, folder: Path, count: int) -> None:
        folder.mkdir(parents=True)
        (folder / "maildir" / "cur").mkdir(parents=True)
        (folder / "maildir" / "new").mkdir()
        (folder / "maildir" / "tmp").mkdir()
        config = CONFIG.format(db=folder / "crm.db", folder=folder, root=ROOT)
        (folder / "inboxcrm.toml").write_text(config)
        self.app = bootstrap.build(parse_settings(config, str(folder / "inboxcrm.toml"), {}), clock=lambda: NOW)
        migrate.upgrade(self.app.engine)
        if CAMPAIGN not in self.app.outreach.marketing.campaigns:
            raise SystemExit(f"campaign {CAMPAIGN!r} did not compile from {ROOT / 'campaigns'}")
        companies, contacts = contact_rows(count)
        enrolled = NOW - timedelta(days=7)
        with self.app.engine.begin() as c:
            c.execute(insert(t.companies), companies)
            c.execute(insert(t.contacts), contacts)
            c.execute(
                insert(t.contact_fields),
                [{"contact_id": n + 1, "name": "plan", "value": ("pro", "free")[n % 2]} for n in range(count)],
            )
            c.execute(
                insert(t.enrolments),
                [
                    {
                        "contact_id": n + 1,
                        "campaign": CAMPAIGN,
                        "status": "active",
                        "source": "rule",
                        "enrolled_at": enrolled,
                        "step": n % 3 + 1,
                        "next_due_at": NOW - timedelta(minutes=1),
                    }
                    for n in range(count)
                ],
            )
        self.count = count

    def tick(self, chunk: int) -> None:
        """Queue every due step, as the daemon's campaign clock does."""
        result = tick_campaigns(self.app.store, self.app.outreach, NOW, limit=chunk, rounds=self.count // chunk + 5)
        if result.queued != self.count:
            raise SystemExit(f"the tick queued {result.queued} of {self.count} ({result})")

    def queued(self) -> list[tuple[str, list[str], bytes]]:
        o = t.outbox
        with self.app.engine.connect() as c:
            rows = c.execute(select(o.c.sender, o.c.recipients, o.c.raw).order_by(o.c.id))
            return [(r.sender, list(r.recipients), bytes(r.raw)) for r in rows]

    def recipients(self) -> list[tuple[int, Recipient]]:
        """(step that was due, recipient) for every contact, read as the tick reads them."""
        with self.app.store.transaction() as tx:
            found = [(n % 3 + 1, tx.recipient(n + 1, NOW)) for n in range(self.count)]
        return [(step, r) for step, r in found if r is not None]

    def close(self) -> None:
        self.app.close()


async def raw_aiosmtplib(server: SmtpServer, mails: Sequence[tuple[str, list[str], bytes]]) -> None:
    client = aiosmtplib.SMTP(hostname=server.host, port=server.port, timeout=60)
    await client.connect()
    for sender, recipients, raw in mails:
        await client.sendmail(sender, recipients, raw)
    await client.quit()


def check(mails: Sequence[tuple[str, list[str], bytes]]) -> str:
    """Parse the queued bytes back with the stdlib: every mail well-formed, Message-IDs unique."""
    ids: set[str] = set()
    html = 0
    for _, recipients, raw in mails:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        if message.defects or message.get_body(("plain",)) is None or "List-Unsubscribe-Post" not in message:
            raise SystemExit(f"a queued mail to {recipients} does not read back: {message.defects}")
        if any(len(line) > 998 for line in raw.split(b"\r\n")):
            raise SystemExit(f"a queued mail to {recipients} has a line over 998 characters")
        ids.add(str(message["Message-ID"]))
        html += message.get_body(("html",)) is not None
    if len(ids) != len(mails):
        raise SystemExit(f"{len(mails) - len(ids)} queued mails share a Message-ID")
    return f"{len(mails)} mails parse back, {len(ids)} distinct Message-IDs, {html} with HTML"


def composing_rows(crm: Crm, repeat: int) -> list[tuple[str, float, str]]:
    """Composing without a database: the tick's `StepMail` per step, and a draft + `compose` per contact."""
    outreach = crm.app.outreach
    campaign = outreach.marketing.campaigns[CAMPAIGN]
    due = crm.recipients()
    domain = campaign.sender.email.partition("@")[2]

    def per_step() -> None:
        writers = {n: outreach.step_mail(campaign, n, NOW) for n in range(1, len(campaign.steps) + 1)}
        for k, (n, recipient) in enumerate(due):
            writers[n].mail(recipient, recipient.contact_id, f"<{k}.bench@{domain}>")

    def per_contact() -> None:
        for k, (n, recipient) in enumerate(due):
            draft = outreach.step_mail(campaign, n, NOW).draft(recipient, recipient.contact_id)
            compose(draft, f"<{k}.bench@{domain}>", NOW)

    return [
        ("composing only: StepMail.mail, one writer per step", best_of(repeat, per_step), "templates + MIME"),
        ("composing only: a draft + compose() per contact", best_of(repeat, per_contact), "per contact"),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=5000, help="contacts with a step due (default 5000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each row; the best counts (default 3)")
    parser.add_argument("--chunk", type=int, default=200, help="enrolments per transaction (default 200)")
    parser.add_argument("--profile", help="write a cProfile of one campaign tick to this file and print its top")
    args = parser.parse_args(argv)
    count = args.contacts

    with tempfile.TemporaryDirectory(prefix="inboxcrm-bench-compose-") as tmp:
        work = Path(tmp)
        crms = [Crm(work / f"tick-{n}", count) for n in range(args.repeat)]
        runs = iter(crms)
        try:
            ticking = best_of(args.repeat, lambda: next(runs).tick(args.chunk))
            mails = crms[0].queued()
            size = sum(len(raw) for _, _, raw in mails)
            checked = check(mails)
            composing = composing_rows(crms[0], args.repeat)
            if args.profile:
                profiled = Crm(work / "profile", count)
                cProfile.runctx("profiled.tick(args.chunk)", globals(), locals(), args.profile)
                profiled.close()
        finally:
            for crm in crms:
                crm.close()
        with SmtpServer() as server:

            def send() -> None:
                asyncio.run(raw_aiosmtplib(server, mails))
                with server.lock:
                    got = len(server.received)
                    server.received.clear()
                if got != len(mails):
                    raise SystemExit(f"raw aiosmtplib: the server received {got} of {len(mails)}")

            sending = best_of(args.repeat, send)

    rows = [
        ("raw aiosmtplib sendmail, 1 connection", sending, "the baseline"),
        (f"campaign tick: due steps → outbox, chunks of {args.chunk}", ticking, "end to end"),
        *composing,
    ]
    print(
        f"{count} contacts, one step of {CAMPAIGN} due each (steps 1–3 in turn); {size / 1e6:.1f} MB queued; "
        f"SQLite; aiosmtpd on loopback in a thread; best of {args.repeat}; load {_load()}"
    )
    print(checked)
    width = max(len(name) for name, _, _ in rows)
    print(f"\n{'':<{width}}  {'seconds':>8}  {'msg/s':>7}  {'× send':>7}  note")
    for name, seconds, note in rows:
        print(f"{name:<{width}}  {seconds:8.3f}  {count / seconds:7.0f}  {sending / seconds:7.2f}  {note}")
    verdict = "met" if count / ticking >= GOAL else "NOT met"
    print(f"\nGoal ≥ {GOAL} msg/s for the campaign tick: {verdict} ({count / ticking:.0f} msg/s).")
    if args.profile:
        print(f"\nprofile of one tick ({args.profile}), by own time:")
        pstats.Stats(args.profile).sort_stats("tottime").print_stats(25)
    return 0


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


if __name__ == "__main__":
    raise SystemExit(main())
