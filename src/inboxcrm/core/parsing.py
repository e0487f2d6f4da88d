"""Raw bytes → `Message`. Never raises on bad mail: what cannot be read becomes a defect.

We parse with the stdlib `compat32` policy: on this machine it is ~4x faster than `policy.default`
(see bench/ingest.py), and we decode the few headers we use ourselves.
"""

from __future__ import annotations

import codecs
import email.header
import email.utils
import mimetypes
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from email import errors
from email.message import Message as StdMessage
from email.parser import BytesParser
from email.policy import compat32
from typing import Any

from charset_normalizer import from_bytes
from inscriptis import get_text
from inscriptis.model.config import ParserConfig

from inboxcrm.core.addresses import normalise_email
from inboxcrm.core.limits import NOT_READ, Bounded, bound
from inboxcrm.core.model import Address, Attachment, Message
from inboxcrm.core.tnef import tnef_files

MAX_PARTS = 500
MAX_DEPTH = 20
MAX_TEXT_CHARS = 2_000_000
MAX_TEXT_PART_BYTES = 8_000_000  # a text part is decoded up to this much (MAX_TEXT_CHARS in any charset)
MAX_HTML_CHARS = 100_000  # HTML turned into text (inscriptis: ~4 s per MB here), when there is no text part
MAX_MESSAGE_ID = 900
MAX_HEADER_CHARS = 16_000  # of a header decoded as text (a Subject of ~1,000 encoded words)
MAX_ADDRESS_CHARS = 64_000  # of an address header read (~1,500 addresses)
MAX_ADDRESSES = 1_000  # per address header

# Labels seen in the wild that Python does not know, or knows as a narrower charset than senders use.
_CHARSET_REPAIRS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "euc-kr": "cp949",
    "iso-2022-jp": "iso2022_jp_ext",
    "shift_jis": "cp932",
    "x-sjis": "cp932",
    "sjis": "cp932",
    "windows-874": "cp874",
    "iso-8859-8-i": "iso-8859-8",
    "unicode-1-1-utf-7": "utf-7",
    "x-unknown": "cp1252",
    "unknown-8bit": "cp1252",
}
# Senders label UTF-8 text as ASCII or Latin-1 all the time; for these we try UTF-8 first.
_WESTERN = frozenset({"ascii", "latin-1", "iso8859-1", "cp1252"})

_MSGID = re.compile(r"<([^<>\s]+)>")
_BYTES_PARSER = BytesParser(policy=compat32)


