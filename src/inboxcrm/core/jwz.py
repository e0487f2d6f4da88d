"""Conversation trees from Message-ID, References and In-Reply-To, after Jamie Zawinski's threading
algorithm (https://www.jwz.org/doc/threading.html), checked against notmuch's threading test corpus.

How `thread` reads the headers:

- Every message gets one container, keyed by its Message-ID (`message_keys`: a message without one, and
  every later copy of a repeated one, gets a synthetic key, so each message appears exactly once).
- A message's parent chain is its References, then its In-Reply-To when that is not already the last
  reference. So when the two disagree, In-Reply-To names the parent (notmuch's "parent-priority" case:
  a mangled References must not detach a reply from the message it answers).
- Consecutive references imply parent links, but only for containers that have no parent yet; a message's
  own last parent replaces an implied one. An implied link that would close a loop is not made; when a
  message's own parent sits below it (A says B is its parent, B says A), the older claim gives way, so
  the older of two such messages is the root. References loops and self-references cannot hang or recurse.
- Parents that were referenced but not given (ghosts) stay in the tree while they have children: two
  replies to a missing message remain one conversation, as in notmuch. Unlike JWZ's pruning step, ghosts
  inside a tree are not spliced out either, so a tree shows where a message is missing; a reader that
  wants notmuch's view replaces each ghost by its children.
- Grouping roots by subject (JWZ's step 5) is optional and off by default: inboxcrm merges by subject only
  within a time window and among the same participants, and that rule lives with the ingest.

Messages are processed in date order, so the trees do not depend on the order of `messages` (except which
copy of a repeated Message-ID keeps it). Everything is iterative: a 10,000-message reply chain is fine.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from typing import TypeAlias

from inboxcrm.core.model import Message
from inboxcrm.core.subjects import has_reply_prefix, normalise_subject

# Sort key for a date: dated before undated; naive datetimes are read as UTC so they compare with aware ones.
_When: TypeAlias = tuple[bool, datetime]
_UNDATED: _When = (True, datetime.min.replace(tzinfo=UTC))


@dataclass(frozen=True, slots=True)
class ThreadNode:
    """One message in a conversation tree, or a ghost (`present` False): a parent that replies name but that
    was not among the messages. A ghost always has children.

    `message_id` is the message's key from `message_keys` (its Message-ID unless missing or repeated); for a
    ghost it is the referenced Message-ID, or `<subject …>` for a group made by subject. Children are in date
    order. Equality, hashing and repr do not recurse, so trees of any depth can be compared and printed.
    """

    message_id: str
    present: bool
    children: tuple[ThreadNode, ...] = ()
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Children exist before their parent, so their hashes are known: computing ours is O(children).
        child_hashes = tuple(child._hash for child in self.children)
        object.__setattr__(self, "_hash", hash((self.message_id, self.present, child_hashes)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ThreadNode):
            return NotImplemented
        pairs = [(self, other)]
        while pairs:
            left, right = pairs.pop()
            if left is right:
                continue
            if (
                left._hash != right._hash
                or left.message_id != right.message_id
                or left.present != right.present
                or len(left.children) != len(right.children)
            ):
                return False
            pairs.extend(zip(left.children, right.children, strict=True))
        return True

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[type[ThreadNode], tuple[str, bool, tuple[ThreadNode, ...]]]:
        # Rebuild through __init__: string hashes differ between processes, so the cached one must not travel.
        return (ThreadNode, (self.message_id, self.present, self.children))

    def __repr__(self) -> str:
        out: list[str] = []
        pending: list[ThreadNode | str] = [self]
        while pending:
            item = pending.pop()
            if isinstance(item, str):
                out.append(item)
                continue
            out.append(f"ThreadNode(message_id={item.message_id!r}, present={item.present!r}, children=(")
            pending.append(",))" if len(item.children) == 1 else "))")
            for index in range(len(item.children) - 1, -1, -1):
                pending.append(item.children[index])
                if index:
                    pending.append(", ")
        return "".join(out)


def walk(roots: Iterable[ThreadNode]) -> Iterator[tuple[int, ThreadNode]]:
    """Every node under `roots` with its depth (roots are 0), depth first in tree order."""
    stack = [(0, root) for root in reversed(list(roots))]
    while stack:
        depth, node = stack.pop()
        yield depth, node
        stack.extend((depth + 1, child) for child in reversed(node.children))


def message_keys(messages: Sequence[Message]) -> list[str]:
    """The id under which each message appears in `thread`'s trees, in input order: its Message-ID, except
    that a message without one and every later copy of a repeated one get a synthetic id such as
    `<no Message-ID #3>` or `<duplicate #5 of a@b>` (3 and 5 are input positions). Parsed Message-IDs
    never contain spaces or angle brackets, so a synthetic id cannot be mistaken for a real one."""
    taken = {message.message_id for message in messages if message.message_id}
    keys: list[str] = []
    claimed: set[str] = set()
    for index, message in enumerate(messages):
        mid = message.message_id
        if mid and mid not in claimed:
            claimed.add(mid)
            keys.append(mid)
            continue
        key = f"<duplicate #{index} of {mid}>" if mid else f"<no Message-ID #{index}>"
        while key in taken:  # only a hand-built Message-ID could look like this
            key += "'"
        taken.add(key)
        keys.append(key)
    return keys


@dataclass(eq=False, slots=True)
class _Container:
    """JWZ's container: a message (or None for a ghost) with mutable links, only while threading."""

    key: str
    message: Message | None = None
    parent: _Container | None = None
    # A dict keeps insertion order and makes unlinking O(1); keys are unique across containers.
    children: dict[str, _Container] = field(default_factory=dict)

    def adopt(self, child: _Container) -> None:
        if child.parent is not None:
            del child.parent.children[child.key]
        child.parent = self
        self.children[child.key] = child

    def orphan(self) -> None:
        if self.parent is not None:
            del self.parent.children[self.key]
            self.parent = None


