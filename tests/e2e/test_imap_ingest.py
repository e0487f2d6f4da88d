"""IMAP mail all the way into SQLite: a real private Dovecot, the real config, bootstrap and poller.

Messages go in by IMAP APPEND; what comes out is read through the app's read side. Each test polls
its own folder of the shared server and has its own database.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest

from inboxcrm import bootstrap
from inboxcrm.config import parse_settings
from inboxcrm.services.polling import MailboxPoller
from tests.support import wait
from tests.support.dovecot import Dovecot, sample_messages

pytestmark = pytest.mark.imap

PASSWORD_ENV = "INBOXCRM_TEST_IMAP_PASSWORD"
GARBAGE = b"garbage without headers\r\n"
wait_until = partial(wait.wait_until, timeout=90.0)  # this module's waits allow 90 s, not 60


@pytest.fixture
def folder(dovecot: Dovecot) -> str:
    name = f"e{uuid.uuid4().hex[:10]}"
    dovecot.create_folder(name)
    return name


Build = Callable[..., tuple[bootstrap.App, MailboxPoller]]


@pytest.fixture
def build(tmp_path: Path, dovecot: Dovecot, folder: str) -> Iterator[Build]:
    """`build()` → a new App and its poller for one IMAP mailbox on `folder`, all on the same SQLite file."""
    apps: list[bootstrap.App] = []

    def make(batch_size: int = 3, extra: str = "") -> tuple[bootstrap.App, MailboxPoller]:
        config = f"""
[database]
url = "sqlite:///{tmp_path / "inboxcrm.db"}"

[team]
addresses = ["ana@northwind.example"]
domains = ["northwind.example"]

