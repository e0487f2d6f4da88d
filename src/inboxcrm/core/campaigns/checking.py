"""What the parts of the campaign compiler share: reading texts, flags and names out of a campaign file's
data, reporting problems on their lines, and showing values in messages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from inboxcrm.core.campaigns.model import CampaignVocabulary
from inboxcrm.core.tomlfile import Checker, Loc, Problem, suggest


def shown_value(value: object) -> str:
    if isinstance(value, bool):  # as written in TOML
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


class CampaignChecker(Checker):
    """Checks one campaign file against the names it may use (`vocabulary`)."""

    def __init__(self, file: str, vocabulary: CampaignVocabulary, problems: list[Problem]) -> None:
        super().__init__(file, problems)
        self.vocabulary = vocabulary

    def flag(self, table: Mapping[str, Any], key: str, loc: Loc, *, default: bool) -> bool | None:
        value = table.get(key, default)
        if not isinstance(value, bool):
            self.problem(
                (*loc, key),
                f"`{key}` must be true or false, got {shown_value(value)}",
                f"{key} = {shown_value(default)}",
            )
            return None
        return value

    def known(self, value: str, loc: Loc, choices: Iterable[str], what: str) -> str | None:
        """The vocabulary's spelling of `value` (names match ignoring case), or None with a problem."""
        options = list(choices)
        for option in options:
            if option.lower() == value.lower():
                return option
        self.problem(loc, f"unknown {what} {value!r}", suggest(value, options, what))
        return None

    def strings(self, value: Any, loc: Loc, what: str) -> list[tuple[str, Loc]] | None:
        """A text or a list of texts, stripped, with where each was written."""
        if isinstance(value, str):
            items: list[tuple[Any, Loc]] = [(value, loc)]
        elif isinstance(value, list):
            items = [(item, (*loc, i)) for i, item in enumerate(value)]
        else:
            self.problem(loc, f"expected {what} or a list of them, got {shown_value(value)}", 'e.g. ["x", "y"]')
            return None
        ok = True
        for item, where in items:
            if not isinstance(item, str) or not item.strip():
                self.problem(where, f"expected {what}, got {shown_value(item)}", "put text in quotes")
                ok = False
        return [(item.strip(), where) for item, where in items] if ok else None
