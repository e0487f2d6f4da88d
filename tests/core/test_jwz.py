"""JWZ threading: reply chains, ghosts, loops, missing and repeated Message-IDs, and order."""

from __future__ import annotations

import pickle
import random
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from inboxcrm.core.jwz import ThreadNode, message_keys, thread, walk
from inboxcrm.core.model import Message

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def msg(
    mid: str | None,
    at: int | None = 0,
    *,
    irt: str | None = None,
    refs: tuple[str, ...] = (),
    subject: str = "Printer on fire",
) -> Message:
    """A message `at` minutes after T0 (None: undated)."""
    date = None if at is None else T0 + timedelta(minutes=at)
    return Message(message_id=mid, subject=subject, from_=None, date=date, in_reply_to=irt, references=refs)


def outline(roots: Sequence[ThreadNode]) -> list[str]:
    """One line per node, two spaces per level; ghosts in parentheses."""
    return ["  " * depth + (node.message_id if node.present else f"({node.message_id})") for depth, node in walk(roots)]


def present_ids(roots: Sequence[ThreadNode]) -> list[str]:
    return [node.message_id for _, node in walk(roots) if node.present]


def test_reply_chain_by_references() -> None:
    messages = [msg("a", 0), msg("b", 1, irt="a", refs=("a",)), msg("c", 2, irt="b", refs=("a", "b"))]
    assert outline(thread(messages)) == ["a", "  b", "    c"]


def test_reply_chain_by_in_reply_to_only() -> None:
    messages = [msg("a", 0), msg("b", 1, irt="a"), msg("c", 2, irt="b")]
    assert outline(thread(messages)) == ["a", "  b", "    c"]


def test_ghost_parent_is_kept() -> None:
    assert thread([msg("b", 1, irt="a", refs=("a",))]) == [
        ThreadNode("a", present=False, children=(ThreadNode("b", present=True),))
    ]


def test_two_replies_to_a_ghost_are_one_thread() -> None:
    messages = [msg("c", 5, refs=("a",)), msg("b", 1, irt="a")]
    assert outline(thread(messages)) == ["(a)", "  b", "  c"]


def test_references_imply_ghost_ancestors() -> None:
    assert outline(thread([msg("d", 0, refs=("a", "b", "c"))])) == ["(a)", "  (b)", "    (c)", "      d"]


def test_a_ghost_between_messages_shows_where_one_is_missing() -> None:
    messages = [msg("a", 0), msg("c", 2, refs=("a", "b"))]
    assert outline(thread(messages)) == ["a", "  (b)", "    c"]


def test_in_reply_to_wins_when_references_disagree() -> None:
    # notmuch's "parent-priority" case: a mangled References must not detach the reply.
    messages = [
        msg("root", 0),
        msg("child", 1, irt="root", refs=("r00t",)),
        msg("grand-child", 2, irt="child", refs=("child", "root")),
    ]
    assert outline(thread(messages)) == ["(r00t)", "  root", "    child", "      grand-child"]


def test_in_reply_to_naming_an_earlier_reference() -> None:
    messages = [msg("a", 0), msg("b", 1, irt="a"), msg("c", 2, irt="a", refs=("a", "b"))]
    assert outline(thread(messages)) == ["a", "  b", "  c"]


def test_own_parent_beats_one_implied_by_other_references() -> None:
    # "d" (clock skewed: dated first, so threaded first) claims b's parent is "x"; b itself says "a".
    messages = [msg("a", 0), msg("b", 1, irt="a"), msg("d", -5, refs=("x", "b"))]
    expected = ["a", "  b", "    d"]
    assert outline(thread(messages)) == expected
    assert outline(thread(messages[::-1])) == expected


def test_implied_parent_for_a_message_without_references() -> None:
    # "a" says nothing about its parent, so d's References may give it one (as JWZ does).
    messages = [msg("a", 0), msg("d", 2, refs=("x", "a"))]
    assert outline(thread(messages)) == ["(x)", "  a", "    d"]


def test_references_loop_terminates_and_keeps_both() -> None:
    # notmuch's broken/loop: each message says the other is its parent. The oldest becomes the root.
    messages = [msg("m12", 0, irt="m21"), msg("m21", 1, irt="m12")]
    assert outline(thread(messages)) == ["m12", "  m21"]
    assert outline(thread(messages[::-1])) == ["m12", "  m21"]


