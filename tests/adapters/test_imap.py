"""ImapSource against a real, private Dovecot: login, UIDVALIDITY, fetching by UID, flags and moves."""

from __future__ import annotations

import gc
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest

from inboxcrm.adapters.imap import ImapAccount, ImapSource, connect
from inboxcrm.core.alerts import LoginRefused
from tests.support.dovecot import Dovecot, free_port, sample_messages

pytestmark = pytest.mark.imap

SEEN = b"\\Seen"


@pytest.fixture
def folder(dovecot: Dovecot) -> str:
    """A fresh, empty folder of our own on the shared server."""
    name = f"t{uuid.uuid4().hex[:10]}"
    dovecot.create_folder(name)
    return name


@pytest.fixture
def account(dovecot: Dovecot) -> ImapAccount:
    return ImapAccount(
        host=dovecot.host, port=dovecot.port, user=dovecot.user, password=dovecot.password, security="none", timeout=10
    )


@pytest.fixture
def source(account: ImapAccount) -> Iterator[ImapSource]:
    with ImapSource(account) as opened:
        yield opened


def test_connect_logs_in_with_imaplib_debug_off(account: ImapAccount) -> None:
    client = connect(account)
    try:
        # imapclient turns imaplib's debug level to 5, which formats every response line: ~4x slower.
        assert client._imap.debug == 0
        assert client._imap.state == "AUTH"
        assert client.list_folders()  # a logged-in session answers commands
    finally:
        client.logout()


def test_source_keeps_imaplib_debug_off(source: ImapSource) -> None:
    assert source.client._imap.debug == 0


@pytest.mark.filterwarnings("error::ResourceWarning", "error::pytest.PytestUnraisableExceptionWarning")
def test_wrong_password_raises_a_login_error_and_closes_the_socket(account: ImapAccount) -> None:
    # The daemon retries a wrong password forever (with backoff): each attempt must not leak a socket.
    # LoginRefused (not a network error): a refused login is an alert at once, not after alert_after
    with pytest.raises(LoginRefused, match="Authentication failed"):
        ImapSource(replace(account, password="not-the-password"))
    gc.collect()


def test_no_server_raises_a_connection_error(account: ImapAccount) -> None:
    with pytest.raises(ConnectionRefusedError):
        ImapSource(replace(account, port=free_port()))


def test_uidvalidity_is_the_servers(dovecot: Dovecot, source: ImapSource, folder: str) -> None:
    assert source.uidvalidity(folder) == dovecot.uidvalidity(folder)


def test_recreating_a_folder_changes_its_uidvalidity(dovecot: Dovecot, account: ImapAccount, folder: str) -> None:
    with ImapSource(account) as source:
        before = source.uidvalidity(folder)
    after = dovecot.recreate_folder(folder)
    with ImapSource(account) as source:
        assert source.uidvalidity(folder) == after != before


def test_empty_folder_yields_nothing(source: ImapSource, folder: str) -> None:
    assert list(source.fetch_after(folder, 0, 10)) == []


def test_fetch_after_returns_newer_uids_in_batches_with_exact_bytes(
    dovecot: Dovecot, source: ImapSource, folder: str
) -> None:
    raws = sample_messages(7, seed=11)
    uids = dovecot.append_many(folder, raws)
    by_uid = dict(zip(uids, raws, strict=True))

    batches = list(source.fetch_after(folder, uids[2], 2))

    assert [[m.uid for m in batch] for batch in batches] == [uids[3:5], uids[5:7]]
    for batch in batches:
        for fetched in batch:
            assert fetched.raw == by_uid[fetched.uid]


def test_fetch_after_zero_returns_everything_in_uid_order(dovecot: Dovecot, source: ImapSource, folder: str) -> None:
    raws = sample_messages(7, seed=12)
    uids = dovecot.append_many(folder, raws)

    batches = list(source.fetch_after(folder, 0, 3))

    assert [len(batch) for batch in batches] == [3, 3, 1]
    assert [m.uid for batch in batches for m in batch] == uids
    assert [m.raw for batch in batches for m in batch] == raws


def test_fetch_after_the_last_uid_returns_nothing(dovecot: Dovecot, source: ImapSource, folder: str) -> None:
    uids = dovecot.append_many(folder, sample_messages(3, seed=13))
    # IMAP's "n:*" matches the highest UID even when it is below n; the source must not return it.
    assert list(source.fetch_after(folder, uids[-1], 10)) == []
    assert list(source.fetch_after(folder, uids[-1] + 100, 10)) == []


