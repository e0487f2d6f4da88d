"""Mail inboxcrm writes, as exact bytes: a `Draft` (who, to whom, what) plus a Message-ID and a date.

Composing is pure so the bytes can be built inside the transaction that decides to send them and stored in
the outbox: a retry after a crash sends the very same message, Message-ID included.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.header import decode_header, make_header
from email.headerregistry import Address as HeaderAddress
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.message import Message as EmailMessageBase
from email.utils import format_datetime

from inboxcrm.core.loops import OUR_HEADER
from inboxcrm.core.mime_writer import Value, header_lines, with_body
from inboxcrm.core.model import Address


class _Registry(HeaderRegistry):
    """The stdlib registry builds a new header class each time a header is set or counted (most of what
    composing cost); the classes are the same every time, so they are made once per header name."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().__getitem__(name)
        return made


_POLICY = email.policy.SMTP.clone(max_line_length=998, header_factory=_Registry())
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")
_MAX_REFERENCES = 20


@dataclass(frozen=True, slots=True)
class Part:
    """An attachment to send."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Draft:
    """One message to send. `automatic` is the Auto-Submitted value for mail no person wrote
    ("auto-replied" answers a message, "auto-generated" does not); None for mail a person wrote."""

    key: str
    kind: str
    sender: Address
    to: tuple[Address, ...]
    subject: str
    text: str
    html: str | None = None
    reply_to: tuple[str, ...] = ()
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    automatic: str | None = None
    attachments: tuple[Part, ...] = ()
    # more headers, such as List-Unsubscribe (values are made header-safe like the subject)
    headers: tuple[tuple[str, str], ...] = ()


def one_line(value: str, limit: int = 900) -> str:
    """A header-safe value: control characters and line breaks (the way headers get injected) become a space,
    also inside RFC 2047 encoded words (`=?utf-8?q?=0D=0ABcc:…?=`), which the email library would decode
    and write out raw. What remains is the text a mail client would show, on one line."""
    value = value[: limit * 20]  # decode_header is quadratic; no encoded word shrinks text more than 20x
    for _ in range(4):  # encoded words can hide encoded words
        flat = " ".join(_CONTROL.sub(" ", value).split())
        if "=?" not in flat:
            return flat[:limit]  # no encoded word: decoding would give `flat` back (the common case, ~20x faster)
        try:
            decoded = str(make_header(decode_header(flat)))
        except (ValueError, LookupError, UnicodeError):
            decoded = flat
        if decoded == flat:
            break
        value = decoded
    # whatever still looks like an encoded word is shown literally, never decoded again
    return flat.replace("=?", "= ?")[:limit]


def references_after(parent_id: str | None, parent_references: Sequence[str]) -> tuple[str, ...]:
    """References for a reply to a message (RFC 5322 §3.6.4), keeping the first and the most recent ids."""
    chain = [r for r in parent_references if r]
    if parent_id:
        chain.append(parent_id)
    if len(chain) > _MAX_REFERENCES:
        chain = chain[:1] + chain[-(_MAX_REFERENCES - 1) :]
    return tuple(_bracketed(r) for r in chain)


def reply_subject(subject: str, token: str = "") -> str:
    """`Re: <subject>` (no second Re:), with `token` such as `[#12]` appended once."""
    base = one_line(subject) or "(no subject)"
    if not re.match(r"^\s*re\s*:", base, re.IGNORECASE):
        base = f"Re: {base}"
    if token and token not in base:
        base = f"{base} {token}"
    return base


def quoted(text: str) -> str:
    """`text` as a quoted block (`> ` before every line)."""
    return "\n".join(f"> {line}" if line else ">" for line in text.strip("\n").splitlines())


def _bracketed(message_id: str) -> str:
    message_id = message_id.strip()
    return message_id if message_id.startswith("<") else f"<{message_id}>"


def _address(address: Address) -> HeaderAddress:
    local, _, domain = address.email.partition("@")
    return HeaderAddress(display_name=one_line(address.name, 200), username=local, domain=domain)


def _plain_word(value: str) -> bool:
    # printable ASCII without spaces (isprintable lets the space by)
    return value.isascii() and value.isprintable() and " " not in value


@dataclass(frozen=True, slots=True)
class Letterhead:
    """The header lines every mail of a batch shares, written once (see `letterhead`): From, Reply-To (one
    line or none), Date, and `constant`, more headers that are the same in each mail."""

    sender: str
    reply_to: tuple[str, ...]
    date: str
    constant: tuple[str, ...]

    def write(self, draft: Draft, message_id: str) -> bytes | None:
        """`draft` under this letterhead (its own sender and reply_to are not read), or None when it needs the
        stdlib. Its `headers` come before the letterhead's constant ones."""
        ids = [message_id, draft.in_reply_to or "", *draft.references]
        if not all(_plain_word(i) for i in ids):
            return None
        first = header_lines(
            [
                ("To", [(one_line(a.name, 200), a.email) for a in draft.to]),
                ("Subject", one_line(draft.subject) or "(no subject)"),
            ]
        )
        headers: list[tuple[str, Value]] = [("Message-ID", _bracketed(message_id))]
        if draft.in_reply_to:
            headers.append(("In-Reply-To", _bracketed(draft.in_reply_to)))
        if draft.references:
            headers.append(("References", " ".join(_bracketed(r) for r in draft.references)))
        if draft.automatic:
            headers += [("Auto-Submitted", draft.automatic), ("X-Auto-Response-Suppress", "All")]
            headers.append(("Precedence", "auto_reply"))
        headers += [(name, one_line(value, 2000)) for name, value in draft.headers]
        then = header_lines(headers)
        key = header_lines([(OUR_HEADER, one_line(draft.key, 200))])
        if first is None or then is None or key is None:
            return None
        to, subject = first
        lines = [self.sender, to, *self.reply_to, subject, self.date, *then, *self.constant, *key]
        text = draft.text if draft.text.endswith("\n") else draft.text + "\n"
        return with_body(lines, text, draft.html)


