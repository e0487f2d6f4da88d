"""Forwarded mail belongs to the original customer: one fixture per mail client's forward format."""

from __future__ import annotations

import pytest

from inboxcrm.core.forwards import find_forward
from inboxcrm.core.parsing import parse_message


def forward_of(body: str, sender: str = "Ana Lima <ana@northwind.example>", extra: str = "") -> bytes:
    head = (
        f"From: {sender}\r\nTo: support@northwind.example\r\nSubject: Fwd: Broken order\r\n"
        f"Message-ID: <fwd-1@northwind.example>\r\nDate: Mon, 02 Nov 2026 10:00:00 +0000\r\n{extra}"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    )
    return (head + body.replace("\n", "\r\n")).encode()


GMAIL = """Can someone take this one? Mail me at ana.private@example.org if needed.

---------- Forwarded message ---------
From: Priya Raman <priya.raman@globex.example>
Date: Mon, 2 Nov 2026 at 09:12
Subject: Broken order
To: Ana Lima <ana@northwind.example>

Our order arrived broken.
"""

OUTLOOK_DESKTOP = """Please handle.

-----Original Message-----
From: Priya Raman [mailto:priya.raman@globex.example]
Sent: Monday, November 2, 2026 9:12 AM
To: Ana Lima
Subject: Broken order

Our order arrived broken.
"""

OUTLOOK_DESKTOP_GERMAN = """Bitte übernehmen.

Von: Priya Raman <priya.raman@globex.example>
Gesendet: Montag, 2. November 2026 09:12
An: Ana Lima <ana@northwind.example>
Betreff: Broken order

Our order arrived broken.
"""

OUTLOOK_WEB = """FYI

________________________________
From: Priya Raman <priya.raman@globex.example>
Sent: Monday, November 2, 2026 09:12
To: Ana Lima <ana@northwind.example>
Subject: Broken order

Our order arrived broken.
"""

APPLE = """Forwarding.

Begin forwarded message:

> From: Priya Raman <priya.raman@globex.example>
> Subject: Broken order
> Date: 2 November 2026 at 09:12:00 GMT
> To: Ana Lima <ana@northwind.example>
>
> Our order arrived broken.
"""

THUNDERBIRD = """See below.

-------- Forwarded Message --------
Subject: 	Broken order
Date: 	Mon, 2 Nov 2026 09:12:00 +0000
From: 	Priya Raman <priya.raman@globex.example>
To: 	Ana Lima <ana@northwind.example>

Our order arrived broken.
"""

OUTLOOK_FRENCH = """Voir ci-dessous.

-----Message d'origine-----
De : Priya Raman <priya.raman@globex.example>
Envoyé : lundi 2 novembre 2026 09:12
À : Ana Lima
Objet : Broken order
"""


@pytest.mark.parametrize(
    ("client", "body"),
    [
        ("gmail", GMAIL),
        ("outlook", OUTLOOK_DESKTOP),
        ("outlook", OUTLOOK_DESKTOP_GERMAN),
        ("outlook", OUTLOOK_WEB),
        ("apple", APPLE),
        ("thunderbird", THUNDERBIRD),
        ("outlook", OUTLOOK_FRENCH),
    ],
)
def test_forward_blocks_name_the_original_sender(client: str, body: str) -> None:
    raw = forward_of(body)
    forward = find_forward(parse_message(raw), raw)
    assert forward is not None
    assert (forward.source, forward.original_from.email) == (client, "priya.raman@globex.example")
    assert forward.original_from.name == "Priya Raman"
    assert forward.forwarded_by is not None and forward.forwarded_by.email == "ana@northwind.example"
    assert forward.original_subject == "Broken order"


def test_attached_message_wins() -> None:
    inner = (
        b"From: Priya Raman <priya.raman@globex.example>\r\nTo: ana@northwind.example\r\n"
        b"Subject: Broken order\r\nMessage-ID: <orig-1@globex.example>\r\n\r\nOur order arrived broken.\r\n"
    )
    raw = (
        b"From: Ana Lima <ana@northwind.example>\r\nTo: support@northwind.example\r\nSubject: Fwd: Broken order\r\n"
        b"Message-ID: <fwd-2@northwind.example>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n'
        b"From: someone.else@example.org wrote something\r\n--b\r\nContent-Type: message/rfc822\r\n"
        b'Content-Disposition: attachment; filename="Broken order.eml"\r\n\r\n' + inner + b"\r\n--b--\r\n"
    )
    forward = find_forward(parse_message(raw), raw)
    assert forward is not None
    assert (forward.source, forward.original_from.email) == ("attached message", "priya.raman@globex.example")
    assert forward.original_message_id == "orig-1@globex.example"


def test_resent_from_names_the_forwarder() -> None:
    raw = forward_of(
        "Our order arrived broken.\n",
        sender="Priya Raman <priya.raman@globex.example>",
        extra="Resent-From: Ana Lima <ana@northwind.example>\r\n",
    )
    forward = find_forward(parse_message(raw), raw)
    assert forward is not None and forward.source == "Resent-From"
    assert forward.original_from.email == "priya.raman@globex.example"
    assert forward.forwarded_by is not None and forward.forwarded_by.email == "ana@northwind.example"


def test_a_reply_that_mentions_addresses_is_not_a_forward() -> None:
    body = "Hi, please write to billing@globex.example.\nFrom: now on we ship on Mondays.\n\nAna\n"
    raw = forward_of(body)
    assert find_forward(parse_message(raw), raw) is None
