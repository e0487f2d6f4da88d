"""Alerts that reach a person: a real Dovecot stopped and started, a real aiosmtpd receiving the alert mail.

One mail when the incident begins (however many retries fail meanwhile), one when it ends; `/health` and
`/metrics` say the same. A revoked refresh token is an incident at once, with what to do about it.
"""

from __future__ import annotations

import email
import email.policy
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from inboxcrm import bootstrap, daemon
from inboxcrm.adapters import token_store
from inboxcrm.adapters.db.incidents import SqlIncidents
from inboxcrm.config import parse_settings
from inboxcrm.web.app import Features, create_app
from tests.support.dovecot import Dovecot, start_dovecot
from tests.support.oauth_idp import IdentityProvider
from tests.support.smtpd import SmtpServer

pytestmark = pytest.mark.imap

ADMIN = "ops@northwind.example"
TOKEN = {"Authorization": "Bearer t"}


def subjects(server: SmtpServer) -> list[str]:
    return [str(email.message_from_bytes(r.raw, policy=email.policy.default)["Subject"]) for r in server.received]


def build(tmp_path: Path, server: Dovecot, smtp: SmtpServer, mailbox_extra: str) -> bootstrap.App:
    config = f"""
[database]
url = "sqlite:///{tmp_path / "inboxcrm.db"}"

[outbox]
transport = "smtp"
host = "{smtp.host}"
port = {smtp.port}
security = "none"
interval = "1s"

[alerts]
to = ["{ADMIN}"]
alert_after = "1s"

[[mailboxes]]
name = "support"
kind = "support"
addresses = ["support@northwind.example"]
host = "{server.host}"
port = {server.port}
security = "none"
user = "{server.user}"
poll_interval = "1h"
timeout = "5s"
{mailbox_extra}
"""
    file = tmp_path / "inboxcrm.toml"
    file.write_text(config)
    app = bootstrap.build(parse_settings(config, str(file), {"IMAP_PASSWORD": server.password}))
    bootstrap.prepare_database(app)
    return app


Start = Callable[[bootstrap.App, dict[str, str]], daemon.Daemon]


@pytest.fixture
def running() -> Iterator[Start]:
    """`running(app, environ)`: the daemon's pollers and lease thread, started; its ticks are the test's."""
    stops: list[tuple[threading.Event, list[threading.Thread], bootstrap.App]] = []

    def start(app: bootstrap.App, environ: dict[str, str]) -> daemon.Daemon:
        watch = daemon.prepare(app, environ)
        stop = threading.Event()
        stops.append((stop, watch.start(stop), app))
        return watch

    yield start
    for stop, threads, app in stops:
        stop.set()
        for thread in threads:
            thread.join(30)
        app.close()


def tick_until(watch: daemon.Daemon, app: bootstrap.App, predicate: Callable[[], bool], what: str) -> None:
    """Run the alert and outbox ticks (as the daemon's scheduler does) until `predicate`."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        watch.alerts.tick()
        app.dispatcher.dispatch()
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def health_and_metrics(app: bootstrap.App, watch: daemon.Daemon) -> tuple[dict[str, object], dict[str, float]]:
    web = create_app(
        app.reads,
        {"t": "t"},
        lambda: [p.health for p in watch.pollers],
        features=Features(incidents=SqlIncidents(app.engine).open_now),
    )
    with TestClient(web) as client:
        health = client.get("/health").json()
        text = client.get("/metrics", headers=TOKEN).text
    incidents = {
        dict(s.labels)["key"]: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "inboxcrm_incident_open"
    }
    return health, incidents


def test_one_mail_when_a_mailbox_breaks_and_one_when_it_works_again(
    tmp_path: Path, smtp_server: SmtpServer, running: Start
) -> None:
    server = start_dovecot(tmp_path / "dovecot")
    try:
        app = build(tmp_path, server, smtp_server, 'password_env = "IMAP_PASSWORD"')
        watch = running(app, {"IMAP_PASSWORD": server.password})
        [poller] = watch.pollers
        tick_until(watch, app, lambda: poller.health.last_success is not None, "the first poll")

        server.stop()
        tick_until(watch, app, lambda: len(smtp_server.received) == 1, "the alert mail")
        failures = poller.health.failures_in_a_row
        tick_until(watch, app, lambda: poller.health.failures_in_a_row > failures, "another failed retry")
        health, open_metrics = health_and_metrics(app, watch)
        assert len(smtp_server.received) == 1  # not one per retry
        assert subjects(smtp_server) == ["[inboxcrm] mailbox support is failing"]
        assert smtp_server.received[0].rcpt_tos == (ADMIN,)
        raw = smtp_server.received[0].raw
        assert b"Auto-Submitted: auto-generated" in raw and b"X-InboxCRM-Outbox" in raw  # nothing answers it
        assert health["status"] == "degraded"
        assert [i["key"] for i in health["incidents"]] == ["mailbox:support"]  # type: ignore[index]
        assert open_metrics == {"mailbox:support": 1.0}

        server.start()
        tick_until(watch, app, lambda: len(smtp_server.received) == 2, "the recovery mail")
        for _ in range(3):
            watch.alerts.tick()
            app.dispatcher.dispatch()
        health, open_metrics = health_and_metrics(app, watch)
        assert subjects(smtp_server) == [
            "[inboxcrm] mailbox support is failing",
            "[inboxcrm] mailbox support works again",
        ]
        assert health["status"] == "ok" and health["incidents"] == []
        assert open_metrics == {}
    finally:
        server.stop()


def test_a_revoked_refresh_token_is_an_incident_at_once(
    tmp_path: Path, smtp_server: SmtpServer, running: Start
) -> None:
    idp = IdentityProvider().start()
    server = start_dovecot(tmp_path / "dovecot", introspection_url=f"{idp.url}/introspect")
    try:
        refresh = idp.refresh_token_for(server.user)
        idp.revoke_refresh_token(refresh)
        token_store.save(tmp_path / "tokens.json", refresh)
        app = build(
            tmp_path,
            server,
            smtp_server,
            f"""auth = "oauth2"
[mailboxes.oauth2]
provider = "generic"
token_url = "{idp.token_url}"
client_id = "{idp.client_id}"
token_file = "{tmp_path / "tokens.json"}"
""",
        )
        watch = running(app, {})
        tick_until(watch, app, lambda: len(smtp_server.received) == 1, "the alert mail")
        body = email.message_from_bytes(smtp_server.received[0].raw, policy=email.policy.default)
        text = body.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "invalid_grant" in text and "inboxcrm auth support" in text
        health, open_metrics = health_and_metrics(app, watch)
        assert health["status"] == "degraded"
        assert [(i["key"], i["problem"]) for i in health["incidents"]] == [("mailbox:support", "token")]  # type: ignore[index]
        assert open_metrics == {"mailbox:support": 1.0}
    finally:
        server.stop()
        idp.stop()
