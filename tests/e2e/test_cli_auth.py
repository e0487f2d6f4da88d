"""`inboxcrm auth NAME` against the loopback identity provider and an OAuth2 Dovecot: the sign-in is stored
where the daemon finds it, readable by its user only, and the IMAP login with it works."""

from __future__ import annotations

import importlib
import stat
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from inboxcrm.adapters import token_store
from inboxcrm.cli import main
from tests.support.dovecot import Dovecot
from tests.support.oauth_idp import IdentityProvider, idp, oauth_dovecot

cli_auth = importlib.import_module("inboxcrm.cli.auth")  # the module (the package exports the command `auth`)

pytestmark = pytest.mark.imap

__all__ = ["idp", "oauth_dovecot"]  # the fixtures


def write_config(tmp_path: Path, server: Dovecot, oauth2: str) -> Path:
    file = tmp_path / "inboxcrm.toml"
    file.write_text(f"""
[database]
url = "sqlite:///{tmp_path / "inboxcrm.db"}"

[[mailboxes]]
name = "support"
addresses = ["support@northwind.example"]
host = "{server.host}"
port = {server.port}
security = "none"
user = "{server.user}"
auth = "oauth2"

[mailboxes.oauth2]
{oauth2}
""")
    return file


def test_the_device_flow_stores_a_refresh_token_the_daemon_can_use(
    tmp_path: Path, oauth_dovecot: Dovecot, idp: IdentityProvider
) -> None:
    idp.device_code_user(oauth_dovecot.user)
    config = write_config(
        tmp_path,
        oauth_dovecot,
        f'provider = "microsoft"\nflow = "refresh_token"\ntenant = "northwind.example"\n'
        f'authority = "{idp.url}"\nclient_id = "{idp.client_id}"\n',
    )
    # `check` names what is missing before the sign-in …
    before = CliRunner().invoke(main, ["--config", str(config), "check"])
    assert before.exit_code == 2 and "run `inboxcrm auth support` once" in before.output

    result = CliRunner().invoke(main, ["--config", str(config), "auth", "support"])

    assert result.exit_code == 0, result.output
    assert "enter the code TEST-CODE" in result.output
    assert "IMAP login as inboxcrm" in result.output and "works" in result.output
    stored = tmp_path / "var" / "tokens" / "support.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE(stored.parent.stat().st_mode) == 0o700
    assert token_store.load(stored)["user"] == oauth_dovecot.user
    # … and is content after it
    after = CliRunner().invoke(main, ["--config", str(config), "check"])
    assert "token_file" not in after.output


def test_the_browser_flow_takes_the_address_the_browser_ended_on(
    tmp_path: Path, oauth_dovecot: Dovecot, idp: IdentityProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    idp.device_code_user(oauth_dovecot.user)
    config = write_config(
        tmp_path,
        oauth_dovecot,
        f'provider = "google"\nflow = "refresh_token"\nclient_id = "{idp.client_id}"\n'
        f'client_secret_env = "GOOGLE_SECRET"\ntoken_url = "{idp.token_url}"\n'
        f'authorization_url = "{idp.url}/authorize"\n',
    )

    def person(url: str) -> str:
        """Opens the address, signs in, copies the address the browser ends on (which holds the code)."""
        assert url.startswith(f"{idp.url}/authorize?") and "code_challenge=" in url
        return str(requests.get(url, allow_redirects=False, timeout=10).headers["Location"])

    monkeypatch.setattr(cli_auth, "browser_step", person)
    result = CliRunner().invoke(main, ["--config", str(config), "auth", "support"], env={"GOOGLE_SECRET": "s"})

    assert result.exit_code == 0, result.output
    assert "IMAP login as inboxcrm" in result.output and "works" in result.output
    assert token_store.load(tmp_path / "var" / "tokens" / "support.json")["provider"] == "google"
