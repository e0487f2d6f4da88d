"""classify on complaints: ARF feedback reports (RFC 5965) and Amazon SES bounce and complaint notifications."""

from __future__ import annotations

import json

from inboxcrm.core.classify import BouncedRecipient, Kind, Reason
from tests.core.classify_support import DAEMON, run
from tests.support.mail import mail

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
