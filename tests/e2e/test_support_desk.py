"""The support desk end to end with real servers: mail arrives in a private Dovecot, inboxcrm polls it over
IMAP, and everything it sends goes over SMTP to a real aiosmtpd.

The test plays the mail system around inboxcrm: what the SMTP server receives for the shared address (and
its plus addresses) is delivered into the Dovecot folder inboxcrm polls, like a real MTA would; what it
receives for a customer or an agent lands in their "inbox" (`server.received`), where the test reads it and
answers like a person (or a robot) would.
"""

from __future__ import annotations

import email
import email.policy
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from inboxcrm import bootstrap
from inboxcrm.adapters.db import tables as t
from inboxcrm.adapters.dkim import DnsLookup
from inboxcrm.config import parse_settings
from inboxcrm.services.polling import MailboxPoller
from tests.support.clock import Clock
from tests.support.desk import ANA, BEN, desk_config, smtp_outbox, support_mailbox
from tests.support.dovecot import Dovecot
from tests.support.mail import mail
from tests.support.smtpd import Received, SmtpServer

pytestmark = pytest.mark.imap

PASSWORD_ENV = "INBOXCRM_TEST_IMAP_PASSWORD"
SHARED = "support@northwind.example"
CAROL = "Carol Danvers <carol@acme-corp.example>"


class Desk:
    """inboxcrm on one Dovecot folder and one SMTP server, with the test as the world around it."""

    def __init__(
        self, app: bootstrap.App, poller: MailboxPoller, dovecot: Dovecot, folder: str, smtp: SmtpServer, clock: Clock
    ) -> None:
        self.app, self.poller, self.dovecot, self.folder, self.smtp, self.clock = (
            app,
            poller,
            dovecot,
            folder,
            smtp,
            clock,
        )
        self.delivered = 0  # how many of the SMTP server's messages were looked at already

    def deliver(self, raw: bytes) -> None:
        """Mail arriving at the shared mailbox."""
        self.dovecot.append(self.folder, raw)

    def cycle(self, rounds: int = 1) -> None:
        """What the daemon does on its own: poll the mailbox, send the outbox, and let the mail system deliver
        whatever was sent to the shared address back into the mailbox."""
        for _ in range(rounds):
            with self.poller.open_source() as source:
                self.poller.poll_once(source)
            self.app.dispatcher.drain()
            for received in self.new_received():
                if any(
                    r.endswith("@northwind.example") and r.split("@")[0].split("+")[0] == "support"
                    for r in received.rcpt_tos
                ):
                    self.deliver(received.raw)

    def new_received(self) -> list[Received]:
        with self.smtp.lock:
            fresh = self.smtp.received[self.delivered :]
            self.delivered = len(self.smtp.received)
        return fresh

    def inbox(self, address: str) -> list[EmailMessage]:
        """Everything the SMTP server accepted for `address`, parsed."""
        with self.smtp.lock:
            raws = [r.raw for r in self.smtp.received if address in r.rcpt_tos]
        return [parse(raw) for raw in raws]

    def ticket(self, ticket_id: int = 1) -> t.Row:  # type: ignore[name-defined]
        with self.app.engine.connect() as c:
            return c.execute(select(t.tickets).where(t.tickets.c.id == ticket_id)).one()


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def reply(
    to: EmailMessage, from_: str, text: str, *, to_address: str | None = None, headers: dict[str, str] | None = None
) -> bytes:
    """A person (or robot) answering `to` from their mail client: Re: subject, In-Reply-To, the original quoted."""
    message_id = str(to["Message-ID"]).strip("<>")
    references = " ".join(filter(None, [str(to.get("References", "")), f"<{message_id}>"]))
    quoted = "\n".join("> " + line for line in text_of(to).splitlines())
    return mail(
        from_=from_,
        to=to_address or str(to.get("Reply-To") or to["From"]),
        subject=f"Re: {to['Subject']}",
        message_id=f"{uuid.uuid4().hex}@{from_.split('@')[1].rstrip('>')}",
        in_reply_to=message_id,
        references=references,
        body=f"{text}\n\nOn Mon, 23 Nov 2026 at 10:00, {to['From']} wrote:\n{quoted}\n",
        date=None,
        headers=headers,
    )


