"""Reading a suspected report's MIME tree: its prose, its delivery-status blocks, its feedback fields and the
returned original. compat32 parsing of the raw bytes, bounded in parts and text."""

from __future__ import annotations

import base64
import quopri
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import Message as StdMessage
from email.parser import BytesParser, Parser
from email.policy import compat32

from inboxcrm.core.parsing import decode_bytes, html_to_text

_BYTES_PARSER = BytesParser(policy=compat32)
_TEXT_PARSER = Parser(policy=compat32)
_MAX_PARTS = 200
_MAX_TEXT = 200_000
RECIPIENT_FIELDS = ("Final-Recipient", "Original-Recipient")

Fields = list[tuple[str, str]]


@dataclass(slots=True)
class Report:
    """What the MIME tree of a suspected report holds."""

    prose: list[str] = field(default_factory=list)
    dsn_blocks: list[Fields] = field(default_factory=list)
    feedback: Fields = field(default_factory=list)
    original: StdMessage | None = None


_FROM_A_MAIL_SYSTEM = re.compile(r"mailer[-_]?daemon|postmaster|mail delivery (?:system|subsystem)", re.IGNORECASE)


def _decoded_text(part: StdMessage) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if not isinstance(payload, bytes):
        value = part.get_payload()
        return value if isinstance(value, str) else ""
    text = decode_bytes(payload[:_MAX_TEXT], part.get_content_charset())
    return text.replace("\r\n", "\n").replace("\r", "\n")


def field_blocks(text: str) -> list[Fields]:
    """`Name: value` blocks separated by blank lines (a delivery-status body), folded lines joined."""
    blocks: list[Fields] = []
    current: Fields = []
    for line in text.splitlines():
        if not line.strip():
            if current:
                blocks.append(current)
                current = []
        elif line[0] in " \t" and current:
            name, value = current[-1]
            current[-1] = (name, f"{value} {line.strip()}")
        else:
            name, colon, value = line.partition(":")
            if colon and re.fullmatch(r"[A-Za-z][\w-]*", name.strip()):
                current.append((name.strip(), value.strip()))
    if current:
        blocks.append(current)
    return blocks


def field_value(block: Sequence[tuple[str, str]], name: str) -> str:
    wanted = name.lower()
    for key, value in block:
        if key.lower() == wanted:
            return value
    return ""


def has_recipient(block: Fields) -> bool:
    return any(field_value(block, name) for name in RECIPIENT_FIELDS)


def _pairs(block: StdMessage) -> Fields:
    return [(str(k), " ".join(str(v).split())) for k, v in block.items()]


def _block_text(block: StdMessage) -> str:
    # Not as_string(): re-folding odd headers can raise, and the text is all we want back.
    body = block.get_payload()
    lines = [f"{k}: {v}" for k, v in block.items()]
    return "\n".join(lines) + "\n\n" + (body if isinstance(body, str) else "")


def _transfer_encoding(part: StdMessage) -> str:
    # str(): compat32 hands back a Header object, not a str, when the value holds 8-bit bytes.
    return str(part.get("Content-Transfer-Encoding", "")).strip().lower()


def _undo_transfer_encoding(part: StdMessage, blocks: list[StdMessage]) -> str:
    # compat32 splits a delivery-status body into blocks before anyone decodes base64/quoted-printable.
    text = "".join(_block_text(b) for b in blocks)
    try:
        if _transfer_encoding(part) == "base64":
            data = base64.b64decode("".join(text.split()))
        else:
            data = quopri.decodestring(text.encode("ascii", "replace"))
    except ValueError:
        return text
    return decode_bytes(data, "utf-8")


def headers_only(text: str) -> StdMessage:
    return _TEXT_PARSER.parsestr(text[:50_000], headersonly=True)


def read_report(raw: bytes) -> Report:
    report = Report()
    if b"\r" in raw:  # bare-CR ("mac") files would otherwise be one long header line
        raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    try:
        root = _BYTES_PARSER.parsebytes(raw)
    except Exception:
        return report
    stack = [root]
    for _ in range(_MAX_PARTS):
        if not stack:
            break
        part = stack.pop()
        ctype = part.get_content_type()
        payload = part.get_payload()
        if ctype == "message/delivery-status":
            _read_delivery_status(part, payload, report)
        elif ctype == "message/feedback-report":
            if isinstance(payload, list) and payload and isinstance(payload[0], StdMessage):
                report.feedback.extend(_pairs(payload[0]))
            elif isinstance(payload, str):
                report.feedback.extend(f for block in field_blocks(_decoded_text(part)) for f in block)
        elif ctype in ("message/rfc822", "message/global"):
            attached = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(attached, StdMessage) and _FROM_A_MAIL_SYSTEM.search(str(attached.get("From", ""))):
                # A notice carrying the notice that caused it (Mailman's "bounce action notification"): read
                # the inner notice as part of the report.
                stack.append(attached)
            elif report.original is None and isinstance(attached, StdMessage):
                # The returned message: its headers say whom it was for; its text is not the report.
                report.original = attached
        elif ctype in ("text/rfc822-headers", "message/rfc822-headers"):
            if report.original is None:
                report.original = headers_only(_decoded_text(part))
        elif isinstance(payload, list):
            stack.extend(p for p in reversed(payload) if isinstance(p, StdMessage))
        elif part.get_content_maintype() in ("text", "multipart"):
            # (a multipart whose boundary never appears is one text, and all we have)
            text = _decoded_text(part)
            text = html_to_text(text) if ctype == "text/html" else text
            attached = str(part.get("Content-Disposition", "")).lower().startswith("attachment")
            if attached and re.search(r"^(?:Received|From|To|Subject|Message-I[Dd]|Date):", text[:4000], re.M):
                report.original = report.original or headers_only(text)
            else:
                report.prose.append(text)
    return report


def _read_delivery_status(part: StdMessage, payload: object, report: Report) -> None:
    if isinstance(payload, str):
        report.dsn_blocks.extend(field_blocks(_decoded_text(part)))
        return
    if not isinstance(payload, list):
        return
    messages = [b for b in payload if isinstance(b, StdMessage)]
    blocks = [_pairs(b) for b in messages]
    if _transfer_encoding(part) in ("base64", "quoted-printable"):
        blocks = field_blocks(_undo_transfer_encoding(part, messages))
    report.dsn_blocks.extend(blocks)
    if not any(has_recipient(b) for b in blocks):
        # Some MTAs put their prose in a part they label delivery-status.
        report.prose.append("\n".join(_block_text(b) for b in messages))
