"""The shortcuts `read_raw` takes change nothing it reads (issue 18).

`read_raw` runs on every message, so some of its steps take shortcuts: forward markers are looked for
after each line end, and only in text holding a part each needs; the end of the header block is looked for
first as the first line ends, the other kind only before it; the content hash takes a body without "\\r" as
it is; a base64 attachment's size counts only the kinds of space it holds; a large base64 attachment's body
is not parsed at all, only counted. Here the straightforward forms
are put back and compared on generated input, on every file of the shared corpora and of a generated
mailbox. (Stored hashes deduplicate mail: a hash that changed would store a message twice.)
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inboxcrm.core import forwards
from inboxcrm.core.analysis import analyse
from inboxcrm.core.fingerprint import content_hash
from inboxcrm.core.limits import bound, header_end
from inboxcrm.core.parsing import parse_bounded, parse_message
from tests.core.test_hostile_mail import _reference_hash

# Each marker as it was: a search for `^pattern` at every position of the text.
_PLAIN_MARKERS = [
    (client, re.compile("^(?:" + pattern + ")", flags | re.M))
    for client, pattern, flags, _ in forwards._MARKER_PATTERNS
]


def _plain_first_marker(text: str) -> tuple[int, str] | None:
    best: tuple[int, str] | None = None
    for client, marker in _PLAIN_MARKERS:
        found = marker.search(text)
        if found and (best is None or found.start() < best[0]):
            best = (found.start(), client)
    return best


def _plain_header_end(raw: bytes) -> tuple[int, int] | None:
    found = re.search(rb"\r?\n\r?\n", raw)
    return found.span() if found else None


_TEXT_PIECES = [
    *"\n \t*:-_x\r\x85\u2028",
    "-----",
    "---",
    "_" * 20,
    *("From", "FROM", "Von", "Od", "Sent", "sent", "Gesendet", "Envoyé", "Wysłano", "Sendt"),
    *("From: Bob\n", "*Von* :", "\n ſent:", "\nSENT:", "\n*Enviado: "),
    *("Forwarded message", "Forwarded Message", "Message transféré", "Original Message"),
    *("Begin forwarded message", "Vidarebefordrat brev", "Anfang der weitergeleiteten E-Mail"),
    *("ſ", "İ", "K", "Å"),  # letters that match another one when case is ignored
]
_BYTE_PIECES = [b"\r", b"\n", b"\r\n", b"\n\n", b"\r\n\r\n", b"a", b":", b" ", b"\t"]
_HEADER_PIECES = [*_BYTE_PIECES, b"Received: x", b"Subject: y", b"RETURN-PATH : <a@b>", b"\n x", b"\r\n\ty"]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_TEXT_PIECES), st.text(max_size=3)), max_size=14).map("".join))
def test_the_forward_markers_are_found_where_a_search_at_every_position_finds_them(text: str) -> None:
    assert forwards._first_marker(text) == _plain_first_marker(text)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Hi\n---------- Forwarded message ---------\nFrom: a@b", (3, "gmail")),
        ("---------- Forwarded message ---------", (0, "gmail")),
        ("Hi\n\n  \nFrom : Bob\n\n Sent: Monday", (3, "outlook")),  # `^\s*` starts at the first blank line
        ("x From: Bob\nSent: Monday", None),  # not at a line start
        ("Hi\n" + "_" * 20 + "\nFrom: a@b", (3, "outlook")),
        ("Hi\nBegin forwarded message:\n\nFrom: a@b", (3, "apple")),
        ("Hi\nBegin forwarded meſſage:\n", (3, "apple")),
        ("Hi, see below", None),
    ],
)
def test_forward_markers(text: str, found: tuple[int, str] | None) -> None:
    assert forwards._first_marker(text) == found == _plain_first_marker(text)


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(_BYTE_PIECES), max_size=12).map(b"".join))
def test_the_header_end_is_the_first_blank_line(raw: bytes) -> None:
    assert header_end(raw) == _plain_header_end(raw)


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(_HEADER_PIECES), max_size=16).map(b"".join))
def test_the_content_hash_is_the_stored_one(raw: bytes) -> None:
    assert content_hash(raw) == _reference_hash(raw)


@pytest.mark.parametrize("space", [b"\n", b"\r\n", b" \r\n", b"\t\n", b"\n \n"])
def test_a_base64_attachment_is_as_large_as_its_decoded_bytes(space: bytes) -> None:
    data = bytes(range(256)) * 3 + b"end"
    encoded = base64.b64encode(data)
    lines = space.join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    raw = (
        b'From: a@example.com\r\nSubject: s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n'
        b"\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/octet-stream\r\n"
        b'Content-Disposition: attachment; filename="d.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        + lines
        + b"\r\n--b--\r\n"
    )
    assert [(a.filename, a.size) for a in parse_message(raw).attachments] == [("d.bin", len(data))]


def _with_attachment(data: bytes, space: bytes, head: bytes, text: bytes = b"hi") -> bytes:
    encoded = base64.b64encode(data)
    lines = space.join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    return (
        (
            b'From: a@example.com\r\nSubject: s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n'
            b"\r\n--b\r\nContent-Type: multipart/alternative;\r\n boundary=inner\r\n\r\n--inner\r\n"
            b"Content-Type: text/plain\r\n\r\n" + text + b"\r\n--inner--\r\n--b\r\n" + head + b"\r\n"
        )
        + lines
        + b"\r\n--b--\r\n"
    )


@pytest.mark.parametrize("space", [b"\n", b"\r\n", b" \r\n", b"\t\n", b"\n \n"])
@pytest.mark.parametrize("tail", [b"", b"x", b"xy"])  # padding "==", "=" and none
def test_a_large_attachment_is_counted_not_parsed(space: bytes, tail: bytes) -> None:
    data = bytes(range(256)) * 200 + tail
    head = b'Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="q.pdf"\r\n'
    raw = _with_attachment(data, space, head + b"Content-Transfer-Encoding: base64\r\n")
    skimmed = bound(raw)
    assert len(skimmed.raw) < 1_000 < len(raw) and not skimmed.defects  # a shortcut, not a cut to report
    message = parse_bounded(skimmed)
    assert [(a.filename, a.size) for a in message.attachments] == [("q.pdf", len(data))]
    assert message == parse_bounded(bound(raw, skim=False))


@pytest.mark.parametrize(
    "head",
    [
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n",  # read as text
        b"Content-Type: application/ms-tnef\r\nContent-Transfer-Encoding: base64\r\n",  # its files are listed
        b'Content-Type: application/octet-stream; name="winmail.dat"\r\nContent-Transfer-Encoding: base64\r\n',
        b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: quoted-printable\r\n",
        b"Content-Transfer-Encoding: base64\r\n",  # no type: text/plain
    ],
)
def test_parts_something_reads_are_parsed_whole(head: bytes) -> None:
    raw = _with_attachment(b"plain words. " * 2_000, b"\r\n", head)
    assert bound(raw).raw == raw


def test_a_part_made_up_inside_a_text_is_not_cut() -> None:
    fake = b"\r\n--fake\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b"QUJD\r\n" * 3_000
    raw = _with_attachment(b"x" * 100, b"\r\n", b"Content-Type: image/png\r\n", text=b"see below" + fake)
    assert bound(raw).raw == raw
    assert parse_message(raw).text.count("QUJD") == 3_000


def test_real_mail_reads_as_before(corpora: Path, generated_mail: list[Path]) -> None:
    files = [*generated_mail, *sorted(p for p in corpora.rglob("*") if p.is_file())]
    raws = [path.read_bytes() for path in files]
    assert len(raws) > 800
    for raw in raws:
        assert header_end(raw) == _plain_header_end(raw)
        assert content_hash(raw) == _reference_hash(raw)
        skimmed, whole = bound(raw), bound(raw, skim=False)
        read = parse_bounded(skimmed)
        assert read == parse_bounded(whole)
        assert analyse(read, skimmed.raw) == analyse(read, whole.raw)
    assert sum(len(bound(raw).raw) < len(raw) for raw in raws) > 5  # the generated mailbox's attachments
    # The corpora's own files read as bodies too (the reply fixtures are bodies, not messages).
    texts = [parse_message(raw).text for raw in raws] + [raw.decode("utf-8", "replace") for raw in raws]
    assert sum(forwards._first_marker(text) is not None for text in texts) > 20
    assert [forwards._first_marker(text) for text in texts] == [_plain_first_marker(text) for text in texts]
