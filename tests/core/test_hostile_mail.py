"""Hostile mail is read within bounds, or quarantined with the reason: never a stall, never an exception.

The inputs are the ones a hostile audit used (issue 17). The tests assert what is read and what is
reported; how long it takes is measured by bench/hostile.py, not asserted here."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from inboxcrm.core import limits, parsing, tnef
from inboxcrm.core.fingerprint import _TRACE_HEADERS, content_hash
from inboxcrm.core.outgoing import one_line
from inboxcrm.core.reading import read_raw
from tests.support import hostile
from tests.support.mail import mail


def readable(raw: bytes) -> tuple[str, ...]:
    reading = read_raw(raw)
    assert reading.problem is None and reading.message is not None and reading.analysis is not None
    assert reading.message.from_ is not None and reading.message.from_.email == "mallory@evil.example"
    return reading.message.defects


def test_a_subject_of_100k_encoded_words_is_read_in_part() -> None:
    reading = read_raw(hostile.encoded_word_subject(100_000))
    assert reading.message is not None and reading.problem is None
    assert reading.message.subject.startswith("ababab")  # adjacent encoded-words join (RFC 2047)
    assert len(reading.message.subject) <= parsing.MAX_HEADER_CHARS
    assert any("header block of" in d for d in reading.message.defects)


def test_a_5_mb_cc_gives_at_most_the_address_limit() -> None:
    reading = read_raw(hostile.huge_cc(300_000))
    assert reading.message is not None
    assert len(reading.message.cc) == parsing.MAX_ADDRESSES
    assert reading.message.cc[0].email == "victim0@d0.example"
    assert any(f"more than {parsing.MAX_ADDRESSES} addresses" in d for d in reading.message.defects)


def test_100k_mime_parts_are_read_up_to_the_boundary_limit() -> None:
    defects = readable(hostile.many_parts(100_000))
    assert read_raw(hostile.many_parts(100_000)).message.text == "part 0"  # type: ignore[union-attr]
    assert any(f"more than {limits.MAX_BOUNDARY_LINES} MIME boundaries" in d for d in defects)


@pytest.mark.parametrize("levels", [1_000, 10_000])
def test_mime_nesting_thousands_deep_is_cut_and_the_rest_kept(levels: int) -> None:
    reading = read_raw(hostile.deep_nesting(levels))
    assert reading.problem is None and reading.message is not None  # no RecursionError, no quarantine
    assert reading.message.text == "read me"
    assert any("nested or attached parts" in d for d in reading.message.defects)


def test_a_winmail_dat_with_150k_entries_lists_the_first_files() -> None:
    reading = read_raw(hostile.with_winmail(hostile.winmail(50_000)))
    assert reading.message is not None
    names = [a.filename for a in reading.message.attachments]
    assert names[:3] == ["f0.txt", "f1.txt", "f2.txt"]
    assert tnef.MAX_OBJECTS // 3 <= len(names) <= tnef.MAX_OBJECTS // 3 + 1
    assert any(f"more than {tnef.MAX_OBJECTS} entries" in d for d in reading.message.defects)


def test_winmail_dat_sizes_are_the_files_sizes() -> None:
    reading = read_raw(hostile.with_winmail(hostile.winmail(3, b"x" * 1234)))
    assert reading.message is not None
    assert [(a.filename, a.size) for a in reading.message.attachments] == [(f"f{i}.txt", 1234) for i in range(3)]


def test_a_million_header_fields_still_give_from_and_subject() -> None:
    reading = read_raw(hostile.header_lines(1_000_000))
    assert reading.message is not None and reading.message.subject == "after the junk"
    assert reading.message.from_ is not None and reading.message.from_.email == "mallory@evil.example"


def test_a_huge_html_only_body_is_read_in_part() -> None:
    reading = read_raw(hostile.big_html(3_000_000))
    assert reading.message is not None and reading.message.text.startswith("Hello world, more text here")
    assert any(f"HTML longer than {parsing.MAX_HTML_CHARS:,}" in d for d in reading.message.defects)


def test_attachment_sizes_are_counted_without_decoding() -> None:
    reading = read_raw(hostile.big_attachment(1_234_567))
    assert reading.message is not None
    assert [(a.filename, a.size) for a in reading.message.attachments] == [("x.bin", 1_234_567)]


@pytest.mark.parametrize("label", ["base64", "rot13", "zlib", "uu_codec", "bz2", "hex", "idna", "punycode"])
def test_a_charset_that_is_no_text_encoding_does_not_escape_the_parser(label: str) -> None:
    reading = read_raw(hostile.charset(label))
    assert reading.problem is None and reading.message is not None
    assert "hello" in reading.message.text and "xn--zz" in reading.message.subject


def test_a_message_over_the_size_limit_is_not_read_and_says_why() -> None:
    raw = mail(body="x" * 150_000)
    reading = read_raw(raw, max_bytes=100_000)
    assert reading.message is None
    assert reading.problem is not None and "larger than the limit of 100,000" in reading.problem
    assert "max_message_bytes" in reading.problem
    assert reading.content_hash == content_hash(raw)  # kept raw, stored once like any other
    assert read_raw(raw, max_bytes=200_000).problem is None


def test_composing_with_a_hostile_subject_reads_only_what_fits_in_a_header() -> None:
    subject = " ".join(["=?utf-8?q?=3D=3Futf-8=3Fq=3Fab=3F=3D?="] * 100_000)  # 3.9 MB, encoded twice over
    line = one_line(subject)
    assert len(line) <= 900 and "\n" not in line and line.startswith("ababab")


def _reference_hash(raw: bytes) -> str:
    """content_hash as it was first written (line by line): stored hashes must never change."""
    match = re.search(rb"\r?\n\r?\n", raw)
    head, body = (raw[: match.start()], raw[match.end() :]) if match else (raw, b"")
    kept: list[bytes] = []
    skipping = False
    for line in head.replace(b"\r\n", b"\n").split(b"\n"):
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                kept.append(line)
            continue
        skipping = line.split(b":", 1)[0].strip().lower() in _TRACE_HEADERS
        if not skipping:
            kept.append(line)
    digest = hashlib.sha256(b"\n".join(kept))
    digest.update(b"\n\n" + body.replace(b"\r\n", b"\n"))
    return digest.hexdigest()


@pytest.mark.parametrize(
    "raw",
    [
        mail(headers={"Received": "from a\r\n\tby b", "X-Spam-Status": "No"}),
        b"Received: x\nSubject: s\r\n received-looking continuation\r\nRETURN-PATH : <a@b>\n\nbody\r\n\r\r\n",
        b"\rReceived: x\nStatus\nSubject: y",
        b"Subject: no body",
        b"",
        hostile.header_lines(2_000),
        hostile.HEAD + b"\r\n" + b"x\r" * 700_000 + b"\n" * 3,  # a CRLF across the hash's 1 MB chunks
    ],
)
def test_the_content_hash_of_stored_mail_never_changes(raw: bytes) -> None:
    assert content_hash(raw) == _reference_hash(raw)


def test_ordinary_mail_is_not_cut() -> None:
    raw = mail(body="Hi,\n\n-- \nCarol\n----------\n" + "--dash\n" * 10)
    assert limits.bound(raw) == limits.Bounded(raw, ())
    assert base64.b64decode(base64.b64encode(raw)) == raw
