"""Composing outgoing mail: the header block, exact and in order, for replies, new and automatic mail."""

from __future__ import annotations

import re
from email.utils import parsedate_to_datetime

import pytest

from inboxcrm.core.loops import OUR_HEADER
from inboxcrm.core.model import Address
from inboxcrm.core.outgoing import compose
from tests.core.outgoing_support import (
    CUSTOMER,
    PLAIN_HEADERS,
    WHEN,
    _assert_wire_clean,
    _draft,
    _header_block,
    _header_names,
    _parse,
    _text_body,
)

AUTOMATIC_HEADERS = ("Auto-Submitted", "X-Auto-Response-Suppress", "Precedence")


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
