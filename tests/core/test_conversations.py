from __future__ import annotations

import base64

from inboxcrm.core.conversations import ThreadLinker, ancestors, thread_index_key, thread_keys, ticket_token
from inboxcrm.core.model import Message


def msg(mid: str | None, irt: str | None = None, refs: tuple[str, ...] = (), headers: tuple = ()) -> Message:
    return Message(message_id=mid, subject="s", from_=None, in_reply_to=irt, references=refs, headers=headers)


def test_keys_are_own_id_then_nearest_ancestors() -> None:
    assert thread_keys(msg("c", "b", ("a", "b"))) == ("c", "b", "a")


def test_ancestors_skip_self_references_and_repeats() -> None:
    assert ancestors(msg("a", "a", ("x", "a", "x"))) == ("x",)


def test_outlook_thread_index_ties_a_conversation_without_references() -> None:
    root = bytes(range(22))
    first = base64.b64encode(root).decode()
    reply = base64.b64encode(root + b"\x01\x02\x03\x04\x05").decode()
    key = thread_index_key(first)
    assert key is not None and key == thread_index_key(reply)
    assert thread_keys(msg("r", headers=(("Thread-Index", reply),)))[-1] == key
    assert thread_index_key("not base64 at all!") is None
    assert thread_index_key(base64.b64encode(b"short").decode()) is None


def test_ticket_token() -> None:
    assert ticket_token("Re: Printer on fire [#123]") == 123
    assert ticket_token("Re: item #123") is None


def test_linker_keeps_the_oldest_stored_thread() -> None:
    linker = ThreadLinker()
    assert linker.join(-1, 7) == 7  # a stored thread wins over a new one
    assert linker.join(9, 7) == 7  # the older stored thread wins
    assert linker.join(-2, -1) == 7
    assert linker.find(-2) == 7 and linker.find(9) == 7
    assert linker.merged() == {9: 7}
    assert ThreadLinker().join(-3, -2) == -2
