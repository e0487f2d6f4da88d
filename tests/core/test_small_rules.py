"""Addresses, fingerprints and ticket transitions."""

from __future__ import annotations

import pytest

from inboxcrm.core.addresses import company_domain, company_name, normalise_email
from inboxcrm.core.fingerprint import content_hash
from inboxcrm.core.model import Direction, MailboxKind, TicketStatus
from inboxcrm.core.tickets import after_customer_reply, opens_ticket


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (" Carol@ACME.example ", "carol@acme.example"),
        ("<x@y.example>", "x@y.example"),
        ("no-at-sign", None),
        ("", None),
        ("a@localhost", None),
        ("two words@x.example", None),
    ],
)
def test_normalise_email(given: str, expected: str | None) -> None:
    assert normalise_email(given) == expected


def test_free_mail_is_not_a_company() -> None:
    assert company_domain("carol@gmail.com") is None
    assert company_domain("carol@acme-corp.example") == "acme-corp.example"
    assert company_name("acme-corp.example") == "Acme Corp"


def test_same_message_delivered_twice_has_one_fingerprint() -> None:
    body = b"Subject: hi\r\nMessage-ID: <1@x>\r\n\r\nhello\r\n"
    one = b"Received: from a by b; Mon, 2 Nov 2026\r\nDelivered-To: support@x\r\n" + body
    two = b"Received: from c by d;\r\n\tMon, 2 Nov 2026\r\nDelivered-To: sales@x\r\n" + body.replace(b"\r\n", b"\n")
    assert content_hash(one) == content_hash(two)
    assert content_hash(one) != content_hash(body.replace(b"hello", b"hullo"))


def test_ticket_opening_and_reopening() -> None:
    assert opens_ticket(MailboxKind.SUPPORT, Direction.INBOUND, starts_thread=True)
    assert not opens_ticket(MailboxKind.SALES, Direction.INBOUND, starts_thread=True)
    assert not opens_ticket(MailboxKind.SUPPORT, Direction.OUTBOUND, starts_thread=True)
    assert not opens_ticket(MailboxKind.SUPPORT, Direction.INBOUND, starts_thread=False)
    assert after_customer_reply(TicketStatus.SOLVED) is TicketStatus.OPEN
    assert after_customer_reply(TicketStatus.PENDING) is TicketStatus.OPEN
    assert after_customer_reply(TicketStatus.NEW) is TicketStatus.NEW
    assert after_customer_reply(TicketStatus.CLOSED) is TicketStatus.CLOSED