def letterhead(
    sender: Address, reply_to: Sequence[str], date: datetime, constant: Sequence[tuple[str, str]] = ()
) -> Letterhead | None:
    """From `sender`, Reply-To `reply_to` (if any), the Date `date` and the `constant` headers, written once
    for every mail of a batch (values made header-safe like a draft's); None when the stdlib must write them."""
    lines = header_lines([("From", [(one_line(sender.name, 200), sender.email)])])
    replying = header_lines([("Reply-To", [("", a) for a in reply_to])] if reply_to else [])
    dated = header_lines([("Date", format_datetime(date))])
    more = header_lines([(name, one_line(value, 2000)) for name, value in constant])
    if lines is None or replying is None or dated is None or more is None:
        return None
    return Letterhead(lines[0], tuple(replying), dated[0], tuple(more))


def compose_simple(draft: Draft, message_id: str, date: datetime) -> bytes | None:
    """The message written without `EmailMessage` (see core/mime_writer.py), or None when it needs the stdlib."""
    head = letterhead(draft.sender, draft.reply_to, date)
    return None if head is None else head.write(draft, message_id)


def compose(draft: Draft, message_id: str, date: datetime) -> bytes:
    """The complete message, CRLF line endings, ready for SMTP; `message_id` with or without <>."""
    # Lines up to RFC 5322's hard limit: folding at 78 would turn a long Message-ID or unsubscribe URL into an
    # RFC 2047 encoded word (no longer an id or a URL to anyone) and can drop the space between encoded words.
    if not draft.attachments:
        fast = compose_simple(draft, message_id, date)
        if fast is not None:
            return fast
    return compose_with_stdlib(draft, message_id, date)


def compose_with_stdlib(draft: Draft, message_id: str, date: datetime) -> bytes:
    """`compose` through `EmailMessage`: any draft (attachments too), about ten times slower."""
    message = EmailMessage(policy=_POLICY)
    message["From"] = _address(draft.sender)
    message["To"] = [_address(a) for a in draft.to]
    if draft.reply_to:
        message["Reply-To"] = ", ".join(draft.reply_to)
    message["Subject"] = one_line(draft.subject) or "(no subject)"
    message["Date"] = format_datetime(date)
    message["Message-ID"] = _bracketed(message_id)
    if draft.in_reply_to:
        message["In-Reply-To"] = _bracketed(draft.in_reply_to)
    if draft.references:
        message["References"] = " ".join(_bracketed(r) for r in draft.references)
    if draft.automatic:
        message["Auto-Submitted"] = draft.automatic
        # Exchange/Outlook honour this and do not send out-of-office replies to our automatic mail.
        message["X-Auto-Response-Suppress"] = "All"
        message["Precedence"] = "auto_reply"
    for name, value in draft.headers:
        message[name] = one_line(value, 2000)
    message[OUR_HEADER] = one_line(draft.key, 200)
    message.set_content(draft.text if draft.text.endswith("\n") else draft.text + "\n", cte="quoted-printable")
    if draft.html is not None:
        message.add_alternative(draft.html, subtype="html", cte="quoted-printable")
    for part in draft.attachments:
        maintype, _, subtype = part.content_type.partition("/")
        message.add_attachment(
            part.data, maintype=maintype or "application", subtype=subtype or "octet-stream", filename=part.filename
        )
    return message.as_bytes()


def attachments_of(raw: bytes, limit: int = 25 * 1024 * 1024) -> tuple[Part, ...]:
    """The files attached to `raw` (parts with a file name that are not the message body), up to `limit`
    bytes in all, for relaying an agent's reply with its attachments."""
    parsed = email.message_from_bytes(raw, policy=email.policy.compat32)
    parts: list[Part] = []
    total = 0
    waiting = [parsed]
    while waiting:
        part = waiting.pop(0)
        if part.get_content_type() == "message/rfc822" and part is not parsed:
            # a forwarded message travels whole, as an .eml: never unpacked into its own attachments
            inner = part.get_payload()
            first = inner[0] if isinstance(inner, list) and inner else None
            data = first.as_bytes() if isinstance(first, EmailMessageBase) else b""
            filename = part.get_filename() or "message.eml"
        elif part.is_multipart():
            payload = part.get_payload()
            if isinstance(payload, list):
                waiting[:0] = [p for p in payload if isinstance(p, EmailMessageBase)]
            continue
        else:
            filename = part.get_filename() or ""
            decoded = part.get_payload(decode=True)
            data = decoded if isinstance(decoded, bytes) else b""
        if not filename or total + len(data) > limit:  # an empty file is still a file the agent attached
            continue
        total += len(data)
        parts.append(Part(one_line(str(filename), 200), part.get_content_type(), data))
    return tuple(parts)
