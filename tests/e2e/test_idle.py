"""IMAP IDLE against a real Dovecot: new mail is fetched the moment it arrives, not at the next poll.

The poll interval is an hour here, so a message stored within the test's bound can only have come through
IDLE. A session cut while waiting in IDLE reconnects (with the usual backoff) and carries on.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from inboxcrm import bootstrap
from inboxcrm.config import parse_settings
from inboxcrm.services.polling import MailboxPoller
from tests.support.blackhole import Blackhole
from tests.support.dovecot import Dovecot, sample_messages
from tests.support.wait import wait_until

pytestmark = pytest.mark.imap

PASSWORD_ENV = "INBOXCRM_TEST_IMAP_PASSWORD"


Run = Callable[..., tuple[bootstrap.App, MailboxPoller]]


@pytest.fixture
def run(tmp_path: Path, dovecot: Dovecot) -> Iterator[Run]:
    """`run(folder, idle=True)` → an app and its poller, running in a thread until the test ends."""
    started: list[tuple[bootstrap.App, threading.Event, threading.Thread]] = []

    def start(
        folder: str,
        idle: bool = True,
        poll_interval: str = "1h",
        port: int | None = None,
        idle_renew: str = "5m",
        timeout: str = "5s",
    ) -> tuple[bootstrap.App, MailboxPoller]:
        dovecot.create_folder(folder)
        config = f"""
[database]
url = "sqlite:///{tmp_path / "inboxcrm.db"}"

[[mailboxes]]
name = "support"
kind = "support"
addresses = ["support@northwind.example"]
host = "{dovecot.host}"
port = {port or dovecot.port}
security = "none"
user = "{dovecot.user}"
password_env = "{PASSWORD_ENV}"
folders = ["{folder}"]
poll_interval = "{poll_interval}"
idle = {"true" if idle else "false"}
idle_renew = "{idle_renew}"
timeout = "{timeout}"
"""
        file = tmp_path / "inboxcrm.toml"
        file.write_text(config)
        environ = {PASSWORD_ENV: dovecot.password}
        app = bootstrap.build(parse_settings(config, str(file), environ))
        bootstrap.prepare_database(app)
        [poller] = bootstrap.pollers(app, environ)
        stop = threading.Event()
        thread = threading.Thread(target=poller.run, args=(stop,), daemon=True)
        thread.start()
        started.append((app, stop, thread))
        return app, poller

    yield start
    for app, stop, thread in started:
        stop.set()
        thread.join(30)
        app.close()


def test_mail_appended_while_waiting_in_idle_is_stored_without_a_poll(run: Run, dovecot: Dovecot) -> None:
    folder = f"idle{uuid.uuid4().hex[:8]}"
    app, poller = run(folder)
    wait_until(lambda: poller.health.last_success is not None, "the first poll")
    first_poll = poller.health.last_success

    for index, raw in enumerate(sample_messages(3, seed=501)):
        dovecot.append_many(folder, [raw])
        expected = index + 1
        wait_until(
            lambda n=expected: app.reads.status()["messages"] == n, f"message {expected} (a poll is an hour away)"
        )

    assert poller.health.ok and poller.health.failures_in_a_row == 0
    assert poller.health.last_success is not None and first_poll is not None


def test_a_session_cut_during_idle_reconnects_and_carries_on(run: Run, dovecot: Dovecot) -> None:
    folder = f"idle{uuid.uuid4().hex[:8]}"
    app, poller = run(folder)
    wait_until(lambda: poller.health.last_success is not None, "the first poll")
    dovecot.append_many(folder, sample_messages(1, seed=502))
    wait_until(lambda: app.reads.status()["messages"] == 1, "the first message")

    dovecot.kick()  # every session of the user is cut, as a server restart or a network break would
    wait_until(lambda: poller.health.failures_in_a_row > 0, "the cut to be noticed")
    dovecot.append_many(folder, sample_messages(2, seed=502, start=1))

    wait_until(lambda: app.reads.status()["messages"] == 3, "the messages after the reconnect")
    assert poller.health.ok


def test_without_idle_the_folder_is_polled(run: Run, dovecot: Dovecot) -> None:
    folder = f"poll{uuid.uuid4().hex[:8]}"
    app, poller = run(folder, idle=False, poll_interval="0.3s")
    dovecot.append_many(folder, sample_messages(2, seed=503))
    wait_until(lambda: app.reads.status()["messages"] == 2, "the polled messages")
    assert poller.health.ok


def test_a_silent_connection_is_noticed_at_the_idle_renewal(run: Run, dovecot: Dovecot) -> None:
    """The connection goes silent without closing (tests/support/blackhole.py): ending IDLE at the renewal
    gets no answer within the socket timeout, so the poller reconnects and mail flows again."""
    folder = f"idle{uuid.uuid4().hex[:8]}"
    with Blackhole(dovecot.host, dovecot.port) as proxy:
        app, poller = run(folder, port=proxy.port, idle_renew="2s", timeout="2s")
        wait_until(lambda: poller.health.last_success is not None, "the first poll")
        proxy.freeze()
        dovecot.append_many(folder, sample_messages(2, seed=504))
        wait_until(lambda: poller.health.failures_in_a_row > 0, "the silence to be noticed")
        error = poller.health.last_error or ""
        wait_until(lambda: app.reads.status()["messages"] == 2, "the messages after the reconnect")
    assert "timed out" in error, error
