"""How fast does the outbox go out over SMTP, and does a campaign's rate limit hold in real time?

Starts a private aiosmtpd on loopback (tests/support/smtpd.py; in a thread of this process like the tests, or with
--server-process in a child process) and a fresh SQLite database per run. N campaign mails (200 distinct ones
composed with `inboxcrm.core.outgoing.compose`, with the unsubscribe headers and footer of a real campaign step;
each mail has its own outbox key, message_id and recipient, the bytes come round every 200) are sent:
- the baseline: one raw `aiosmtplib.SMTP` connection calling `sendmail` N times;
- `SmtpSender.send_many` on the same N envelopes (one connection, reused);
- the full `Dispatcher`: N outbox rows (`queue_mail`, kind "campaign", one contact each), then `drain()` with batch
  size 50 and 200: claim + suppression check + send + record (status and a timeline event per mail), end to end;
  and once more with a sender that takes everything at once without a network: the dispatcher's own work.
Then, unless --skip-rate, the campaign rate limits: two campaigns (600 and 120 per minute) queued in one outbox, one
Dispatcher with the real clock and `interval` 1 s, called every second (fixed rate, like the daemon's scheduler)
for --rate-seconds; each campaign's rate is counted by the outbox's `sent_at` over the trailing full minutes.
Throughput rows are the best of --repeat runs; ratios are against the raw aiosmtplib baseline of the same run.
Run: `.venv/bin/python bench/dispatch.py [--messages N] [--rate-seconds S] [--skip-rate] [--server-process]`.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import multiprocessing.process
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiosmtplib  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from inboxcrm import bootstrap  # noqa: E402
from inboxcrm.adapters.db import migrate  # noqa: E402
from inboxcrm.adapters.db import tables as t  # noqa: E402
from inboxcrm.adapters.db.statements import aware  # noqa: E402
from inboxcrm.adapters.smtp import SmtpSender  # noqa: E402
from inboxcrm.config import parse_settings  # noqa: E402
from inboxcrm.core.campaigns import Campaign, Step, Trigger  # noqa: E402
from inboxcrm.core.model import Address  # noqa: E402
from inboxcrm.core.outgoing import Draft, compose  # noqa: E402
from inboxcrm.core.ports import Envelope, NewMail, Outcome, Sender, SendResult  # noqa: E402
from inboxcrm.core.unsubscribe import list_unsubscribe_headers, unsubscribe_token  # noqa: E402
from inboxcrm.services.outbox import Dispatcher  # noqa: E402
from inboxcrm.services.outreach import Marketing, Outreach  # noqa: E402
from tests.support.smtpd import SmtpServer  # noqa: E402
from timing import best_of  # noqa: E402

CAMPAIGN = "bench"  # the throughput runs' campaign, without a rate limit
SENDER = Address("sales@northwind.example", "Northwind Sales")
SECRET = b"bench-secret"
PUBLIC_URL = "https://crm.northwind.example"
POSTAL = "Northwind GmbH, Hauptstr. 1, 10115 Berlin"
POOL = 200  # distinct messages composed; every outbox row and envelope reuses the bytes of one of them
GOAL = 300  # msg/s, dispatcher end to end
PROMISE = 5.0  # ± percent of the configured rate limit
INTERVAL = timedelta(seconds=1)
RATE_LIMITS = (600, 120)


@dataclass(frozen=True)
class Mail:
    """One campaign mail, for the outbox and (as an envelope) for the senders."""

    key: str
    message_id: str
    recipient: Address
    raw: bytes

    @property
    def envelope(self) -> Envelope:
        return Envelope(self.key, SENDER.email, (self.recipient.email,), self.raw)


class Server:
    """The SmtpServer (tests/support/smtpd.py): in a thread of this process, as in the tests (client and server
    then take turns on one GIL), or in a child process (each has a core, as when the server is another machine)."""

    def __init__(self, in_thread: bool) -> None:
        self.in_thread = in_thread
        self._local: SmtpServer | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        if in_thread:
            self._local = SmtpServer().start()
            self.host, self.port = self._local.host, self._local.port
        else:
            context = multiprocessing.get_context("spawn")
            self._pipe, child = context.Pipe()
            self._process = context.Process(target=_serve, args=(child,), daemon=True)
            self._process.start()
            self.host, self.port = self._pipe.recv()

    def take_received(self) -> int:
        """How many messages the server accepted since the last call (it forgets their bytes)."""
        if self._local is not None:
            with self._local.lock:
                count = len(self._local.received)
                self._local.received.clear()
            return count
        self._pipe.send("take")
        return int(self._pipe.recv())

    def stop(self) -> None:
        if self._local is not None:
            self._local.stop()
        if self._process is not None:
            self._pipe.send("stop")
            self._process.join(timeout=10)
            if self._process.is_alive():
                self._process.terminate()


def _serve(pipe: Connection) -> None:
    """The child process: an SmtpServer answering "take" (count and forget what it received) until "stop"."""
    with SmtpServer() as server:
        pipe.send((server.host, server.port))
        while pipe.recv() == "take":
            with server.lock:
                pipe.send(len(server.received))
                server.received.clear()


def outreach(limits: Mapping[str, int | None]) -> Outreach:
    """Campaign definitions as the Dispatcher reads them: name → rate limit per minute (None: no limit)."""
    campaigns = {
        name: Campaign(
            name=name,
            file="bench",
            line=1,
            description="benchmark campaign",
            sender=SENDER,
            reply_to=SENDER.email,
            timezone="UTC",
            postal_address=POSTAL,
            trigger=Trigger("manual"),
            steps=(Step(1, timedelta(0), "bench-1", 1),),
            rate_limit=limit,
        )
        for name, limit in limits.items()
    }
    return Outreach(Marketing(campaigns, None, SECRET, PUBLIC_URL))


def compose_pool(count: int, now: datetime) -> list[bytes]:
    """`count` campaign mails as `Outreach.draft` writes them: footer, List-Unsubscribe, Precedence: bulk."""
    raws = []
    for n in range(count):
        person = Address(f"person{n}@lead{n % 97}.example", f"Person {n} Example")
        token = unsubscribe_token(person.email, CAMPAIGN, SECRET)
        url = f"{PUBLIC_URL}/unsubscribe/{token}"
        mailto = f"mailto:{SENDER.email}?subject={quote('unsubscribe ' + token)}"
        text = (
            f"Hello Person {n},\n\nthanks for your interest in Northwind. Here is what a trial gives you:\n"
            + "".join(f"- feature {i}: something useful that saves you time every week\n" for i in range(8))
            + f"\nBest regards,\nNorthwind Sales\n\n-- \nUnsubscribe: {url}\n{POSTAL}\n"
        )
        html = (
            f"<html><body><p>Hello Person {n},</p><p>thanks for your interest in Northwind.</p>"
            f'<p style="font-size:12px;color:#666"><a href="{url}">Unsubscribe</a>.<br>{POSTAL}</p></body></html>\n'
        )
        draft = Draft(
            key=f"campaign-{CAMPAIGN}-{n}-1-{n}",
            kind="campaign",
            sender=SENDER,
            to=(person,),
            subject=f"Your trial, Person {n}",
            text=text,
            html=html,
            headers=(*list_unsubscribe_headers(url, mailto), ("Precedence", "bulk")),
        )
        raws.append(compose(draft, f"<{n}.{CAMPAIGN}@northwind.example>", now))
    return raws


def mails_for(campaign: str, count: int, pool: Sequence[bytes]) -> list[Mail]:
    """`count` mails of `campaign`, each with its own key, Message-ID and recipient; the bytes cycle through `pool`."""
    return [
        Mail(
            f"campaign-{campaign}-{n}-1-{n}",
            f"<{n}.{campaign}.bench@northwind.example>",
            Address(f"person{n}.{campaign}@lead{n % 97}.example", f"Person {n}"),
            pool[n % len(pool)],
        )
        for n in range(count)
    ]


class Crm:
    """A fresh SQLite database in `folder` with each campaign's mails queued as outbox rows (with contacts, so
    that each sent mail also writes its timeline event, as real campaign mail does)."""

    def __init__(self, folder: Path, queued: Mapping[str, Sequence[Mail]], at: datetime) -> None:
        folder.mkdir(parents=True)
        config = f'[database]\nurl = "sqlite:///{folder / "crm.db"}"\n[team]\ndomains = ["northwind.example"]\n'
        (folder / "inboxcrm.toml").write_text(config)
        self.app = bootstrap.build(parse_settings(config, str(folder / "inboxcrm.toml"), {}))
        migrate.upgrade(self.app.engine)
        with self.app.store.transaction() as tx:
            for campaign, mails in queued.items():
                contacts = tx.ensure_contacts([m.recipient for m in mails], at)
                rows = [
                    NewMail(
                        key=m.key,
                        kind="campaign",
                        message_id=m.message_id,
                        sender=SENDER.email,
                        recipients=(m.recipient.email,),
                        raw=m.raw,
                        automatic=False,
                        at=at,
                        contact_id=contacts[m.recipient.email],
                        campaign=campaign,
                        step=1,
                    )
                    for m in mails
                ]
                tx.queue_mail(rows)

    def dispatcher(self, sender: Sender, batch_size: int, limits: Mapping[str, int | None]) -> Dispatcher:
        return Dispatcher(
            self.app.store,
            sender,
            bootstrap.utc_now,
            self.app.support,
            batch_size=batch_size,
            outreach=outreach(limits),
            interval=INTERVAL,
        )

    def sent_at(self, campaign: str) -> list[datetime]:
        o = t.outbox
        with self.app.engine.connect() as c:
            rows = c.execute(select(o.c.sent_at).where(o.c.status == "sent", o.c.campaign == campaign))
            return sorted(aware(at) for (at,) in rows)

    def queued(self, campaign: str) -> int:
        o = t.outbox
        with self.app.engine.connect() as c:
            query = select(func.count()).where(o.c.status == "queued", o.c.campaign == campaign)
            return int(c.execute(query).scalar_one())

    def close(self) -> None:
        self.app.close()


async def raw_aiosmtplib(server: Server, envelopes: Sequence[Envelope]) -> None:
    client = aiosmtplib.SMTP(hostname=server.host, port=server.port, timeout=60)
    await client.connect()
    for envelope in envelopes:
        await client.sendmail(envelope.sender, list(envelope.recipients), envelope.raw)
    await client.quit()


def expect_received(server: Server, count: int, what: str) -> None:
    """Every message arrived."""
    got = server.take_received()
    if got != count:
        raise SystemExit(f"{what}: the server received {got} messages, expected {count}")


class Instant:
    """A sender that takes every envelope at once without a network: what is left is the dispatcher's own work."""

    async def send_many(self, envelopes: Sequence[Envelope]) -> list[SendResult]:
        return [SendResult(e.key, Outcome.SENT, "250 2.0.0 Ok", 250) for e in envelopes]


