"""Saved replies: `#reply NAME` read from a reply, what the customer receives, and unknown names."""

from __future__ import annotations

from datetime import UTC, datetime

from inboxcrm.core import saved_replies
from inboxcrm.core.commands import read_commands
from inboxcrm.core.model import Address, TicketStatus
from inboxcrm.core.tickets import Ticket

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
KNOWN = ["need-details", "password-reset", "refund-policy"]


def read(text: str):  # type: ignore[no-untyped-def]
    return read_commands(text, sender="ana", agents=["ana"], priorities=["normal"], now=NOW, timezone="UTC")


def test_reply_alone_or_above_own_text() -> None:
    alone = read("#reply refund-policy\n")
    assert alone.saved_reply == "refund-policy" and not alone.problems and not alone.body.strip()
    above = read("#reply refund-policy\n#tag billing\nI started it myself.\n")
    assert above.saved_reply == "refund-policy" and above.body == "I started it myself.\n"
    assert saved_replies.compose("Hi Carol,\n\nRefunds take a week.\n", above.body) == (
        "Hi Carol,\n\nRefunds take a week.\n\nI started it myself.\n"
    )
    assert saved_replies.compose("Hi Carol,\n", "") == "Hi Carol,\n"


def test_reply_needs_one_name_and_cannot_be_a_note_or_two_replies() -> None:
    assert "one saved reply" in read("#reply\nHi").problems[0].message
    assert "one saved reply" in read("#reply a b\nHi").problems[0].message
    assert "contradicts" in read("#reply a\n#note\nHi").problems[0].message
    assert "contradicts" in read("#reply a\n#reply b\nHi").problems[0].message


def test_send_takes_nothing_below_it() -> None:
    assert read("#send\n").send_held and not read("#send\n").problems
    assert "write nothing below it" in read("#send\nThanks\n").problems[0].message


def test_an_unknown_name_gets_the_closest_names() -> None:
    problem = saved_replies.unknown("refund-polcy", KNOWN, 1)
    assert problem.message == "no saved reply named 'refund-polcy': did you mean refund-policy?"
    assert "did you mean password-reset" in saved_replies.unknown("password", KNOWN, 1).message
    assert (
        "expected one of: need-details, password-reset, refund-policy" in saved_replies.unknown("zzz", KNOWN, 1).message
    )
    assert "no saved replies yet" in saved_replies.unknown("x", [], 1).message


def test_context_has_the_tickets_and_contacts_fields() -> None:
    ticket = Ticket(
        id=7,
        thread_id=1,
        mailbox="support",
        subject="Charged twice",
        status=TicketStatus.OPEN,
        priority="high",
        queue=None,
        assignee="ana",
        contact_id=3,
        created_at=NOW,
        tags=frozenset({"billing"}),
    )
    context = saved_replies.context(
        ticket, Address("carol@acme.example", "Carol Danvers"), {"plan": "pro"}, "ana", "Ana Alves", {"name": "support"}
    )
    assert context["ticket"]["token"] == "[#7]" and context["ticket"]["queue"] == "support"
    assert context["contact"]["first_name"] == "Carol" and context["contact"]["fields"] == {"plan": "pro"}
    assert context["agent"]["display_name"] == "Ana Alves"
