"""Replies: the References chain, the reply subject and the quoted text."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inboxcrm.core.outgoing import compose, one_line, quoted, references_after, reply_subject
from tests.core.outgoing_support import CONTROL, WHEN, _draft, _header_block, _parse


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