class Counting:
    """Wraps a sender and remembers the keys of what it sent, in order."""

    def __init__(self, sender: Sender) -> None:
        self.sender = sender
        self.sent: list[str] = []

    async def send_many(self, envelopes: Sequence[Envelope]) -> list[SendResult]:
        results = await self.sender.send_many(envelopes)
        self.sent += [r.key for r in results if r.outcome is Outcome.SENT]
        return results


def throughput(
    server: Server, work: Path, mails: Sequence[Mail], repeat: int, batch_sizes: Sequence[int]
) -> list[tuple[str, float, str]]:
    """(row name, best seconds, note) for the baseline, send_many, and the dispatcher at each batch size."""
    count = len(mails)
    envelopes = [m.envelope for m in mails]
    smtp = SmtpSender(server.host, server.port, "none", None, None)
    expect_received(server, 0, "before the runs")

    def baseline() -> None:
        asyncio.run(raw_aiosmtplib(server, envelopes))
        expect_received(server, count, "raw aiosmtplib")

    def send_many() -> None:
        results = asyncio.run(smtp.send_many(envelopes))
        refused = [r for r in results if r.outcome is not Outcome.SENT]
        if refused:
            raise SystemExit(f"send_many: {len(refused)} not sent, the first: {refused[0]}")
        expect_received(server, count, "SmtpSender.send_many")

    rows = [
        ("raw aiosmtplib, 1 connection (baseline)", best_of(repeat, baseline), "sendmail() in a loop"),
        ("SmtpSender.send_many, 1 connection", best_of(repeat, send_many), ""),
    ]
    for batch_size in batch_sizes:
        seconds = drain_best(server, work, mails, repeat, batch_size, smtp)
        rows.append((f"Dispatcher.drain, batch size {batch_size}", seconds, "end to end: claim + send + record"))
    seconds = drain_best(server, work, mails, repeat, batch_sizes[0], Instant())
    rows.append((f"  same, batch {batch_sizes[0]}, sender without network", seconds, "the dispatcher's own work"))
    return rows


