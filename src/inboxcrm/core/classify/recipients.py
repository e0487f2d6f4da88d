"""Finding the addresses a report is about, and the words it says about each of them."""

from __future__ import annotations

import email.utils
import re
from collections.abc import Sequence
from email.message import Message as StdMessage

from inboxcrm.core.addresses import normalise_email
from inboxcrm.core.classify.diagnosis import (
    HOST_UNKNOWN,
    MAILBOX_FULL,
    REPLY_CODE,
    SENDER_SIDE,
    SOFT_WORDS,
    STATUS,
    SUSPENDED,
    USER_UNKNOWN,
)
from inboxcrm.core.classify.report import headers_only

EMAIL = re.compile(
    r"(?<![\w.+=-])[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])"
)

# Where a report's own words end and the returned message (or its headers) begins.
_ORIGINAL_STARTS = re.compile(
    r"^[ \t>|*-]*(?:"
    r"-+ ?(?:this is a copy of|below this line is a copy|original message|unsent message|returned message"
    r"|the header of the original|message headers follow|original mail header|headers of the original)"
    r"|original message follows|message headers follow|included is a copy of the message header"
    r"|below is a copy of the original message|the original message headers|\[?original message (?:headers )?follow"
    r")",
    re.IGNORECASE | re.MULTILINE,
)
_HEADER_BLOCK_STARTS = re.compile(
    r"^(?:Received|Return-Path|DKIM-Signature|Delivered-To|X-Received|ARC-Seal|Authentication-Results"
    r"|X-Original-To|Received-SPF|X-Google-Smtp-Source):[ \t]|From \S+ +(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ",
    re.IGNORECASE | re.MULTILINE,
)
# Lines quoting the *sent* message's headers ("To: x" in an Exchange NDR) name no failed recipient.
_QUOTED_HEADER_LINE = re.compile(
    r"^\s*(?:to|from|cc|bcc|reply-to|sender|subject|sent|date|message-id|x-[\w-]+|return-path|envelope-from"
    r"|reporting-mta|original-mail-from|mail from|arrival-date)\s*:",
    re.IGNORECASE,
)
# Text just before an address that makes it the sender ("MAIL FROM:<x>"), not a recipient.
_SENDER_BEFORE = re.compile(r"(?:mail from|envelope-from|from|sender|return-path)\s*[:=]?\s*<?\s*$", re.IGNORECASE)
# Words only a delivery report uses; prose without any of them is not a bounce, whoever sent it.
FAILURE_PHRASE = re.compile(
    r"could ?n[o']t be delivered|undeliver|deliver(?:y|ing)? (?:to .{0,80})?(?:has )?failed|failed permanently"
    r"|permanent(?:ly)? (?:fatal )?(?:error|failure)|did not reach|could not be reached|unable to deliver"
    r"|(?:was|wasn't|not be|be) delivered|delivery to the following|delivery (?:error|problem|failure)"
    r"|user unknown|unknown user|no such user|transcript of session|remote (?:host|server) said|smtp error"
    r"|error following|mailbox (?:is )?full|over quota|could not deliver|couldn't deliver|failed to deliver"
    r"|can ?not deliver|recipient address rejected|deferred|will be retried|still being retried|bounce"
    r"|not listed in|did not succeed|following addresses? (?:had|failed)|delivery errors|rejected"
    r"|error (?:has )?occurred|error delivering|failure reasons|malformed (?:recipient )?address|could not be sent"
    r"|\b[45]\d\d[ -][245]\.\d{1,3}\.\d{1,3}\b"
    r"|配信できませんでした|届けることが(?:でき|出来)ませんでした|送信できませんでした|配送できませんでした|配信不能"
    r"|宛先不明|届きませんでした",
)
# Words just before an address given for help, not as a failed recipient.
_FOR_HELP_BEFORE = re.compile(
    r"(?:contact|write to|send (?:e-?mail|mail|a message) to|forward (?:it|this(?: message)?) to|reply to"
    r"|questions?|assistance|help ?desk|administrator at|report (?:it|this) to|e-?mail us at)\W{0,12}"
    r"(?:\w+\W{1,3}){0,4}<?\s*$",
    re.IGNORECASE,
)
_MAIL_SYSTEM_LOCAL_PARTS = frozenset({"postmaster", "mailer-daemon", "mailer_daemon", "abuse", "hostmaster"})
DELAY_SUBJECT = re.compile(r"\bdelay|will be retried|still being retried|warning")


def addresses_in(value: str) -> list[str]:
    out: list[str] = []
    for match in EMAIL.finditer(value):
        address = normalise_email(match.group(0))
        if address and address not in out:
            out.append(address)
    return out


