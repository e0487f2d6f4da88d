"""The tsvector literal PostgreSQL's index is written with: each term once with its positions in order (at
most 255 of them), the parts' weights, parts apart, positions clamped at PostgreSQL's limit, quotes and
backslashes escaped; as the straightforward form makes it, and as PostgreSQL itself reads it."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from inboxcrm.core.search_vector import tsvector
from tests.conftest import POSTGRES_ADMIN_URL

MAX_POSITION = 16383


def plain(parts: Sequence[Sequence[str]], weights: str = "ABCD") -> str:
    positions: dict[str, list[str]] = {}
    at = 1
    for terms, weight in zip(parts, weights, strict=False):
        for term in terms:
            found = positions.setdefault(term, [])
            if len(found) < 255:
                found.append(f"{min(at, MAX_POSITION)}{weight}")
            at += 1
        at += 1
    quoted = {term: term.replace("\\", "\\\\").replace("'", "''") for term in positions}
    return " ".join(f"'{quoted[term]}':{','.join(where)}" for term, where in positions.items())


WORDS = st.sampled_from(["ab", "o'neil", "c:\\x", "drill", "é", "the", "x"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(WORDS, max_size=40), min_size=1, max_size=4))
def test_the_literal_is_the_straightforward_one(parts: list[list[str]]) -> None:
    assert tsvector(parts) == plain(parts)


def test_long_texts_repeats_and_positions_past_the_limits() -> None:
    body = [f"w{n % 500}" for n in range(20_000)] + ["drill"] * 300
    parts = [["carol"], ["ana", "ben"], ["printer", "fire"], body]
    assert tsvector(parts) == plain(parts)
    assert tsvector([body], "D") == plain([body], "D")


def test_postgresql_reads_it_back() -> None:
    engine = create_engine(POSTGRES_ADMIN_URL)
    try:
        with engine.connect() as c:
            literal = tsvector([["o'neil"], ["c:\\x"], ["drill", "drill"], ["fire"]])
            back = c.execute(text("SELECT CAST(:v AS tsvector)::text"), {"v": literal}).scalar()
    finally:
        engine.dispose()
    assert back == "'c:\\\\x':3B 'drill':5C,6C 'fire':8 'o''neil':1A"  # D, the default weight, goes unsaid
