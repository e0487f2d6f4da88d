"""classify on bounces: delivery status notifications (RFC 3464), the prose of qmail, Exim, Exchange and Gmail,
and whether a failure is hard or soft (assess_failure) — one small case per rule."""

from __future__ import annotations

import pytest

from inboxcrm.core.classify import BouncedRecipient, Kind, Reason, assess_failure
from tests.core.classify_support import EXCHANGE, dsn, prose_bounce, run
from tests.support.mail import mail

# --- delivery status notifications (RFC 3464) ----------------------------------------------------------


def test_dsn_failed_recipient_is_a_hard_bounce() -> None:
    result = run(
        dsn(
            """Final-Recipient: rfc822; carol@acme-corp.example
Original-Recipient: rfc822;carol@acme-corp.example
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <carol@acme-corp.example>: Recipient address rejected: User unknown"""
        )
    )
    assert result.kind is Kind.BOUNCE
    assert result.bounce == (
        BouncedRecipient(
            "carol@acme-corp.example",
            "5.1.1",
            True,
            "550 5.1.1 <carol@acme-corp.example>: Recipient address rejected: User unknown",
            Reason.USER_UNKNOWN,
        ),
    )
    assert result.reasons[0] == "Content-Type: multipart/report; report-type=delivery-status"
    assert result.reasons[-1] == "carol@acme-corp.example: hard, unknown user"


def test_dsn_names_the_address_we_wrote_to_not_the_alias_it_expanded_to() -> None:
    result = run(
        dsn(
            """Final-Recipient: rfc822; c.danvers@mail.acme-corp.example
Original-Recipient: rfc822;carol@acme-corp.example
Action: failed
Status: 5.1.1"""
        )
    )
    assert [r.email for r in result.bounce] == ["carol@acme-corp.example"]


def test_dsn_delayed_is_not_a_bounce() -> None:
    """A delay warning (Action: delayed): the server is still trying. Automatic mail, never a bounce."""
    result = run(
        dsn(
            """Final-Recipient: rfc822; carol@acme-corp.example
Action: delayed
Status: 4.4.1
Diagnostic-Code: X-Postfix; connect to mx.acme-corp.example[192.0.2.2]:25: Connection timed out""",
            subject="Delayed Mail (still being retried)",
        )
    )
    assert result.kind is Kind.AUTO_REPLY
    (recipient,) = result.bounce
    assert (recipient.hard, recipient.status, recipient.reason) == (False, "4.4.1", Reason.DELAYED)
    assert not recipient.counts


def test_dsn_mailbox_full_is_soft_even_with_a_5xx() -> None:
    result = run(
        dsn(
            """Final-Recipient: rfc822; carol@acme-corp.example
Action: failed
Status: 5.2.2
Diagnostic-Code: smtp; 552 5.2.2 Mailbox full"""
        )
    )
    (recipient,) = result.bounce
    assert (recipient.hard, recipient.status) == (False, "5.2.2")


def test_dsn_spam_block_is_soft() -> None:
    result = run(
        dsn(
            """Final-Recipient: rfc822; carol@acme-corp.example
Action: failed
Status: 5.7.1
Diagnostic-Code: smtp; 554 5.7.1 Service unavailable; Client host [192.0.2.9] blocked using zen.spamhaus.org"""
        )
    )
    (recipient,) = result.bounce
    assert (recipient.hard, recipient.status) == (False, "5.7.1")


def test_dsn_success_is_not_a_bounce_of_that_recipient() -> None:
    mixed = run(
        dsn(
            """Final-Recipient: rfc822; ben@acme-corp.example
Action: delivered
Status: 2.0.0""",
            """Final-Recipient: rfc822; carol@acme-corp.example
Action: failed
Status: 5.1.1""",
        )
    )
    assert [r.email for r in mixed.bounce] == ["carol@acme-corp.example"]

    # Only successes: a machine's receipt; filed with the automatic replies so that nobody answers it.
    receipt = run(
        dsn(
            """Final-Recipient: rfc822; ben@acme-corp.example
Action: relayed
Status: 2.0.0""",
            subject="Successful Mail Delivery Report",
        )
    )
    assert receipt.kind is Kind.AUTO_REPLY
    assert receipt.bounce == ()


def test_dsn_status_is_taken_from_the_servers_words_when_the_field_is_vague() -> None:
    result = run(
        dsn(
            """Final-Recipient: rfc822; carol@acme-corp.example
Action: failed
Status: 5.0.0
Diagnostic-Code: smtp; 550 5.1.1 <carol@acme-corp.example>... User unknown"""
        )
    )
    assert result.bounce[0].status == "5.1.1"


def test_dsn_without_recipient_fields_falls_back_to_the_returned_headers() -> None:
    result = run(dsn("Action: failed\nStatus: 5.0.0"))
    assert [(r.email, r.hard) for r in result.bounce] == [("carol@acme-corp.example", False)]
    assert "recipient taken from the returned message" in result.reasons

    nothing = dsn("Action: failed\nStatus: 5.0.0").replace(b"To: carol@acme-corp.example", b"X-Nothing: here")
    result = run(nothing)
    assert (result.kind, result.bounce) == (Kind.BOUNCE, ())
    assert "no failed recipient could be read" in result.reasons


# --- bounces in prose (no DSN part) ---------------------------------------------------------------------


QMAIL = """Hi. This is the qmail-send program at mx.acme-corp.example.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<carol@acme-corp.example>:
192.0.2.20 does not like recipient.
Remote host said: 550 5.1.1 <carol@acme-corp.example>... User Unknown
Giving up on 192.0.2.20.

--- Below this line is a copy of the message.

Return-Path: <support@northwind.example>
From: support@northwind.example
To: carol@acme-corp.example
Subject: Your ticket

Hello Carol
"""