def _is_ancestor_or_self(candidate: _Container, node: _Container) -> bool:
    """Whether `candidate` is `node` or above it: linking `node` → `candidate` as child would close a loop."""
    if not candidate.children:  # the common case when messages arrive in date order: nothing below it
        return candidate is node
    current: _Container | None = node
    while current is not None:  # parent links never form a cycle, so this ends
        if current is candidate:
            return True
        current = current.parent
    return False


def _when(value: datetime | None) -> _When:
    if value is None:
        return _UNDATED
    return (False, value if value.tzinfo is not None else value.replace(tzinfo=UTC))


def _parent_chain(message: Message, key: str) -> list[str]:
    """The ids `message` names as its ancestors, oldest first; the last one is its parent."""
    own = {key, message.message_id}
    chain = [ref for ref in message.references if ref and ref not in own]
    irt = message.in_reply_to
    if irt and irt not in own and (not chain or chain[-1] != irt):
        chain.append(irt)
    return chain


def thread(messages: Sequence[Message], *, by_subject: bool = False) -> list[ThreadNode]:
    """The conversation trees of `messages`: every message exactly once as a present node (under the id
    `message_keys` gives it), ghosts for referenced parents that have replies here. Roots are ordered by
    the earliest date in their tree, then id; siblings by date (a ghost by the earliest date below it),
    then id; undated messages come after dated ones. With `by_subject`, roots with the same normalised
    subject are grouped as JWZ describes. Never raises on odd headers, never loops."""
    keys = message_keys(messages)
    table: dict[str, _Container] = {}

    def container(key: str) -> _Container:
        found = table.get(key)
        if found is None:
            found = table[key] = _Container(key)
        return found

    for index in sorted(range(len(messages)), key=lambda i: (_when(messages[i].date), keys[i])):
        message, key = messages[index], keys[index]
        this = container(key)
        this.message = message
        chain = _parent_chain(message, key)
        for older, newer in pairwise(chain):
            parent, child = container(older), container(newer)
            # JWZ: an existing link is kept (it may be the message's own word); a loop is never closed.
            if child.parent is None and not _is_ancestor_or_self(child, parent):
                parent.adopt(child)
        if chain:
            # The message's own statement beats a parent implied by someone else's References.
            this.orphan()
            parent = container(chain[-1])
            if parent is this:  # _parent_chain drops our own ids; adopting ourselves would break every walk
                continue
            if _is_ancestor_or_self(this, parent):
                # A loop (A says B is its parent, B says A). Messages come in date order, so what put the
                # parent below us was an older message's claim on a newer one, or a link implied by
                # References: the weaker word. It gives way (of A and B above, the older becomes the root).
                parent.orphan()
            parent.adopt(this)

    _drop_childless_ghosts(table)
    roots = [c for c in table.values() if c.parent is None and (c.message is not None or c.children)]
    if by_subject:
        roots = _group_by_subject(roots, set(table))
    return _freeze(roots)


