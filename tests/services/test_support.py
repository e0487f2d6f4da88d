"""The support desk on both databases: tickets worked by mail (relay, observe, notes, commands), automatic
mail without loops, the ticket clocks, and the outbox's retry/failure handling (with a scripted sender; the
real SMTP server is in tests/e2e/test_support_desk.py)."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from inboxcrm import bootstrap
from inboxcrm.adapters.db import migrate
from inboxcrm.adapters.db import tables as t
from inboxcrm.core.model import MailboxKind, MailboxProfile
from inboxcrm.core.ports import Envelope, FetchedMessage, Outcome, SendResult
from inboxcrm.core.reply_tokens import relay_address
from inboxcrm.services.desk import tick_tickets
from inboxcrm.services.outbox import Dispatcher, RetryPolicy
from tests.conftest import make_settings
from tests.support.desk import ANA, BEN, desk_config
from tests.support.mail import mail

SUPPORT = MailboxProfile("support", MailboxKind.SUPPORT, frozenset({"support@northwind.example"}))
SECRET = "test-secret"
EXTRA = (
    desk_config(
        ANA.but(display_name="Ana Alves", addresses=("ana@northwind.example", "ana.alves@gmail.example")),
        BEN,
        secret=SECRET,
    )
    + """
[support]
close_solved_after = "4d"
fuse_limit = 3
fuse_window = "2h"

[sla]
timezone = "UTC"