def test_longer_loop_through_references() -> None:
    messages = [msg("a", 0, refs=("c", "b")), msg("b", 1, refs=("a",)), msg("c", 2, refs=("b",))]
    roots = thread(messages)
    assert sorted(present_ids(roots)) == ["a", "b", "c"]
    assert len(roots) == 1


def test_loop_inside_one_references_header() -> None:
    roots = thread([msg("m", 0, refs=("x", "y", "x", "y"))])
    assert sorted(present_ids(roots)) == ["m"]
    assert len(roots) == 1


def test_self_reference_is_ignored() -> None:
    assert thread([msg("a", 0, irt="a", refs=("a", "a"))]) == [ThreadNode("a", present=True)]


def test_missing_message_ids_get_synthetic_ones() -> None:
    messages = [msg(None, 0), msg(None, 1, irt="a"), msg("a", 2)]
    keys = message_keys(messages)
    assert keys == ["<no Message-ID #0>", "<no Message-ID #1>", "a"]
    assert outline(thread(messages)) == ["<no Message-ID #0>", "a", "  <no Message-ID #1>"]


def test_duplicate_message_ids_each_appear_once() -> None:
    # notmuch's duplicate/: the same Message-ID on different content. The first copy keeps the id.
    messages = [msg("a", 0, subject="first"), msg("a", 1, subject="second"), msg("b", 2, irt="a")]
    keys = message_keys(messages)
    assert keys == ["a", "<duplicate #1 of a>", "b"]
    assert outline(thread(messages)) == ["a", "  b", "<duplicate #1 of a>"]


def test_duplicate_with_its_own_parent() -> None:
    messages = [msg("p", 0), msg("a", 1), msg("a", 2, irt="p")]
    assert outline(thread(messages)) == ["p", "  <duplicate #2 of a>", "a"]


def test_synthetic_ids_cannot_collide_with_hand_built_ones() -> None:
    messages = [msg("<no Message-ID #1>", 0), msg(None, 1)]
    keys = message_keys(messages)
    assert len(set(keys)) == 2
    assert sorted(present_ids(thread(messages))) == sorted(keys)


def test_siblings_by_date_and_roots_by_earliest_date() -> None:
    messages = [
        msg("late-root", 50),
        msg("early-reply-of-late-root", 10, irt="late-root"),  # clock skew pulls its tree forward
        msg("root", 20),
        msg("r3", 40, irt="root"),
        msg("r1", 25, irt="root"),
        msg("r2", 30, irt="root"),
        msg("undated", None),
        msg("tie-b", 60),
        msg("tie-a", 60),
    ]
    assert outline(thread(messages)) == [
        "late-root",
        "  early-reply-of-late-root",
        "root",
        "  r1",
        "  r2",
        "  r3",
        "tie-a",
        "tie-b",
        "undated",
    ]


def test_a_ghost_sorts_by_the_earliest_date_below_it() -> None:
    messages = [msg("a", 0), msg("b", 30, irt="a"), msg("c", 10, refs=("a", "ghost"))]
    assert outline(thread(messages)) == ["a", "  (ghost)", "    c", "  b"]


def test_naive_and_aware_dates_compare() -> None:
    naive = Message("n", "s", None, date=datetime(2026, 3, 2, 8, 0))
    assert outline(thread([msg("a", 0), naive])) == ["n", "a"]


def test_input_order_does_not_matter() -> None:
    messages = [
        msg("a", 0),
        msg("b", 1, refs=("a",)),
        msg("c", 2, refs=("a", "b")),
        msg("d", 3, refs=("zz", "b")),
        msg("e", 4, irt="ghost"),
        msg("f", 5, refs=("ghost", "e")),
        msg("g", None, irt="c"),
    ]
    expected = thread(messages)
    shuffler = random.Random(7)
    for _ in range(20):
        shuffled = messages[:]
        shuffler.shuffle(shuffled)
        assert thread(shuffled) == expected


def test_a_ten_thousand_message_chain_needs_no_recursion() -> None:
    size = 10_000
    messages = [msg(f"m{i}", i, irt=f"m{i - 1}" if i else None) for i in range(size)]
    roots = thread(messages[::-1])
    depths = [depth for depth, _ in walk(roots)]
    assert depths == list(range(size))
    again = thread(messages)
    assert again == roots
    assert hash(again[0]) == hash(roots[0])
    assert repr(roots[0]).count("ThreadNode(") == size
    with_references = [msg(f"m{i}", i, refs=tuple(f"m{j}" for j in range(max(0, i - 50), i))) for i in range(size)]
    assert [depth for depth, _ in walk(thread(with_references))] == list(range(size))


