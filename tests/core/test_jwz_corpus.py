"""JWZ threading against notmuch's threading corpus and the trees notmuch's T510 test expects for it.

The expected file holds notmuch-tree views: one line per message (date, author, box-drawing tree, subject,
tags). notmuch shows only real messages: a ghost is replaced by its children, and siblings are in date
order. We render our trees the same way and compare them exactly, identifying each message by
(date, author, subject) as the view shows them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from inboxcrm.core.jwz import ThreadNode, message_keys, thread, walk
from inboxcrm.core.model import Message
from inboxcrm.core.parsing import parse_message

Entry = tuple[str, str, str]  # (date as YYYY-MM-DD in UTC, author, subject with whitespace runs collapsed)
Tree = tuple[Entry, tuple["Tree", ...]]

NOTMUCH = Path("notmuch-corpora")
EXPECTED = NOTMUCH / "expected" / "T510-threading-corpus.expected.txt"


@dataclass(frozen=True)
class Subtest:
    name: str
    command: str
    expected: tuple[str, ...]

    @property
    def query_id(self) -> str:
        found = re.search(r"\bid:([^\s\"')]+)", self.command)
        assert found, f"no id: query in {self.command!r}"
        return found.group(1)


def parse_subtests(text: str) -> list[Subtest]:
    """The `=== subtest:` blocks of the expected file: name, command and expected output lines."""
    subtests: list[Subtest] = []
    for block in re.split(r"^=== subtest: ", text, flags=re.MULTILINE)[1:]:
        name, _, rest = block.partition("\n")
        command, _, expected = rest.partition("--- expected:\n")
        assert command.startswith("--- command:\n"), block
        lines = tuple(line for line in expected.splitlines() if line.strip())
        subtests.append(Subtest(name.strip(), command.removeprefix("--- command:\n").strip(), lines))
    return subtests


# notmuch-tree's default line: date "%12s  ", authors "%-20s", " " + tree and subject, " (tags)".
_TREE_LINE = re.compile(
    r"^(?P<date>.{12})  (?P<author>.{20}) (?P<tree>[ │├╰┬─]*)►(?P<subject>.*?) *\((?P<tags>[^()]*)\)$"
)


def _collapse(text: str) -> str:
    # Our parser makes runs of whitespace in headers one space (RFC 5322 unfolding); notmuch keeps them.
    return " ".join(text.split())


def parse_tree_view(lines: Sequence[str]) -> list[Tree]:
    """The forest a notmuch-tree view draws. Depth is the length of the drawing before "►" minus two (the
    sibling connector and the has-replies mark); both marks are checked against the structure found."""
    rows: list[tuple[int, Entry, bool, bool]] = []  # depth, entry, drawn as last sibling, drawn with replies
    for line in lines:
        if line == "End of search results.":
            continue
        match = _TREE_LINE.match(line)
        assert match, f"not a notmuch-tree line: {line!r}"
        drawing = match["tree"]
        depth = len(drawing) - 2
        assert depth >= 0, line
        entry = (match["date"].strip(), match["author"].strip(), _collapse(match["subject"]))
        rows.append((depth, entry, drawing[depth] in "╰ ", drawing[depth + 1] == "┬"))

    forest: list[Tree] = []
    # Open subtrees as (entry, children being collected); the stack index is the depth.
    stack: list[tuple[Entry, list[Tree]]] = []

    def close_to(depth: int) -> None:
        while len(stack) > depth:
            entry, children = stack.pop()
            (stack[-1][1] if stack else forest).append((entry, tuple(children)))

    for index, (depth, entry, last, replies) in enumerate(rows):
        assert depth <= len(stack), f"line {index} jumps from depth {len(stack) - 1} to {depth}"
        close_to(depth)
        stack.append((entry, []))
        following = [d for d, *_ in rows[index + 1 :]]
        assert replies == (bool(following) and following[0] > depth), f"line {index}: reply mark disagrees"
        later_sibling = next((d == depth for d in following if d <= depth), False)
        assert last == (not later_sibling), f"line {index}: last-sibling mark disagrees"
    close_to(0)
    return forest


def outline(forest: Sequence[Tree], depth: int = 0) -> list[str]:
    lines: list[str] = []
    for (date, author, subject), children in forest:
        lines.append(f"{'  ' * depth}{date}  {author:<15} {subject}")
        lines.extend(outline(children, depth + 1))
    return lines


def read_corpus(folder: Path) -> list[tuple[Path, Message]]:
    return [(path, parse_message(path.read_bytes())) for path in sorted(folder.rglob("*")) if path.is_file()]


def entry_of(message: Message) -> Entry:
    assert message.date is not None
    author = (message.from_.name or message.from_.email) if message.from_ else ""
    return (f"{message.date:%Y-%m-%d}", author.strip(), _collapse(message.subject))


def notmuch_view(node: ThreadNode, by_key: dict[str, Message]) -> list[Tree]:
    """`node` as notmuch shows it: ghosts replaced by their children, in place."""
    children = [tree for child in node.children for tree in notmuch_view(child, by_key)]
    if not node.present:
        return children
    return [(entry_of(by_key[node.message_id]), tuple(children))]


def tree_containing(roots: Sequence[ThreadNode], message_id: str) -> ThreadNode:
    for root in roots:
        if any(node.message_id == message_id for _, node in walk([root])):
            return root
    raise AssertionError(f"{message_id} is in no thread")


@pytest.fixture(scope="module")
def subtests(corpora: Path) -> list[Subtest]:
    return parse_subtests((corpora / EXPECTED).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def threaded(corpora: Path) -> tuple[list[ThreadNode], dict[str, Message]]:
    # T510 loads the whole threading/ folder into one database, so we thread it as one mailbox.
    messages = [message for _, message in read_corpus(corpora / NOTMUCH / "test" / "corpora" / "threading")]
    assert len(messages) == 12
    return thread(messages), dict(zip(message_keys(messages), messages, strict=True))


def test_tree_view_parser_reads_the_drawing() -> None:
    lines = [
        "  2016-06-19  Gregor Zattler       ┬┬►FYI: a  b                                      (inbox unread)",
        "  2016-06-19   via RT              │╰─►[x #1] AutoReply: FYI (inbox unread)",
        "  2016-06-26   via RT              ╰─►Resolved (inbox)",
        "End of search results.",
    ]
    assert parse_tree_view(lines) == [
        (("2016-06-19", "Gregor Zattler", "FYI: a b"), ((("2016-06-19", "via RT", "[x #1] AutoReply: FYI"), ()),)),
        (("2016-06-26", "via RT", "Resolved"), ()),
    ]
    with pytest.raises(AssertionError, match="reply mark"):
        parse_tree_view([lines[0]])


def test_t510_tree_views_match_exactly(
    subtests: list[Subtest], threaded: tuple[list[ThreadNode], dict[str, Message]]
) -> None:
    roots, by_key = threaded
    views = [s for s in subtests if "notmuch-tree" in s.command]
    assert len(views) == 3, [s.name for s in subtests]
    mismatches: list[str] = []
    for subtest in views:
        expected = parse_tree_view(subtest.expected)
        ours = notmuch_view(tree_containing(roots, subtest.query_id), by_key)
        if ours != expected:
            mismatches.append(
                f"{subtest.name}:\n  expected:\n    "
                + "\n    ".join(outline(expected))
                + "\n  ours:\n    "
                + "\n    ".join(outline(ours))
            )
    print(f"\nT510 tree views matched: {len(views) - len(mismatches)}/{len(views)}")
    assert not mismatches, "\n".join(mismatches)


def test_t510_first_subject_of_each_thread(
    subtests: list[Subtest], threaded: tuple[list[ThreadNode], dict[str, Message]]
) -> None:
    # `notmuch show --entire-thread | grep ^Subject: | head -1`: the first message of the thread in order.
    roots, by_key = threaded
    queries = [s for s in subtests if s.command.startswith("notmuch show")]
    assert len(queries) == 2, [s.name for s in subtests]
    matched = 0
    for subtest in queries:
        root = tree_containing(roots, subtest.query_id)
        first = next(node for _, node in walk([root]) if node.present)
        matched += [f"Subject: {_collapse(by_key[first.message_id].subject)}"] == [_collapse(subtest.expected[0])]
    print(f"\nT510 first-subject queries matched: {matched}/{len(queries)}")
    assert matched == len(queries)


def _thread_within(messages: list[Message], seconds: float) -> list[ThreadNode]:
    """`thread(messages)`, failing (instead of hanging the suite) if it does not finish in time."""
    result: list[list[ThreadNode]] = []
    worker = threading.Thread(target=lambda: result.append(thread(messages)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "thread() did not finish: a loop?"
    assert result, "thread() raised (see the thread's traceback above)"
    return result[0]


def test_broken_corpus_threads(corpora: Path) -> None:
    found = read_corpus(corpora / NOTMUCH / "test" / "corpora" / "broken")
    messages = [message for _, message in found]
    roots = _thread_within(messages, 10)
    assert sorted(n.message_id for _, n in walk(roots) if n.present) == sorted(message_keys(messages))
    # loop-12 and loop-21 name each other as parent: one thread, the older message at its root.
    loop = tree_containing(roots, "mid-loop-12@example.org")
    assert [(d, n.message_id) for d, n in walk([loop])] == [
        (0, "mid-loop-12@example.org"),
        (1, "mid-loop-21@example.org"),
    ]


def test_duplicate_corpus_threads(corpora: Path) -> None:
    found = read_corpus(corpora / NOTMUCH / "test" / "corpora" / "duplicate")
    messages = [message for _, message in found]
    roots = _thread_within(messages, 10)
    keys = message_keys(messages)
    assert len(messages) == 9
    assert sorted(n.message_id for _, n in walk(roots) if n.present) == sorted(keys)
    # Three Message-IDs among nine files: msg-1-* share one, msg-2-* another, msg-3-* a third.
    assert len({m.message_id for m in messages}) == 3
    assert len(set(keys)) == 9
    # msg-2-1 and msg-2-2 share a Message-ID and a parent nobody has: siblings under that ghost.
    ghost = tree_containing(roots, "87vcch7hxy.fsf@naesten.dyndns.org")
    assert not ghost.present
    assert [c.present for c in ghost.children] == [True, True]


def test_all_notmuch_corpora_together(corpora: Path) -> None:
    messages = [m for _, m in read_corpus(corpora / NOTMUCH / "test" / "corpora")]
    roots = _thread_within(messages, 10)
    assert sorted(n.message_id for _, n in walk(roots) if n.present) == sorted(message_keys(messages))
    assert len(messages) == 4 + 9 + 12
