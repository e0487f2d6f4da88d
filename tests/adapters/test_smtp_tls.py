"""SmtpSender with TLS and AUTH: STARTTLS and implicit TLS against the test CA, certificates verified, STARTTLS
required when configured, AUTH LOGIN and a wrong password, and no socket left open when a batch returns."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from inboxcrm.adapters.smtp import Envelope, Outcome, SendResult, SmtpSender
from tests.adapters.smtp_support import FAIL_ON_LEAKS, envelope, message, outcomes, send
from tests.support.smtpd import SmtpServer

pytestmark = FAIL_ON_LEAKS


@pytest.fixture
def starttls_server(cert_dir: Path) -> Iterator[SmtpServer]:
    with SmtpServer(tls="starttls", directory=cert_dir) as server:
        yield server


@pytest.fixture
def implicit_tls_server(cert_dir: Path) -> Iterator[SmtpServer]:
    with SmtpServer(tls="implicit", directory=cert_dir) as server:
        yield server


@pytest.mark.usefixtures("no_leaks")
def test_starttls_with_the_test_ca(starttls_server: SmtpServer) -> None:
    server = starttls_server
    sender = SmtpSender(server.host, server.port, "starttls", None, None, ssl_context=server.ssl_context())
    [result] = send(sender, envelope("m1"))

    assert result.outcome is Outcome.SENT, result
    [got] = server.received
    assert got.tls
    assert got.raw == message(0)


@pytest.mark.usefixtures("no_leaks")
def test_starttls_verifies_the_certificate(starttls_server: SmtpServer) -> None:
    server = starttls_server
    sender = SmtpSender(server.host, server.port, "starttls", None, None)  # system CAs: ours is not one
    results = send(sender, envelope("m1"), envelope("m2"))

    assert outcomes(results) == [Outcome.RETRY, Outcome.RETRY], results
    assert "certificate verify failed" in results[0].detail
    assert server.mail_from_seen == []


@pytest.mark.usefixtures("no_leaks")
def test_starttls_is_required_when_configured(smtp_server: SmtpServer) -> None:
    sender = SmtpSender(smtp_server.host, smtp_server.port, "starttls", "inboxcrm", "secret")
    results = send(sender, envelope("m1"), envelope("m2"))

    assert outcomes(results) == [Outcome.RETRY, Outcome.RETRY]
    assert [r.detail for r in results] == ["server does not offer STARTTLS"] * 2
    assert smtp_server.mail_from_seen == []  # nothing, not even the password, went out in plain text
    assert smtp_server.received == []
    assert smtp_server.connections == 1


@pytest.mark.usefixtures("no_leaks")
def test_implicit_tls(implicit_tls_server: SmtpServer) -> None:
    server = implicit_tls_server
    sender = SmtpSender(server.host, server.port, "tls", None, None, ssl_context=server.ssl_context())
    [result] = send(sender, envelope("m1"))

    assert result.outcome is Outcome.SENT, result
    [got] = server.received
    assert got.tls
    assert got.raw == message(0)


@pytest.mark.usefixtures("no_leaks")
def test_implicit_tls_verifies_the_certificate(implicit_tls_server: SmtpServer) -> None:
    server = implicit_tls_server
    [result] = send(SmtpSender(server.host, server.port, "tls", None, None), envelope("m1"))

    assert result.outcome is Outcome.RETRY
    assert "certificate verify failed" in result.detail
    assert server.received == []


@pytest.mark.usefixtures("no_leaks")
def test_auth_login(tls_server_auth: SmtpServer) -> None:
    server = tls_server_auth
    sender = SmtpSender(
        server.host, server.port, "starttls", server.user, server.password, ssl_context=server.ssl_context()
    )
    results = send(sender, envelope("m1"), envelope("m2", message(2)))

    assert outcomes(results) == [Outcome.SENT, Outcome.SENT], results
    assert [m.login for m in server.received] == [server.user, server.user]
    assert server.connections == 1


@pytest.mark.usefixtures("no_leaks")
def test_a_wrong_password_is_retry_not_failed(tls_server_auth: SmtpServer) -> None:
    server = tls_server_auth
    sender = SmtpSender(server.host, server.port, "starttls", server.user, "wrong", ssl_context=server.ssl_context())
    results = send(sender, envelope("m1"), envelope("m2"))

    assert outcomes(results) == [Outcome.RETRY, Outcome.RETRY], results
    for result in results:
        assert result.detail.startswith("authentication failed: 535 ")
        assert result.code == 535
    assert server.mail_from_seen == []
    assert server.connections == 1


def send_counting_open_sockets(sender: SmtpSender, *envelopes: Envelope) -> tuple[list[SendResult], int]:
    """(results, how many of the sockets the batch opened were still open when send_many returned)."""

    async def run() -> tuple[list[SendResult], int]:
        loop = asyncio.get_running_loop()
        sockets = []
        real = loop.create_connection

        async def spy(*args: Any, **kwargs: Any) -> Any:
            transport, protocol = await real(*args, **kwargs)
            sockets.append(transport.get_extra_info("socket"))
            return transport, protocol

        loop.create_connection = spy  # type: ignore[method-assign]
        results = await sender.send_many(list(envelopes))
        assert sockets, "the spy saw no connection"
        return results, sum(sock.fileno() != -1 for sock in sockets)

    return asyncio.run(run())


@pytest.mark.parametrize("case", ["sent", "wrong password", "untrusted certificate", "dropped after DATA", "421"])
def test_no_socket_is_left_open_when_the_batch_returns(tls_server_auth: SmtpServer, case: str) -> None:
    """The daemon calls asyncio.run per batch: a socket still closing then (TLS says goodbye first) leaks."""
    server = tls_server_auth
    password = "wrong" if case == "wrong password" else server.password
    context = None if case == "untrusted certificate" else server.ssl_context()
    if case == "dropped after DATA":
        server.drop_after_data()
    if case == "421":
        server.fail_next("MAIL", "421 4.7.0 closing")
    sender = SmtpSender(server.host, server.port, "starttls", server.user, password, ssl_context=context)
    results, still_open = send_counting_open_sockets(sender, envelope("m1"), envelope("m2", message(2)))

    expected = Outcome.SENT if case == "sent" else Outcome.RETRY
    assert results[0].outcome is expected, results
    assert still_open == 0
