"""Complaints: ARF feedback reports (RFC 5965) and Amazon SES notifications (bounces and complaints in JSON)."""

from __future__ import annotations

import json

from inboxcrm.core.addresses import normalise_email
from inboxcrm.core.classify.diagnosis import diagnose
from inboxcrm.core.classify.kinds import BouncedRecipient, Classification, Kind
from inboxcrm.core.classify.recipients import addresses_in, header_addresses, short
from inboxcrm.core.classify.report import field_value, read_report


def feedback_report(raw: bytes) -> Classification:
    report = read_report(raw)
    feedback_type = field_value(report.feedback, "Feedback-Type").lower() or "unknown"
    people: list[str] = []
    for key, value in report.feedback:
        if key.lower() in ("original-rcpt-to", "removal-recipient"):
            people.extend(a for a in addresses_in(value) if a not in people)
    if not people:
        people = header_addresses(report.original, "To")
    diagnostic = f"feedback-type: {feedback_type}"
    return Classification(
        Kind.FEEDBACK_REPORT,
        tuple(BouncedRecipient(a, None, False, diagnostic) for a in people),
        ("Content-Type: multipart/report; report-type=feedback-report", f"Feedback-Type: {feedback_type}"),
    )


# What SES's bounce subtypes mean, in the words `diagnose` knows (AWS SES docs, "bounce types").
_SES_SUBTYPES = {
    "noemail": "no such user: the address does not exist",
    "suppressed": "user unknown: on the SES suppression list after an earlier hard bounce",
    "mailboxfull": "mailbox full",
    "messagetoolarge": "message too large",
    "contentrejected": "content rejected by filter",
    "attachmentrejected": "attachment rejected by filter",
}


def ses_notification(text: str) -> Classification | None:
    """Amazon SES bounce, complaint or delivery notifications sent by SNS e-mail (JSON, often inside JSON)."""
    # SNS wraps long lines inside JSON strings, so control characters have to be tolerated.
    decoder = json.JSONDecoder(strict=False)
    try:
        outer = decoder.raw_decode(text[text.index("{") :])[0]
        inner = decoder.decode(outer["Message"]) if isinstance(outer.get("Message"), str) else outer
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if not isinstance(inner, dict):
        return None
    kind = str(inner.get("notificationType") or inner.get("eventType") or "")
    reason = f"Amazon SES notification: {kind}"
    bounce = inner.get("bounce")
    if kind == "Bounce" and isinstance(bounce, dict):
        # The notification's type and subtype are about the whole message: a recipient's own status and
        # diagnostic win over them (a "Transient" notice may still carry a 5.1.1 for one address).
        subtype = str(bounce.get("bounceSubType", "")).lower()
        wide = _SES_SUBTYPES.get(subtype, "")
        recipients: list[BouncedRecipient] = []
        reasons = [reason]
        for item in bounce.get("bouncedRecipients") or []:
            address = normalise_email(str(item.get("emailAddress", ""))) if isinstance(item, dict) else None
            if address is None:
                continue
            diagnostic = str(item.get("diagnosticCode") or "")
            diagnostic = diagnostic.partition(";")[2].strip() if diagnostic.lower().startswith("smtp;") else diagnostic
            found = diagnose(str(item.get("status") or "") or None, diagnostic, wide)
            recipients.append(BouncedRecipient(address, found.status, found.hard, short(diagnostic), found.reason))
            reasons.append(found.explain(address))
        return Classification(Kind.BOUNCE, tuple(recipients), tuple(reasons))
    complaint = inner.get("complaint")
    if kind == "Complaint" and isinstance(complaint, dict):
        feedback_type = str(complaint.get("complaintFeedbackType") or "abuse")
        people = [
            normalise_email(str(item.get("emailAddress", "")))
            for item in complaint.get("complainedRecipients") or []
            if isinstance(item, dict)
        ]
        diagnostic = f"feedback-type: {feedback_type}"
        return Classification(
            Kind.FEEDBACK_REPORT, tuple(BouncedRecipient(a, None, False, diagnostic) for a in people if a), (reason,)
        )
    if kind == "Delivery":
        return Classification(Kind.AUTO_REPLY, reasons=(reason, "delivery report of a success"))
    return None
