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


def test_the_maintained_free_mail_list_is_used() -> None:
    for provider in ("yandex.ru", "protonmail.com", "gmx.net", "zoho.com"):
        assert company_domain(f"someone@{provider}") is None


def test_reply_tokens_are_signed() -> None:
    from inboxcrm.core.reply_tokens import (
        base_address,
        reply_address,
        reply_token,
        thread_in_recipients,
        thread_of_token,
    )

    secret = b"s3cret"
    address = reply_address("support@northwind.example", 4242, secret)
    local = address.split("@")[0]
    assert local.startswith("support+") and base_address(address) == "support@northwind.example"
    token = local.split("+", 1)[1]
    assert thread_of_token(token, secret) == 4242
    assert thread_of_token(token, b"other secret") is None
    # another thread's number with this token's signature: a forgery
    other_body = reply_token(4243, secret).split(".")[0]
    forged = f"{other_body}.{token.split('.')[1]}"
    assert thread_of_token(forged, secret) is None
    shared = frozenset({"support@northwind.example"})
    assert thread_in_recipients(["carol@x.example", address], shared, secret) == 4242
    assert thread_in_recipients([address.replace("northwind", "elsewhere")], shared, secret) is None
