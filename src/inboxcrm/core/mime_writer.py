"""Simple outgoing messages written directly as bytes: text, or text and HTML, no attachments.

`email.message.EmailMessage` parses every header value it is given into a tree and folds it again on
output; for the notifications and acknowledgements the desk writes per incoming message that was most of
an ingest's cost. This writer makes the same message — the same headers in the same order, the same MIME
structure and quoted-printable bodies (stdlib `quoprimime`) — from plain strings. It declines (returns
None) whatever it does not handle, and `outgoing.compose` then uses the stdlib. Headers and body are written
apart (`header_lines`, `with_body`) so that a batch's shared headers are written once (`outgoing.Letterhead`).
"""

from __future__ import annotations

import random
from base64 import b64encode
from collections.abc import Sequence
from email import quoprimime

MAX_LINE = 998  # RFC 5322's hard limit, as `outgoing._POLICY`
_SPECIALS = frozenset('()<>@,:;."[]\\')
_ATOM_UNSAFE = frozenset(' \t\r\n<>()[]\\,;:"')
# base64 bytes in an encoded word on a continuation line: " =?utf-8?b?" + 60 characters + "?=" is 73
_WORD_BYTES = 45

# A header value: a string (unstructured, or ids and addresses already written) or (name, email) pairs.
Value = str | Sequence[tuple[str, str]]


def _encoded(value: str, name: str) -> str:
    """`value` as RFC 2047 encoded words (UTF-8, base64), one per line of at most 76 characters (the first
    after `name: `), each of whole characters (§5) and, where there is a space to break after, whole words
    (the stdlib's address parser keeps the folding whitespace between two encoded words of a display name,
    which §6.2 says to drop: so it reads an extra space between words, never one inside a word). Raises
    UnicodeEncodeError on a lone surrogate, as `email.header.Header` does."""
    words: list[bytes] = []
    room = (76 - len(name) - 2 - len("=?utf-8?b??=")) // 4 * 3  # bytes a word holds on the first line
    chunk = b""
    for char in value:
        data = char.encode("utf-8")
        if len(chunk) + len(data) > room:
            cut = chunk.rfind(b" ") + 1 or len(chunk)
            words.append(chunk[:cut])
            chunk, room = chunk[cut:], _WORD_BYTES
            if len(chunk) + len(data) > room:  # the words after that space fill this one already
                words.append(chunk)
                chunk = b""
        chunk += data
    words.append(chunk)
    return "\r\n ".join(f"=?utf-8?b?{b64encode(word).decode('ascii')}?=" for word in words if word)


def _address(name: str, email: str) -> str | None:
    # printable ASCII without what would end or split an address, and one @ (isprintable lets the space by)
    if not (email.isascii() and email.isprintable() and _ATOM_UNSAFE.isdisjoint(email) and email.count("@") == 1):
        return None
    if not name:
        return email
    if not name.isascii():
        return f"{_encoded(name, 'To')} <{email}>"
    if any(c in _SPECIALS for c in name):
        escaped = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}" <{email}>'
    return f"{name} <{email}>"


def _fold(name: str, value: str) -> str | None:
    """`name: value` with lines of at most MAX_LINE, folded at spaces; None when a word is too long."""
    line = f"{name}: {value}"
    if len(line) <= MAX_LINE:
        return line
    lines: list[str] = []
    current = f"{name}:"
    for word in value.split(" "):
        if len(current) + 1 + len(word) > MAX_LINE and current.strip():
            lines.append(current)
            current = ""
        current += " " + word
        if len(current) > MAX_LINE:
            return None
    lines.append(current)
    return "\r\n".join(lines)


def _header(name: str, value: Value) -> str | None:
    if isinstance(value, str):
        if not value.isascii():
            return f"{name}: {_encoded(value, name)}"
        return _fold(name, value)
    written = [_address(n, e) for n, e in value]
    if any(w is None for w in written):
        return None
    return _fold(name, ", ".join(w for w in written if w is not None))


def _qp(text: str) -> str:
    """What `EmailMessage.set_content(text, cte="quoted-printable")` writes under a 998-character policy."""
    lines = text.encode("utf-8").splitlines()
    body = quoprimime.body_encode((b"\n".join(lines) + b"\n").decode("latin-1"), MAX_LINE)
    return body.replace("\n", "\r\n")


def _boundary() -> str:
    # the stdlib generator's form of boundary
    return "=" * 15 + f"{random.randrange(10**19):019d}" + "=="


def header_lines(headers: Sequence[tuple[str, Value]]) -> list[str] | None:
    """Each header as written (encoded and folded, CRLF inside a folded one); None when one cannot be."""
    lines: list[str] = []
    for name, value in headers:
        line = _header(name, value)
        if line is None:
            return None
        lines.append(line)
    return lines


def with_body(lines: Sequence[str], text: str, html: str | None) -> bytes:
    """The message made of header `lines` already written (see `header_lines`) and the text, or text and
    HTML, bodies: the MIME headers and parts are added here."""
    plain = 'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable'
    if html is None:
        return "\r\n".join([*lines, plain, "MIME-Version: 1.0", "", _qp(text)]).encode("ascii")
    boundary = _boundary()
    while boundary in text or boundary in html:
        boundary = _boundary()
    return "\r\n".join(
        [
            *lines,
            "MIME-Version: 1.0",
            f'Content-Type: multipart/alternative; boundary="{boundary}"',
            "",
            f"--{boundary}",
            plain,
            "",
            _qp(text),
            f"--{boundary}",
            'Content-Type: text/html; charset="utf-8"',
            "Content-Transfer-Encoding: quoted-printable",
            "MIME-Version: 1.0",
            "",
            _qp(html),
            f"--{boundary}--",
            "",
        ]
    ).encode("ascii")
