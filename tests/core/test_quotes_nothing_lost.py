"""The body splitter's property: whatever the text, every non-blank line ends up in exactly one part (hypothesis,
and hostile bodies where every line is a candidate)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inboxcrm.core.quotes import split_text
from tests.core.quotes_support import assert_nothing_lost

# Lines that exercise every rule, shuffled together by hypothesis.
INTERESTING_LINES = [
    "",
    " ",
    "Hello there",
    "Thanks,",
    "Ana Lima",
    "Best regards,",
    "-- ",
    "--",
    "-----",
    "ᐧ",
    "> quoted",
    ">",
    "Bob> supercite",
    "On Mon, Nov 2, 2026 at 9:12 AM Bob <bob@example.com> wrote:",
    "On Mon, Nov 2, 2026 at 9:12 AM",
    "Bob <bob@example.com>",
    "wrote:",
    "> wrote:",
    "Am 02.11.2026 um 09:12 schrieb Bob <bob@example.com>:",
    "---------- Forwarded message ---------",
    "-----Original Message-----",
    "Begin forwarded message:",
    "From: Bob <bob@example.com>",
    "Sent: Monday, November 2, 2026",
    "To: Ana",
    "Subject: order",
    "Sent from my iPhone",
    "bob@example.com",
    "+1 555 0100",
    "2016-03-03 17:21 GMT+01:00 Some One",
    "\t> tabbed",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(INTERESTING_LINES), st.text(max_size=30)), max_size=40))
def test_nothing_is_thrown_away(lines: list[str]) -> None:
    body = "\n".join(lines)
    assert_nothing_lost(body, split_text(body))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_nothing_is_thrown_away_on_any_text(body: str) -> None:
    assert_nothing_lost(body, split_text(body))


@pytest.mark.parametrize(
    "line",
    [
        "a 1:",  # every line a header candidate
        "On Mon 5 Jan 2016 Bob <b@x.com> wrote:",
        "Thanks,\nBob",  # every line a closer candidate
        "-----\nshort",  # every rule line a signature candidate
        "From: a\nTo: b",  # an endless header block that never qualifies
        "> q\nanswer",
    ],
)
def test_hostile_repetitive_bodies_split_without_losing_a_line(line: str) -> None:
    # Shapes where every line is a candidate header, closer or signature: the worst case for the
    # splitter. Their speed on 2 MB is measured in bench/replies.py (no timed assertions in tests).
    body = (line + "\n") * (200_000 // (len(line) + 1))
    assert_nothing_lost(body, split_text(body))
