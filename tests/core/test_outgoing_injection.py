"""No header injection whatever the text: hostile subjects, names, Reply-To and ids never add a header, and
`one_line` makes any text one clean line."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inboxcrm.core.loops import OUR_HEADER
from inboxcrm.core.model import Address
from inboxcrm.core.outgoing import compose, one_line
from tests.core.outgoing_support import CONTROL, PLAIN_HEADERS, WHEN, _assert_wire_clean, _draft, _header_names, _parse

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
