"""raw bytes → Message: what a person reading the mail would see, and never an exception."""

from __future__ import annotations

import base64
import struct
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from inboxcrm.core.parsing import decode_bytes, parse_message, unreadable_reason
from tests.support.mail import mail


def test_plain_message_fields() -> None:
    raw = mail(
        from_='"Danvers, Carol" <Carol@ACME-corp.example>',
        to="support@northwind.example, Ben <ben@northwind.example>",
        cc="dave@acme-corp.example",
        message_id="abc@acme-corp.example",
        in_reply_to="parent@northwind.example",
        references="<root@acme-corp.example> <parent@northwind.example>",
        date="Tue, 03 Nov 2026 09:30:00 +0100",
    )
    message = parse_message(raw)
    assert message.from_ is not None
    assert message.from_.email == "carol@acme-corp.example"
    assert message.from_.name == "Danvers, Carol"
    assert [a.email for a in message.to] == ["support@northwind.example", "ben@northwind.example"]
    assert [a.email for a in message.cc] == ["dave@acme-corp.example"]
    assert message.message_id == "abc@acme-corp.example"
    assert message.in_reply_to == "parent@northwind.example"
    assert message.references == ("root@acme-corp.example", "parent@northwind.example")
    assert message.date == datetime(2026, 11, 3, 8, 30, tzinfo=UTC)
    assert "printer is on fire" in message.text
    assert message.defects == ()


def test_encoded_words_in_subject_and_name() -> None:
    raw = mail(
        from_="=?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <jm@example.de>", subject="=?ISO-8859-1?Q?Gr=FC=DFe_aus_K=F6ln?="
    )
    message = parse_message(raw)
    assert message.subject == "Grüße aus Köln"
    assert message.from_ is not None and message.from_.name == "Jürgen Müller"


def test_mislabelled_charsets_are_repaired() -> None:
    assert decode_bytes("中文".encode("gb18030"), "gb2312") == "中文"
    assert decode_bytes("한국어".encode("cp949"), "ks_c_5601-1987") == "한국어"
    # UTF-8 text declared as US-ASCII is the most common mislabel of all.
    assert decode_bytes("naïve café".encode(), "us-ascii") == "naïve café"
    assert decode_bytes(b"caf\xe9", "iso-8859-1") == "café"
    assert decode_bytes(b"\xff\xfe\xfa", "no-such-charset") != ""


def test_html_only_mail_becomes_readable_text() -> None:
    raw = (
        b"From: a@b.example\r\nSubject: hi\r\nMessage-ID: <h@b.example>\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n\r\n"
        b"<html><head><style>p{color:red}</style></head><body><p>First line</p><p>Second &amp; last</p>"
        b"<script>alert(1)</script></body></html>"
    )
    message = parse_message(raw)
    assert message.html is not None
    assert message.text.splitlines() == ["First line", "", "Second & last"]


def test_attachments_are_listed_not_kept_as_text() -> None:
    raw = (
        b"From: a@b.example\r\nSubject: invoice\r\nMessage-ID: <att@b.example>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="XX"\r\n\r\n'
        b"--XX\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"
        b'--XX\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="inv 1.pdf"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--XX--\r\n"
    )
    message = parse_message(raw)
    assert message.text.strip() == "See attached."
    assert [(a.filename, a.content_type, a.size) for a in message.attachments] == [("inv 1.pdf", "application/pdf", 9)]


def test_nul_bytes_and_bad_dates_become_defects_not_errors() -> None:
    raw = mail(body="before\x00after", date="not a date at all")
    message = parse_message(raw)
    assert "\x00" not in message.text
    assert message.date is None
    assert any("Date" in d for d in message.defects)


def test_not_mail_is_flagged_for_quarantine() -> None:
    assert unreadable_reason(parse_message(b"\x00\x01\x02 binary junk")) is not None
    assert unreadable_reason(parse_message(b"")) is not None
    assert unreadable_reason(parse_message(mail())) is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_parser_never_raises_on_arbitrary_bytes(raw: bytes) -> None:
    message = parse_message(raw)
    for value in (message.text, message.subject, *(v for _, v in message.headers)):
        assert "\x00" not in value
        value.encode("utf-8")  # storable in PostgreSQL


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.text(max_size=100))
def test_parser_never_raises_on_hostile_headers(body: str, subject: str) -> None:
    raw = (
        f"From: {subject}\r\nSubject: {subject}\r\nContent-Type: multipart/mixed; boundary={subject!r}\r\n\r\n{body}"
    ).encode("utf-8", "surrogatepass")
    parse_message(raw)


