"""Which conversation (thread) a message belongs to, by Message-ID, In-Reply-To and References.

This is the first cut: a message joins the thread of the nearest ancestor we know. Every ancestor it
names is registered to that thread too, so a later reply to a message we never saw (a ghost parent)
still finds the conversation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from inboxcrm.core.model import Message


@dataclass(frozen=True, slots=True)
class ThreadChoice:
    """`thread_id` is an existing thread, or None for a new one; `message_ids` all belong to it."""

    thread_id: int | None
    message_ids: tuple[str, ...]


def ancestors(message: Message) -> tuple[str, ...]:
    """The Message-IDs a message replies to, nearest first, without repeats or itself."""
    chain: list[str] = []
    if message.in_reply_to:
        chain.append(message.in_reply_to)
    chain.extend(reversed(message.references))
    seen: set[str] = set()
    ordered: list[str] = []
    for mid in chain:
        if mid not in seen and mid != message.message_id:
            seen.add(mid)
            ordered.append(mid)
    return tuple(ordered)


def choose_thread(message: Message, known: Mapping[str, int]) -> ThreadChoice:
    """Pick the thread for `message` given `known` Message-ID → thread id mappings."""
    own = (message.message_id,) if message.message_id else ()
    related = ancestors(message)
    thread_id = known.get(message.message_id) if message.message_id else None
    if thread_id is None:
        for mid in related:
            if mid in known:
                thread_id = known[mid]
                break
    return ThreadChoice(thread_id=thread_id, message_ids=own + related)
