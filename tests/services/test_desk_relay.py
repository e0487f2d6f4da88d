"""A ticket worked by mail, on both databases: a new ticket is acknowledged and its agents notified; an agent's
reply through the relay reaches the customer from the shared address; commands, notes, and relay addresses
that are forged, expired or used by someone who is not an agent."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from inboxcrm import bootstrap
from inboxcrm.adapters.db import tables as t
from inboxcrm.core.reply_tokens import relay_address
from tests.services.desk_support import (
    SECRET,
    Clock,
    agent_reply,
    body,
    clock,
    customer_mail,
    desk,
    events,
    ingest,
    outbox,
    parsed,
    relay_of,
    ticket_row,
    ticket_tags,
)
from tests.support.mail import mail

__all__ = ["clock", "desk"]  # the fixtures

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