def _drop_childless_ghosts(table: dict[str, _Container]) -> None:
    """Remove ghosts left without children (their only child's own parent claim moved it, or a link to them
    was refused as a loop), and any ghost that thereby loses its last child: they join nothing."""
    for start in list(table.values()):
        current: _Container | None = start
        while current is not None and current.message is None and not current.children:
            parent = current.parent
            current.orphan()
            table.pop(current.key, None)
            current = parent


def _subject_of(root: _Container) -> tuple[str, bool] | None:
    """(normalised subject, whether it has a reply prefix) of a root; a ghost takes its earliest child's."""
    message = root.message
    if message is None:
        present = [child.message for child in root.children.values() if child.message is not None]
        if not present:
            return None
        message = min(present, key=lambda m: _when(m.date))
    normalised = normalise_subject(message.subject)
    return (normalised, has_reply_prefix(message.subject)) if normalised else None


def _group_by_subject(roots: list[_Container], used_keys: set[str]) -> list[_Container]:
    """JWZ step 5: join roots that share a normalised subject. The table prefers a ghost, then a subject
    without "Re:", as the one others attach to; two originals with the same subject become siblings
    under a new ghost keyed `<subject …>`."""
    subjects = {root.key: _subject_of(root) for root in roots}
    table: dict[str, _Container] = {}
    for root in roots:
        found = subjects[root.key]
        if found is None:
            continue
        normalised, is_reply = found
        old = table.get(normalised)
        if (
            old is None
            or (old.message is not None and root.message is None)
            or (old.message is not None and root.message is not None and _is_reply(subjects, old) and not is_reply)
        ):
            table[normalised] = root

    top = {root.key: root for root in roots}
    for root in roots:
        found = subjects[root.key]
        if found is None or root.key not in top:
            continue
        normalised, is_reply = found
        other = table[normalised]
        if other is root:
            continue
        if other.message is None and root.message is None:
            for child in list(root.children.values()):
                other.adopt(child)
            del top[root.key]
        elif other.message is None or (is_reply and not _is_reply(subjects, other)):
            # Under the ghost of the subject, or a reply under the original ("Re: x" under "x").
            other.adopt(root)
            del top[root.key]
        else:
            # Two originals (or two replies) with one subject: neither is the other's parent.
            key = f"<subject {normalised}>"
            while key in used_keys:
                key += "'"
            used_keys.add(key)
            group = _Container(key)
            group.adopt(other)
            group.adopt(root)
            del top[other.key], top[root.key]
            top[key] = group
            table[normalised] = group
    return list(top.values())


def _is_reply(subjects: dict[str, tuple[str, bool] | None], root: _Container) -> bool:
    found = subjects.get(root.key)
    return found is not None and found[1]


def _freeze(roots: list[_Container]) -> list[ThreadNode]:
    """Immutable, ordered trees from the containers, built bottom-up without recursion."""
    # key → (node, earliest date in its tree, its place among siblings)
    built: dict[str, tuple[ThreadNode, _When, _When]] = {}
    stack = [(root, False) for root in roots]
    while stack:
        current, expanded = stack.pop()
        if not expanded:
            stack.append((current, True))
            stack.extend((child, False) for child in current.children.values())
            continue
        kids = sorted((built.pop(child.key) for child in current.children.values()), key=_sibling_order)
        own = _when(current.message.date) if current.message is not None else _UNDATED
        earliest = min([own, *(kid[1] for kid in kids)])
        node = ThreadNode(current.key, current.message is not None, tuple(kid[0] for kid in kids))
        built[current.key] = (node, earliest, own if not own[0] else earliest)
    ordered = sorted((built[root.key] for root in roots), key=lambda b: (b[1], b[0].message_id))
    return [entry[0] for entry in ordered]


def _sibling_order(entry: tuple[ThreadNode, _When, _When]) -> tuple[_When, str]:
    return entry[2], entry[0].message_id
