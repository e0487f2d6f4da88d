"""Hostile messages, built byte by byte: the inputs of issue 17's parser audit (tests and bench/hostile.py)."""

from __future__ import annotations

import base64
import struct
from collections.abc import Callable

HEAD = (
    b"From: Mallory <mallory@evil.example>\r\nTo: support@northwind.example\r\n"
    b"Message-ID: <hostile@evil.example>\r\nDate: Mon, 02 Nov 2026 10:00:00 +0000\r\n"
)


def encoded_word_subject(words: int = 100_000) -> bytes:
    """A Subject of `words` RFC 2047 encoded-words (the stdlib decodes them in quadratic time)."""
    return HEAD + b"Subject: " + b" ".join([b"=?utf-8?q?ab?="] * words) + b"\r\n\r\nhi\r\n"


def huge_cc(addresses: int = 300_000) -> bytes:
    """A Cc of `addresses` distinct addresses (~5 MB)."""
    cc = b", ".join(b"victim%d@d%d.example" % (i, i % 97) for i in range(addresses))
    return HEAD + b"Subject: hello everyone\r\nCc: " + cc + b"\r\n\r\nhi\r\n"


def many_parts(parts: int = 100_000) -> bytes:
    body = b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\npart %d\r\n" % i for i in range(parts)) + b"--b--\r\n"
    return HEAD + b"Subject: parts\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" + body


def deep_nesting(levels: int = 1_000) -> bytes:
    """A readable first part, then multiparts nested `levels` deep with a text at the bottom."""
    opening = b"--b0\r\nContent-Type: text/plain\r\n\r\nread me\r\n"
    nested = b"".join(
        b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (i, i + 1) for i in range(levels)
    )
    bottom = b"--b%d\r\nContent-Type: text/plain\r\n\r\nthe bottom\r\n" % levels
    return HEAD + b"Subject: deep\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n" + opening + nested + bottom


def _tnef_object(level: int, name: int, kind: int, data: bytes) -> bytes:
    return struct.pack("<BHHI", level, name, kind, len(data)) + data + struct.pack("<H", sum(data) & 0xFFFF)


def winmail(files: int = 50_000, data: bytes = b"x") -> bytes:
    """A winmail.dat (TNEF) with `files` attachments: two entries each (rendering data, title) and data."""
    out = [struct.pack("<IH", 0x223E9F78, 1)]
    for i in range(files):
        out.append(_tnef_object(2, 0x9002, 0x0006, b"\x01\0\0\0" + b"\0" * 10))
        out.append(_tnef_object(2, 0x8010, 0x0001, b"f%d.txt\0" % i))
        out.append(_tnef_object(2, 0x800F, 0x0006, data))
    return b"".join(out)


def with_winmail(tnef: bytes) -> bytes:
    return (
        HEAD + b"Subject: winmail\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
        b"--b\r\nContent-Type: application/ms-tnef; name=winmail.dat\r\n"
        b"Content-Disposition: attachment; filename=winmail.dat\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(tnef) + b"--b--\r\n"
    )  # fmt: skip


def header_lines(lines: int = 1_000_000) -> bytes:
    """A million small header fields before the ones that matter."""
    return b"X-Junk: y\r\n" * lines + HEAD + b"Subject: after the junk\r\n\r\nhi\r\n"


def big_html(size: int = 20_000_000) -> bytes:
    row = b"<div><p>Hello <b>world</b>, more text here</p><table><tr><td>x</td></tr></table></div>\r\n"
    return HEAD + b"Subject: html\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + row * (size // len(row))


def big_attachment(size: int = 30_000_000) -> bytes:
    return (
        HEAD + b"Subject: big\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nthe file\r\n"
        b"--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=x.bin\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(b"\x01" * size) + b"--b--\r\n"
    )  # fmt: skip


def oversized(size: int = 200_000_000) -> bytes:
    line = b"A" * 76 + b"\r\n"
    return HEAD + b"Subject: too big\r\n\r\n" + line * (size // len(line))


def charset(label: str) -> bytes:
    """Text and Subject declared in `label` (a bytes codec or a broken idna: not text encodings)."""
    name = label.encode()
    return (
        HEAD + b"Subject: =?" + name + b"?q?xn--zz?=\r\nContent-Type: text/plain; charset=" + name + b"\r\n\r\n"
        b"xn--zz hello\r\n"
    )


HOSTILE: dict[str, Callable[[], bytes]] = {
    "subject, 100k encoded-words": encoded_word_subject,
    "Cc of 300k addresses (5 MB)": huge_cc,
    "100k MIME parts": many_parts,
    "MIME nesting 1,000 deep": deep_nesting,
    "MIME nesting 10,000 deep": lambda: deep_nesting(10_000),
    "winmail.dat, 150k entries": lambda: with_winmail(winmail(50_000)),
    "winmail.dat, 2,000 entries + 20 MB": lambda: with_winmail(winmail(660) + winmail(1, b"x" * 20_000_000)[6:]),
    "1M header fields": header_lines,
    "HTML-only body, 20 MB": big_html,
    "30 MB attachment (under the limit)": big_attachment,
    "200 MB message (over the limit)": oversized,
}