EXIM = """This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  carol@acme-corp.example
    SMTP error from remote mail server after end of data:
    host mx.acme-corp.example [192.0.2.20]: 550 Unknown user carol@acme-corp.example

------ This is a copy of the message, including all the headers. ------

Return-path: <support@northwind.example>
From: support@northwind.example
To: carol@acme-corp.example
"""
GMAIL = """Delivery to the following recipient failed permanently:

     carol@acme-corp.example

Technical details of permanent failure:
Google tried to deliver your message, but it was rejected by the server for the recipient domain
acme-corp.example by mx.acme-corp.example. [192.0.2.20].

The error that the other server returned was:
550 5.1.1 The email account that you tried to reach does not exist.

----- Original message -----

From: support@northwind.example
To: carol@acme-corp.example
"""


def test_qmail_failure_notice() -> None:
    result = run(prose_bounce(QMAIL))
    assert result.kind is Kind.BOUNCE
    (recipient,) = result.bounce
    assert (recipient.email, recipient.status, recipient.hard) == ("carol@acme-corp.example", "5.1.1", True)
    assert recipient.diagnostic == "Remote host said: 550 5.1.1 <carol@acme-corp.example>... User Unknown"


def test_exim_failure_with_x_failed_recipients() -> None:
    raw = prose_bounce(
        EXIM,
        subject="Mail delivery failed: returning message to sender",
        headers={"X-Failed-Recipients": "carol@acme-corp.example", "Auto-Submitted": "auto-replied"},
    )
    result = run(raw)
    # A bounce, not an auto-reply, although Exim marks it Auto-Submitted.
    assert result.kind is Kind.BOUNCE
    (recipient,) = result.bounce
    assert recipient.email == "carol@acme-corp.example"
    # "Unknown user" at end of DATA: the server had accepted the address at RCPT TO, so it exists.
    assert recipient.hard is False


def test_exchange_ndr_ignores_the_quoted_to_line() -> None:
    result = run(prose_bounce(EXCHANGE, subject="Undeliverable: Your ticket"))
    assert [(r.email, r.hard) for r in result.bounce] == [("carol@acme-corp.example", True)]


def test_gmail_failure_with_an_original_message_copy() -> None:
    result = run(
        prose_bounce(
            GMAIL,
            subject="Delivery Status Notification (Failure)",
            from_="Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
        )
    )
    (recipient,) = result.bounce
    assert (recipient.email, recipient.status, recipient.hard) == ("carol@acme-corp.example", "5.1.1", True)


def test_report_that_names_nobody_takes_the_recipient_from_the_returned_message() -> None:
    body = """   ----- Transcript of session follows -----
421 mx.acme-corp.example (smtp)... Deferred: Connection timed out

   ----- Unsent message follows -----
From: support@northwind.example
To: carol@acme-corp.example
Subject: Your ticket
"""
    result = run(prose_bounce(body, subject="Returned mail: Cannot send message for 4 days"))
    assert [(r.email, r.hard, r.status) for r in result.bounce] == [("carol@acme-corp.example", False, "4.0.0")]
    assert "recipient taken from the returned message" in result.reasons


def test_bounce_with_bare_cr_line_endings() -> None:
    raw = prose_bounce(QMAIL).replace(b"\r\n", b"\r")
    assert [r.email for r in run(raw).bounce] == ["carol@acme-corp.example"]


def test_a_person_writing_from_postmaster_is_not_a_bounce() -> None:
    raw = mail(
        from_="Postmaster <postmaster@acme-corp.example>",
        subject="Question about your newsletter",
        body="Hello, could you send it to carol@acme-corp.example from now on? Thanks\n",
    )
    assert run(raw).kind is Kind.NORMAL


def test_a_customer_asking_about_delivery_status_is_not_a_bounce() -> None:
    raw = mail(subject="Delivery status of order 1234", body="Hi, where is my parcel? Reach me at carol@home.example\n")
    assert run(raw).kind is Kind.NORMAL


# --- hard or soft ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("diagnostic", "status", "expected"),
    [
        ("550 5.1.1 <carol@acme-corp.example>: Recipient address rejected: User unknown", None, (True, "5.1.1")),
        ("550 No such user here", None, (True, "5.1.1")),
        ("This user doesn't have a example.com account", None, (True, "5.1.1")),
        ("Host or domain name not found. Name service error for name=acme.example type=A", None, (True, "5.1.2")),
        ("552 5.2.2 Mailbox full", None, (False, "5.2.2")),
        ("552 Error: disk quota exceeded", None, (False, "5.2.2")),
        ("452 4.2.2 <carol@acme-corp.example>... Mailbox full", None, (False, "4.2.2")),
        ("421 Connection timed out", None, (False, "4.0.0")),
        ("554 5.7.1 Message rejected as spam", None, (False, "5.7.1")),
        ("550 5.7.1 <x@y.example>: Sender address rejected: Access denied", None, (False, "5.7.1")),
        ("550 5.2.1 The email account that you tried to reach is disabled.", None, (False, "5.2.1")),
        ("", "5.1.1", (True, "5.1.1")),
        ("", "5.0.0", (False, "5.0.0")),
        ("", "", (False, None)),
    ],
)
def test_assess_failure(diagnostic: str, status: str | None, expected: tuple[bool, str | None]) -> None:
    assert assess_failure(diagnostic, status) == expected


def test_a_delay_is_never_hard() -> None:
    assert assess_failure("550 5.1.1 user unknown", delayed=True)[0] is False