@pytest.fixture
def desk(tmp_path: Path, dovecot: Dovecot, smtp_server: SmtpServer) -> Iterator[Desk]:
    yield from open_desk(tmp_path, dovecot, smtp_server)


def open_desk(
    tmp_path: Path, dovecot: Dovecot, smtp_server: SmtpServer, dkim_dns: DnsLookup | None = None, **security: str
) -> Iterator[Desk]:
    """inboxcrm on a fresh folder; `security` are `[security]` keys (agent_mail …), `dkim_dns` serves DKIM keys."""
    folder = f"d{uuid.uuid4().hex[:10]}"
    dovecot.create_folder(folder)
    templates = tmp_path / "templates" / "support"
    templates.mkdir(parents=True)
    (templates / "ack.subject.j2").write_text("We got your message: {{ ticket.subject }}\n")
    (templates / "ack.text.j2").write_text("Hello {{ contact.first_name }}, your request is {{ ticket.token }}.\n")
    config = f"""
[database]
url = "sqlite:///{tmp_path / "inboxcrm.db"}"

[team]
domains = ["northwind.example"]

{support_mailbox(dovecot, folder, PASSWORD_ENV, 'acknowledge = "support/ack"', 'timeout = "10s"')}
{
        desk_config(
            ANA.but(display_name="Ana Alves"),
            BEN,
            secret="e2e-secret",
            **security,
            outbox=smtp_outbox(smtp_server, timeout="10s", retry_first="1m", retry_max="10m", give_up_after="1d"),
        )
    }
[support]
fuse_limit = 3
fuse_window = "2h"
"""
    file = tmp_path / "inboxcrm.toml"
    file.write_text(config)
    environ = {PASSWORD_ENV: dovecot.password}
    clock = Clock(datetime.now(UTC).replace(microsecond=0))
    app = bootstrap.build(parse_settings(config, str(file), environ), clock=clock, dkim_dns=dkim_dns)
    bootstrap.prepare_database(app)
    [poller] = bootstrap.pollers(app, environ)
    with poller.open_source() as source:
        poller.poll_once(source)  # inboxcrm connects to the empty folder: everything the tests deliver is live
    yield Desk(app, poller, dovecot, folder, smtp_server, clock)
    app.close()


def test_customer_to_agent_and_back_through_the_relay(desk: Desk) -> None:
    desk.deliver(mail(from_=CAROL, subject="Printer on fire", message_id="c1@acme-corp.example", date=None))
    desk.cycle()
    assert desk.ticket().status == "new"
    (ack,) = desk.inbox("carol@acme-corp.example")
    # a first message from an unknown sender: none of its words come back in the acknowledgement
    assert ack["Subject"] == "We got your message: [#1]" and ack["Auto-Submitted"] == "auto-replied"
    (notification,) = desk.inbox("ana@northwind.example")
    assert len(desk.inbox("ben@northwind.example")) == 1
    assert "our printer is on fire again" in text_of(notification)

    # Ana answers from her own mail client: to the notification's Reply-To, a relay address
    desk.deliver(
        reply(notification, "Ana Alves <ana@northwind.example>", "#pending\n\nHi Carol, is it still smoking?\n\nAna")
    )
    desk.cycle()
    answer = desk.inbox("carol@acme-corp.example")[-1]
    assert answer["From"].addresses[0].addr_spec == SHARED
    assert answer["In-Reply-To"] == "<c1@acme-corp.example>"
    assert "<c1@acme-corp.example>" in str(answer["References"])
    assert answer["Subject"] == "Re: Printer on fire [#1]"
    assert text_of(answer).startswith("Hi Carol, is it still smoking?")
    with desk.smtp.lock:
        to_carol = [r.raw for r in desk.smtp.received if "carol@acme-corp.example" in r.rcpt_tos]
    assert all(b"ana@northwind.example" not in raw for raw in to_carol)  # the agent's address never reaches her
    assert desk.ticket().status == "pending" and desk.ticket().first_response_at is not None

    # Carol answers in her own client: the reply threads onto the ticket, reopens it, and the agents hear of it
    desk.deliver(reply(answer, CAROL, "Yes, a little."))
    desk.cycle()
    assert desk.ticket().status == "open"
    with desk.app.engine.connect() as c:
        assert set(c.execute(select(t.messages.c.thread_id)).scalars()) == {1}
        assert len(c.execute(select(t.tickets)).all()) == 1
    assert len(desk.inbox("ana@northwind.example")) == 2
    assert "Yes, a little." in text_of(desk.inbox("ana@northwind.example")[-1])
    assert len(desk.inbox("carol@acme-corp.example")) == 2  # the acknowledgement and Ana's answer: nothing else