[[mailboxes]]
name = "support"
kind = "support"
addresses = ["support@northwind.example"]
source = "imap"
host = "{dovecot.host}"
port = {dovecot.port}
security = "none"
user = "{dovecot.user}"
password_env = "{PASSWORD_ENV}"
folders = ["{folder}"]
batch_size = {batch_size}
poll_interval = 0.2
timeout = "10s"
{extra}
"""
        file = tmp_path / "inboxcrm.toml"
        file.write_text(config)
        environ = {PASSWORD_ENV: dovecot.password}
        app = bootstrap.build(parse_settings(config, str(file), environ))
        apps.append(app)
        bootstrap.prepare_database(app)
        [poller] = bootstrap.pollers(app, environ)
        return app, poller

    yield make
    for app in apps:
        app.close()


def header(raw: bytes, name: str) -> str:
    return str(email.message_from_bytes(raw, policy=email.policy.default)[name])


def message_ids(raws: list[bytes]) -> Counter[str]:
    return Counter(header(raw, "Message-ID").strip("<>") for raw in raws)


def stored_message_ids(app: bootstrap.App) -> Counter[str]:
    return Counter(mid.strip("<>") for _, _, mids in app.reads.all_threads() for mid in mids)


def cursor(app: bootstrap.App, folder: str) -> tuple[int, int]:
    [(mailbox, cursor_folder, uidvalidity, last_uid, _)] = app.reads.cursors()
    assert (mailbox, cursor_folder) == ("support", folder)
    return uidvalidity, last_uid


def test_the_poller_ingests_appended_messages(dovecot: Dovecot, folder: str, build: Build) -> None:
    raws = sample_messages(8, seed=101)
    uids = dovecot.append_many(folder, raws)
    app, poller = build()

    with poller.open_source() as source:
        result = poller.poll_once(source)

    assert (result.fetched, result.stored, result.duplicates, result.quarantined) == (8, 8, 0, 0)
    counts = app.reads.status()
    assert counts["messages"] == counts["raw_messages"] == 8
    assert counts["quarantined"] == 0
    assert stored_message_ids(app) == message_ids(raws)
    assert cursor(app, folder) == (dovecot.uidvalidity(folder), uids[-1])

    # One sender's timeline holds exactly that sender's messages, newest first.
    sender = email.utils.parseaddr(header(raws[0], "From"))[1]
    theirs = [raw for raw in raws if email.utils.parseaddr(header(raw, "From"))[1] == sender]
    [contact] = app.reads.contacts(email=sender).items
    timeline = app.reads.timeline(contact.id).items
    inbound = [entry for entry in timeline if entry.kind == "message_in"]
    assert sorted(entry.summary for entry in inbound) == sorted(header(raw, "Subject") for raw in theirs)
    assert all(entry.message and entry.message.message_id for entry in inbound)
    assert {(e.message.message_id or "").strip("<>") for e in inbound if e.message} == set(message_ids(theirs))
    assert [entry.at for entry in inbound] == sorted((entry.at for entry in inbound), reverse=True)

    # Reading the folder left the messages unread on the server.
    assert all(b"\\Seen" not in flags for flags in dovecot.flags(folder).values())


def test_a_restarted_app_resumes_from_the_cursor(dovecot: Dovecot, folder: str, build: Build) -> None:
    first, later = sample_messages(5, seed=102), sample_messages(3, seed=102, start=5)
    dovecot.append_many(folder, first)
    app, poller = build()
    with poller.open_source() as source:
        assert poller.poll_once(source).stored == 5
    app.close()

    uids = dovecot.append_many(folder, later)
    app, poller = build()  # a new process, as far as the database knows
    with poller.open_source() as source:
        result = poller.poll_once(source)

    assert (result.fetched, result.stored, result.duplicates) == (3, 3, 0)
    assert app.reads.status()["messages"] == 8
    assert stored_message_ids(app) == message_ids(first + later)
    assert cursor(app, folder)[1] == uids[-1]

    with poller.open_source() as source:  # nothing new: nothing fetched
        assert poller.poll_once(source).fetched == 0


def test_a_uidvalidity_change_rescans_without_duplicates(dovecot: Dovecot, folder: str, build: Build) -> None:
    raws = sample_messages(4, seed=103)
    dovecot.append_many(folder, raws)
    app, poller = build()
    with poller.open_source() as source:
        assert poller.poll_once(source).stored == 4
    old_uidvalidity, _ = cursor(app, folder)

    new_uidvalidity = dovecot.recreate_folder(folder)
    new = sample_messages(1, seed=103, start=4)
    uids = dovecot.append_many(folder, raws + new)
    with poller.open_source() as source:
        result = poller.poll_once(source)

    assert new_uidvalidity != old_uidvalidity
    assert (result.fetched, result.stored, result.duplicates, result.quarantined) == (5, 1, 4, 0)
    counts = app.reads.status()
    assert counts["messages"] == counts["raw_messages"] == 5
    assert stored_message_ids(app) == message_ids(raws + new)
    assert cursor(app, folder) == (new_uidvalidity, uids[-1])


def test_the_daemon_survives_the_server_going_away(dovecot: Dovecot, folder: str, build: Build) -> None:
    before, after = sample_messages(4, seed=104), sample_messages(5, seed=104, start=4)
    app, poller = build(batch_size=2)
    stop = threading.Event()
    daemon = threading.Thread(target=poller.run, args=(stop,), name="poller", daemon=True)
    daemon.start()
    try:
        dovecot.append_many(folder, before)
        wait_until(lambda: app.reads.status()["messages"] == 4, "the first messages")
        assert poller.health.ok

        dovecot.stop()
        wait_until(lambda: poller.health.failures_in_a_row > 0, "the poller to notice the server is gone")
        failures_seen = poller.health.failures_in_a_row
        assert not poller.health.ok
        assert poller.health.last_error

        dovecot.start()
        dovecot.append_many(folder, after)
        wait_until(lambda: app.reads.status()["messages"] == 9, "the messages appended after the restart")
        wait_until(lambda: poller.health.ok and poller.health.failures_in_a_row == 0, "the poller to recover")
    finally:
        stop.set()
        daemon.join(timeout=30)
        dovecot.start()  # for the next tests, whatever happened here

    assert not daemon.is_alive()
    assert failures_seen > 0
    assert poller.health.last_error is None
    assert poller.health.last_success is not None
    counts = app.reads.status()
    assert counts["messages"] == counts["raw_messages"] == 9
    assert counts["quarantined"] == 0
    assert stored_message_ids(app) == message_ids(before + after)


def test_the_daemon_notices_a_uidvalidity_change_on_its_open_connection(
    dovecot: Dovecot, folder: str, build: Build
) -> None:
    raws = sample_messages(3, seed=107)
    new = sample_messages(1, seed=107, start=3)
    app, poller = build()
    stop = threading.Event()
    daemon = threading.Thread(target=poller.run, args=(stop,), name="poller", daemon=True)
    daemon.start()
    try:
        dovecot.append_many(folder, raws)
        wait_until(lambda: app.reads.status()["messages"] == 3, "the first messages")
        new_uidvalidity = dovecot.recreate_folder(folder)
        uids = dovecot.append_many(folder, raws + new)
        wait_until(lambda: cursor(app, folder) == (new_uidvalidity, uids[-1]), "the cursor to follow the new folder")
    finally:
        stop.set()
        daemon.join(timeout=30)

    assert not daemon.is_alive()
    counts = app.reads.status()
    assert counts["messages"] == counts["raw_messages"] == 4
    assert stored_message_ids(app) == message_ids(raws + new)


def test_a_message_that_is_not_mail_is_quarantined_and_passed(dovecot: Dovecot, folder: str, build: Build) -> None:
    good = sample_messages(4, seed=105)
    uids = dovecot.append_many(folder, [good[0], good[1], GARBAGE, good[2], good[3]])
    app, poller = build(batch_size=2)

    with poller.open_source() as source:
        result = poller.poll_once(source)

    assert (result.fetched, result.stored, result.duplicates, result.quarantined) == (5, 4, 0, 1)
    [held] = app.quarantine.list()
    assert held.raw == GARBAGE
    assert held.mailbox == "support"
    assert held.error
    counts = app.reads.status()
    assert counts["messages"] == 4
    assert counts["raw_messages"] == 5  # the garbage is kept, raw
    assert counts["quarantined"] == 1
    assert stored_message_ids(app) == message_ids(good)
    assert cursor(app, folder)[1] == uids[-1]

    with poller.open_source() as source:  # the cursor is past it: it is not fetched again
        assert poller.poll_once(source).fetched == 0


def test_mark_seen_and_move_to_happen_after_the_commit(dovecot: Dovecot, folder: str, build: Build) -> None:
    archive = f"{folder}-done"
    dovecot.create_folder(archive)
    raws = sample_messages(5, seed=106)
    dovecot.append_many(folder, raws)
    app, poller = build(batch_size=2, extra=f'mark_seen = true\nmove_to = "{archive}"')

    with poller.open_source() as source:
        result = poller.poll_once(source)

    assert result.stored == 5
    assert app.reads.status()["messages"] == 5
    assert dovecot.uids(folder) == []
    assert sorted(dovecot.messages(archive).values()) == sorted(raws)
    assert all(b"\\Seen" in flags for flags in dovecot.flags(archive).values())
