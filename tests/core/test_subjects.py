"""Subjects without the reply and forward prefixes that mail clients stack up, in many languages."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from inboxcrm.core.subjects import has_reply_prefix, normalise_subject


@pytest.mark.parametrize(
    "subject",
    [
        "Invoice 42",
        "Re: Invoice 42",
        "RE: Invoice 42",
        "re:Invoice 42",
        "Re : Invoice 42",  # French typography
        "RE[2]: Invoice 42",
        "Re^3: Invoice 42",
        "Re(2): Invoice 42",
        "Fwd: Invoice 42",
        "FW: Invoice 42",
        "Fw: Re: Fwd: RE: Invoice 42",
        "AW: Invoice 42",  # German
        "WG: AW: Invoice 42",
        "Antwort: Invoice 42",
        "SV: Invoice 42",  # Scandinavian
        "VS: Invoice 42",  # Finnish, Danish
        "VB: Invoice 42",
        "Antw: Invoice 42",  # Dutch
        "Doorst: Invoice 42",
        "TR: Invoice 42",  # French
        "TR : RE : Invoice 42",
        "RV: Invoice 42",  # Spanish
        "RIF: Invoice 42",  # Italian
        "Odp: Invoice 42",  # Polish, Czech
        "PD: Invoice 42",
        "Ynt: Invoice 42",  # Turkish
        "RES: ENC: Invoice 42",  # Portuguese
        "ΑΠ: Invoice 42",  # Greek
        "回复: Invoice 42",  # Chinese
        "回复：Invoice 42",  # full-width colon
        "转发: 答复: Invoice 42",
        "回覆: Invoice 42",
        "返信: 転送: Invoice 42",  # Japanese
        "Ｒｅ：Invoice 42",  # full-width letters
        "[acme-users] Invoice 42",  # mailing-list tag
        "Re: [acme-users] Invoice 42",
        "[acme-users] Re: Invoice 42",
        "[#123] Invoice 42",  # ticket token
        "Re: [support.example.com #33575] Invoice 42",
        "Invoice 42 [#123]",
        "Invoice 42 [Ticket #123]",
        "Invoice 42 (fwd)",
        "  RE:   re:   Invoice    42  ",
        "INVOICE 42",
        "Invoice\t42",
    ],
)
def test_prefixes_tags_and_tokens_go(subject: str) -> None:
    assert normalise_subject(subject) == "invoice 42"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("", ""),
        ("Re:", ""),
        ("Re: Re: ", ""),
        ("Reply needed", "reply needed"),  # a word that starts like a prefix is not one
        ("Resume attached", "resume attached"),
        ("Forward planning", "forward planning"),
        ("Trade show: booth 4", "trade show: booth 4"),
        ("I: love this", "i: love this"),  # Italian Outlook's "I:" is deliberately not a prefix
        ("Meeting re: budget", "meeting re: budget"),  # only leading prefixes go
        ("[urgent]", "[urgent]"),  # a subject that is only a tag keeps it
        ("Bug#691896: [87ea161] Fix", "bug#691896: [87ea161] fix"),
        ("Straße", "strasse"),  # casefold, not lower
        ("Cost [#12] estimate", "cost [#12] estimate"),  # a token inside the subject stays
    ],
)
def test_what_stays(subject: str, expected: str) -> None:
    assert normalise_subject(subject) == expected


@pytest.mark.parametrize(
    ("subject", "reply"),
    [
        ("Invoice", False),
        ("[list] Invoice", False),
        ("Invoice [#12]", False),
        ("Re: Invoice", True),
        ("[list] Re: Invoice", True),
        ("Fwd: Invoice", True),
        ("AW: Invoice", True),
        ("回复: Invoice", True),
        ("Reply needed", False),
    ],
)
def test_has_reply_prefix(subject: str, reply: bool) -> None:
    assert has_reply_prefix(subject) is reply


@given(st.text(max_size=60))
def test_normalising_is_idempotent_and_total(subject: str) -> None:
    once = normalise_subject(subject)
    assert normalise_subject(once) == once
    assert once == once.strip()
    assert "  " not in once


@given(st.text(max_size=40), st.lists(st.sampled_from(["Re: ", "AW: ", "Fwd: ", "[list] ", "RE[3]: "]), max_size=5))
def test_any_stack_of_prefixes_normalises_like_none(subject: str, prefixes: list[str]) -> None:
    assume(normalise_subject(subject))  # a bare "[tag]" is kept only when it is all there is
    assert normalise_subject("".join(prefixes) + normalise_subject(subject)) == normalise_subject(subject)
