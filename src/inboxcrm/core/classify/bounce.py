"""Bounces: the hints that make us look (a DSN, X-Failed-Recipients, a mail-system sender, a bounce subject,
a null sender with the original attached), and the failed recipients read from the report."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import Message as StdMessage

from inboxcrm.core.classify.auto_reply import RESPONSE_PREFIX
from inboxcrm.core.classify.diagnosis import REPLY_CODE, STATUS, diagnose
from inboxcrm.core.classify.kinds import BouncedRecipient, Classification, Kind
from inboxcrm.core.classify.recipients import (
    DELAY_SUBJECT,
    FAILURE_PHRASE,
    addresses_in,
    best_line,
    context_of,
    header_addresses,
    inline_original,
    recipient_field,
    recipients_in_prose,
    short,
    split_prose,
)
from inboxcrm.core.classify.report import (
    RECIPIENT_FIELDS,
    Fields,
    field_blocks,
    field_value,
    has_recipient,
    read_report,
)
from inboxcrm.core.model import Message

_DAEMON_SENDER = re.compile(
    r"mailer[-_ ]?daemon|mail[-_ ]?daemon|postmaster|mail ?deliver(?:y)? ?(?:sub)?system|delivery ?subsystem"
    r"|mail delivery|double-bounce|interscan|system administrator",
)
# Subjects MTAs put on failure and delay reports, in the languages we have met them in.
_BOUNCE_SUBJECT = re.compile(
    r"undeliver(?:ed|able)|returned mail|return(?:ed|ing) (?:mail|message) to sender"
    r"|delivery (?:status notification|failure|failed|has failed|notification|report|problem)"
    r"|mail delivery (?:failed|failure|status)|failure (?:notice|delivery)|delivery status|permanent delivery failure"
    r"|non remis|non recapitabile|unzustellbar|nicht zustellbar|no se puede entregar|onbestelbaar"
    r"|could ?n[o']t be delivered|mail system error|mail failure|warning: could not send|delayed mail"
    r"|message .{0,40} delayed|postmaster notify|bounce notification|smtp server: errors from"
    r"|there was an error sending your mail|delivery delayed|bounce action notification|uncaught bounce"
    r"|delivery warning|warning: message"
    r"|недоставлен|не доставлено|配送エラー|配信エラー|配信不能|送信エラー|不達|エラーメール|退信",
)
_SUCCESS_ACTIONS = frozenset({"delivered", "relayed", "expanded", "deliverable"})
# A warning that the server is still trying (sendmail's "THIS IS A WARNING MESSAGE ONLY", Exim's "has not
# yet been delivered … No action is required", Gmail's "will retry for 46 more hours") …
_STILL_TRYING = re.compile(
    r"warning message only|do not need to resend|no action is required|will keep trying|will (?:continue to )?retry"
    r"|will be retried|still being retried|(?:has|have) not yet been delivered|not yet been delivered"
    r"|delivery attempts will continue|(?:has been|is being|is) delayed|will try (?:again|to deliver)"
    r"|will continue (?:to attempt|trying|to try)|(?:is )?still trying|this is (?:only )?a warning"
    r"|will be re-?attempted|retrying for"
)
# … unless it says it has given up (a final failure may quote the earlier warnings).
_GAVE_UP = re.compile(
    r"gave up|has given up|retry timeout exceeded|permanent(?:ly)? (?:fatal )?(?:error|failure|failed)"
    r"|failed permanently|will not be retried|no longer (?:be )?retr|has been returned to you"
    r"|deleted from (?:the )?queue"
)


@dataclass(slots=True)
class Hints:
    """Why we suspect a bounce; `strong` hints (a DSN, X-Failed-Recipients) need no corroboration."""

    reasons: list[str] = field(default_factory=list)
    strong: bool = False
    weak: int = 0
    mail_system_sender: bool = False

    def add(self, reason: str, *, strong: bool = False) -> None:
        self.reasons.append(reason)
        self.strong = self.strong or strong
        self.weak += not strong


def bounce_hints(message: Message, headers: dict[str, str], is_report: bool, report_type: str) -> Hints:
    hints = Hints()
    if is_report and report_type in ("delivery-status", ""):
        hints.add("Content-Type: multipart/report; report-type=delivery-status", strong=True)
    if "x-failed-recipients" in headers:
        hints.add("X-Failed-Recipients header", strong=True)
    if "x-ms-exchange-message-is-ndr" in headers:
        hints.add("X-MS-Exchange-Message-Is-Ndr header", strong=True)
    if _DAEMON_SENDER.search(headers.get("from", "").lower()):
        hints.add(f"sender is a mail system: {headers['from'][:80]}")
        hints.mail_system_sender = True
    subject = message.subject.lower()
    if _BOUNCE_SUBJECT.search(subject) and not RESPONSE_PREFIX.match(subject):
        hints.add(f"bounce subject: {message.subject[:80]}")
    null_sender = headers.get("return-path", "x").strip() in ("<>", "")
    if null_sender and any(a.content_type in ("message/rfc822", "text/rfc822-headers") for a in message.attachments):
        hints.add("null Return-Path with the original message attached")
    return hints


def read_bounce(raw: bytes, headers: dict[str, str], message: Message, hints: Hints) -> Classification | None:
    """A bounce classification when the report can be read as one, else None (the message is something else)."""
    report = read_report(raw)
    own, returned = split_prose(report.prose)
    original = report.original or inline_original(returned)
    dsn_blocks = [b for b in report.dsn_blocks if has_recipient(b)]
    if not dsn_blocks:
        dsn_blocks = [b for b in field_blocks(own) if has_recipient(b)]
        if dsn_blocks:
            hints.add("delivery-status fields in the text")

    recipients, successes = _dsn_recipients(dsn_blocks, own, hints)
    failure_words = bool(FAILURE_PHRASE.search(own.lower()))
    corroborated = hints.strong or hints.weak >= 2 or failure_words
    if not recipients and not successes and corroborated:
        recipients = _prose_recipients(own, headers, message, original, hints)

    if recipients and not any(r.counts for r in recipients):
        # Every recipient is only delayed: the server is still trying. A warning, not a bounce.
        hints.reasons.append("delivery delayed, the server is still trying: not a bounce")
        return Classification(Kind.AUTO_REPLY, tuple(recipients), tuple(hints.reasons))
    if recipients:
        return Classification(Kind.BOUNCE, tuple(recipients), tuple(hints.reasons))
    if successes:
        # A success DSN ("delivered", "relayed") is a machine's receipt: nothing bounced, and nobody should
        # answer it, so it is filed with the automatic replies.
        return Classification(Kind.AUTO_REPLY, reasons=(*hints.reasons, "delivery report of a success"))
    if hints.strong or (hints.weak >= 2 and failure_words):
        return Classification(Kind.BOUNCE, (), (*hints.reasons, "no failed recipient could be read"))
    return None


def _dsn_recipients(blocks: Sequence[Fields], own: str, hints: Hints) -> tuple[list[BouncedRecipient], int]:
    """Failed or delayed recipients of RFC 3464 per-recipient blocks, and how many reported a success."""
    lines = own.splitlines()
    lowered = own.lower()
    named = [recipient_field(field_value(b, name)) for b in blocks for name in RECIPIENT_FIELDS]
    recipients: list[BouncedRecipient] = []
    successes = 0
    seen: set[str] = set()
    for block in blocks:
        final = recipient_field(field_value(block, "Final-Recipient"))
        written_to = recipient_field(field_value(block, "Original-Recipient"))
        # The address we wrote to is the Original-Recipient; Final-Recipient may be an alias it led to.
        address = written_to or final
        if address is None:
            continue
        action = (field_value(block, "Action").lower().split() or [""])[0]
        status_match = STATUS.search(field_value(block, "Status"))
        status = status_match.group(0) if status_match else None
        if action in _SUCCESS_ACTIONS or (status is not None and status[0] == "2"):
            successes += 1
            continue
        if address in seen:
            continue
        seen.add(address)
        diagnostic = field_value(block, "Diagnostic-Code")
        diagnostic_type, semi, words = diagnostic.partition(";")
        if semi and re.fullmatch(r"\s*[\w-]+\s*", diagnostic_type):
            diagnostic = words.strip()
        own_names = {a for a in (final, written_to) if a}
        others = [a for a in named if a and a not in own_names]
        context = "\n".join(context_of(a, lines, others) for a in own_names if a in lowered)
        found = diagnose(
            status,
            f"{diagnostic}\n{context}\n{field_value(block, 'Status')}",
            delayed=action == "delayed",
            local_program=bool(semi) and diagnostic_type.strip().lower() == "x-unix",
        )
        shown = short(diagnostic) or best_line(context)
        recipients.append(BouncedRecipient(address, found.status, found.hard, shown, found.reason))
        hints.reasons.append(found.explain(address))
    return recipients, successes


def _prose_recipients(
    own: str, headers: dict[str, str], message: Message, original: StdMessage | None, hints: Hints
) -> list[BouncedRecipient]:
    """Failed recipients of a report in prose (qmail, Exim, Exchange, Gmail …): addresses, then their reasons."""
    # The report's sender and addressee (the original sender) are not the failed recipients …
    addressees = {a.email for a in (*message.to, *message.cc)}
    excluded = set(addressees)
    if message.from_ is not None:
        excluded.add(message.from_.email)
    excluded.update(header_addresses(original, "From", "Sender", "Return-Path"))
    excluded.update(addresses_in(headers.get("return-path", "")))
    named = recipients_in_prose(own, excluded)
    if not named:
        # … unless someone wrote to themselves: then the addressee is the only one the prose names.
        named = recipients_in_prose(own, excluded - addressees)
    failed = addresses_in(headers.get("x-failed-recipients", ""))
    candidates = failed or named
    if not candidates and hints.weak + hints.strong >= 2:
        # Some MTAs (old Sendmail, InterScan) name nobody in their prose; the returned message does.
        candidates = [a for a in header_addresses(original, "To", "Cc") if a not in excluded]
        if candidates:
            hints.add("recipient taken from the returned message")
    if not candidates:
        return []
    lines = own.splitlines()
    lowered = own.lower()
    says_delay = DELAY_SUBJECT.search(message.subject.lower()) or _STILL_TRYING.search(lowered)
    delayed = bool(says_delay) and not failed and not _GAVE_UP.search(lowered)
    recipients: list[BouncedRecipient] = []
    for address in candidates:
        context = context_of(address, lines, [a for a in candidates if a != address])
        # With one recipient, the whole report is about it (the reason may come before the address).
        wide = own if len(candidates) == 1 else ""
        found = diagnose(None, context, wide, delayed=delayed)
        shown = (
            best_line(context)
            if STATUS.search(context) or REPLY_CODE.search(context)
            else best_line(f"{context}\n{wide}")
        )
        recipients.append(BouncedRecipient(address, found.status, found.hard, shown, found.reason))
        hints.reasons.append(found.explain(address))
    return recipients
