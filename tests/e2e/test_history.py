"""Connecting a mailbox that already holds months of mail, end to end: a private Dovecot, a real aiosmtpd,
and `inboxcrm run` as a process. What was there before is history (stored, nobody mailed); what arrives
afterwards is live. The same through `inboxcrm import` of an mbox file.

The history is a support mailbox of 40 customers over 120 days, dated back from now: customers write, agents
answer them directly with the shared address in Cc (some after a day, some within the hour), customers write
again, and some conversations start as a team member's forward of a customer's mail.
"""

from __future__ import annotations

import mailbox
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from tests.support.desk import ANA, BEN, desk_config, smtp_outbox, support_mailbox
from tests.support.dovecot import Dovecot, free_port
from tests.support.mail import mail
from tests.support.smtpd import SmtpServer

pytestmark = pytest.mark.imap

PASSWORD_ENV = "INBOXCRM_TEST_IMAP_PASSWORD"
SHARED = "support@northwind.example"
AGENTS = ("Ana Alves <ana@northwind.example>", "Ben Brandt <ben@northwind.example>")


@dataclass
class History:
    """The mailbox's past, and what inboxcrm should make of it."""

    messages: list[bytes] = field(default_factory=list)
    first_response: dict[str, datetime] = field(default_factory=dict)  # ticket subject → first agent answer
    status: dict[str, str] = field(default_factory=dict)  # ticket subject → its status after the import
    customers: set[str] = field(default_factory=set)


def _date(at: datetime) -> str:
    return format_datetime(at)


def make_history(now: datetime, customers: int = 40, days: int = 120, seed: int = 12) -> History:
    """About 120 messages: per customer one or two conversations, answered by an agent with the shared address
    in Cc; every fifth conversation starts as Ana's forward of the customer's mail."""
    rng = random.Random(seed)
    history = History()
    dated: list[tuple[datetime, bytes]] = []
    for n in range(customers):
        person = f"Customer {n:02d} <c{n:02d}@client{n % 7}.example>"
        address = f"c{n:02d}@client{n % 7}.example"
        history.customers.add(address)
        for k in range(1 + (n % 3 == 0)):
            ago = rng.uniform(3, days - 2) if n % 10 else 1.5  # a few answered lately: still solved, not closed
            start = (now - timedelta(days=ago)).replace(microsecond=0)
            subject = f"Question {k} from customer {n:02d}"
            agent = AGENTS[rng.randrange(2)]
            first_id = f"q{n}-{k}-{uuid.uuid4().hex[:6]}@client.example"
            if (n + k) % 5 == 0:
                # Ana forwards the customer's mail to the shared address; the ticket is the customer's
                body = (
                    "Can someone take this one?\n\n---------- Forwarded message ---------\n"
                    f"From: {person}\nDate: {_date(start)}\nSubject: {subject}\nTo: Ana <ana@northwind.example>\n\n"
                    "Our order arrived broken.\n"
                )
                start += timedelta(minutes=20)
                first = mail(
                    from_=AGENTS[0], to=SHARED, subject=f"Fwd: {subject}", message_id=first_id, body=body,
                    date=_date(start),
                )  # fmt: skip
                agent = AGENTS[1]
            else:
                first = mail(from_=person, to=SHARED, subject=subject, message_id=first_id, date=_date(start))
            dated.append((start, first))
            answered = start + timedelta(hours=rng.choice([0.5, 2, 5, 26]))
            history.first_response[subject] = answered
            answer_id = f"a{n}-{k}-{uuid.uuid4().hex[:6]}@northwind.example"
            thanks = "Hello,\n\nthank you, we are on it.\n\nKind regards\n"
            answer = mail(
                from_=agent, to=person, cc=SHARED, subject=f"Re: {subject}", message_id=answer_id,
                in_reply_to=first_id, body=thanks, date=_date(answered),
            )  # fmt: skip
            dated.append((answered, answer))
            # the team had the last word: solved then, closed 4 days (close_solved_after) later
            history.status[subject] = "closed" if answered + timedelta(days=4) <= now else "solved"
            if rng.random() < 0.5:
                again = min(answered + timedelta(hours=rng.uniform(1, 40)), now - timedelta(minutes=1))
                follow_up = mail(
                    from_=person, to=SHARED, subject=f"Re: {subject}", in_reply_to=answer_id,
                    message_id=f"r{n}-{k}-{uuid.uuid4().hex[:6]}@client.example", date=_date(again),
                    body="Thanks, and one more thing: when will it ship?\n",
                )  # fmt: skip
                dated.append((again, follow_up))
                history.status[subject] = "open"  # the customer had the last word: waiting on the team
    dated.sort(key=lambda pair: pair[0])  # delivered in the order they were written
    history.messages = [raw for _, raw in dated]
    return history


