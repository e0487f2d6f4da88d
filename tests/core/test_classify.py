"""classify: feedback reports, bounces (DSN and MTA prose), auto-replies, list mail — one small case per rule."""

from __future__ import annotations

import json
from email.header import Header

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inboxcrm.core.classify import BouncedRecipient, Classification, Kind, Reason, assess_failure, classify
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


# --- normal, list and auto-reply mail (headers only) ---------------------------------------------------


def test_ordinary_mail_is_normal_with_no_reasons() -> None:
    assert run(mail()) == Classification(Kind.NORMAL)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("List-Id", "<dev.tomcat.apache.org>"),
        ("List-Unsubscribe", "<mailto:leave@lists.example>"),
        ("List-Post", "<mailto:dev@lists.example>"),
        ("Mailing-List", "contact dev-help@lists.example; run by ezmlm"),
        ("Precedence", "list"),
        ("Precedence", "bulk"),
    ],
)
def test_list_headers_make_list_mail(name: str, value: str) -> None:
    result = run(mail(headers={name: value}))
    assert result.kind is Kind.LIST
    assert result.reasons


def test_precedence_junk_alone_is_not_list_mail() -> None:
    assert run(mail(headers={"Precedence": "junk"})).kind is Kind.NORMAL


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"Auto-Submitted": "auto-generated"},
        {"Auto-Submitted": "auto-notified; owner-email=x@example.org"},
        {"X-Autoreply": "yes"},
        {"X-Autorespond": "Out of office"},
        {"Precedence": "auto_reply"},
        {"X-Apple-Action": "VACATION"},
    ],
)
def test_auto_reply_headers(headers: dict[str, str]) -> None:
    result = run(mail(subject="Re: Your ticket", headers=headers))
    assert result.kind is Kind.AUTO_REPLY
    assert result.bounce == ()


def test_auto_submitted_no_is_a_person() -> None:
    assert run(mail(headers={"Auto-Submitted": "no"})).kind is Kind.NORMAL


def test_auto_response_suppress_counts_only_on_a_reply() -> None:
    suppress = {"X-Auto-Response-Suppress": "All"}
    reply = run(mail(subject="Re: Your ticket", in_reply_to="t-1@northwind.example", headers=suppress))
    assert reply.kind is Kind.AUTO_REPLY
    assert reply.reasons == ("X-Auto-Response-Suppress on a reply",)
    # On a first message the header only asks *us* not to answer automatically (newsletters, tools).
    assert run(mail(subject="Monthly report", headers=suppress)).kind is Kind.NORMAL


@pytest.mark.parametrize(
    "subject",
    [
        "Out of Office: Your ticket",
        "Automatic reply: Your ticket",
        "Autoreply: Your ticket",
        "Auto reply: Nyaan",
        "Abwesenheitsnotiz: Ihre Anfrage",
        "Réponse automatique : Votre demande",
        "Absence : Votre demande",
        "Fuori sede: richiesta",
        "Risposta automatica: richiesta",
        "Afwezig: uw vraag",
        "Automatisch antwoord: uw vraag",
        "Respuesta automática: su consulta",
        "自動応答: お問い合わせ",
        "Carol Danvers is out of the office",
    ],
)
def test_out_of_office_subjects(subject: str) -> None:
    # Encoded words, as mail clients send them (parse_message does not read raw UTF-8 headers).
    result = run(mail(subject=Header(subject, "utf-8").encode() if not subject.isascii() else subject))
    assert result.kind is Kind.AUTO_REPLY
    assert result.reasons[0].startswith("out-of-office subject")


def test_words_that_only_start_an_ooo_subject_are_ordinary_elsewhere() -> None:
    assert run(mail(subject="Absence request for Friday")).kind is Kind.NORMAL
    assert run(mail(subject="Question about vacation days")).kind is Kind.NORMAL


def test_a_person_answering_or_forwarding_an_auto_reply_or_bounce_wrote_it_themselves() -> None:
    assert run(mail(subject="Re: Automatic reply: Your ticket")).kind is Kind.NORMAL
    assert run(mail(subject="Fwd: Undeliverable: Your ticket", body=EXCHANGE)).kind is Kind.NORMAL
    assert run(mail(subject="WG: Out of Office")).kind is Kind.NORMAL


def test_precedence_bulk_with_ooo_subject_is_an_auto_reply_not_list_mail() -> None:
    result = run(mail(subject="Out of office", headers={"Precedence": "bulk"}))
    assert result.kind is Kind.AUTO_REPLY
    assert "Precedence: bulk" in result.reasons


