"""What the classify tests (tests/core/test_classify_*.py) share: `run` (parse and classify), `dsn` (an RFC 3464
report, as a Postfix would send it), `prose_bounce` (a bounce without a DSN part) and the Exchange non-delivery
text that both the bounce and the auto-reply tests use."""

from __future__ import annotations

from inboxcrm.core.classify import Classification, classify
from inboxcrm.core.parsing import parse_message
from tests.support.mail import mail

DAEMON = "Mail Delivery System <MAILER-DAEMON@mx.northwind.example>"
SENDER = "support@northwind.example"


def run(raw: bytes) -> Classification:
    return classify(parse_message(raw), raw)


def dsn(
    *recipient_blocks: str, human: str = "Delivery failed.", subject: str = "Undelivered Mail Returned to Sender"
) -> bytes:
    """A multipart/report; report-type=delivery-status message (RFC 3464), as a Postfix would send it."""
    blocks = "\n\n".join(b.strip() for b in recipient_blocks)
    text = f"""Return-Path: <>
From: {DAEMON}
To: {SENDER}
Subject: {subject}
Message-ID: <dsn-1@mx.northwind.example>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

{human}

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.northwind.example

{blocks}

--B
Content-Type: text/rfc822-headers

From: {SENDER}
To: carol@acme-corp.example
Subject: Your ticket

--B--
"""
    return text.replace("\n", "\r\n").encode()


def prose_bounce(
    body: str, subject: str = "failure notice", *, from_: str = DAEMON, headers: dict[str, str] | None = None
) -> bytes:
    """A bounce without a DSN part, as qmail, Exim, Exchange or Gmail write them."""
    return mail(from_=from_, to=SENDER, subject=subject, body=body, headers=headers)


EXCHANGE = """Your message

  To:      ben@acme-corp.example
  Subject: Your ticket
  Sent:    Thu, 29 Apr 2010 00:00:00 -0000

did not reach the following recipient(s):

carol@acme-corp.example on Thu, 29 Apr 2010 00:00:00 -0000
    The recipient name is not recognized
"""
