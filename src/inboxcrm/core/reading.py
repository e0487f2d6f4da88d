"""Raw bytes → everything the core can read from them, in one pure step (the unit a parsing process runs)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from inboxcrm.core.analysis import Analysis, analyse
from inboxcrm.core.fingerprint import content_hash
from inboxcrm.core.limits import DEFAULT_MAX_MESSAGE_BYTES, bound, too_large
from inboxcrm.core.model import Message
from inboxcrm.core.parsing import parse_bounded, unreadable_reason
from inboxcrm.core.search_text import Analyzer, IndexedText, indexed_text


@dataclass(frozen=True, slots=True)
class Reading:
    """A raw message read: its content hash, the message and its analysis, or why it is unreadable; and
    its search index terms when a search language was given."""

    content_hash: str
    message: Message | None
    analysis: Analysis | None
    problem: str | None
    indexed: IndexedText | None = None


# One analyzer per language and process: its memo of folded and stemmed words is what makes indexing cheap.
_ANALYZERS: dict[str, Analyzer] = {}


def _analyzer(language: str) -> Analyzer:
    found = _ANALYZERS.get(language)
    if found is None:
        found = _ANALYZERS[language] = Analyzer(language)
    return found


def read_raw(
    raw: bytes, max_bytes: int = DEFAULT_MAX_MESSAGE_BYTES, language: str | None = None, vectors: bool = False
) -> Reading:
    """Hash, parse and analyse `raw` (and, with a search `language`, make its index terms; with `vectors`,
    also PostgreSQL's tsvector literal of them). Never raises: a
    bug quarantines one message, not a mailbox. A message over `max_bytes` is not read at all (it is
    quarantined with the reason, raw); hostile mail under it is read within the bounds of core/limits.py."""
    digest = content_hash(raw)
    oversized = too_large(raw, max_bytes)
    if oversized is not None:
        return Reading(digest, None, None, oversized)
    try:
        bounded = bound(raw)
        message = parse_bounded(bounded)
    except Exception as exc:
        return Reading(digest, None, None, f"parser error: {type(exc).__name__}: {exc}")
    problem = unreadable_reason(message)
    if problem:
        return Reading(digest, message, None, problem)
    indexed = indexed_text(_analyzer(language), message, vectors) if language else None
    return Reading(digest, message, analyse(message, bounded.raw), problem, indexed)


def read_many(
    raws: Sequence[bytes], max_bytes: int = DEFAULT_MAX_MESSAGE_BYTES, language: str | None = None,
    vectors: bool = False,
) -> list[Reading]:  # fmt: skip
    """`read_raw` over a list (the unit of work sent to a parsing process)."""
    return [read_raw(raw, max_bytes, language, vectors) for raw in raws]
