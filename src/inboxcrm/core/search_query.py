"""The search box's syntax → a `SearchQuery`: what to match in the index, and what to filter on.

    invoice refund              both words (in any part of the message: sender, recipients, subject, body)
    "late delivery"             the words next to each other, in this order
    invo*                       a word starting with "invo"
    refund OR credit            either word
    -newsletter  -"do not"      not this word / phrase
    from:ana  from:"Ana Alves"  in the sender (name or address: from:acme.com finds anyone @acme.com)
    to:billing@acme.com         in the recipients (To and Cc)
    subject:invoice             in the subject
    mailbox:support             on this mailbox (repeat for any of several)
    after:2024-05-01            sent on or after that day (UTC)
    before:2024-06-01           sent before that day (UTC)
    has:attachment              with an attachment (-has:attachment: without)
    is:ticket                   in a thread that has a ticket (-is:ticket: not)

Words are folded and stemmed as the index's are (`core/search_text.py`). Operators are case-insensitive; an
operator that is almost a known one (`frm:ana`) is refused with a suggestion, anything else with a colon is
text. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from inboxcrm.core.search_text import Analyzer, Wanted, fold
from inboxcrm.core.tomlfile import closest

OPERATORS = ("from", "to", "subject", "mailbox", "after", "before", "has", "is")
_PARTS = {"from": "sender", "to": "recipients", "subject": "subject"}
_ITEM = re.compile(r'(-?)(?:([A-Za-z_]+):)?(?:"([^"]*)"?|(\S+))')


class QueryProblem(ValueError):
    """A query we cannot read: the message says what is wrong and what would be right."""


@dataclass(frozen=True, slots=True)
class Term:
    """Index terms to find: one term, or a phrase (terms next to each other). `part` limits it to a part of
    the message (`sender`, `recipients`, `subject`; None: any); `prefix`: the last term is a prefix."""

    terms: tuple[str, ...]
    part: str | None = None
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """Every clause must match (a clause matches when any of its terms does), no `excluded` term may;
    then the filters. `terms` empty and `excluded` empty: the filters alone."""

    clauses: tuple[tuple[Term, ...], ...] = ()
    excluded: tuple[Term, ...] = ()
    mailboxes: tuple[str, ...] = ()
    not_mailboxes: tuple[str, ...] = ()
    after: date | None = None
    before: date | None = None
    has_attachment: bool | None = None
    is_ticket: bool | None = None

    @property
    def empty(self) -> bool:
        return self == SearchQuery()

    def wanted(self) -> Wanted:
        """The terms snippets mark: every term the query looks for (not the excluded ones)."""
        exact: set[str] = set()
        prefixes: list[str] = []
        for clause in self.clauses:
            for term in clause:
                if term.prefix:
                    exact.update(term.terms[:-1])
                    prefixes.append(term.terms[-1])
                else:
                    exact.update(term.terms)
        return Wanted(frozenset(exact), tuple(prefixes))


def _date(operator: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise QueryProblem(f"{operator}: takes a date such as 2024-05-31, got {value!r}") from None


def parse_query(text: str, analyzer: Analyzer) -> SearchQuery:
    """Read a query (see the module's docstring); raises `QueryProblem` when it cannot be read."""
    clauses: list[list[Term]] = []
    excluded: list[Term] = []
    filters: dict[str, object] = {}
    mailboxes: list[str] = []
    not_mailboxes: list[str] = []
    join_next = False
    for match in _ITEM.finditer(text.strip()[:2000]):
        negated, operator, quoted, bare = match.group(1) == "-", match.group(2), match.group(3), match.group(4)
        value = quoted if quoted is not None else (bare or "")
        if operator is None and quoted is None and value == "OR":
            join_next = bool(clauses)
            continue
        name = operator.lower() if operator is not None else None
        if name is not None and name not in OPERATORS:
            meant = closest(name, OPERATORS)
            if meant is not None and len(name) > 1:
                raise QueryProblem(f"unknown operator {operator}: (did you mean {meant}:?)")
            value, name = f"{operator}:{value}", None  # text with a colon, such as a time "10:30"
        if name in ("after", "before"):
            filters[name] = _date(name, value)
            continue
        if name in ("has", "is"):
            wanted = {"has": "attachment", "is": "ticket"}[name]
            if value.lower() != wanted:
                raise QueryProblem(f"{name}: takes {wanted} ({name}:{wanted}), got {value!r}")
            filters[f"{name}_{wanted}"] = not negated
            continue
        if name == "mailbox":
            (not_mailboxes if negated else mailboxes).append(value.strip().lower())
            continue
        terms = tuple(analyzer.terms(value))
        if not terms:
            continue
        prefix = quoted is None and value.endswith("*") and len(terms) >= 1
        if prefix:  # the stem of a prefix is not a prefix: "invoic*" must find "invoicing"
            last = analyzer.terms(value.rstrip("*"))
            stems = [fold(w) for w in re.findall(r"[^\W_]+", value.rstrip("*"))]
            terms = (*last[:-1], stems[-1]) if last and stems else terms
        term = Term(terms, _PARTS.get(name) if name else None, prefix)
        if negated:
            excluded.append(term)
        elif join_next and clauses:
            clauses[-1].append(term)
        else:
            clauses.append([term])
        join_next = False
    return SearchQuery(
        clauses=tuple(tuple(c) for c in clauses),
        excluded=tuple(excluded),
        mailboxes=tuple(mailboxes),
        not_mailboxes=tuple(not_mailboxes),
        after=filters.get("after"),  # type: ignore[arg-type]
        before=filters.get("before"),  # type: ignore[arg-type]
        has_attachment=filters.get("has_attachment"),  # type: ignore[arg-type]
        is_ticket=filters.get("is_ticket"),  # type: ignore[arg-type]
    )
