"""Agents hear of a ticket once per batch of mail: a customer who writes several times in a row (or whose
messages are read together, as after a restart) is one notification per agent with every message in it."""

from __future__ import annotations

from inboxcrm import bootstrap
from tests.services.desk_support import body, clock, customer_mail, desk, ingest, outbox, parsed

__all__ = ["clock", "desk"]  # the fixtures


def test_messages_read_together_are_one_notification_per_agent_with_each_message(desk: bootstrap.App) -> None:
    first = customer_mail(subject="Printer on fire", body="Hello,\n\nour printer is on fire again.\n")
    again = customer_mail(
        message_id="c2@acme-corp.example",
        subject="Re: Printer on fire",
        in_reply_to="<c1@acme-corp.example>",
        references="<c1@acme-corp.example>",
        body="Update: the fire spread to the fax machine.\n",
        date="Mon, 02 Nov 2026 10:20:00 +0000",
    )
    ingest(desk, first, again)
    notes = outbox(desk, "notification")
    assert sorted(r.recipients[0] for r in notes) == ["ana@northwind.example", "ben@northwind.example"]
    text = body(notes[0].raw)
    assert text.index("our printer is on fire again") < text.index("the fire spread to the fax machine")
    assert parsed(notes[0].raw)["Subject"] == "[#1] New ticket and 1 more: Printer on fire"
    assert len(outbox(desk, "ack")) == 1

    # the next batch brings one more message: a notification of its own, as before
    later = customer_mail(
        message_id="c3@acme-corp.example",
        subject="Re: Printer on fire",
        in_reply_to="<c2@acme-corp.example>",
        references="<c1@acme-corp.example> <c2@acme-corp.example>",
        body="It is out now.\n",
        date="Mon, 02 Nov 2026 11:00:00 +0000",
    )
    ingest(desk, later)
    notes = outbox(desk, "notification")
    assert len(notes) == 4
    assert parsed(notes[-1].raw)["Subject"] == "[#1] Customer replied: Printer on fire"
    assert "It is out now." in body(notes[-1].raw) and "fax machine" not in body(notes[-1].raw)