def recipient_field(value: str) -> str | None:
    # "rfc822; user@example.com", "RFC822;<user@example.com>", or a bare address.
    _, semi, rest = value.partition(";")
    found = addresses_in(rest if semi else value)
    return found[0] if found else None


def header_addresses(message: StdMessage | None, *names: str) -> list[str]:
    if message is None:
        return []
    values = [str(v) for name in names for v in message.get_all(name, [])]
    try:
        pairs = email.utils.getaddresses(values)
    except Exception:
        return []
    found = (normalise_email(addr) for _, addr in pairs)
    return list(dict.fromkeys(a for a in found if a))


def split_prose(prose: Sequence[str]) -> tuple[str, str]:
    """The report's own words, and the inline copy of the returned message that followed them (if any)."""
    text = "\n\n".join(prose)
    cuts = [m.start() for m in (_ORIGINAL_STARTS.search(text), _HEADER_BLOCK_STARTS.search(text)) if m]
    if not cuts:
        return text, ""
    return text[: min(cuts)], text[min(cuts) :]


def inline_original(rest: str) -> StdMessage | None:
    start = re.search(r"^[A-Za-z][\w-]*:[ \t]", rest, re.MULTILINE)
    return headers_only(rest[start.start() :]) if start else None


def recipients_in_prose(own: str, excluded: set[str]) -> list[str]:
    """Addresses a report's prose names as recipients: not in quoted headers, not senders, not `excluded`,
    not an address it gives for help ("contact postmaster@…", "forward it to\nsupport@…").

    The mail system's own addresses (postmaster@, mailer-daemon@, abuse@, hostmaster@) count only when the
    prose names nobody else: a notice names them for help far more often than mail to them fails. Any
    other address in a failure list counts, support@ or sales@ included: a company's shared address can
    bounce too.
    """
    found: list[str] = []
    previous = ""
    for line in own.splitlines():
        if _QUOTED_HEADER_LINE.match(line):
            previous = line
            continue
        for match in EMAIL.finditer(line):
            before = line[max(0, match.start() - 60) : match.start()]
            # The words asking for help may end the line before ("please forward it to\npostmaster@…").
            lead = before if before.strip() else f"{previous.strip()} "
            if _SENDER_BEFORE.search(before[-40:]) or _FOR_HELP_BEFORE.search(lead[-80:]):
                continue
            address = normalise_email(match.group(0))
            if address and address not in excluded and address not in found:
                found.append(address)
        previous = line
    people = [a for a in found if not is_mail_system_address(a)]
    return people or found


def is_mail_system_address(address: str) -> bool:
    """postmaster@, mailer-daemon@, abuse@, hostmaster@: the mail system's own mailboxes."""
    return address.partition("@")[0] in _MAIL_SYSTEM_LOCAL_PARTS


def context_of(address: str, lines: Sequence[str], others: Sequence[str]) -> str:
    """The lines following each mention of `address`, up to a blank line or another recipient's mention."""
    chunks: list[str] = []
    for index, line in enumerate(lines):
        if address not in line.lower():
            continue
        chunk = [line]
        # In a Sendmail transcript the command (">>> DATA") precedes the remote answer ("<<< 550 …") that
        # names the address; Sendmail's own summary lines do not say which command was refused.
        if line.lstrip().startswith("<<<") and index and lines[index - 1].lstrip().startswith(">>>"):
            chunk.insert(0, lines[index - 1])
        for following in lines[index + 1 : index + 10]:
            if (not following.strip() and len(chunk) > 1) or following.lstrip().startswith(">>>"):
                break
            if any(other in following.lower() for other in others):
                break
            chunk.append(following)
        chunks.append("\n".join(chunk))
    return "\n".join(chunks)


def short(text: str, limit: int = 300) -> str:
    return " ".join(text.split())[:limit]


def best_line(text: str) -> str:
    """The line of a failure text that carries the server's answer: a reply code, else a known reason."""
    lines = [line.strip(" \t>*-") for line in text.splitlines()]
    for line in lines:
        if len(line) > 6 and (STATUS.search(line) or REPLY_CODE.search(line)):
            return short(line)
    lowered = [line.lower() for line in lines]
    for pattern in (MAILBOX_FULL, USER_UNKNOWN, HOST_UNKNOWN, SUSPENDED, SENDER_SIDE, SOFT_WORDS):
        for line, lower in zip(lines, lowered, strict=True):
            if pattern.search(lower):
                return short(line)
    return short(text, 200)
