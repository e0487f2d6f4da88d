"""Which conversation (thread) a message belongs to.

Threads are the connected groups of the Message-ID graph, as in JWZ's algorithm (core/jwz.py builds the
trees): a message joins the thread of any message it names in In-Reply-To or References, and every id it
names, seen or not (a ghost parent), is claimed by that thread. When a message names ids of two threads,
the threads merge (the older survives). Outlook's Thread-Index joins messages of one conversation even
without References. Falling back to the subject (and to a ticket token in the subject) is the caller's
decision, because it needs the stored participants of candidate threads.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field

from inboxcrm.core.model import Message

_TICKET_TOKEN = re.compile(r"\[#(\d{1,12})\]")


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


def thread_index_key(value: str | None) -> str | None:
    """The conversation key of an Outlook Thread-Index header: its first 22 bytes (the root's header)."""
    if not value:
        return None
    try:
        data = base64.b64decode(value.strip() + "=" * (-len(value.strip()) % 4), validate=False)
    except (binascii.Error, ValueError):
        return None
    if len(data) < 22:
        return None
    return "thread-index:" + base64.b64encode(data[:22]).decode()


def thread_keys(message: Message) -> tuple[str, ...]:
    """Every key that ties `message` to a conversation: its own id, the ids it replies to, its Thread-Index."""
    keys = ((message.message_id,) if message.message_id else ()) + ancestors(message)
    index = thread_index_key(message.header("Thread-Index"))
    return (*keys, index) if index else keys


def ticket_token(subject: str) -> int | None:
    """The ticket number in a subject such as `Re: Printer on fire [#123]`, if any."""
    found = _TICKET_TOKEN.search(subject)
    return int(found.group(1)) if found else None


@dataclass
class ThreadLinker:
    """Union-find over thread ids for one batch: negative ids are threads not created yet.

    Joining two stored threads keeps the older (smaller) id; a stored thread wins over a new one.
    """

    _parent: dict[int, int] = field(default_factory=dict)

    def find(self, thread_id: int) -> int:
        root = thread_id
        while self._parent.get(root, root) != root:
            root = self._parent[root]
        while self._parent.get(thread_id, thread_id) != root:  # path compression
            self._parent[thread_id], thread_id = root, self._parent[thread_id]
        return root

    def join(self, first: int, second: int) -> int:
        a, b = self.find(first), self.find(second)
        if a == b:
            return a
        keep, drop = (a, b) if _older(a, b) else (b, a)
        self._parent[drop] = keep
        return keep

    def merged(self) -> dict[int, int]:
        """Stored thread → the stored thread it was merged into (only those that moved)."""
        return {t: self.find(t) for t in self._parent if t > 0 and self.find(t) != t and self.find(t) > 0}


def _older(a: int, b: int) -> bool:
    if (a > 0) != (b > 0):
        return a > 0
    return abs(a) < abs(b) if a < 0 else a < b
