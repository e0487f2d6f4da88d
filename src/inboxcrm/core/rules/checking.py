"""What the parts of the rule compiler share: reading texts and names out of a rule file's data, reporting
problems on their lines, and showing values in messages."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from typing import Any

from inboxcrm.core.rules.conditions import Namespace
from inboxcrm.core.rules.vocabulary import Vocabulary
from inboxcrm.core.tomlfile import Checker, Loc, Problem, suggest


def type_name(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return "text"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def shown_value(value: object) -> str:
    text = repr(value) if not isinstance(value, dict | list) else type_name(value)
    return text if len(text) <= 60 else text[:57] + "…"


def quoted_list(values: Sequence[str], joiner: str = "or") -> str:
    shown = [repr(v) for v in values]
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + f" {joiner} " + shown[-1]


def glob_regex(patterns: Sequence[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))


def first_glob(patterns: Sequence[str], values: Iterable[str]) -> tuple[str, str] | None:
    for value in values:
        for pattern in patterns:
            if fnmatch.fnmatchcase(value, pattern):
                return value, pattern
    return None


class RuleChecker(Checker):
    """What every part of the rule compiler shares: the file's problems, the names rules may use, the
    constants of the rule being compiled, and reading texts and names out of the TOML data."""

    def __init__(self, file: str, vocabulary: Vocabulary, problems: list[Problem]) -> None:
        super().__init__(file, problems)
        self.vocabulary = vocabulary
        self.ns = Namespace()

    def strings(self, value: Any, loc: Loc, what: str = "text") -> list[tuple[str, Loc]] | None:
        """A string or a non-empty list of non-empty strings, each with its location."""
        items = [(value, loc)] if isinstance(value, str) else None
        if isinstance(value, list):
            items = [(v, (*loc, i)) for i, v in enumerate(value)]
        if items is None:
            self.problem(loc, f"expected {what} or a list of them, got {shown_value(value)}", 'e.g. "x" or ["x", "y"]')
            return None
        if not items:
            self.problem(loc, "an empty list matches nothing", f"give at least one {what}")
            return None
        ok = True
        for item, where in items:
            if not isinstance(item, str):
                self.problem(where, f"expected {what}, got {shown_value(item)}", "put text in quotes")
                ok = False
            elif not item.strip():
                self.problem(where, "empty text", f"give a {what}, or remove the line")
                ok = False
        return [(item.strip(), where) for item, where in items] if ok else None

    def known(self, items: list[tuple[str, Loc]], known: Iterable[str], what: str) -> bool:
        choices = list(known)
        lowered = {c.lower() for c in choices}
        ok = True
        for item, where in items:
            if item.lower() not in lowered:
                self.problem(where, f"unknown {what} {item!r}", suggest(item, choices, what))
                ok = False
        return ok