def _tnef_attribute(name: int, kind: int, data: bytes) -> bytes:
    return struct.pack("<BHHI", 2, name, kind, len(data)) + data + struct.pack("<H", sum(data) & 0xFFFF)


def test_winmail_dat_lists_the_files_inside() -> None:
    blob = (
        struct.pack("<IH", 0x223E9F78, 1)
        + _tnef_attribute(0x9002, 0x0006, b"\x00" * 14)
        + _tnef_attribute(0x8010, 0x0001, b"Q3 report.xlsx\x00")
        + _tnef_attribute(0x800F, 0x0006, b"PK\x03\x04data")
    )
    raw = (
        b"From: a@b.example\r\nSubject: report\r\nMessage-ID: <t@b.example>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="XX"\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n'
        b'--XX\r\nContent-Type: application/ms-tnef\r\nContent-Disposition: attachment; filename="winmail.dat"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(blob) + b"--XX--\r\n"
    )
    message = parse_message(raw)
    assert [(a.filename, a.size) for a in message.attachments] == [("Q3 report.xlsx", 8)]


def test_unknown_charset_is_detected() -> None:
    text = (
        "Добрый день! Заказ номер 58213 не пришёл вовремя, пожалуйста, проверьте статус доставки. "
        "Мы ждём уже две недели, и клиенты спрашивают каждый день. С уважением, Ирина"
    )
    for charset in ("koi8-r", "cp1251", "utf-8"):
        assert decode_bytes(text.encode(charset), "x-made-up") == text


def test_forwarded_attachment_is_not_body_text() -> None:
    raw = (
        b"From: a@b.example\r\nSubject: fwd\r\nMessage-ID: <f@b.example>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="XX"\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nFYI\r\n'
        b"--XX\r\nContent-Type: message/rfc822\r\n\r\n"
        b"From: c@d.example\r\nSubject: Inner\r\n\r\ninner body\r\n--XX--\r\n"
    )
    message = parse_message(raw)
    assert message.text.strip() == "FYI"
    assert [(a.filename, a.content_type) for a in message.attachments] == [("Inner", "message/rfc822")]


def test_obsolete_header_syntax_and_stray_lines_are_repaired() -> None:
    obsolete = (
        b"From  : John Doe <jdoe@machine.example>\r\nTo    : Mary <mary@example.net>\r\n"
        b"Subject     : Saying Hello\r\nMessage-ID  : <1234@local.machine.example>\r\n\r\nHello.\r\n"
    )
    message = parse_message(obsolete)
    assert (message.from_.email if message.from_ else None, message.subject) == ("jdoe@machine.example", "Saying Hello")
    assert any("repaired" in d for d in message.defects)

    stray = (
        b"Received: from a by b\r\nthis line is garbage\r\nFrom: Ann <ann@x.example>\r\n"
        b"Subject: still readable\r\n\r\nBody.\r\n"
    )
    message = parse_message(stray)
    assert message.from_ is not None and message.from_.email == "ann@x.example"
    assert message.text.strip() == "Body."


def test_raw_8bit_headers_are_decoded_not_mangled() -> None:
    utf8 = "From: Jürgen Müller <jm@example.de>\r\nSubject: Réponse automatique\r\n\r\nx".encode()
    message = parse_message(utf8)
    assert (message.subject, message.from_.name if message.from_ else "") == ("Réponse automatique", "Jürgen Müller")
    latin1 = "From: a@b.example\r\nSubject: Grüße aus Köln\r\n\r\nx".encode("latin-1")
    assert parse_message(latin1).subject == "Grüße aus Köln"


def test_repeated_fields_read_as_the_stdlib_reads_them() -> None:
    # Header names in any case; a field that appears twice: its first value, and every address.
    raw = (
        b"FROM: Ana <ana@acme.example>\r\nsubject: First\r\nTo: a@northwind.example\r\n"
        b"Subject: Second\r\nto: b@northwind.example\r\nMESSAGE-id: <one@acme.example>\r\n"
        b"Message-ID: <two@acme.example>\r\nDate: Tue, 03 Nov 2026 09:30:00 +0100\r\n"
        b"Date: Wed, 04 Nov 2026 09:30:00 +0100\r\n\r\nHello\r\n"
    )
    message = parse_message(raw)
    assert message.from_ is not None and message.from_.email == "ana@acme.example"
    assert message.subject == "First"
    assert [a.email for a in message.to] == ["a@northwind.example", "b@northwind.example"]
    assert message.message_id == "one@acme.example"
    assert message.date == datetime(2026, 11, 3, 8, 30, tzinfo=UTC)