# (observe mode, with agents' mail signed: tests/e2e/test_agent_mail.py)


def test_a_bad_command_and_a_forged_token_are_reported_to_the_agent(desk: Desk) -> None:
    desk.deliver(mail(from_=CAROL, subject="Help", message_id="c1@acme-corp.example", date=None))
    desk.cycle()
    (notification,) = desk.inbox("ana@northwind.example")
    desk.deliver(reply(notification, "Ana <ana@northwind.example>", "#asign me\nHi Carol"))
    forged = str(notification["Reply-To"]).replace("support+r.", "support+r.b")
    desk.deliver(reply(notification, "Ana <ana@northwind.example>", "Hi Carol", to_address=forged))
    desk.cycle()
    reports = desk.inbox("ana@northwind.example")[1:]
    subjects = sorted(str(m["Subject"]) for m in reports)
    assert len(reports) == 2, subjects
    assert any("command problem" in s for s in subjects) and any("not delivered" in s for s in subjects)
    assert len(desk.inbox("carol@acme-corp.example")) == 1  # nothing but the acknowledgement


def test_two_autoresponders_facing_each_other_get_at_most_one_automatic_mail_per_thread(desk: Desk) -> None:
    """Carol's server answers every mail, without saying it is a robot: once by replying in the thread,
    once by starting a new thread each time. Our side must not keep the conversation going."""
    desk.deliver(mail(from_=CAROL, subject="Question", message_id="c1@acme-corp.example", date=None))
    for _ in range(5):
        desk.cycle()
        for message in desk.inbox("carol@acme-corp.example")[-1:]:
            desk.deliver(reply(message, CAROL, "Thank you for your mail. I am away."))
    to_carol = desk.inbox("carol@acme-corp.example")
    assert len(to_carol) == 1  # the acknowledgement of the one ticket; its robot's answers get nothing

    # a robot that starts a new conversation for every mail it gets: the fuse stops us (3 in 2 h here)
    for n in range(6):
        desk.deliver(
            mail(from_="Bot <bot@loop.example>", subject=f"Auto {n}", message_id=f"bot{n}@loop.example", date=None)
        )
        desk.cycle()
    assert len(desk.inbox("bot@loop.example")) == 3


def test_smtp_trouble_is_retried_with_the_same_message_id_and_a_refusal_reaches_the_agent(desk: Desk) -> None:
    desk.smtp.fail_next("MAIL", "421 4.7.0 closing, try later")
    desk.smtp.fail_next("DATA", "451 4.3.0 temporary trouble")
    desk.smtp.drop_after_data()
    desk.deliver(mail(from_=CAROL, subject="Printer on fire", message_id="c1@acme-corp.example", date=None))
    desk.cycle()
    with desk.app.engine.connect() as c:
        queued = {r.key: r for r in c.execute(select(t.outbox))}
    retrying = [r for r in queued.values() if r.status == "queued"]
    assert len(retrying) >= 1 and all(r.last_error for r in retrying)
    for _ in range(4):
        desk.clock.now += timedelta(minutes=10)
        desk.cycle()
    with desk.app.engine.connect() as c:
        rows = list(c.execute(select(t.outbox)))
    assert {r.status for r in rows} == {"sent"}
    with desk.smtp.lock:
        accepted = [parse(r.raw)["Message-ID"] for r in desk.smtp.received]
    assert sorted(accepted) == sorted(r.message_id for r in rows)  # each accepted exactly once, with its own id

    # the customer's server refuses the agent's answer for good: the agent is told by mail
    (notification,) = desk.inbox("ana@northwind.example")
    desk.deliver(reply(notification, "Ana <ana@northwind.example>", "Hi Carol, try turning it off."))
    desk.smtp.fail_next("RCPT", "550 5.1.1 <carol@acme-corp.example>: no such user")
    desk.cycle(rounds=2)
    with desk.app.engine.connect() as c:
        relay = c.execute(select(t.outbox).where(t.outbox.c.kind == "relay")).one()
    assert relay.status == "failed" and "550 5.1.1" in relay.last_error
    notice = desk.inbox("ana@northwind.example")[-1]
    assert "could not be delivered" in str(notice["Subject"]) and "no such user" in text_of(notice)


