"""The outbox signs in with SASL XOAUTH2 (aiosmtplib) to a real aiosmtpd that accepts nothing else.

The SMTP server checks each token with the loopback identity provider (tests/support/oauth_idp.py), as a
provider's own submission server checks it; the sender is built from a config by bootstrap.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from inboxcrm import bootstrap
from inboxcrm.adapters.smtp import Envelope, Outcome, SmtpSender
from inboxcrm.config import parse_settings
from tests.support.dovecot import sample_messages
from tests.support.oauth_idp import IdentityProvider
from tests.support.smtpd import SmtpServer

OUTBOX = "support@northwind.example"


@pytest.fixture
def idp() -> Iterator[IdentityProvider]:
    server = IdentityProvider(app_mailbox=OUTBOX).start()
    yield server
    server.stop()


@pytest.fixture
def server(idp: IdentityProvider) -> Iterator[SmtpServer]:
    def token_check(user: str, token: str) -> bool:
        answer = requests.post(f"{idp.url}/introspect", params={"user": user}, data={"token": token}, timeout=10)
        return bool(answer.json()["active"])

    with SmtpServer(tls="starttls", auth=True, token_check=token_check) as started:
        yield started


def sender(tmp_path: Path, server: SmtpServer, idp: IdentityProvider, secret: str) -> SmtpSender:
    config = f"""
[outbox]
transport = "smtp"
host = "{server.host}"
port = {server.port}
security = "starttls"
ca_file = "{server.ca_file}"
user = "{OUTBOX}"
auth = "oauth2"

[outbox.oauth2]
provider = "microsoft"
tenant = "northwind.example"
authority = "{idp.url}"
client_id = "{idp.client_id}"
client_secret_env = "OUTBOX_SECRET"
"""
    file = tmp_path / "inboxcrm.toml"
    file.write_text(config)
    environ = {"OUTBOX_SECRET": secret}
    built = bootstrap.sender(parse_settings(config, str(file), environ), environ)
    assert isinstance(built, SmtpSender)
    return built


def envelopes(*keys: str) -> list[Envelope]:
    raws = sample_messages(len(keys), seed=401, to="carol@acme-corp.example")
    return [Envelope(key, OUTBOX, ("carol@acme-corp.example",), raw) for key, raw in zip(keys, raws, strict=True)]


def test_the_outbox_signs_in_with_xoauth2(tmp_path: Path, server: SmtpServer, idp: IdentityProvider) -> None:
    outbox = sender(tmp_path, server, idp, idp.client_secret)
    results = asyncio.run(outbox.send_many(envelopes("a", "b")))
    assert [r.outcome for r in results] == [Outcome.SENT, Outcome.SENT]
    assert [(r.login, r.tls) for r in server.received] == [(OUTBOX, True), (OUTBOX, True)]
    assert idp.count("client_credentials") == 1  # one token for both, cached
    assert outbox.auth_problem is None


def test_a_token_the_server_refuses_is_replaced_once(tmp_path: Path, server: SmtpServer, idp: IdentityProvider) -> None:
    outbox = sender(tmp_path, server, idp, idp.client_secret)
    assert asyncio.run(outbox.send_many(envelopes("first")))[0].outcome is Outcome.SENT
    idp.revoke_access_tokens()  # still valid by our clock, refused by the server

    [result] = asyncio.run(outbox.send_many(envelopes("second")))

    assert result.outcome is Outcome.SENT
    assert idp.count("client_credentials") == 2
    assert len(server.received) == 2


def test_a_refused_client_secret_is_retried_later_and_reported(
    tmp_path: Path, server: SmtpServer, idp: IdentityProvider
) -> None:
    outbox = sender(tmp_path, server, idp, "an expired secret")
    [result] = asyncio.run(outbox.send_many(envelopes("held")))
    assert result.outcome is Outcome.RETRY  # nothing wrong with the mail: it waits in the outbox
    assert server.received == []
    assert outbox.auth_problem is not None and outbox.auth_problem.startswith("token: ")
    assert "invalid_client" in outbox.auth_problem