def clean_text(value: str) -> str:
    """Make `value` safe to store anywhere: no NUL, no lone surrogates (PostgreSQL rejects both)."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    if value.isascii():  # nearly every header: no surrogates, and no encoded copy made to find out
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def resolve_charset(label: str | None) -> str:
    """The Python codec to use for a declared charset label (repairing common mislabels); "" for a label
    that names no text encoding (unknown, or a bytes codec such as base64, zlib or rot13)."""
    name = (label or "").strip().strip('"').lower()
    if not name:
        return "cp1252"
    name = _CHARSET_REPAIRS.get(name, name)
    try:
        info = codecs.lookup(name)
    except LookupError:
        return ""
    return info.name if getattr(info, "_is_text_encoding", True) else ""


def decode_bytes(data: bytes, label: str | None) -> str:
    """Decode `data` declared as `label`; invalid bytes become U+FFFD rather than an exception."""
    codec = resolve_charset(label)
    if not codec:  # a label nobody knows: try UTF-8, then let the bytes tell
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return _detect(data)
    if codec in _WESTERN:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("cp1252", "replace")
    try:
        return data.decode(codec)
    except (UnicodeError, LookupError, ValueError):  # also a bad idna or punycode label, not only bad bytes
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return _detect(data)


def _detect(data: bytes, fallback: str = "cp1252") -> str:
    """Decode bytes whose declared charset was wrong or unknown, by detection (charset-normalizer)."""
    best = from_bytes(data[:20_000]).best() if data else None
    if best is not None and best.encoding:
        try:
            return data.decode(best.encoding, "replace")
        except LookupError:
            pass
    return data.decode(fallback, "replace")


_ESCAPED = re.compile("[\udc80-\udcff]")


def unescape_8bit(value: object) -> str:
    """A header value as text. Raw 8-bit bytes in a header (compat32 hands those over as a `Header` in
    the unknown-8bit charset, or as surrogate escapes) are decoded as UTF-8, or by detection."""
    if isinstance(value, email.header.Header):
        chunks = []
        for chunk, charset in email.header.decode_header(value):
            chunks.append(decode_bytes(chunk, charset or "utf-8") if isinstance(chunk, bytes) else chunk)
        return "".join(chunks)
    text = str(value)
    if text.isascii() or not _ESCAPED.search(text):
        return text
    return decode_bytes(text.encode("utf-8", "surrogateescape"), "utf-8")


def decode_header_value(value: object) -> str:
    """Decode RFC 2047 encoded-words and raw 8-bit text; unknown charsets fall back instead of raising."""
    if not value:
        return ""
    value = unescape_8bit(value)[:MAX_HEADER_CHARS]  # decode_header is quadratic in encoded words
    if "=?" not in value:
        return clean_text(" ".join(value.split()))
    try:
        parts = email.header.decode_header(value)
    except Exception:
        return clean_text(" ".join(value.split()))
    out: list[str] = []
    for chunk, charset in parts:
        if isinstance(chunk, bytes):
            out.append(decode_bytes(chunk, charset or "utf-8"))
        else:
            out.append(chunk)
    return clean_text(" ".join("".join(out).split()))


def parse_addresses(values: Sequence[object], defects: list[str] | None = None) -> tuple[Address, ...]:
    """Every address in the given header values, decoded and normalised, in order, without repeats: the
    first MAX_ADDRESSES of the first MAX_ADDRESS_CHARS characters (cut at a comma; noted in `defects`)."""
    seen: set[str] = set()
    result: list[Address] = []
    text = ", ".join(unescape_8bit(v) for v in values)
    if len(text) > MAX_ADDRESS_CHARS:
        text = text[: text.rfind(",", 0, MAX_ADDRESS_CHARS)]
        if defects is not None:
            defects.append(f"address header longer than {MAX_ADDRESS_CHARS:,} characters: the rest was not read")
    try:
        pairs = email.utils.getaddresses([text])
    except Exception:
        return ()
    for name, addr in pairs:
        normalised = normalise_email(addr)
        if normalised is None or normalised in seen:
            continue
        if len(result) >= MAX_ADDRESSES:
            if defects is not None:
                defects.append(f"more than {MAX_ADDRESSES} addresses in one header: the rest were not read")
            break
        seen.add(normalised)
        result.append(Address(email=normalised, name=decode_header_value(name).strip("\"' ")))
    return tuple(result)


def parse_message_ids(value: str | None) -> tuple[str, ...]:
    """Message-IDs in a header value, without angle brackets, in order."""
    if not value:
        return ()
    found = _MSGID.findall(str(value))
    if not found:
        bare = str(value).strip()
        return (clean_text(bare)[:MAX_MESSAGE_ID],) if bare and " " not in bare else ()
    # Longer IDs exist only in broken or hostile mail; the cap keeps them indexable.
    return tuple(clean_text(m)[:MAX_MESSAGE_ID] for m in found)


def _parse_date(value: str | None, defects: list[str]) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        defects.append(f"unreadable Date header: {str(value)[:80]!r}")
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


_HTML_CONFIG = ParserConfig(display_links=False, display_images=False)


def html_to_text(html: str) -> str:
    """Readable plain text from an HTML body (inscriptis keeps the block layout; scripts and styles go)."""
    try:
        text = get_text(html, _HTML_CONFIG)
    except Exception:  # inscriptis is robust, but a parser bug must not cost us the message
        text = re.sub(r"<[^>]+>", " ", html)
    lines = (line.strip() for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _size_of(part: StdMessage) -> int:
    """Size of an attached message; mangled ones cannot always be re-serialised, so estimate then."""
    try:
        return len(part.as_bytes())
    except Exception:
        return len(str(part.get_payload()))


_BASE64_SPACE = ("\n", "\r", " ", "\t")


def _encoded(part: StdMessage) -> object:
    """A leaf part's payload as parsed. (`get_payload()` would decode 8-bit text with the declared charset,
    which raises for a label such as idna, and copies it.)"""
    return getattr(part, "_payload", None)


def _not_read(part: StdMessage) -> tuple[int, int]:
    """Take out the line `core.limits.bound` put where it cut a long part: (bytes, bytes not white space)
    that the parser did not see."""
    payload = _encoded(part)
    if not isinstance(payload, str) or "[inboxcrm: " not in payload[-200:]:
        return 0, 0
    found = NOT_READ.search(payload, max(0, len(payload) - 200))
    if found is None:
        return 0, 0
    part.set_payload(payload[: found.start()])
    return int(found.group(1)), int(found.group(2))


def _payload_size(part: StdMessage, not_read: tuple[int, int]) -> int:
    """The decoded size of a leaf part, without holding a decoded copy (base64 is counted, not decoded),
    with what the parser did not see."""
    payload = _encoded(part)
    if not isinstance(payload, str):
        return 0
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    if encoding == "base64":
        # Only the kinds of space the payload holds are counted ("in" is a memchr; each count reads it all).
        spaces = sum(payload.count(space) for space in _BASE64_SPACE if space in payload)
        letters = len(payload) - spaces + not_read[1]
        return max(0, letters * 3 // 4 - payload[-8:].rstrip()[-2:].count("="))
    if encoding == "quoted-printable" and not not_read[0]:
        return len(part.get_payload(decode=True) or b"")
    return len(payload) + not_read[0]


def _text_payload(part: StdMessage, defects: list[str]) -> bytes:
    """The decoded bytes of a text part, read up to MAX_TEXT_PART_BYTES of its encoded form."""
    payload = _encoded(part)
    if isinstance(payload, str) and len(payload) > MAX_TEXT_PART_BYTES:
        defects.append(f"text part of {len(payload):,} bytes: the first {MAX_TEXT_PART_BYTES:,} were read")
        part.set_payload(payload[: payload.rfind("\n", 0, MAX_TEXT_PART_BYTES) + 1])
    return _part_payload(part, defects)


def _part_payload(part: StdMessage, defects: list[str]) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception as exc:  # broken base64/quoted-printable
        defects.append(f"undecodable part {part.get_content_type()}: {exc}")
        return b""
    return payload if isinstance(payload, bytes) else b""


def _is_attachment(part: StdMessage) -> bool:
    disposition = str(part.get("Content-Disposition", "")).split(";")[0].strip().lower()
    return disposition == "attachment" or (disposition != "inline" and part.get_filename() is not None)


def _walk_body(root: StdMessage, defects: list[str]) -> tuple[str | None, str | None, list[Attachment]]:
    text: str | None = None
    html: str | None = None
    attachments: list[Attachment] = []
    stack: list[tuple[StdMessage, int]] = [(root, 0)]
    count = 0
    while stack:
        part, depth = stack.pop()
        count += 1
        if count > MAX_PARTS:
            defects.append(f"more than {MAX_PARTS} MIME parts; the rest were not read")
            break
        if depth > MAX_DEPTH:
            defects.append(f"MIME nesting deeper than {MAX_DEPTH}; inner parts were not read")
            continue
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            # An attached message is an attachment (a forward), not more body text of this one.
            raw_name = part.get_filename()
            inner = part.get_payload()
            first = inner[0] if isinstance(inner, list) and inner else None
            subject = first.get("Subject") if isinstance(first, StdMessage) else None
            name = decode_header_value(raw_name or subject or "") or "message.eml"
            attachments.append(Attachment(filename=clean_text(name), content_type=ctype, size=_size_of(part)))
            continue
        if part.is_multipart():
            payload = part.get_payload()
            if isinstance(payload, list):
                stack.extend((p, depth + 1) for p in reversed(payload) if isinstance(p, StdMessage))
            continue
        not_read = _not_read(part)
        if not_read[0] and (ctype.startswith("text/") or ctype == "application/ms-tnef"):
            defects.append(f"{ctype} part: its last {not_read[0]:,} bytes were not read")
        if _is_attachment(part):
            raw_name = part.get_filename()
            name = decode_header_value(raw_name) if raw_name else ""
            if ctype == "application/ms-tnef" or name.lower() == "winmail.dat":
                files = [
                    Attachment(clean_text(file), mimetypes.guess_type(file)[0] or "application/octet-stream", size)
                    for file, size in tnef_files(_part_payload(part, defects), defects)
                ]
                if files:
                    attachments.extend(files)
                    continue
            size = _payload_size(part, not_read)
            attachments.append(Attachment(filename=clean_text(name), content_type=ctype, size=size))
            continue
        if ctype == "text/plain" and text is None:
            text = decode_bytes(_text_payload(part, defects), part.get_content_charset())
        elif ctype == "text/html" and html is None:
            html = decode_bytes(_text_payload(part, defects), part.get_content_charset())
    return text, html, attachments


_HEADER_LINE = re.compile(rb"^([\x21-\x39\x3b-\x7e]+)[ \t]*:")
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")


def _repair_header_block(raw: bytes) -> bytes | None:
    """Rewrite a header block the stdlib stops reading early: RFC 5322's obsolete `Name  :` (space before
    the colon) becomes `Name:`, and a stray line that is neither a header nor a continuation is dropped.
    Returns None when there is nothing recognisable to repair."""
    split = _BLANK_LINE.search(raw)
    head, rest = (raw[: split.start()], raw[split.start() :]) if split else (raw, b"")
    lines = head.splitlines()
    kept: list[bytes] = []
    recognised = 0
    for index, line in enumerate(lines):
        match = _HEADER_LINE.match(line)
        if match:
            kept.append(match.group(1) + b":" + line[match.end() :])
            recognised += 1
        elif line[:1] in (b" ", b"\t") and kept:
            kept.append(line)
        elif index == 0 and line.startswith(b"From "):
            continue  # an mbox separator left on the message
    if recognised < 2:
        return None
    return b"\r\n".join(kept) + rest


def unreadable_reason(message: Message) -> str | None:
    """Why `message` cannot be filed as mail (it is then quarantined), or None when it can."""
    if not message.headers:
        return "; ".join(message.defects) or "no headers: this does not look like an email"
    if message.from_ is None and message.message_id is None and not message.subject:
        return "no From, Message-ID or Subject header: this does not look like an email"
    return None


def _first(by_name: dict[str, list[Any]], name: str) -> Any:
    """The first value of field `name` (lower case), as `email.message.Message.get` returns it, or None."""
    values = by_name.get(name)
    return values[0] if values else None


def parse_message(raw: bytes) -> Message:
    """Parse `raw` into a `Message`. Bad mail yields a Message with `defects`, never an exception; hostile
    mail is read within bounds (see core/limits.py)."""
    return parse_bounded(bound(raw))


def parse_bounded(bounded: Bounded) -> Message:
    """`parse_message` of what `core.limits.bound` left of a message (its cuts become defects)."""
    raw = bounded.raw
    defects: list[str] = list(bounded.defects)
    try:
        std = _BYTES_PARSER.parsebytes(raw)
    except Exception as exc:  # the stdlib parser is lenient; this is a last resort
        return Message(None, "", None, defects=(f"not readable as mail: {exc}",))
    if "From" not in std and any(isinstance(d, errors.MissingHeaderBodySeparatorDefect) for d in std.defects):
        repaired = _repair_header_block(raw)
        if repaired is not None:
            std = _BYTES_PARSER.parsebytes(repaired)
            defects.append("malformed header block repaired (obsolete 'Name :' syntax or a stray line)")
    defects.extend(type(d).__name__ for d in std.defects)
    fields = std.items()
    headers = tuple((clean_text(str(k)), clean_text(unescape_8bit(v))) for k, v in fields)
    # The values `std.get` / `std.get_all` return, by lower-case name: each of those scans every field.
    by_name: dict[str, list[Any]] = {}
    for name, value in fields:
        by_name.setdefault(name.lower(), []).append(value)
    if not headers:
        defects.append("no headers: this does not look like an email")

    from_addresses = parse_addresses(by_name.get("from", []), defects)
    text, html, attachments = _walk_body(std, defects)
    if html is not None and len(html) > MAX_TEXT_CHARS:
        defects.append(f"HTML longer than {MAX_TEXT_CHARS} characters was cut")
        html = html[:MAX_TEXT_CHARS]
    if text is None:
        if html and len(html) > MAX_HTML_CHARS:
            defects.append(f"HTML longer than {MAX_HTML_CHARS:,} characters: the first {MAX_HTML_CHARS:,} were read")
        text = html_to_text(html[:MAX_HTML_CHARS]) if html else ""
    if "\r" in text:  # one line-ending convention for everything downstream
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > MAX_TEXT_CHARS:
        defects.append(f"text longer than {MAX_TEXT_CHARS} characters was cut")
        text = text[:MAX_TEXT_CHARS]
    message_ids = parse_message_ids(_first(by_name, "message-id"))
    in_reply_to = parse_message_ids(_first(by_name, "in-reply-to"))
    return Message(
        message_id=message_ids[0] if message_ids else None,
        subject=decode_header_value(_first(by_name, "subject")),
        from_=from_addresses[0] if from_addresses else None,
        to=parse_addresses(by_name.get("to", []), defects),
        cc=parse_addresses(by_name.get("cc", []), defects),
        reply_to=parse_addresses(by_name.get("reply-to", []), defects),
        date=_parse_date(_first(by_name, "date"), defects),
        in_reply_to=in_reply_to[-1] if in_reply_to else None,
        references=parse_message_ids(_first(by_name, "references")),
        text=clean_text(text),
        html=clean_text(html) if html is not None else None,
        attachments=tuple(attachments),
        headers=headers,
        defects=tuple(defects),
    )
