"""OAuth2 (SASL XOAUTH2) against a real Dovecot whose `oauth2` passdb asks a loopback identity provider.

The identity provider is the only part the test plays (tests/support/oauth_idp.py); Dovecot checks every
token with it, the daemon gets its tokens from it through authlib exactly as from Microsoft or Google.
"""

from __future__ import annotations

import json
import os
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from inboxcrm import bootstrap
from inboxcrm.adapters import token_store
from inboxcrm.config import parse_settings
from inboxcrm.services.polling import MailboxPoller
from tests.support.dovecot import Dovecot, sample_messages
from tests.support.oauth_idp import IdentityProvider, idp, oauth_dovecot
from tests.support.wait import wait_until

pytestmark = pytest.mark.imap

__all__ = ["idp", "oauth_dovecot"]  # the fixtures


@pytest.fixture(autouse=True)
def fresh_idp(idp: IdentityProvider) -> None:
    idp.lifetime = 3600.0
    idp.rotate_refresh_tokens = False
    idp.grants.clear()


Build = Callable[[str, str], tuple[bootstrap.App, MailboxPoller]]


@pytest.fixture
def build(tmp_path: Path, oauth_dovecot: Dovecot, idp: IdentityProvider) -> Iterator[Build]:
    """`build(oauth2_table, folder)` → an app and the poller of one XOAUTH2 mailbox reading `folder`."""
    apps: list[bootstrap.App] = []

    def make(oauth2: str, folder: str) -> tuple[bootstrap.App, MailboxPoller]:
        environ = {**os.environ, "IDP_SECRET": idp.client_secret}
        oauth_dovecot.create_folder(folder)
        config = f"""
[database]
url = "sqlite:///{tmp_path / "inboxcrm.db"}"

[[mailboxes]]
name = "support"
kind = "support"
addresses = ["support@northwind.example"]
host = "{oauth_dovecot.host}"
port = {oauth_dovecot.port}
security = "none"
user = "{oauth_dovecot.user}"
auth = "oauth2"
folders = ["{folder}"]
poll_interval = 0.2
idle_renew = "2s"
timeout = "10s"

[mailboxes.oauth2]
{oauth2}
"""
        file = tmp_path / "inboxcrm.toml"
        file.write_text(config)
        app = bootstrap.build(parse_settings(config, str(file), environ))
        apps.append(app)
        bootstrap.prepare_database(app)
        [poller] = bootstrap.pollers(app, environ)
        return app, poller

    yield make
    for app in apps:
        app.close()


def login_methods(server: Dovecot) -> list[str]:
    return [line.split("method=")[1].split(",")[0] for line in server.log_path.read_text().splitlines()
            if "Login: user=" in line and "method=" in line]  # fmt: skip


def test_microsoft_app_only_client_credentials(build: Build, idp: IdentityProvider, oauth_dovecot: Dovecot) -> None:
    oauth_dovecot.append_many("ms-app", sample_messages(3, seed=301))
    _, poller = build(
        f"""provider = "microsoft"
tenant = "northwind.example"
authority = "{idp.url}"
client_id = "{idp.client_id}"
client_secret_env = "IDP_SECRET"
""",
        "ms-app",
    )
    with poller.open_source() as source:
        assert poller.poll_once(source).stored == 3
    assert idp.count("client_credentials") == 1
    assert login_methods(oauth_dovecot)[-1] == "XOAUTH2"


def test_google_service_account_acts_as_the_mailbox(
    build: Build, idp: IdentityProvider, oauth_dovecot: Dovecot, tmp_path: Path
) -> None:
    account = idp.service_account()
    key = tmp_path / "service-account.json"
    key.write_text(json.dumps(account.key_file_json()))
    oauth_dovecot.append_many("google-sa", sample_messages(2, seed=302))
    _, poller = build(f'provider = "google"\nservice_account_file = "{key}"\n', "google-sa")
    with poller.open_source() as source:
        assert poller.poll_once(source).stored == 2
    # the signed assertion named the mailbox as its subject: the token is the mailbox user's
    assert idp.count("urn:ietf:params:oauth:grant-type:jwt-bearer") == 1


def test_generic_endpoint_with_a_refresh_token_from_the_environment(
    build: Build, idp: IdentityProvider, oauth_dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    oauth_dovecot.append_many("generic", sample_messages(2, seed=303))
    refresh = idp.refresh_token_for(oauth_dovecot.user)
    monkeypatch.setenv("GENERIC_REFRESH", refresh)
    _, poller = build(
        f"""provider = "generic"
token_url = "{idp.token_url}"
client_id = "{idp.client_id}"
refresh_token_env = "GENERIC_REFRESH"
""",
        "generic",
    )
    with poller.open_source() as source:
        assert poller.poll_once(source).stored == 2
    assert idp.count("refresh_token") == 1


def test_tokens_expiring_and_refused_mid_session_lose_and_duplicate_nothing(
    build: Build, idp: IdentityProvider, oauth_dovecot: Dovecot, tmp_path: Path
) -> None:
    """Delegated Microsoft sign-in (what `inboxcrm auth` stores): access tokens live 4 s and the refresh
    token rotates, so the session is renewed again and again while mail arrives; once, every token is
    revoked and the session cut, so the next login is refused until a fresh token is fetched."""
    idp.lifetime = 4.0
    idp.rotate_refresh_tokens = True
    first_refresh = idp.refresh_token_for(oauth_dovecot.user)
    token_file = tmp_path / "tokens" / "support.json"
    token_store.save(token_file, first_refresh, provider="microsoft")
    app, poller = build(
        f"""provider = "microsoft"
flow = "refresh_token"
tenant = "northwind.example"
authority = "{idp.url}"
client_id = "{idp.client_id}"
token_file = "{token_file}"
""",
        "rotating",
    )
    raws = sample_messages(30, seed=304)
    stop = threading.Event()
    daemon = threading.Thread(target=poller.run, args=(stop,), daemon=True)
    daemon.start()
    try:
        for index, raw in enumerate(raws):
            oauth_dovecot.append_many("rotating", [raw])
            time.sleep(0.2)
            if index == 15:
                idp.revoke_access_tokens()
                oauth_dovecot.kick()
        wait_until(lambda: app.reads.status()["messages"] == 30, "all 30 messages")
    finally:
        stop.set()
        daemon.join(30)
    status = app.reads.status()
    assert status["messages"] == status["raw_messages"] == 30
    assert idp.count("refresh_token") >= 3  # renewed before expiry, and once more after the refusal
    stored = token_store.load(token_file)["refresh_token"]
    assert stored != first_refresh  # the rotated token was written back …
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600  # … readable by us only


def test_a_revoked_refresh_token_shows_as_a_token_problem(
    build: Build, idp: IdentityProvider, oauth_dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    refresh = idp.refresh_token_for(oauth_dovecot.user)
    monkeypatch.setenv("GENERIC_REFRESH", refresh)
    _, poller = build(
        f"""provider = "generic"
token_url = "{idp.token_url}"
client_id = "{idp.client_id}"
refresh_token_env = "GENERIC_REFRESH"
""",
        "revoked",
    )
    idp.revoke_refresh_token(refresh)
    stop = threading.Event()
    daemon = threading.Thread(target=poller.run, args=(stop,), daemon=True)
    daemon.start()
    try:
        wait_until(lambda: poller.health.failures_in_a_row > 0, "the refused refresh")
    finally:
        stop.set()
        daemon.join(30)
    assert not poller.health.ok
    assert poller.health.problem == "token"
    assert "invalid_grant" in (poller.health.last_error or "")
