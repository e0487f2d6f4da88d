from __future__ import annotations

from inboxcrm.core.conversations import ancestors, choose_thread
from inboxcrm.core.model import Message


def msg(mid: str | None, irt: str | None = None, refs: tuple[str, ...] = ()) -> Message:
    return Message(message_id=mid, subject="s", from_=None, in_reply_to=irt, references=refs)


def test_new_conversation_starts_a_thread_and_claims_its_ancestors() -> None:
    choice = choose_thread(msg("c", "b", ("a", "b")), known={})
    assert choice.thread_id is None
    assert choice.message_ids == ("c", "b", "a")


def test_reply_joins_the_nearest_known_ancestor() -> None:
    assert choose_thread(msg("c", "b", ("a", "b")), known={"a": 1, "b": 2}).thread_id == 2
    assert choose_thread(msg("c", None, ("a", "x")), known={"a": 1}).thread_id == 1


def test_reply_to_a_ghost_parent_finds_the_thread() -> None:
    # "b" was never stored, but the first reply named it, so it was registered to thread 7.
    assert choose_thread(msg("d", "b"), known={"b": 7}).thread_id == 7


def test_a_message_seen_before_keeps_its_thread() -> None:
    assert choose_thread(msg("a"), known={"a": 3}).thread_id == 3


def test_ancestors_skip_self_references_and_repeats() -> None:
    assert ancestors(msg("a", "a", ("x", "a", "x"))) == ("x",)
