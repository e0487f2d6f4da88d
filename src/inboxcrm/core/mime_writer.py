"""Simple outgoing messages written directly as bytes: text, or text and HTML, no attachments.

`email.message.EmailMessage` parses every header value it is given into a tree and folds it again on
output; for the notifications and acknowledgements the desk writes per incoming message that was most of
an ingest's cost. This writer makes the same message — the same headers in the same order, the same MIME
structure and quoted-printable bodies (stdlib `quoprimime`) — from plain strings. It declines (returns
None) whatever it does not handle, and `outgoing.compose` then uses the stdlib.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from email import quoprimime
from email.header import Header

MAX_LINE = 998  # RFC 5322's hard limit, as `outgoing._POLICY`
_SPECIALS = frozenset('()<>@,:;."[]\\')
_ATOM_UNSAFE = frozenset(' \t\r\n<>()[]\\,;:"')

# A header value: a string (unstructured, or ids and addresses already written) or (name, email) pairs.
Value = str | Sequence[tuple[str, str]]


def _encoded(value: str, name: str) -> str:
    return Header(value, "utf-8", header_name=name).encode(linesep="\r\n")


def _address(name: str, email: str) -> str | None:
    if not email.isascii() or any(c in _ATOM_UNSAFE or not 32 < ord(c) < 127 for c in email) or email.count("@") != 1:
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


def simple_message(headers: Sequence[tuple[str, Value]], text: str, html: str | None) -> bytes | None:
    """The message, CRLF line endings; None when the general composer must write it."""
    lines: list[str] = []
    for name, value in headers:
        line = _header(name, value)
        if line is None:
            return None
        lines.append(line)
    plain = 'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable'
    if html is None:
        lines += [plain, "MIME-Version: 1.0", "", _qp(text)]
        return "\r\n".join(lines).encode("ascii")
    boundary = _boundary()
    while boundary in text or boundary in html:
        boundary = _boundary()
    lines += [
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
    return "\r\n".join(lines).encode("ascii")
