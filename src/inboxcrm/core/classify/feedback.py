"""Complaints: ARF feedback reports (RFC 5965) and Amazon SES notifications (bounces and complaints in JSON)."""

from __future__ import annotations

import json

from inboxcrm.core.addresses import normalise_email
from inboxcrm.core.classify.hard_soft import judge
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
        transient = str(bounce.get("bounceType", "")).lower() == "transient"
        recipients: list[BouncedRecipient] = []
        reasons = [reason]
        for item in bounce.get("bouncedRecipients") or []:
            address = normalise_email(str(item.get("emailAddress", ""))) if isinstance(item, dict) else None
            if address is None:
                continue
            diagnostic = str(item.get("diagnosticCode") or "")
            diagnostic = diagnostic.partition(";")[2].strip() if diagnostic.lower().startswith("smtp;") else diagnostic
            judgement = judge(str(item.get("status") or "") or None, diagnostic, delayed=transient)
            recipients.append(BouncedRecipient(address, judgement.status, judgement.hard, short(diagnostic)))
            reasons.append(judgement.reason(address))
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
