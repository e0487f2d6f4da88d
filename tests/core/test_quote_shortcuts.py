"""The quote splitter's shortcuts change no split.

`read_raw` runs the splitter on every message, so its per-line checks take shortcuts (issue 18): the
"… wrote:" test reads the reversed line with one anchored match, and the forward scan skips lines that
have neither a colon nor "--" before trying its expressions. Here the straightforward checks are put back
and every body of the shared corpora and of a generated mailbox must split exactly as before.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inboxcrm.core.parsing import parse_message
from inboxcrm.core.quotes import BodyParts, forward_block, headers, split_html, split_text

_VERBS = [*headers._WORD_VERBS, *headers._GLUED_VERBS]
_PIECES = [
    *_VERBS,
    *(verb.upper() for verb in _VERBS),
    *" \t\n:：.-)(@>",
    "--",
    "  ",
    "ſ",  # matches "s" when case is ignored
    "İ",
    "Bob ",
    "On Tue, 5 May 2015 ",
    "x",
    "é",
    "1",
]


def _ends_with_verb(text: str) -> bool:
    """The check as it was: a search for "… wrote:" at the end of the text, tried at every position."""
    return headers._VERB_END_RE.search(text) is not None


def _may_end_header(c: str) -> bool:
    return (
        c[-1] in ":：>-" or _ends_with_verb(c[-48:]) or (c[0].isdigit() and headers._ISO_GMAIL_RE.match(c) is not None)
    )


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=3)), max_size=8).map("".join))
def test_the_reversed_match_finds_what_the_search_finds(text: str) -> None:
    assert (headers._REVERSED_VERB_END_RE.match(text[::-1]) is not None) == _ends_with_verb(text)


@pytest.mark.parametrize(
    ("line", "ends"),
    [
        ("On Tue, 5 May 2015 at 10:00, Bob <bob@example.com> wrote:", True),
        ("Am 28.04.2017 um 11:53 schrieb Jeff <jeff@example.com>:", False),  # the verb is not at the end
        ("Le 4 janv. 2016, Ana a   écrit :", True),
        ("张三写道：", True),
        ("2015-10-18 0:17 GMT+03:00 Matt 님이 작성:", True),
        ("2015-10-18 0:17 GMT+03:00 Matt 님이작성:", True),
        ("He rewrote:", False),  # a Latin verb starts a word
        ("Bob WROTE --", True),
        ("Bob wrote: yes", False),
    ],
)
def test_quote_header_endings(line: str, ends: bool) -> None:
    assert _ends_with_verb(line) is ends
    assert (headers._REVERSED_VERB_END_RE.match(line[::-1]) is not None) is ends


def _bodies(corpora: Path, generated_mail: list[Path]) -> tuple[list[str], list[str]]:
    """The text and HTML bodies of every file of the corpora and of a generated mailbox."""
    files = [*generated_mail, *sorted(p for p in corpora.rglob("*") if p.is_file())]
    messages = [parse_message(path.read_bytes()) for path in files]
    texts = [m.text for m in messages if m.text.strip()]
    htmls = [m.html for m in messages if m.html]
    # The corpora's own files read as bodies (the reply fixtures are bodies, not messages).
    texts += [path.read_text("utf-8", "replace") for path in files if path.suffix in (".txt", ".eml", "")]
    return texts, htmls


def _split_all(texts: list[str], htmls: list[str]) -> list[BodyParts]:
    return [split_text(text) for text in texts] + [split_html(html) for html in htmls]


def test_the_shortcuts_change_no_split(
    corpora: Path, generated_mail: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    texts, htmls = _bodies(corpora, generated_mail)
    assert len(texts) > 1000 and len(htmls) > 100
    fast = _split_all(texts, htmls)
    monkeypatch.setattr(headers, "_may_end_header", _may_end_header)
    monkeypatch.setattr(forward_block, "_may_open_block", lambda c: True)
    assert _split_all(texts, htmls) == fast