def test_repr_equality_and_hash_of_small_trees() -> None:
    node = ThreadNode("a", True, (ThreadNode("b", True), ThreadNode("c", False, (ThreadNode("d", True),))))
    assert repr(node) == (
        "ThreadNode(message_id='a', present=True, children=(ThreadNode(message_id='b', present=True, children=()), "
        "ThreadNode(message_id='c', present=False, children=(ThreadNode(message_id='d', present=True, children=()),"
        "))))"
    )
    same = ThreadNode("a", True, (ThreadNode("b", True), ThreadNode("c", False, (ThreadNode("d", True),))))
    other = ThreadNode("a", True, (ThreadNode("b", True), ThreadNode("c", False, (ThreadNode("e", True),))))
    assert node == same
    assert hash(node) == hash(same)
    assert node != other
    assert node != "a"
    assert len({node, same, other}) == 2
    assert pickle.loads(pickle.dumps(node)) == node
    assert node.__reduce__()[1] == ("a", True, node.children)  # the cached hash is not pickled


def test_subject_grouping_is_off_by_default() -> None:
    messages = [msg("a", 0, subject="Invoice"), msg("b", 1, subject="Re: Invoice")]
    assert outline(thread(messages)) == ["a", "b"]


def test_subject_grouping_puts_a_reply_under_the_original() -> None:
    messages = [msg("a", 0, subject="Invoice"), msg("b", 1, subject="RE: AW: Invoice"), msg("c", 2, subject="Other")]
    assert outline(thread(messages, by_subject=True)) == ["a", "  b", "c"]


def test_subject_grouping_makes_siblings_of_two_originals() -> None:
    messages = [msg("a", 0, subject="Invoice"), msg("b", 1, subject="invoice")]
    assert outline(thread(messages, by_subject=True)) == ["(<subject invoice>)", "  a", "  b"]


def test_subject_grouping_joins_a_ghost_rooted_thread() -> None:
    messages = [
        msg("b", 1, irt="ghost", subject="Re: Invoice"),
        msg("c", 2, subject="Fwd: Invoice"),
        msg("d", 3, irt="ghost2", subject="Re: Invoice"),
    ]
    assert outline(thread(messages, by_subject=True)) == ["(ghost)", "  b", "  c", "  d"]


def test_subject_grouping_ignores_empty_subjects() -> None:
    messages = [msg("a", 0, subject=""), msg("b", 1, subject="Re:")]
    assert outline(thread(messages, by_subject=True)) == ["a", "b"]


IDS = st.sampled_from([f"m{i}" for i in range(12)])
MESSAGES = st.lists(
    st.builds(
        msg,
        st.one_of(st.none(), IDS),
        st.one_of(st.none(), st.integers(0, 30)),
        irt=st.one_of(st.none(), IDS),
        refs=st.lists(IDS, max_size=6).map(tuple),
        subject=st.sampled_from(["Invoice", "Re: Invoice", "Other", ""]),
    ),
    max_size=25,
)


@settings(max_examples=300, deadline=2000)
@given(MESSAGES, st.booleans())
def test_every_message_appears_exactly_once(messages: list[Message], by_subject: bool) -> None:
    roots = thread(messages, by_subject=by_subject)
    nodes = [node for _, node in walk(roots)]
    assert Counter(node.message_id for node in nodes if node.present) == Counter(message_keys(messages))
    assert len({node.message_id for node in nodes}) == len(nodes)  # a tree: no node twice, no cycle
    assert all(node.children for node in nodes if not node.present)  # ghosts only as parents


@settings(max_examples=200, deadline=2000)
@given(MESSAGES.map(lambda ms: list({m.message_id: m for m in ms if m.message_id}.values())), st.randoms())
def test_trees_do_not_depend_on_input_order(messages: list[Message], shuffler: random.Random) -> None:
    shuffled = messages[:]
    shuffler.shuffle(shuffled)
    assert thread(shuffled) == thread(messages)
    assert thread(shuffled, by_subject=True) == thread(messages, by_subject=True)