def test_auto_reply_wins_over_list_headers() -> None:
    raw = mail(subject="Automatic reply: [dev] vote", headers={"List-Id": "<dev.lists.example>"})
    assert run(raw).kind is Kind.AUTO_REPLY


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

EXCHANGE = """Your message

  To:      ben@acme-corp.example
  Subject: Your ticket
  Sent:    Thu, 29 Apr 2010 00:00:00 -0000

did not reach the following recipient(s):

carol@acme-corp.example on Thu, 29 Apr 2010 00:00:00 -0000
    The recipient name is not recognized
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


# --- feedback reports and Amazon SES -------------------------------------------------------------------


ARF = """From: Feedback Loop <fbl@isp.example>
To: abuse@northwind.example
Subject: Abuse Report
Message-ID: <arf-1@isp.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="F"

--F
Content-Type: text/plain

This is an email abuse report.

--F
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: SomeGenerator/1.0
Version: 1
Original-Rcpt-To: carol@acme-corp.example

--F
Content-Type: message/rfc822

From: news@northwind.example
To: carol@acme-corp.example
Subject: Our November offers

Buy now.
--F--
"""


def test_arf_feedback_report_names_the_complainer() -> None:
    result = run(ARF.replace("\n", "\r\n").encode())
    assert result.kind is Kind.FEEDBACK_REPORT
    assert result.bounce == (BouncedRecipient("carol@acme-corp.example", None, False, "feedback-type: abuse"),)
    assert "Feedback-Type: abuse" in result.reasons


def test_feedback_report_wins_over_a_mailer_daemon_sender() -> None:
    raw = ARF.replace("Feedback Loop <fbl@isp.example>", DAEMON).replace("Abuse Report", "Returned mail")
    assert run(raw.encode()).kind is Kind.FEEDBACK_REPORT


def ses(notification: dict[str, object]) -> bytes:
    envelope = {"Type": "Notification", "Message": json.dumps(notification)}
    return mail(
        from_="AWS Notifications <no-reply@sns.amazonaws.com>",
        subject="AWS Notification Message",
        body=json.dumps(envelope, indent=2),
    )


def test_amazon_ses_bounce_and_complaint_notifications() -> None:
    bounce = run(
        ses(
            {
                "notificationType": "Bounce",
                "bounce": {
                    "bounceType": "Permanent",
                    "bouncedRecipients": [
                        {
                            "emailAddress": "carol@acme-corp.example",
                            "status": "5.1.1",
                            "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                        }
                    ],
                },
            }
        )
    )
    assert bounce.bounce == (
        BouncedRecipient("carol@acme-corp.example", "5.1.1", True, "550 5.1.1 user unknown", Reason.USER_UNKNOWN),
    )
    complaint = run(
        ses(
            {
                "notificationType": "Complaint",
                "complaint": {"complainedRecipients": [{"emailAddress": "carol@acme-corp.example"}]},
            }
        )
    )
    assert complaint.kind is Kind.FEEDBACK_REPORT
    assert [r.email for r in complaint.bounce] == ["carol@acme-corp.example"]


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


# --- never raises ---------------------------------------------------------------------------------------

_HINTS = [
    b"",
    b"From: MAILER-DAEMON@mx.example\r\nSubject: Undelivered Mail Returned to Sender\r\n",
    b"Content-Type: multipart/report; report-type=delivery-status; boundary=B\r\n",
    b"Content-Type: multipart/report; report-type=feedback-report; boundary=B\r\n",
    b"From: no-reply@sns.amazonaws.com\r\nSubject: AWS Notification Message\r\n",
]


@settings(max_examples=300, deadline=None)
@given(hint=st.sampled_from(_HINTS), tail=st.binary(max_size=2000))
def test_classify_never_raises(hint: bytes, tail: bytes) -> None:
    raw = hint + tail
    result = classify(parse_message(raw), raw)
    assert isinstance(result.kind, Kind)
    # classify's last-resort guard never had to catch anything
    assert not any("could not be read" in reason for reason in result.reasons)


@settings(max_examples=200, deadline=None)
@given(body=st.text(max_size=1500))
def test_classify_never_raises_on_any_report_text(body: str) -> None:
    for raw in (prose_bounce(body), dsn(body), dsn(f"Final-Recipient: rfc822; a@b.example\n{body}")):
        result = run(raw)
        assert result.kind in (Kind.BOUNCE, Kind.NORMAL, Kind.AUTO_REPLY)
        assert not any("could not be read" in reason for reason in result.reasons)
