"""Composing outgoing mail: exact headers, CRLF bytes, round trips, and no header injection whatever the text."""

from __future__ import annotations

import base64
import email
import email.policy
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inboxcrm.core.loops import OUR_HEADER
from inboxcrm.core.model import Address
from inboxcrm.core.outgoing import (
    Draft,
    Part,
    attachments_of,
    compose,
    one_line,
    quoted,
    references_after,
    reply_subject,
)

WHEN = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
SENDER = Address("support@acme.example", "Acme Support")
CUSTOMER = Address("jane@customer.example", "Jane Doe")

# The header block of a plain, person-written message with no threading and no Reply-To, in order.
PLAIN_HEADERS = [
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    OUR_HEADER,
    "Content-Type",
    "Content-Transfer-Encoding",
    "MIME-Version",
]
AUTOMATIC_HEADERS = ("Auto-Submitted", "X-Auto-Response-Suppress", "Precedence")
CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


def _draft(**changes: object) -> Draft:
    fields: dict[str, object] = {
        "key": "reply:42:1",
        "kind": "reply",
        "sender": SENDER,
        "to": (CUSTOMER,),
        "subject": "Your invoice",
        "text": "Hello Jane,\n\nHere it is.\n",
    }
    fields.update(changes)
    return Draft(**fields)  # type: ignore[arg-type]


