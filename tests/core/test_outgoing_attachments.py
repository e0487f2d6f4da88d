"""Attachments of outgoing mail: written byte-identical with their names by `compose`, and read from an agent's
reply by `attachments_of`."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

import pytest

from inboxcrm.core.outgoing import Part, attachments_of, compose
from tests.core.outgoing_support import WHEN, _assert_wire_clean, _draft, _parse, _text_body

# ---------------------------------------------------------------------------------------------------------
# compose: attachments


ALL_BYTES = bytes(range(256)) * 4
ATTACHMENTS = (
    Part("invoice-42.pdf", "application/pdf", b"%PDF-1.4\r\n" + ALL_BYTES),
    Part("rapport été 2024.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK\x03\x04"),
    Part("screenshot.png", "image/png", b"\x89PNG\r\n\x1a\n\x00\r\r\n"),
    Part("unknown.bin", "", b"\x00\x01"),
    Part("empty.txt", "text/plain", b""),
)


@pytest.mark.parametrize("html", [None, "<p>hi</p>"])
def test_attachments_come_back_byte_identical_with_their_names(html: str | None) -> None:
    raw = compose(_draft(html=html, attachments=ATTACHMENTS), "m@acme.example", WHEN)
    _assert_wire_clean(raw)
    parsed = _parse(raw)
    assert parsed.get_content_type() == "multipart/mixed"
    assert _text_body(parsed) == "Hello Jane,\n\nHere it is.\n"
    found = [(p.get_filename(), p.get_content_type(), p.get_payload(decode=True)) for p in parsed.iter_attachments()]
    assert found == [
        ("invoice-42.pdf", "application/pdf", b"%PDF-1.4\r\n" + ALL_BYTES),
        ("rapport été 2024.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK\x03\x04"),
        ("screenshot.png", "image/png", b"\x89PNG\r\n\x1a\n\x00\r\r\n"),
        ("unknown.bin", "application/octet-stream", b"\x00\x01"),
        ("empty.txt", "text/plain", b""),
    ]
    # and what inboxcrm itself reads back when it relays a reply
    assert attachments_of(raw) == (
        *ATTACHMENTS[:3],
        Part("unknown.bin", "application/octet-stream", b"\x00\x01"),
        ATTACHMENTS[4],
    )


# ---------------------------------------------------------------------------------------------------------
# attachments_of

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 2 + b"%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\xff" * 40
LOGO = b"GIF89a" + b"\x01" * 10


def _agent_reply() -> bytes:
    """An agent's reply as a mail client sends it: text and HTML alternatives (the HTML with an unnamed inline
    logo), a PDF attachment and a pasted image that has a file name."""
    message = EmailMessage()
    message["From"] = "agent@acme.example"
    message["To"] = "support+r.x.y.z@acme.example"
    message["Subject"] = "Re: invoice"
    message.set_content("See attached.\n")
    message.add_alternative('<p>See attached.</p><img src="cid:logo@acme">', subtype="html")
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    html.add_related(LOGO, maintype="image", subtype="gif", cid="<logo@acme>")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="invoice 42.pdf")
    message.add_attachment(PNG, maintype="image", subtype="png", filename="screenshot.png", disposition="inline")
    return message.as_bytes(policy=email.policy.SMTP)


def test_attachments_of_returns_only_the_named_files_byte_exact() -> None:
    assert attachments_of(_agent_reply()) == (
        Part("invoice 42.pdf", "application/pdf", PDF),
        Part("screenshot.png", "image/png", PNG),
    )


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        (len(PDF) + len(PNG), ("invoice 42.pdf", "screenshot.png")),
        (len(PDF) + len(PNG) - 1, ("invoice 42.pdf",)),
        (len(PDF), ("invoice 42.pdf",)),
        (len(PDF) - 1, ("screenshot.png",)),  # the PDF does not fit, the smaller image still does
        (len(PNG) - 1, ()),
        (0, ()),
    ],
)
def test_attachments_of_respects_the_size_limit(limit: int, expected: tuple[str, ...]) -> None:
    found = attachments_of(_agent_reply(), limit=limit)
    assert tuple(p.filename for p in found) == expected
    assert sum(len(p.data) for p in found) <= limit


def _raw_with_part(part_headers: str, body: str) -> bytes:
    return (
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
        f"--b\r\n{part_headers}\r\n\r\n{body}\r\n--b--\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("part_headers", "filename"),
    [
        ('Content-Type: application/pdf; name="old-style.pdf"\r\nContent-Transfer-Encoding: base64', "old-style.pdf"),
        (
            "Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
            "Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf",
            "résumé.pdf",
        ),
        (
            "Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
            'Content-Disposition: attachment; filename="=?utf-8?q?r=C3=A9sum=C3=A9.pdf?="',
            "résumé.pdf",
        ),
        (
            "Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
            'Content-Disposition: attachment; filename="=?utf-8?q?a=0D=0ABcc:_x@evil.example.pdf?="',
            "a Bcc: x@evil.example.pdf",
        ),
    ],
)
def test_attachments_of_reads_every_way_of_naming_a_file(part_headers: str, filename: str) -> None:
    assert attachments_of(_raw_with_part(part_headers, "JVBERg==")) == (Part(filename, "application/pdf", b"%PDF"),)


def test_attachments_of_ignores_unnamed_parts_and_plain_messages() -> None:
    unnamed = _raw_with_part("Content-Type: application/pdf\r\nContent-Disposition: attachment", "abc")
    assert attachments_of(unnamed) == ()
    assert attachments_of(b"Subject: hi\r\n\r\nbody\r\n") == ()
    assert attachments_of(b"") == ()
    assert attachments_of(b"\x00\xff garbage \r\n\r\n\x80") == ()


def test_attachments_of_keeps_an_attached_message_whole() -> None:
    inner = EmailMessage()
    inner["Subject"] = "the original"
    inner.set_content("inner body\n")
    inner.add_attachment(b"%PDF-inner", maintype="application", subtype="pdf", filename="inner.pdf")
    outer = EmailMessage()
    outer["Subject"] = "Re: see the forwarded mail"
    outer.set_content("see attached\n")
    outer.add_attachment(inner, filename="forwarded.eml")
    found = attachments_of(outer.as_bytes(policy=email.policy.SMTP))
    assert [(p.filename, p.content_type) for p in found] == [("forwarded.eml", "message/rfc822")]