[sla.targets]
normal = { first_response = "4h", resolution = "2d" }
high = { first_response = "1h", resolution = "8h" }
"""
)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 10, 5, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def desk(tmp_path: Path, database_url: str, clock: Clock) -> Iterator[bootstrap.App]:
    folder = tmp_path / "templates" / "support"
    folder.mkdir(parents=True)
    (folder / "ack.subject.j2").write_text("We got your message: {{ ticket.subject }}\n")
    (folder / "ack.text.j2").write_text("Hello {{ contact.first_name }}, your request is {{ ticket.token }}.\n")
    settings = make_settings(
        tmp_path, database_url, EXTRA, support_extra='acknowledge = "support/ack"\nfrom_name = "Northwind Support"'
    )
    app = bootstrap.build(settings, clock=clock)
    migrate.upgrade(app.engine)
    yield app
    app.close()


_uid = iter(range(1, 1_000_000))


def ingest(app: bootstrap.App, *raws: bytes) -> None:
    app.ingest.ingest_batch(SUPPORT, "INBOX", 1, [FetchedMessage(next(_uid), r) for r in raws])


def outbox(app: bootstrap.App, kind: str | None = None) -> list[t.Row]:  # type: ignore[name-defined]
    query = select(t.outbox).order_by(t.outbox.c.id)
    if kind:
        query = query.where(t.outbox.c.kind == kind)
    with app.engine.connect() as c:
        return list(c.execute(query))


def parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def body(raw: bytes) -> str:
    part = parsed(raw).get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def ticket_row(app: bootstrap.App, ticket_id: int = 1) -> t.Row:  # type: ignore[name-defined]
    with app.engine.connect() as c:
        return c.execute(select(t.tickets).where(t.tickets.c.id == ticket_id)).one()


def ticket_tags(app: bootstrap.App, ticket_id: int = 1) -> set[str]:
    with app.engine.connect() as c:
        return set(c.execute(select(t.ticket_tags.c.tag).where(t.ticket_tags.c.ticket_id == ticket_id)).scalars())


def events(app: bootstrap.App) -> list[tuple[str, str]]:
    with app.engine.connect() as c:
        rows = c.execute(select(t.timeline_events.c.kind, t.timeline_events.c.summary).order_by(t.timeline_events.c.id))
        return [(r.kind, r.summary) for r in rows]


def customer_mail(**kw: str) -> bytes:
    kw.setdefault("from_", "Carol Danvers <carol@acme-corp.example>")
    kw.setdefault("message_id", "c1@acme-corp.example")
    return mail(**kw)  # type: ignore[arg-type]


def relay_of(app: bootstrap.App, agent: str = "ana@northwind.example") -> str:
    notes = [r for r in outbox(app, "notification") if r.recipients == [agent]]
    reply_to = parsed(notes[-1].raw)["Reply-To"]
    return str(reply_to)


def agent_reply(to: str, text: str, *, from_: str = "Ana Alves <ana@northwind.example>", mid: str = "a1") -> bytes:
    quoted_notification = "\n\nOn Mon, 2 Nov 2026 at 10:05, Northwind Support wrote:\n> New ticket\n> Hello,\n"
    return mail(
        from_=from_,
        to=to,
        subject="Re: [#1] New ticket: Printer on fire",
        message_id=f"{mid}@northwind.example",
        body=text + quoted_notification,
        date="Mon, 02 Nov 2026 11:00:00 +0000",
    )


# --- a new ticket -----------------------------------------------------------------------------------------


def test_a_new_ticket_is_acknowledged_once_and_its_queue_agents_are_notified(desk: bootstrap.App) -> None:
    raw = customer_mail()
    ingest(desk, raw)
    ingest(desk, raw)  # the same message again (another mailbox, a retried batch): nothing queued twice
    acks = outbox(desk, "ack")
    assert len(acks) == 1
    ack = parsed(acks[0].raw)
    assert acks[0].recipients == ["carol@acme-corp.example"]
    # Carol's first message: nothing she wrote is repeated (From is not authenticated; see test_ack_addressing)
    assert ack["Subject"] == "We got your message: [#1]"
    assert ack["In-Reply-To"] == "<c1@acme-corp.example>"
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["From"] == "Northwind Support <support@northwind.example>"
    assert "Hello , your request is [#1]." in body(acks[0].raw)
    notes = outbox(desk, "notification")
    assert sorted(r.recipients[0] for r in notes) == ["ana@northwind.example", "ben@northwind.example"]
    note = parsed(notes[0].raw)
    assert note["Auto-Submitted"] == "auto-generated"
    assert re.fullmatch(r"support\+r\.[a-z2-7.]+@northwind\.example", str(note["Reply-To"]))
    assert "our printer is on fire again" in body(notes[0].raw)
    # every outgoing message has its own Message-ID, fixed in the row and in the bytes
    ids = [r.message_id for r in outbox(desk)]
    assert len(set(ids)) == len(ids)
    assert all(parsed(r.raw)["Message-ID"] == r.message_id for r in outbox(desk))


def test_sla_due_times_come_from_the_priority_targets(desk: bootstrap.App) -> None:
    ingest(desk, customer_mail())
    row = ticket_row(desk)
    opened = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    assert row.first_response_due.replace(tzinfo=UTC) == opened + timedelta(hours=4)
    assert row.resolution_due.replace(tzinfo=UTC) == opened + timedelta(days=2)


# --- relay ------------------------------------------------------------------------------------------------


def test_an_agent_reply_through_the_relay_reaches_the_customer_from_the_shared_address(desk: bootstrap.App) -> None:
    ingest(desk, customer_mail())
    text = "Hi Carol,\n\nplease unplug it. Mail me at ana.alves@gmail.example if it smokes.\n\nAna"
    ingest(desk, agent_reply(relay_of(desk), text))
    (relay,) = outbox(desk, "relay")
    sent = parsed(relay.raw)
    assert relay.recipients == ["carol@acme-corp.example"]
    assert sent["From"].addresses[0].addr_spec == "support@northwind.example"
    assert sent["From"].addresses[0].display_name == "Ana Alves (Northwind Support)"
    assert sent["In-Reply-To"] == "<c1@acme-corp.example>"
    assert "<c1@acme-corp.example>" in sent["References"]
    assert sent["Subject"] == "Re: Printer on fire [#1]"
    assert sent["Auto-Submitted"] is None  # a person wrote it
    text_sent = body(relay.raw)
    assert text_sent.startswith("Hi Carol,\n\nplease unplug it.")
    assert "New ticket" not in text_sent  # the quoted notification is not passed on
    # the agent's own addresses never reach the customer, not even in the body
    assert b"ana@northwind.example" not in relay.raw and b"ana.alves@gmail.example" not in relay.raw
    row = ticket_row(desk)
    assert row.status == "open" and row.first_response_at is not None
    assert ("message_out", "ana replied: Hi Carol, please unplug it.") in [(k, s[:40]) for k, s in events(desk)]


def test_the_customers_answer_to_a_relayed_reply_joins_the_ticket_and_reopens_it(desk: bootstrap.App) -> None:
    ingest(desk, customer_mail())
    ingest(desk, agent_reply(relay_of(desk), "#pending\n\nCan you send a photo?"))
    assert ticket_row(desk).status == "pending"
    (relay,) = outbox(desk, "relay")
    answer = customer_mail(
        subject="Re: Printer on fire [#1]",
        message_id="c2@acme-corp.example",
        in_reply_to=relay.message_id.strip("<>"),
        body="Here it is.\n",
    )
    ingest(desk, answer)
    with desk.engine.connect() as c:
        threads = set(c.execute(select(t.messages.c.thread_id)).scalars())
    assert threads == {1}
    assert ticket_row(desk).status == "open"
    # the agents hear about the answer: one more notification each
    assert len(outbox(desk, "notification")) == 4


def test_commands_change_the_ticket_and_never_reach_the_customer(desk: bootstrap.App, clock: Clock) -> None:
    ingest(desk, customer_mail())
    ingest(
        desk,
        agent_reply(
            relay_of(desk), "#assign ben\n#priority high\n#tag billing, vip\n\n#untag legacy\nHello Carol,\n\nfixed."
        ),
    )
    row = ticket_row(desk)
    assert (row.assignee, row.priority) == ("ben", "high")
    assert ticket_tags(desk) == {"billing", "vip"}
    # a new priority moves the SLA clock: high = 1h first response from when the ticket was opened
    assert row.first_response_due.replace(tzinfo=UTC) == datetime(2026, 11, 2, 11, 0, tzinfo=UTC)
    text_sent = body(outbox(desk, "relay")[0].raw)
    assert "#" not in text_sent.split("On ")[0] and text_sent.startswith("Hello Carol,")


def test_close_snooze_and_spam_by_mail(desk: bootstrap.App, clock: Clock) -> None:
    ingest(desk, customer_mail())
    relay = relay_of(desk)
    ingest(desk, agent_reply(relay, "#snooze 3d", mid="s1"))
    row = ticket_row(desk)
    assert row.status == "pending"
    assert row.snoozed_until.replace(tzinfo=UTC) == clock.now + timedelta(days=3)
    assert outbox(desk, "relay") == []  # only commands: nothing for the customer
    ingest(desk, agent_reply(relay, "#close\nAll done, Carol.", mid="s2"))
    row = ticket_row(desk)
    assert row.status == "solved" and row.solved_at is not None and row.snoozed_until is None
    ingest(desk, agent_reply(relay, "#spam", mid="s3"))
    assert ticket_row(desk).status == "closed" and "spam" in ticket_tags(desk)


def test_a_note_never_reaches_the_customer(desk: bootstrap.App) -> None:
    ingest(desk, customer_mail())
    ingest(desk, agent_reply(relay_of(desk), "#note\nCarol is on the enterprise plan.", mid="n1"))
    note_address = relay_address("support@northwind.example", 1, True, datetime(2027, 1, 1).date(), SECRET.encode())
    ingest(desk, agent_reply(note_address, "Called her, she is fine.", mid="n2"))
    assert outbox(desk, "relay") == []
    notes = [s for k, s in events(desk) if k == "note"]
    assert notes == ["Note by ana: Carol is on the enterprise plan.", "Note by ana: Called her, she is fine."]
    assert ticket_row(desk).first_response_at is None  # a note is not an answer to the customer
    with desk.engine.connect() as c:
        roles = list(c.execute(select(t.messages.c.role).where(t.messages.c.role.is_not(None))).scalars())
    assert roles == ["note", "note"]


def test_an_unknown_command_is_reported_to_the_agent_and_nothing_is_sent(desk: bootstrap.App) -> None:
    ingest(desk, customer_mail())
    ingest(desk, agent_reply(relay_of(desk), "#asign ben\n#priority extreme\n\nHello Carol, done."))
    assert outbox(desk, "relay") == []
    (report,) = outbox(desk, "command_report")
    assert report.recipients == ["ana@northwind.example"]
    text = body(report.raw)
    assert "asign" in text and "assign" in text  # what is wrong, and what would be right
    assert "extreme" in text
    row = ticket_row(desk)
    assert (row.assignee, row.priority) == (None, "normal")


@pytest.mark.parametrize(
    ("make_address", "reason"),
    [
        (lambda: "support+r.ae.kgda.aaaaaaaaaaaaaaaa@northwind.example", "signature does not match"),
        (
            lambda: relay_address("support@northwind.example", 1, False, datetime(2026, 10, 1).date(), SECRET.encode()),
            "expired on 2026-10-01",
        ),
        (
            lambda: relay_address("support@northwind.example", 1, False, datetime(2027, 1, 1).date(), b"other-secret"),
            "signature does not match",
        ),
    ],
    ids=["forged", "expired", "another-installation"],
)
def test_a_forged_or_expired_relay_address_is_refused_and_the_sender_told_why(
    desk: bootstrap.App, make_address: object, reason: str
) -> None:
    ingest(desk, customer_mail())
    assert callable(make_address)
    ingest(desk, agent_reply(make_address(), "Hello Carol, here is everything."))
    assert outbox(desk, "relay") == []
    (refusal,) = outbox(desk, "refusal")
    assert refusal.recipients == ["ana@northwind.example"]
    assert reason in body(refusal.raw)
    with desk.engine.connect() as c:  # kept (never lost), but not used
        kept = c.execute(select(t.messages.c.role, t.messages.c.ignored).where(t.messages.c.role == "refused")).one()
    assert kept.ignored


def test_only_agents_can_use_a_relay_address(desk: bootstrap.App) -> None:
    ingest(desk, customer_mail())
    ingest(desk, agent_reply(relay_of(desk), "Hi, I am not an agent.", from_="mallory@evil.example"))
    assert outbox(desk, "relay") == []
    assert "not one" in body(outbox(desk, "refusal")[0].raw)


def test_an_agents_out_of_office_answering_a_notification_goes_nowhere(desk: bootstrap.App) -> None:
    ingest(desk, customer_mail())
    ooo = mail(
        from_="Ana Alves <ana@northwind.example>",
        to=relay_of(desk),
        subject="Out of office: [#1] New ticket",
        body="I am on holiday until Monday.\n",
        headers={"Auto-Submitted": "auto-replied"},
    )
    ingest(desk, ooo)
    assert outbox(desk, "relay") == [] and outbox(desk, "refusal") == []


# --- observe ----------------------------------------------------------------------------------------------


# (an agent answering directly with the shared address in Cc: tests/services/test_agent_mail.py)


# --- automatic mail without loops -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sender", "headers"),
    [
        ("noreply@shop.example", {}),
        ("Carol <carol@acme-corp.example>", {"Precedence": "bulk"}),
        ("Carol <carol@acme-corp.example>", {"List-Id": "<printers.lists.example>"}),
        ("Carol <carol@acme-corp.example>", {"X-Auto-Response-Suppress": "All"}),
    ],
    ids=["no-reply", "bulk", "list", "suppress"],
)
def test_no_acknowledgement_to_robots_and_lists(desk: bootstrap.App, sender: str, headers: dict[str, str]) -> None:
    ingest(desk, mail(from_=sender, subject="Your order", headers=headers))
    assert outbox(desk, "ack") == []
    assert any(k == "automatic_mail_held" for k, _ in events(desk)) or sender.startswith("noreply")


def test_our_own_mail_coming_back_is_kept_but_never_opens_a_ticket(desk: bootstrap.App) -> None:
    ingest(desk, customer_mail())
    (ack,) = outbox(desk, "ack")
    ingest(desk, ack.raw)
    with desk.engine.connect() as c:
        assert c.execute(select(t.messages.c.ignored).where(t.messages.c.role == "echo")).scalar() is True
        assert len(c.execute(select(t.tickets)).all()) == 1
    assert len(outbox(desk, "ack")) == 1


def test_the_fuse_stops_a_sender_that_opens_ticket_after_ticket(desk: bootstrap.App) -> None:
    # a robot that answers every mail with a new subject and no In-Reply-To, without saying it is a robot
    for n in range(6):
        ingest(desk, customer_mail(subject=f"Ticket request {n}", message_id=f"robot{n}@acme-corp.example"))
    assert len(outbox(desk, "ack")) == 3  # fuse_limit = 3 within 2 h
    assert any("loop fuse" in s for k, s in events(desk) if k == "automatic_mail_held")


def test_a_customer_autoresponder_answering_our_acknowledgement_gets_nothing_more(desk: bootstrap.App) -> None:
    ingest(desk, customer_mail())
    (ack,) = outbox(desk, "ack")
    for n, headers in enumerate([{"Auto-Submitted": "auto-replied"}, {}]):  # honest and dishonest robots
        ingest(
            desk,
            customer_mail(
                subject="Re: We got your message: Printer on fire [#1]",
                message_id=f"ooo{n}@acme-corp.example",
                in_reply_to=ack.message_id.strip("<>"),
                body="I am out of the office.\n",
                headers=headers,
            ),
        )
    automatic_to_customer = [r for r in outbox(desk) if r.recipients == ["carol@acme-corp.example"]]
    assert len(automatic_to_customer) == 1  # the one acknowledgement: at most one automatic mail per thread


# --- the clock --------------------------------------------------------------------------------------------


def test_solved_tickets_close_by_themselves_and_snoozes_end(desk: bootstrap.App, clock: Clock) -> None:
    ingest(desk, customer_mail())
    ingest(desk, customer_mail(subject="Second problem", message_id="c9@acme-corp.example"))
    relay1 = relay_address("support@northwind.example", 1, False, datetime(2027, 1, 1).date(), SECRET.encode())
    ingest(desk, agent_reply(relay1, "#close\nDone.", mid="x1"))
    relay2 = relay_address("support@northwind.example", 2, False, datetime(2027, 1, 1).date(), SECRET.encode())
    ingest(desk, agent_reply(relay2, "#snooze 2d", mid="x2"))
    clock.now += timedelta(days=3)
    tick_tickets(desk.store, desk.support, clock.now)
    assert ticket_row(desk, 1).status == "solved"  # 3 of 4 days
    assert ticket_row(desk, 2).status == "open"  # snooze over
    clock.now += timedelta(days=1, hours=1)
    tick_tickets(desk.store, desk.support, clock.now)
    assert ticket_row(desk, 1).status == "closed"
    # a customer reply does not reopen a closed ticket
    ingest(
        desk,
        customer_mail(
            subject="Re: Printer on fire [#1]", message_id="late@acme-corp.example", in_reply_to="c1@acme-corp.example"
        ),
    )
    assert ticket_row(desk, 1).status == "closed"


def test_sla_breaches_are_recorded_once_on_the_timeline(desk: bootstrap.App, clock: Clock) -> None:
    ingest(desk, customer_mail())
    clock.now = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)  # 5 h later: the 4 h first-response target is missed
    tick_tickets(desk.store, desk.support, clock.now)
    tick_tickets(desk.store, desk.support, clock.now)
    breached = [s for k, s in events(desk) if k == "ticket_sla_breached"]
    assert len(breached) == 1 and "first response" in breached[0]
    assert ticket_row(desk).first_response_breached_at.replace(tzinfo=UTC) == datetime(2026, 11, 2, 14, 0, tzinfo=UTC)


def test_a_late_first_response_is_a_breach_at_the_time_it_came(desk: bootstrap.App, clock: Clock) -> None:
    ingest(desk, customer_mail())
    late = agent_reply(relay_of(desk), "Sorry for the wait, Carol.")
    late = late.replace(b"Mon, 02 Nov 2026 11:00:00 +0000", b"Mon, 02 Nov 2026 16:00:00 +0000")
    clock.now = datetime(2026, 11, 2, 16, 1, tzinfo=UTC)
    ingest(desk, late)
    row = ticket_row(desk)
    assert row.first_response_breached_at.replace(tzinfo=UTC) == datetime(2026, 11, 2, 16, 0, tzinfo=UTC)


# --- the outbox -------------------------------------------------------------------------------------------


class ScriptedSender:
    """Answers sends of the mail with key `key` with the scripted outcomes in turn (then SENT); everything
    else is SENT. Records what it was given."""

    def __init__(self, key: str = "", script: Sequence[tuple[Outcome, str]] = ()) -> None:
        self.key = key
        self.script = list(script)
        self.given: list[Envelope] = []

    async def send_many(self, envelopes: Sequence[Envelope]) -> list[SendResult]:
        out = []
        for envelope in envelopes:
            self.given.append(envelope)
            scripted = envelope.key == self.key and self.script
            outcome, detail = self.script.pop(0) if scripted else (Outcome.SENT, "250 ok")
            out.append(SendResult(envelope.key, outcome, detail))
        return out


def dispatcher(app: bootstrap.App, sender: ScriptedSender, clock: Clock) -> Dispatcher:
    return Dispatcher(
        app.store,
        sender,
        clock,
        app.support,
        RetryPolicy(timedelta(minutes=1), timedelta(minutes=8), timedelta(hours=1)),
    )


def test_temporary_failures_are_retried_with_backoff_and_the_same_bytes(desk: bootstrap.App, clock: Clock) -> None:
    ingest(desk, customer_mail())
    ingest(desk, agent_reply(relay_of(desk), "Hello Carol."))
    relay = outbox(desk, "relay")[0]
    sender = ScriptedSender(relay.key, [(Outcome.RETRY, "451 4.3.0 try later")] * 6)
    send = dispatcher(desk, sender, clock)
    relay_tries = lambda: [e for e in sender.given if e.key == relay.key]  # noqa: E731
    send.dispatch()
    assert len(relay_tries()) == 1
    send.dispatch()  # not due yet: backoff
    assert len(relay_tries()) == 1
    for minutes in (1, 2, 4, 8, 8):
        clock.now += timedelta(minutes=minutes)
        send.dispatch()
    tries = relay_tries()
    assert len(tries) == 6 and {e.raw for e in tries} == {relay.raw}
    assert outbox(desk, "relay")[0].status == "queued"
    assert outbox(desk, "relay")[0].last_error == "451 4.3.0 try later"
    clock.now += timedelta(minutes=8)
    send.drain()
    assert outbox(desk, "relay")[0].status == "sent"


def test_a_mail_that_keeps_failing_temporarily_fails_for_good_after_give_up_after(
    desk: bootstrap.App, clock: Clock
) -> None:
    ingest(desk, customer_mail())
    ingest(desk, agent_reply(relay_of(desk), "Hello Carol."))
    relay = outbox(desk, "relay")[0]
    sender = ScriptedSender(relay.key, [(Outcome.RETRY, "421 4.7.0 closing")] * 100)
    send = dispatcher(desk, sender, clock)
    for _ in range(12):
        send.dispatch()
        clock.now += timedelta(minutes=8)
    row = outbox(desk, "relay")[0]
    assert row.status == "failed" and "gave up after" in row.last_error
    assert len(outbox(desk, "delivery_failed")) == 1


def test_a_refused_reply_fails_and_the_agent_is_told(desk: bootstrap.App, clock: Clock) -> None:
    ingest(desk, customer_mail())
    ingest(desk, agent_reply(relay_of(desk), "Hello Carol."))
    relay = outbox(desk, "relay")[0]
    sender = ScriptedSender(relay.key, [(Outcome.FAILED, "550 5.1.1 no such user")])
    send = dispatcher(desk, sender, clock)
    send.drain()
    assert outbox(desk, "relay")[0].status == "failed"
    assert "550 5.1.1" in outbox(desk, "relay")[0].last_error
    (notice,) = outbox(desk, "delivery_failed")
    assert notice.recipients == ["ana@northwind.example"]
    assert "550 5.1.1 no such user" in body(notice.raw)
    assert any(k == "mail_failed" for k, _ in events(desk))
    assert relay.key in [e.key for e in sender.given]


def test_a_dispatcher_that_died_mid_send_leaves_the_mail_to_be_sent_again_with_the_same_message_id(
    desk: bootstrap.App, clock: Clock
) -> None:
    ingest(desk, customer_mail())
    with desk.store.transaction() as tx:  # a dispatcher claims the mail … and is killed before recording
        claimed = tx.claim_mail(clock.now, clock.now + timedelta(minutes=10), 100)
    assert claimed
    sender = ScriptedSender()
    send = dispatcher(desk, sender, clock)
    assert send.dispatch().total == 0  # still claimed by the dead one
    clock.now += timedelta(minutes=11)
    send.drain()
    assert sorted(e.key for e in sender.given) == sorted(m.key for m in claimed)
    assert {e.raw for e in sender.given} == {m.raw for m in claimed}
    assert {r.status for r in outbox(desk)} == {"sent"}


# --- what the API shows -----------------------------------------------------------------------------------


def test_the_api_shows_ticket_tags_sla_and_notes(desk: bootstrap.App, clock: Clock) -> None:
    from fastapi.testclient import TestClient

    from inboxcrm.web.app import create_app

    ingest(desk, customer_mail())
    ingest(desk, agent_reply(relay_of(desk), "#tag billing\n#note\nEnterprise plan."))
    clock.now = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
    tick_tickets(desk.store, desk.support, clock.now)
    with TestClient(create_app(desk.reads, {"t": "test"}, list)) as client:
        auth = {"Authorization": "Bearer t"}
        (ticket,) = client.get("/tickets", params={"queue": "support"}, headers=auth).json()["items"]
        assert ticket["tags"] == ["billing"]
        assert ticket["sla"]["state"] == "breached"
        assert ticket["sla"]["first_response_breached_at"].startswith("2026-11-02T14:00")
        assert client.get("/tickets", params={"assignee": "ben"}, headers=auth).json()["items"] == []
        thread = client.get("/threads/1", headers=auth).json()
        assert [m["role"] for m in thread["messages"]] == [None, "note"]
        timeline = client.get("/contacts/1/timeline", headers=auth).json()["items"]
        kinds = [e["kind"] for e in timeline]
        assert "note" in kinds and "ticket_sla_breached" in kinds and "ticket_tags" in kinds