FORWARD = """Can someone take this one?

---------- Forwarded message ---------
From: Priya Raman <priya.raman@globex.example>
Date: Mon, 2 Nov 2026 at 09:12
Subject: Torque wrench certificates missing
To: Ana Alves <ana@northwind.example>

Our torque wrenches arrived without their calibration certificates.

Priya
"""


def test_a_forward_by_an_agent_is_acknowledged_to_the_original_author_never_to_the_team(desk: Desk) -> None:
    desk.deliver(
        mail(
            from_="Ana Alves <ana@northwind.example>",
            to=SHARED,
            subject="Fwd: Torque wrench certificates missing",
            message_id="fwd1@northwind.example",
            body=FORWARD,
            date=None,
        )
    )
    desk.cycle()
    (ack,) = desk.inbox("priya.raman@globex.example")
    assert ack["Subject"].startswith("We got your message") and "Hello , your request" in text_of(ack)
    with desk.smtp.lock:
        acks = [r for r in desk.smtp.received if parse(r.raw)["X-InboxCRM-Outbox"].startswith("ack-")]
    assert [list(r.rcpt_tos) for r in acks] == [["priya.raman@globex.example"]]  # never to Ana, nor any team address
    # the agents hear about Priya's ticket, and who forwarded it
    notification = desk.inbox("ben@northwind.example")[0]
    assert "From: Priya Raman <priya.raman@globex.example>" in text_of(notification)
    assert "Forwarded by: ana@northwind.example" in text_of(notification)

    # Ben answers through the relay: it goes to Priya, without the forward's note to the team
    desk.deliver(reply(notification, "Ben <ben@northwind.example>", "Hi Priya, the certificates are attached."))
    desk.cycle()
    answer = desk.inbox("priya.raman@globex.example")[-1]
    assert text_of(answer).startswith("Hi Priya, the certificates are attached.")
    assert "Can someone take this one?" not in text_of(answer)


def test_the_relay_keeps_the_agents_sign_off_and_no_agent_address_reaches_the_customer(desk: Desk) -> None:
    desk.deliver(mail(from_=CAROL, subject="Printer on fire", message_id="c1@acme-corp.example", date=None))
    desk.cycle()
    notification = desk.inbox("ana@northwind.example")[0]
    signed = (
        "Hi Carol, a technician will call you today.\n\nKind regards,\nAna\n"
        "-- \nAna Alves | Northwind Support\nana@northwind.example | +49 30 5550 1234\n"
    )
    desk.deliver(reply(notification, "Ana Alves <ana@northwind.example>", signed))
    desk.cycle()
    answer = desk.inbox("carol@acme-corp.example")[-1]
    text = text_of(answer)
    assert text.startswith("Hi Carol, a technician will call you today.\n\nKind regards,\nAna\n")
    assert "Ana Alves | Northwind Support" in text and SHARED in text.split("-- \n", 1)[1]
    assert "5550 1234" not in text
    with desk.smtp.lock:
        to_carol = [r.raw for r in desk.smtp.received if "carol@acme-corp.example" in r.rcpt_tos]
    assert all(b"ana@northwind.example" not in raw for raw in to_carol)


def test_a_note_written_on_the_command_line_is_recorded_and_never_sent(desk: Desk) -> None:
    desk.deliver(mail(from_=CAROL, subject="Refund", message_id="c1@acme-corp.example", date=None))
    desk.cycle()
    notification = desk.inbox("ana@northwind.example")[0]
    desk.deliver(reply(notification, "Ana <ana@northwind.example>", "#note Her card was charged twice\nRefund due."))
    desk.cycle()
    with desk.app.engine.connect() as c:
        notes = list(c.execute(select(t.timeline_events.c.summary).where(t.timeline_events.c.kind == "note")))
        role = c.execute(select(t.messages.c.role).where(t.messages.c.from_email == "ana@northwind.example")).scalar()
    assert [n.summary for n in notes] == ["Note by ana: Her card was charged twice Refund due."]
    assert role == "note"
    assert len(desk.inbox("carol@acme-corp.example")) == 1  # the acknowledgement only
    assert not any("command problem" in str(m["Subject"]) for m in desk.inbox("ana@northwind.example"))
