"""The tsvector literal PostgreSQL's full-text index is written with, made from our own index terms
(core/search_text.py). Pure string formatting, so the parsing processes can make it next to the terms and
the daemon only writes it (issue 18: it was ~8% of the daemon's storing on PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence

MAX_POSITION = 16383  # PostgreSQL's limit; it clamps larger positions to it, so do we

# "1A", "2A" …: a position's label, made once (a message has ~750 terms: formatting each was ~0.3 ms of the
# daemon's time per message on PostgreSQL). Positions past the table are formatted as they come.
_LABELS = {weight: [f"{at}{weight}" for at in range(4096)] for weight in "ABCD"}


def tsvector(parts: Sequence[Sequence[str]], weights: str = "ABCD") -> str:
    """Terms of each part → a tsvector literal, positions in order, parts apart (no phrase spans two parts);
    each term at most 255 positions, as PostgreSQL keeps."""
    positions: dict[str, list[str]] = {}
    at = 1
    for terms, weight in zip(parts, weights, strict=False):
        labels = _LABELS[weight]
        for term in terms:
            label = labels[at] if at < 4096 else f"{min(at, MAX_POSITION)}{weight}"
            found = positions.get(term)
            if found is None:
                positions[term] = [label]
            elif len(found) < 255:
                found.append(label)
            at += 1
        at += 1
    return " ".join(f"'{lexeme_quoted(term)}':{','.join(where)}" for term, where in positions.items())


def lexeme_quoted(term: str) -> str:
    """`term` as it is written between quotes in a tsvector or tsquery literal."""
    if "'" not in term and "\\" not in term:  # folded words almost never hold either
        return term
    return term.replace("\\", "\\\\").replace("'", "''")