def test_fetch_sees_messages_appended_on_the_same_connection(dovecot: Dovecot, source: ImapSource, folder: str) -> None:
    first = dovecot.append_many(folder, sample_messages(2, seed=14))
    assert [m.uid for b in source.fetch_after(folder, 0, 10) for m in b] == first
    later = dovecot.append_many(folder, sample_messages(2, seed=14, start=2))
    source.uidvalidity(folder)  # what sync_folder does before every pass
    assert [m.uid for b in source.fetch_after(folder, first[-1], 10) for m in b] == later


def test_fetching_does_not_mark_messages_seen(dovecot: Dovecot, account: ImapAccount, folder: str) -> None:
    uids = dovecot.append_many(folder, sample_messages(4, seed=15))
    for settings in (account, replace(account, mark_seen=True)):  # read-only and read-write selects
        with ImapSource(settings) as source:
            fetched = [m.uid for batch in source.fetch_after(folder, 0, 2) for m in batch]
        assert fetched == uids
        assert all(SEEN not in flags for flags in dovecot.flags(folder).values())


def test_after_commit_with_mark_seen_flags_only_those_messages(
    dovecot: Dovecot, account: ImapAccount, folder: str
) -> None:
    uids = dovecot.append_many(folder, sample_messages(4, seed=16))
    with ImapSource(replace(account, mark_seen=True)) as source:
        batch = next(source.fetch_after(folder, 0, 2))
        source.after_commit(folder, [m.uid for m in batch])

    flags = dovecot.flags(folder)
    assert {uid for uid, f in flags.items() if SEEN in f} == set(uids[:2])


def test_after_commit_without_options_changes_nothing(dovecot: Dovecot, source: ImapSource, folder: str) -> None:
    uids = dovecot.append_many(folder, sample_messages(2, seed=17))
    source.after_commit(folder, uids)
    assert set(dovecot.flags(folder)) == set(uids)
    assert all(SEEN not in f for f in dovecot.flags(folder).values())


def test_after_commit_with_move_to_moves_the_messages(dovecot: Dovecot, account: ImapAccount, folder: str) -> None:
    archive = f"{folder}-archive"
    dovecot.create_folder(archive)
    raws = sample_messages(5, seed=18)
    uids = dovecot.append_many(folder, raws)
    with ImapSource(replace(account, move_to=archive)) as source:
        batch = next(source.fetch_after(folder, 0, 3))
        source.after_commit(folder, [m.uid for m in batch])

    assert sorted(dovecot.messages(folder).values()) == sorted(raws[3:])
    assert sorted(dovecot.messages(archive).values()) == sorted(raws[:3])
    assert dovecot.uids(folder) == uids[3:]


def test_a_missing_move_to_folder_is_created_before_anything_is_fetched(
    dovecot: Dovecot, account: ImapAccount, folder: str
) -> None:
    archive = f"{folder}-not-yet"
    raws = sample_messages(2, seed=20)
    uids = dovecot.append_many(folder, raws)
    with ImapSource(replace(account, move_to=archive)) as source:
        source.after_commit(folder, uids)
    assert sorted(dovecot.messages(archive).values()) == sorted(raws)


def test_after_commit_with_mark_seen_and_move_to(dovecot: Dovecot, account: ImapAccount, folder: str) -> None:
    archive = f"{folder}-archive"
    dovecot.create_folder(archive)
    raws = sample_messages(2, seed=19)
    uids = dovecot.append_many(folder, raws)
    with ImapSource(replace(account, mark_seen=True, move_to=archive)) as source:
        source.after_commit(folder, uids)

    assert dovecot.uids(folder) == []
    assert sorted(dovecot.messages(archive).values()) == sorted(raws)
    assert all(SEEN in f for f in dovecot.flags(archive).values())


def test_close_after_the_server_went_away_does_not_raise(dovecot: Dovecot, account: ImapAccount) -> None:
    source = ImapSource(account)
    dovecot.stop()
    try:
        source.close()
    finally:
        dovecot.start()
    with ImapSource(account) as again:  # and the restarted server takes new sessions
        assert again.client._imap.state == "AUTH"