def _parse(raw: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _header_block(raw: bytes) -> bytes:
    head, separator, _ = raw.partition(b"\r\n\r\n")
    assert separator, "no blank line ends the header block"
    return head


def _header_names(raw: bytes) -> list[str]:
    """The top-level header names, in order, read from the raw bytes (continuation lines belong to the header)."""
    names = []
    for line in _header_block(raw).split(b"\r\n"):
        if line[:1] in (b" ", b"\t"):
            continue
        name, colon, _ = line.partition(b":")
        assert colon, f"a header line without a colon: {line!r}"
        names.append(name.decode("ascii"))
    return names


def _text_body(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    content = body.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")


# ---------------------------------------------------------------------------------------------------------
# compose: the header block


def test_a_reply_has_exactly_the_expected_headers() -> None:
    draft = _draft(
        reply_to=("support+r.abc.def.ghijklmnopqrstuv@acme.example",),
        in_reply_to="parent@customer.example",
        references=("<root@customer.example>", "parent@customer.example"),
    )
    raw = compose(draft, "<out-1@acme.example>", WHEN)
    assert _header_names(raw) == [
        "From",
        "To",
        "Reply-To",
        "Subject",
        "Date",
        "Message-ID",
        "In-Reply-To",
        "References",
        OUR_HEADER,
        "Content-Type",
        "Content-Transfer-Encoding",
        "MIME-Version",
    ]
    parsed = _parse(raw)
    assert str(parsed["From"]) == "Acme Support <support@acme.example>"
    assert str(parsed["To"]) == "Jane Doe <jane@customer.example>"
    assert str(parsed["Reply-To"]) == "support+r.abc.def.ghijklmnopqrstuv@acme.example"
    assert str(parsed["Subject"]) == "Your invoice"
    assert str(parsed["Message-ID"]) == "<out-1@acme.example>"
    assert str(parsed["In-Reply-To"]) == "<parent@customer.example>"
    assert str(parsed["References"]) == "<root@customer.example> <parent@customer.example>"
    assert str(parsed[OUR_HEADER]) == "reply:42:1"
    assert parsedate_to_datetime(str(parsed["Date"])) == WHEN
    assert parsed.get_content_type() == "text/plain"
    assert _text_body(parsed) == "Hello Jane,\n\nHere it is.\n"


def test_a_new_message_has_no_threading_headers_and_no_reply_to() -> None:
    raw = compose(_draft(), "out-2@acme.example", WHEN)
    assert _header_names(raw) == PLAIN_HEADERS
    parsed = _parse(raw)
    for absent in ("Reply-To", "In-Reply-To", "References", "Cc", "Bcc", *AUTOMATIC_HEADERS):
        assert parsed[absent] is None, absent


@pytest.mark.parametrize("message_id", ["out-3@acme.example", "<out-3@acme.example>", "  <out-3@acme.example> "])
def test_the_message_id_is_bracketed_once(message_id: str) -> None:
    parsed = _parse(compose(_draft(), message_id, WHEN))
    assert str(parsed["Message-ID"]) == "<out-3@acme.example>"


def test_several_recipients_and_reply_to_addresses() -> None:
    draft = _draft(
        to=(CUSTOMER, Address("bob@customer.example"), Address("carol@other.example", "Carol, from Sales")),
        reply_to=("support@acme.example", "support+n.x@acme.example"),
    )
    parsed = _parse(compose(draft, "m@acme.example", WHEN))
    to = parsed["To"]
    assert [(a.display_name, a.addr_spec) for a in to.addresses] == [
        ("Jane Doe", "jane@customer.example"),
        ("", "bob@customer.example"),
        ("Carol, from Sales", "carol@other.example"),
    ]
    assert [a.addr_spec for a in parsed["Reply-To"].addresses] == ["support@acme.example", "support+n.x@acme.example"]


@pytest.mark.parametrize("automatic", ["auto-replied", "auto-generated"])
def test_automatic_mail_is_marked_so_robots_do_not_answer_it(automatic: str) -> None:
    raw = compose(_draft(automatic=automatic), "m@acme.example", WHEN)
    parsed = _parse(raw)
    assert str(parsed["Auto-Submitted"]) == automatic
    assert str(parsed["X-Auto-Response-Suppress"]) == "All"
    assert str(parsed["Precedence"]) == "auto_reply"
    names = _header_names(raw)
    for name in AUTOMATIC_HEADERS:
        assert names.count(name) == 1, name


@pytest.mark.parametrize("automatic", [None, ""])
def test_mail_a_person_wrote_is_not_marked_automatic(automatic: str | None) -> None:
    raw = compose(_draft(automatic=automatic), "m@acme.example", WHEN)
    names = {name.lower() for name in _header_names(raw)}
    for name in AUTOMATIC_HEADERS:
        assert name.lower() not in names


@pytest.mark.parametrize("automatic", [None, "auto-replied"])
def test_every_message_carries_our_outbox_header(automatic: str | None) -> None:
    parsed = _parse(compose(_draft(key="ack:7", automatic=automatic), "m@acme.example", WHEN))
    assert parsed.get_all(OUR_HEADER) == ["ack:7"]


def test_a_hostile_outbox_key_stays_on_one_line() -> None:
    raw = compose(_draft(key="k\r\nBcc: x@evil.example"), "m@acme.example", WHEN)
    assert _header_names(raw) == PLAIN_HEADERS
    assert str(_parse(raw)[OUR_HEADER]) == "k Bcc: x@evil.example"


def test_extra_headers_are_written_once_each_on_one_line() -> None:
    draft = _draft(
        headers=(
            ("List-Unsubscribe", "<mailto:news@acme.example?subject=unsubscribe>\r\nBcc: x@evil.example"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ("Precedence", "bulk\u2028X-Evil: 1"),
        )
    )
    raw = compose(draft, "m@acme.example", WHEN)
    _assert_wire_clean(raw)
    names = _header_names(raw)
    assert names == [*PLAIN_HEADERS[:5], "List-Unsubscribe", "List-Unsubscribe-Post", "Precedence", *PLAIN_HEADERS[5:]]
    parsed = _parse(raw)
    assert parsed["Bcc"] is None
    assert parsed["X-Evil"] is None
    # (folded onto a continuation line, it reads back with the fold's space in front)
    assert (
        str(parsed["List-Unsubscribe"]).strip() == "<mailto:news@acme.example?subject=unsubscribe> Bcc: x@evil.example"
    )
    assert str(parsed["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    assert str(parsed["Precedence"]) == "bulk X-Evil: 1"


def test_a_long_list_unsubscribe_url_is_written_as_a_url() -> None:
    url = "https://crm.acme.example/unsubscribe/fG2BUuf3UV6yBl6OKR4NQ2phbmVAY3VzdG9tZXIuZXhhbXBsZQB3ZWxjb21l"
    raw = compose(_draft(headers=(("List-Unsubscribe", f"<{url}>"),)), "m@acme.example", WHEN)
    unfolded = re.sub(r"\r\n[ \t]+", " ", _header_block(raw).decode("ascii"))
    assert f"List-Unsubscribe: <{url}>" in unfolded


def test_an_empty_subject_becomes_no_subject() -> None:
    for subject in ("", "   ", "\r\n"):
        assert str(_parse(compose(_draft(subject=subject), "m@x.example", WHEN))["Subject"]) == "(no subject)"


# ---------------------------------------------------------------------------------------------------------
# compose: the bytes


def _assert_wire_clean(raw: bytes) -> None:
    """CRLF line endings only, 7-bit (any SMTP server takes it) and no line over RFC 5322's 998 characters."""
    assert raw.endswith(b"\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert b"\r" not in raw.replace(b"\r\n", b"")
    assert raw.isascii()
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998


def test_line_endings_are_crlf_only_even_for_mixed_input() -> None:
    draft = _draft(
        text="one\ntwo\r\nthree\rfour\n" + "long " * 300,
        html="<p>one</p>\n<p>two</p>\r\n",
        attachments=(Part("notes.txt", "text/plain", b"a\nb\r\nc\r"),),
        references=tuple(f"<ref-{i}@customer.example>" for i in range(20)),
    )
    raw = compose(draft, "m@acme.example", WHEN)
    _assert_wire_clean(raw)


def test_non_ascii_names_subject_and_body_survive_the_round_trip() -> None:
    text = "Grüße aus Köln — €100, 日本語, Ωμέγα, emoji 🎉\n\nZweite Zeile: naïve café\n"
    draft = _draft(
        sender=Address("support@acme.example", "Acme Kundenservice Köln"),
        to=(Address("jose@customer.example", "José Müller"), Address("taro@customer.example", "山田 太郎")),
        subject="Ihre Bestellung über 300 € — Lieferung",
        text=text,
    )
    raw = compose(draft, "m@acme.example", WHEN)
    _assert_wire_clean(raw)
    parsed = _parse(raw)
    assert parsed["From"].addresses[0].display_name == "Acme Kundenservice Köln"
    assert [(a.display_name, a.addr_spec) for a in parsed["To"].addresses] == [
        ("José Müller", "jose@customer.example"),
        ("山田 太郎", "taro@customer.example"),
    ]
    assert str(parsed["Subject"]) == "Ihre Bestellung über 300 € — Lieferung"
    assert _text_body(parsed) == text


def test_a_long_non_ascii_subject_keeps_its_spaces() -> None:
    subject = "Bonjour problème réception commande numéro passée"
    raw = compose(_draft(subject=subject), "m@acme.example", WHEN)
    assert str(_parse(raw)["Subject"]) == subject


def test_the_body_gets_a_final_newline() -> None:
    parsed = _parse(compose(_draft(text="no newline at the end"), "m@acme.example", WHEN))
    assert _text_body(parsed) == "no newline at the end\n"


def test_lines_starting_with_a_dot_or_from_survive() -> None:
    text = ".\n.hidden\n..two dots\nFrom the desk of Jane\n>From quoted\nFrom \n. \nend\n"
    raw = compose(_draft(text=text), "m@acme.example", WHEN)
    _assert_wire_clean(raw)
    assert _text_body(_parse(raw)) == text


def test_long_lines_and_trailing_spaces_survive() -> None:
    text = "x" * 500 + "\n" + "trailing spaces   \n" + "tab\tinside\n" + "= equals =3D\n"
    assert _text_body(_parse(compose(_draft(text=text), "m@acme.example", WHEN))) == text


def test_html_goes_in_an_alternative_part() -> None:
    raw = compose(_draft(text="Plain café\n", html="<p>HTML café</p>\n"), "m@acme.example", WHEN)
    parsed = _parse(raw)
    assert parsed.get_content_type() == "multipart/alternative"
    assert _text_body(parsed) == "Plain café\n"
    html = parsed.get_body(preferencelist=("html",))
    assert html is not None
    assert html.get_content_type() == "text/html"
    assert html.get_content().replace("\r\n", "\n") == "<p>HTML café</p>\n"
    assert list(parsed.iter_attachments()) == []


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
# compose: header injection

INJECTIONS = [
    "Welcome\r\nBcc: x@evil.example",
    "Welcome\nBcc: x@evil.example",
    "Welcome\rBcc: x@evil.example",
    "Welcome\r\n\r\nBcc: x@evil.example",
    "Welcome\u2028Bcc: x@evil.example",
    "Welcome\u2029Bcc: x@evil.example",
    "Welcome\x85Bcc: x@evil.example",
    "Welcome\x0bBcc: x@evil.example",
    "Welcome\x0cBcc: x@evil.example",
    "Welcome\x1cBcc: x@evil.example",
    "Welcome\x00Bcc: x@evil.example",
    "Welcome\r\n Bcc: x@evil.example",
    "Welcome =?utf-8?q?Acme=0D=0ABcc:_x@evil.example?=",
    "Welcome =?UTF-8?Q?Acme=0ABcc:_x@evil.example?=",
    "Welcome =?utf-8?b?" + base64.b64encode(b"Acme\r\nBcc: x@evil.example").decode() + "?=",
    "Welcome =?utf-8?q?=E2=80=A8Bcc:_x@evil.example?=",  # U+2028, encoded
    "Welcome =?utf-8?q?=C2=85Bcc:_x@evil.example?=",  # U+0085, encoded
    # double-encoded: an encoded word whose text is an encoded word hiding CR LF
    "Welcome =?utf-8?b?" + base64.b64encode(b"=?utf-8?q?Acme=0D=0ABcc:_x@evil.example?=").decode() + "?=",
    "Welcome =?utf-8?q?=3D=3Futf-8=3Fq=3FAcme=3D0D=3D0ABcc:_x@evil.example=3F=3D?=",
    # triple-encoded
    "=?utf-8?b?"
    + base64.b64encode(
        ("=?utf-8?b?" + base64.b64encode(b"=?utf-8?q?A=0D=0ABcc:_x@evil.example?=").decode() + "?=").encode()
    ).decode()
    + "?=",
    # split across two adjacent encoded words
    "=?utf-8?q?Acme=0D?= =?utf-8?q?=0ABcc:_x@evil.example?=",
]


@pytest.mark.parametrize("hostile", INJECTIONS)
def test_a_hostile_subject_never_adds_a_header(hostile: str) -> None:
    raw = compose(_draft(subject=hostile), "m@acme.example", WHEN)
    _assert_wire_clean(raw)
    assert _header_names(raw) == PLAIN_HEADERS
    parsed = _parse(raw)
    assert parsed["Bcc"] is None
    subject = str(parsed["Subject"])
    assert not CONTROL.search(subject)
    assert "Bcc: x@evil.example" in subject  # shown as text, on the one line
    assert "=?" not in subject  # never an encoded word the next reader would decode again


@pytest.mark.parametrize("hostile", INJECTIONS)
def test_a_hostile_display_name_never_adds_a_header(hostile: str) -> None:
    draft = _draft(sender=Address("support@acme.example", hostile), to=(Address("jane@customer.example", hostile),))
    raw = compose(draft, "m@acme.example", WHEN)
    _assert_wire_clean(raw)
    assert _header_names(raw) == PLAIN_HEADERS
    parsed = _parse(raw)
    assert parsed["Bcc"] is None
    for field, expected in (("From", "support@acme.example"), ("To", "jane@customer.example")):
        addresses = parsed[field].addresses
        assert [a.addr_spec for a in addresses] == [expected], field
        name = addresses[0].display_name
        assert not CONTROL.search(name)
        assert "x@evil.example" in name
        assert "=?" not in name


@pytest.mark.parametrize(
    "changes",
    [
        {"reply_to": ("support@acme.example\r\nBcc: x@evil.example",)},
        {"in_reply_to": "a@b\r\nBcc: x@evil.example"},
        {"references": ("a@b\nBcc: x@evil.example",)},
        {"in_reply_to": "a@b\u2028Bcc: x@evil.example"},
    ],
)
def test_a_hostile_reply_to_or_thread_id_never_adds_a_header(changes: dict[str, object]) -> None:
    """Reply-To and ids are not cleaned like text: a line break in them must be refused or kept on its line."""
    try:
        raw = compose(_draft(**changes), "m@acme.example", WHEN)
    except ValueError:
        return
    assert "Bcc" not in _header_names(raw)
    assert _parse(raw)["Bcc"] is None


def _q(text: str) -> str:
    return "=?utf-8?q?" + "".join(chr(b) if chr(b).isalnum() else f"={b:02X}" for b in text.encode()) + "?="


def _b(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode()).decode() + "?="


_FRAGMENTS = st.sampled_from(
    [
        "\r\n",
        "\r",
        "\n",
        "\u2028",
        "\u2029",
        "\x85",
        "\x00",
        "\t",
        "\x0b",
        "\x0c",
        "\x1e",
        "Bcc: x@evil.example",
        "\r\nBcc: x@evil.example",
        "=?",
        "?=",
        "=?utf-8?q?",
        "=0D=0A",
        ":",
        "<",
        ">",
        '"',
        "\\",
        ",",
        ";",
        "@",
        "(",
        "é",
        "日本",
        "🎉",
        " ",
    ]
)
_PLAIN = st.lists(st.one_of(_FRAGMENTS, st.text(max_size=6)), max_size=8).map("".join)
HOSTILE = st.recursive(
    _PLAIN,
    lambda inner: st.one_of(
        st.builds(_q, inner),
        st.builds(_b, inner),
        st.lists(st.one_of(inner, st.builds(_q, inner)), min_size=1, max_size=3).map(" ".join),
    ),
    max_leaves=4,
)


@settings(max_examples=30, deadline=None, report_multiple_bugs=False)
@given(subject=HOSTILE, name=HOSTILE, key=HOSTILE)
def test_no_text_ever_changes_the_header_block(subject: str, name: str, key: str) -> None:
    draft = _draft(
        key=key, subject=subject, sender=Address("support@acme.example", name), to=(Address("jane@c.example", name),)
    )
    raw = compose(draft, "m@acme.example", WHEN)
    _assert_wire_clean(raw)
    assert _header_names(raw) == PLAIN_HEADERS
    parsed = _parse(raw)
    assert parsed["Bcc"] is None
    for value in (str(parsed["Subject"]), str(parsed[OUR_HEADER])):
        assert len(value.splitlines()) <= 1
        assert not CONTROL.search(value)
    assert [a.addr_spec for a in parsed["From"].addresses] == ["support@acme.example"]
    assert [a.addr_spec for a in parsed["To"].addresses] == ["jane@c.example"]
    for field in ("From", "To"):
        assert not CONTROL.search(parsed[field].addresses[0].display_name)


# ---------------------------------------------------------------------------------------------------------
# one_line


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("Plain subject", "Plain subject"),
        ("  padded\t and   spaced  ", "padded and spaced"),
        ("a\r\nb", "a b"),
        ("a\u2028b\u2029c\x85d", "a b c d"),
        ("a\x00\x1b\x7fb", "a b"),
        ("=?utf-8?q?Caf=C3=A9?=", "Café"),
        ("=?ISO-8859-1?Q?Gr=FC=DFe?= aus =?utf-8?b?S8O2bG4=?=", "Grüße aus Köln"),
        ("Hi =?utf-8?q?a=0D=0ABcc:_x?=", "Hi a Bcc: x"),
        ("=?utf-8?b?" + base64.b64encode(b"=?utf-8?q?a=0D=0Ab?=").decode() + "?=", "a b"),
        ("=?x-no-such-charset?q?abc?=", "= ?x-no-such-charset?q?abc?="),
        ("What is 2+2 =?", "What is 2+2 = ?"),
        ("", ""),
    ],
)
def test_one_line(given: str, expected: str) -> None:
    assert one_line(given) == expected


def test_one_line_cuts_at_the_limit() -> None:
    assert one_line("x" * 1000) == "x" * 900
    assert one_line("abcdef", 3) == "abc"


def test_encoded_words_nested_deeper_than_the_loop_are_shown_literally() -> None:
    value = "Bcc: x@evil.example"
    for _ in range(6):
        value = _b(value)
    result = one_line(value)
    assert "=?" not in result
    assert "\n" not in result


@settings(max_examples=50, deadline=None, report_multiple_bugs=False)
@given(HOSTILE)
def test_one_line_output_is_one_clean_line_and_stable(value: str) -> None:
    result = one_line(value)
    assert not CONTROL.search(result)
    assert "=?" not in result
    assert result == result.strip()
    assert len(result) <= 900
    assert one_line(result) == result


# ---------------------------------------------------------------------------------------------------------
# references_after, reply_subject, quoted


def test_references_after_a_first_message() -> None:
    assert references_after("first@c.example", ()) == ("<first@c.example>",)
    assert references_after(None, ()) == ()
    assert references_after("", ["", ""]) == ()


def test_references_after_appends_the_parent_and_brackets_every_id() -> None:
    assert references_after("<p@c.example>", ["<root@c.example>", "mid@c.example", ""]) == (
        "<root@c.example>",
        "<mid@c.example>",
        "<p@c.example>",
    )


def test_references_after_keeps_a_chain_of_twenty_whole() -> None:
    chain = [f"m{i}@c.example" for i in range(19)]
    assert references_after("parent@c.example", chain) == tuple(f"<{i}>" for i in [*chain, "parent@c.example"])


def test_references_after_caps_a_long_chain_keeping_the_first_and_the_newest() -> None:
    chain = [f"m{i}@c.example" for i in range(20)]  # 21 with the parent: one too many
    result = references_after("parent@c.example", chain)
    assert len(result) == 20
    assert result[0] == "<m0@c.example>"
    assert "<m1@c.example>" not in result
    assert result[1:] == (*(f"<m{i}@c.example>" for i in range(2, 20)), "<parent@c.example>")

    long_chain = [f"m{i}@c.example" for i in range(500)]
    result = references_after(None, long_chain)
    assert result == ("<m0@c.example>", *(f"<m{i}@c.example>" for i in range(481, 500)))


@settings(max_examples=60, deadline=None)
@given(
    chain=st.lists(st.integers(0, 999).map(lambda i: f"m{i}@c.example"), max_size=60),
    parent=st.one_of(st.none(), st.integers(0, 999).map(lambda i: f"p{i}@c.example")),
)
def test_references_after_properties(chain: list[str], parent: str | None) -> None:
    result = references_after(parent, chain)
    full = [f"<{r}>" for r in [*chain, *([parent] if parent else [])]]
    assert len(result) == min(len(full), 20)
    if full:
        assert result[0] == full[0]
        assert result[-1] == full[-1]
        assert result[1:] == tuple(full[len(full) - len(result) + 1 :])


def test_a_full_references_chain_is_written_unchanged() -> None:
    chain = references_after("parent@c.example", [f"message-{i}-abcdefghij@customer.example" for i in range(40)])
    references = _parse(compose(_draft(references=chain), "m@acme.example", WHEN))["References"]
    assert str(references).split() == list(chain)


def test_long_message_ids_are_written_as_message_ids() -> None:
    ses = "01010158992be865-8373ee20-998b-478f-96c0-acc95f6a3672-000000@us-west-2.amazonses.com"
    raw = compose(_draft(in_reply_to=ses, references=(ses,)), "m@acme.example", WHEN)
    head = _header_block(raw).decode("ascii")
    assert "=?" not in head
    unfolded = re.sub(r"\r\n[ \t]+", " ", head)
    assert f"In-Reply-To: <{ses}>" in unfolded
    assert f"References: <{ses}>" in unfolded


@pytest.mark.parametrize(
    ("subject", "token", "expected"),
    [
        ("Invoice", "", "Re: Invoice"),
        ("Re: Invoice", "", "Re: Invoice"),
        ("RE: Invoice", "", "RE: Invoice"),
        ("re:Invoice", "", "re:Invoice"),
        ("Re : Invoice", "", "Re : Invoice"),
        ("  Re: Invoice  ", "", "Re: Invoice"),
        ("Fwd: Invoice", "", "Re: Fwd: Invoice"),
        ("Regarding your invoice", "", "Re: Regarding your invoice"),
        ("Invoice", "[#12]", "Re: Invoice [#12]"),
        ("Re: Invoice [#12]", "[#12]", "Re: Invoice [#12]"),
        ("Re: [#12] Invoice", "[#12]", "Re: [#12] Invoice"),
        ("Re: Invoice [#123]", "[#12]", "Re: Invoice [#123] [#12]"),
        ("", "", "Re: (no subject)"),
        ("", "[#3]", "Re: (no subject) [#3]"),
        ("Invoice\r\nBcc: x@evil.example", "[#1]", "Re: Invoice Bcc: x@evil.example [#1]"),
        ("=?utf-8?q?Re:_Caf=C3=A9?=", "", "Re: Café"),
    ],
)
def test_reply_subject(subject: str, token: str, expected: str) -> None:
    assert reply_subject(subject, token) == expected


@settings(max_examples=60, deadline=None)
@given(subject=st.text(max_size=80), token=st.sampled_from(["", "[#1]", "[#42]", "[Acme #7]"]))
def test_reply_subject_never_stacks(subject: str, token: str) -> None:
    once = reply_subject(subject, token)
    assert reply_subject(once, token) == once
    assert once.lower().startswith("re")
    if token:
        assert once.count(token) == max(1, one_line(subject).count(token))
    assert not CONTROL.search(once)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("one line", "> one line"),
        ("a\nb", "> a\n> b"),
        ("a\n\nb", "> a\n>\n> b"),
        ("\n\na\nb\n\n", "> a\n> b"),
        ("a\r\nb\r\n", "> a\n> b"),
        ("> already quoted\nnew", "> > already quoted\n> new"),
        ("", ""),
    ],
)
def test_quoted(text: str, expected: str) -> None:
    assert quoted(text) == expected


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