def drain_best(
    server: Server, work: Path, mails: Sequence[Mail], repeat: int, batch_size: int, sender: Sender
) -> float:
    """Best seconds of `Dispatcher.drain` over `repeat` fresh databases (prepared before the clock starts)."""
    count = len(mails)
    at = bootstrap.utc_now() - timedelta(seconds=1)
    name = type(sender).__name__
    crms = [Crm(work / f"throughput-{name}-{batch_size}-{n}", {CAMPAIGN: mails}, at) for n in range(repeat)]
    runs: Iterator[Crm] = iter(crms)
    rounds = math.ceil(count / batch_size) + 5

    def drain() -> None:
        done = next(runs).dispatcher(sender, batch_size, {CAMPAIGN: None}).drain(rounds)
        if done.sent != count:
            raise SystemExit(f"dispatcher: sent {done.sent} of {count}: {done}")
        expect_received(server, count if isinstance(sender, SmtpSender) else 0, "Dispatcher.drain")

    try:
        return best_of(repeat, drain)
    finally:
        for crm in crms:
            crm.close()


@dataclass(frozen=True)
class RateResult:
    limit: int
    minutes: list[int]  # sends in each trailing full minute of the window, oldest first
    most_in_60s: int  # most sends in any 60 s of the window
    per_round: list[int]  # sends per dispatch() call
    per_10s: list[int]  # sends per 10 s of the window
    left: int  # mails still queued at the end (0: the queue ran dry, the rate says nothing)

    @property
    def measured(self) -> float:
        return sum(self.minutes) / len(self.minutes)

    @property
    def deviation(self) -> float:
        return (self.measured - self.limit) / self.limit * 100

    @property
    def holds(self) -> bool:
        """Within the promise: the trailing minutes' rate, and no 60 s of the window over the limit + 5%."""
        return abs(self.deviation) <= PROMISE and self.most_in_60s <= self.limit * (1 + PROMISE / 100)


