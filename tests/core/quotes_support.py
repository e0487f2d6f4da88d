"""What the body-splitter tests (tests/core/test_quotes_*.py) share: a `Case` (a body and the parts it must split
into), `check` (the parts are those) and `assert_nothing_lost` (every non-blank line of the body is in exactly
one part)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from inboxcrm.core.quotes import BodyParts


@dataclass(frozen=True)
class Case:
    """`body` must split into exactly `new` and `signature`; `quoted` / `forwarded` must start with the given text."""

    name: str
    body: str
    new: str
    quoted: str = ""
    signature: str = ""
    forwarded: str = ""


def non_blank_lines(*texts: str) -> Counter[str]:
    lines: Counter[str] = Counter()
    for text in texts:
        lines.update(s for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if (s := line.strip()))
    return lines


def assert_nothing_lost(body: str, result: BodyParts) -> None:
    parts = (result.new_text, result.quoted, result.signature, result.forwarded)
    assert non_blank_lines(*parts) == non_blank_lines(body)


def check(case: Case, result: BodyParts) -> None:
    assert result.new_text == case.new
    assert result.signature == case.signature
    assert result.quoted.startswith(case.quoted) and bool(result.quoted) == bool(case.quoted), result.quoted
    assert result.forwarded.startswith(case.forwarded) and bool(result.forwarded) == bool(case.forwarded)
