"""Raw bytes → everything the core can read from them, in one pure step (the unit a parsing process runs)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from inboxcrm.core.analysis import Analysis, analyse
from inboxcrm.core.fingerprint import content_hash
from inboxcrm.core.model import Message
from inboxcrm.core.parsing import parse_message, unreadable_reason


@dataclass(frozen=True, slots=True)
class Reading:
    """A raw message read: its content hash, the message and its analysis, or why it is unreadable."""

    content_hash: str
    message: Message | None
    analysis: Analysis | None
    problem: str | None


def read_raw(raw: bytes) -> Reading:
    """Hash, parse and analyse `raw`. Never raises: a bug quarantines one message, not a mailbox."""
    digest = content_hash(raw)
    try:
        message = parse_message(raw)
    except Exception as exc:
        return Reading(digest, None, None, f"parser error: {type(exc).__name__}: {exc}")
    problem = unreadable_reason(message)
    return Reading(digest, message, None if problem else analyse(message, raw), problem)


def read_many(raws: Sequence[bytes]) -> list[Reading]:
    """`read_raw` over a list (the unit of work sent to a parsing process)."""
    return [read_raw(raw) for raw in raws]