def rate_limits(
    server: Server, work: Path, pool: Sequence[bytes], limits: Sequence[int], seconds: float
) -> tuple[list[RateResult], int]:
    """One campaign per limit, all in one outbox, one Dispatcher with the real clock called every INTERVAL (fixed
    rate, like the daemon's APScheduler interval job) for `seconds`; also how many rounds started late."""
    interval = INTERVAL.total_seconds()
    names = {limit: f"rate-{limit}" for limit in limits}
    # more than each limit could let through in the window: the queue must not run dry
    queued = {names[limit]: mails_for(names[limit], limit * (math.ceil(seconds / 60) + 1), pool) for limit in limits}
    crm = Crm(work / "rate", queued, bootstrap.utc_now() - timedelta(seconds=1))
    try:
        sender = Counting(SmtpSender(server.host, server.port, "none", None, None))
        batch_size = max(50, 2 * sum(math.ceil(limit * interval / 60) for limit in limits))
        dispatcher = crm.dispatcher(sender, batch_size, {names[limit]: limit for limit in limits})
        rounds: list[list[str]] = []
        late = 0
        start_wall = bootstrap.utc_now()
        start = time.monotonic()
        for k in range(math.ceil(seconds / interval)):
            delay = start + k * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif -delay > interval / 2:
                late += 1
            before = len(sender.sent)
            dispatcher.dispatch()
            rounds.append(sender.sent[before:])
        remaining = start + seconds - time.monotonic()
        if remaining > 0:
            time.sleep(remaining)
        end_wall = start_wall + timedelta(seconds=seconds)
        minute = timedelta(minutes=1)
        results = []
        total = 0
        for limit in limits:
            every = crm.sent_at(names[limit])
            total += len(every)
            sent = [at for at in every if start_wall <= at < end_wall]
            minutes = [
                sum(1 for at in sent if end_wall - m * minute <= at < end_wall - (m - 1) * minute)
                for m in range(int(seconds // 60), 0, -1)
            ]
            most = first = 0
            for last, at in enumerate(sent):
                while sent[first] <= at - minute:
                    first += 1
                most = max(most, last - first + 1)
            per_10s = [0] * math.ceil(seconds / 10)
            for at in sent:
                per_10s[int((at - start_wall).total_seconds() // 10)] += 1
            prefix = f"campaign-{names[limit]}-"
            per_round = [sum(1 for key in keys if key.startswith(prefix)) for keys in rounds]
            results.append(RateResult(limit, minutes, most, per_round, per_10s, crm.queued(names[limit])))
        expect_received(server, total, "rate limits")
        return results, late
    finally:
        crm.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=2000, help="messages per throughput run (default 2000)")
    parser.add_argument("--repeat", type=int, default=3, help="throughput runs; the best counts (default 3)")
    parser.add_argument(
        "--rate-seconds", type=float, default=65, help="real-time window of the rate limits, ≥ 60 (default 65)"
    )
    parser.add_argument("--skip-rate", action="store_true", help="skip the real-time rate-limit run")
    parser.add_argument(
        "--server-process", action="store_true", help="run the SMTP server in a child process, not in a thread"
    )
    args = parser.parse_args(argv)
    if args.rate_seconds < 60 and not args.skip_rate:
        parser.error("--rate-seconds must be at least 60: the rate is counted over full minutes")
    count = args.messages

    start = time.perf_counter()
    pool = compose_pool(min(POOL, count), datetime.now(UTC))
    composing = time.perf_counter() - start
    mails = mails_for(CAMPAIGN, count, pool)
    size = sum(len(m.raw) for m in mails)
    server = Server(in_thread=not args.server_process)
    print(
        f"{count} campaign mails ({size / 1e6:.1f} MB; {len(pool)} distinct, composed at {len(pool) / composing:.0f}/s)"
        f"; aiosmtpd on {server.host}:{server.port} in {'a thread' if server.in_thread else 'a child process'}; "
        f"SQLite; best of {args.repeat}",
        flush=True,
    )
    try:
        with tempfile.TemporaryDirectory(prefix="inboxcrm-bench-") as tmp:
            work = Path(tmp)
            rows = throughput(server, work, mails, args.repeat, (50, 200))
            rates, late = ([], 0) if args.skip_rate else rate_limits(server, work, pool, RATE_LIMITS, args.rate_seconds)
    finally:
        server.stop()

    baseline = rows[0][1]
    width = max(len(name) for name, _, _ in rows)
    print(f"\n{'throughput':<{width}}  {'seconds':>8}  {'msg/s':>7}  {'× baseline':>10}  note")
    for name, seconds, note in rows:
        print(f"{name:<{width}}  {seconds:8.3f}  {count / seconds:7.0f}  {baseline / seconds:10.2f}  {note}")
    best = max(count / seconds for _, seconds, note in rows if note.startswith("end to end"))
    verdict = "met" if best >= GOAL else "NOT met"
    print(f"\nGoal ≥ {GOAL} msg/s end to end: {verdict} (best dispatcher: {best:.0f} msg/s).")

    if rates:
        tail = args.rate_seconds % 10
        partial = f" (the last: {tail:g} s)" if tail else ""
        print(
            f"\nrate limits: {len(rates)} campaigns in one outbox, one Dispatcher, real clock, dispatch() every "
            f"{INTERVAL.total_seconds():g}s for {args.rate_seconds:g}s ({late} rounds late by over half an interval);"
            f" counted by sent_at over the trailing {int(args.rate_seconds // 60)} full minute(s)"
        )
        print(
            f"{'limit/min':>9}  {'measured/min':>12}  {'deviation':>9}  {'±' + format(PROMISE, 'g') + '%':>4}  "
            f"{'most in any 60s':>15}  {'per round':>9}  sent per 10 s{partial}"
        )
        for run in rates:
            print(
                f"{run.limit:9d}  {run.measured:12.1f}  {run.deviation:+8.1f}%  {'ok' if run.holds else 'NO':>4}  "
                f"{run.most_in_60s:15d}  {f'{min(run.per_round)}-{max(run.per_round)}':>9}  "
                f"{' '.join(str(n) for n in run.per_10s)}"
            )
            if run.left == 0:
                print(f"  (limit {run.limit}: the queue ran dry; the measured rate understates what the limit allows)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
