"""Automatic mail without loops, on both databases: no acknowledgement to robots and lists, our own mail coming
back, the fuse against a sender that opens ticket after ticket, and a customer's autoresponder."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from inboxcrm import bootstrap
from inboxcrm.adapters.db import tables as t
from tests.services.desk_support import clock, customer_mail, desk, events, ingest, outbox
from tests.support.mail import mail

__all__ = ["clock", "desk"]  # the fixtures


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