def write_config(tmp_path: Path, dovecot: Dovecot, folder: str, smtp: SmtpServer, api_port: int) -> Path:
    templates = tmp_path / "templates" / "support"
    templates.mkdir(parents=True)
    (templates / "ack.subject.j2").write_text("We got your message: {{ ticket.subject }}\n")
    (templates / "ack.text.j2").write_text("Hello {{ contact.first_name }}, your request is {{ ticket.token }}.\n")
    config = tmp_path / "inboxcrm.toml"
    # the agents' answers in this history are unsigned Cc replies: history, not authentication, is tested
    # here (that is tests/*/test_agent_mail.py), so the From header is believed
    outbox = smtp_outbox(smtp, interval="0.3s", timeout="10s")
    desk = desk_config(ANA, BEN, secret="history-secret", agent_mail="from-header", outbox=outbox)
    support = support_mailbox(dovecot, folder, PASSWORD_ENV, 'acknowledge = "support/ack"', 'poll_interval = "0.3s"')
    config.write_text(
        f"""
[database]
url = "sqlite:///{tmp_path / "inboxcrm.db"}"

[api]
port = {api_port}

[team]
domains = ["northwind.example"]

{support}batch_size = 25
{desk}
"""
    )
    return config


class Daemon:
    """`inboxcrm run` as a process."""

    def __init__(self, config: Path, environ: dict[str, str], api_port: int) -> None:
        exe = Path(sys.executable).with_name("inboxcrm")
        self.process = subprocess.Popen(
            [str(exe), "--config", str(config), "run"],
            env=environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.base = f"http://127.0.0.1:{api_port}"

    def health(self) -> dict[str, object]:
        return dict(httpx.get(f"{self.base}/health", timeout=5).json())

    def stop(self) -> str:
        self.process.send_signal(signal.SIGINT)
        output, _ = self.process.communicate(timeout=30)
        return output


def wait_for(predicate, what: str, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except (httpx.HTTPError, sqlite3.Error) as exc:
            last = exc
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


def query(tmp_path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(f"file:{tmp_path / 'inboxcrm.db'}?mode=ro", uri=True, timeout=5) as connection:
        return list(connection.execute(sql))


def parse_time(value: object) -> datetime:
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


@dataclass(frozen=True)
class World:
    config: Path
    home: Path
    folder: str
    api_port: int


@pytest.fixture
def world(tmp_path: Path, dovecot: Dovecot, smtp_server: SmtpServer) -> World:
    folder = f"h{uuid.uuid4().hex[:10]}"
    dovecot.create_folder(folder)
    port = free_port()
    return World(write_config(tmp_path, dovecot, folder, smtp_server, port), tmp_path, folder, port)


@pytest.mark.parametrize("how", ["connect", "import"])
def test_a_mailbox_with_history_is_filed_quietly_and_only_new_mail_is_answered(
    how: str, world: World, dovecot: Dovecot, smtp_server: SmtpServer
) -> None:
    config, tmp_path, folder = world.config, world.home, world.folder
    now = datetime.now(UTC).replace(microsecond=0)
    history = make_history(now)
    assert 110 <= len(history.messages) <= 140
    environ = {**os.environ, PASSWORD_ENV: dovecot.password}
    if how == "connect":
        dovecot.append_many(folder, history.messages)  # the mailbox holds its past before inboxcrm connects
    else:
        archive = mailbox.mbox(str(tmp_path / "archive.mbox"))
        for raw in history.messages:
            archive.add(raw)
        archive.flush()
        exe = Path(sys.executable).with_name("inboxcrm")
        done = subprocess.run(
            [str(exe), "--config", str(config), "import", str(tmp_path / "archive.mbox"), "--mailbox", "support"],
            env=environ, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip().startswith(f"{len(history.messages)} read, {len(history.messages)} stored")

    daemon = Daemon(config, environ, world.api_port)
    try:
        wait_for(lambda: daemon.health()["mailboxes"], "the API and a first poll")
        if how == "connect":
            state = wait_for(
                lambda: (h := daemon.health()["mailboxes"][0]["history"]) and h["done"] and h, "the history import"
            )
            assert state == {"read": len(history.messages), "total": len(history.messages), "done": True}
        stored = query(tmp_path, "select count(*) from messages")[0][0]
        assert stored == len(history.messages)
        time.sleep(1.5)  # several outbox rounds: anything queued would have gone out by now
        with smtp_server.lock:
            assert smtp_server.received == []  # not one mail to a customer or an agent about the past
        assert query(tmp_path, "select count(*) from outbox") == [(0,)]

        # first responses are the agents' observed answers, whatever batch they came in
        found = {row[0]: row[1:] for row in query(tmp_path, "select subject, first_response_at, status from tickets")}
        assert len(found) == len(history.first_response)
        for subject, answered in history.first_response.items():
            first_response, status = found[subject if subject in found else f"Fwd: {subject}"]
            assert parse_time(first_response) == answered, subject
            assert status == history.status[subject], subject
        contacts = {row[0] for row in query(tmp_path, "select email from contacts")}
        assert contacts == history.customers  # forwards are filed under the customer, never the team
        assert set(history.status.values()) == {"open", "solved", "closed"}  # the corpus has each case

        # a customer writes now: exactly one acknowledgement, and one notification per agent of the queue
        dovecot.append(folder, mail(from_="Nadia Petrova <nadia@wayne.example>", subject="Driver stops", date=None))

        def delivered() -> list[tuple[str, ...]]:
            with smtp_server.lock:
                return [r.rcpt_tos for r in smtp_server.received]

        wait_for(lambda: len(delivered()) >= 3, "the acknowledgement and the notifications")
        time.sleep(1.0)
        assert sorted(delivered()) == [("ana@northwind.example",), ("ben@northwind.example",), ("nadia@wayne.example",)]
    finally:
        output = daemon.stop()
    assert daemon.process.returncode == 0, output
