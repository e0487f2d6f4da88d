"""SmtpSender against a real aiosmtpd (tests/support/smtpd.py), and FileSender on disk.

No customer's mail may be lost or silently duplicated: every envelope gets exactly one result, SENT only
once the server said 250 to the DATA, FAILED only on a 5xx, RETRY for anything else; the bytes that
arrive are the bytes that were given. Each test starts the server it needs.
"""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from inboxcrm.adapters.smtp import Envelope, FileSender, Outcome, Sender, SendResult, SmtpSender
from tests.support import smtpd
from tests.support.dovecot import sample_messages
from tests.support.smtpd import SmtpServer, Stage, free_port

smtp_server = smtpd.smtp_server  # the support module's fixture, registered here under its name

# A sender that leaks a socket per failed connection would exhaust the daemon, which retries forever.
pytestmark = pytest.mark.filterwarnings("error::ResourceWarning", "error::pytest.PytestUnraisableExceptionWarning")

SHARED = "support@northwind.example"
CAROL = "carol@acme-corp.example"
BRUCE = "bruce@wayne-enterprises.example"


def message(n: int = 0) -> bytes:
    return sample_messages(1, seed=7, start=n, to=CAROL)[0]


def envelope(key: str, raw: bytes | None = None, recipients: tuple[str, ...] = (CAROL,)) -> Envelope:
    return Envelope(key=key, sender=SHARED, recipients=recipients, raw=raw if raw is not None else message(0))


def send(sender: Sender, *envelopes: Envelope) -> list[SendResult]:
    """One batch, the way the daemon sends it (asyncio.run in the calling thread)."""
    results = asyncio.run(sender.send_many(list(envelopes)))
    assert [r.key for r in results] == [e.key for e in envelopes]
    return results


@pytest.fixture
def no_leaks() -> Iterator[None]:
    """Collect garbage after the test: a socket the sender left open then warns in the test that leaked it.

    (A full collection takes a while in this suite's big process, so only the tests that close connections
    in unusual ways — TLS, refusals, drops — ask for it; elsewhere a leak still fails a later test.)
    """
    yield
    gc.collect()


def plain_sender(server: SmtpServer, timeout: float = 30) -> SmtpSender:
    return SmtpSender(server.host, server.port, "none", None, None, timeout=timeout, local_hostname="crm.test")


def outcomes(results: list[SendResult]) -> list[Outcome]:
    return [r.outcome for r in results]


@pytest.fixture(scope="module")
def cert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One self-signed certificate for every TLS server of this module."""
    return tmp_path_factory.mktemp("smtp-tls")


# --- what arrives ------------------------------------------------------------------------------------


def test_the_exact_bytes_arrive(smtp_server: SmtpServer) -> None:
    long_line = b"x" * 998  # RFC 5322's maximum line length
    raw = (
        b"From: Support <support@northwind.example>\r\n"
        b"To: Zo\xc3\xab L\xc3\xb8v\xc3\xa5s <zoe@fjord-shipping.example>\r\n"
        b"Subject: =?utf-8?q?R=C3=A9ponse?=\r\n"
        b"Message-ID: <reply-1@northwind.example>\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n"
        b"\r\n"
        b"Hej Zo\xc3\xab, \xe2\x80\x94 caf\xc3\xa9 \xf0\x9f\x93\xa6\r\n"
        b".a line that starts with a dot\r\n"
        b".\r\n"
        b"..\r\n"
        b"trailing spaces   \r\n"
        b"\r\n" + long_line + b"\r\n"
        b". \r\n"
    )
    [result] = send(plain_sender(smtp_server), envelope("m1", raw, recipients=("zoe@fjord-shipping.example",)))

    assert result.outcome is Outcome.SENT, result
    assert result.code == 250
    assert result.detail.startswith("250 2.0.0 Ok: queued as ")
    [got] = smtp_server.received
    assert got.raw == raw
    assert got.mail_from == SHARED
    assert got.rcpt_tos == ("zoe@fjord-shipping.example",)
    assert not got.tls
    assert "BODY=8BITMIME" in got.mail_options  # 8-bit bytes are announced, not mangled
    assert f"SIZE={len(raw)}" in got.mail_options


def test_a_non_ascii_address_goes_out_with_smtputf8(smtp_server: SmtpServer) -> None:
    [result] = send(plain_sender(smtp_server), envelope("m1", recipients=("zoë@fjord-shipping.example",)))

    assert result.outcome is Outcome.SENT, result
    [got] = smtp_server.received
    assert got.rcpt_tos == ("zoë@fjord-shipping.example",)
    assert "SMTPUTF8" in got.mail_options


def test_fifty_messages_share_one_connection(smtp_server: SmtpServer) -> None:
    raws = sample_messages(50, seed=3, to=CAROL)
    results = send(plain_sender(smtp_server), *(envelope(f"m{n}", raw) for n, raw in enumerate(raws)))

    assert outcomes(results) == [Outcome.SENT] * 50
    assert [m.raw for m in smtp_server.received] == raws
    assert smtp_server.connections == 1


def test_an_empty_batch_does_not_connect(smtp_server: SmtpServer) -> None:
    assert send(plain_sender(smtp_server)) == []
    assert smtp_server.connections == 0


# --- refusals ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", ["MAIL", "RCPT", "DATA"])
def test_a_temporary_refusal_is_retried_and_then_accepted(smtp_server: SmtpServer, stage: Stage) -> None:
    smtp_server.fail_next(stage, "451 4.3.0 try again later")
    sender = plain_sender(smtp_server)

    [first] = send(sender, envelope("m1"))
    assert first.outcome is Outcome.RETRY, first
    assert first.code == 451
    assert "451 4.3.0 try again later" in first.detail
    assert smtp_server.received == []

    [second] = send(sender, envelope("m1"))  # the caller's next round, same bytes
    assert second.outcome is Outcome.SENT, second
    assert [m.raw for m in smtp_server.received] == [message(0)]


@pytest.mark.parametrize(
    ("stage", "reply"),
    [
        ("MAIL", "553 5.7.1 sender address rejected"),
        ("RCPT", "550 5.1.1 no such user"),
        ("DATA", "554 5.6.0 message content rejected"),
    ],
)
def test_a_permanent_refusal_fails_and_the_connection_carries_on(
    smtp_server: SmtpServer, stage: Stage, reply: str
) -> None:
    smtp_server.fail_next(stage, reply)
    results = send(plain_sender(smtp_server), envelope("bad"), envelope("good", message(1)))

    assert outcomes(results) == [Outcome.FAILED, Outcome.SENT], results
    assert results[0].code == int(reply[:3])
    assert reply in results[0].detail
    assert [m.raw for m in smtp_server.received] == [message(1)]
    assert smtp_server.connections == 1  # RSET after the refusal, not a new connection


def test_550_at_rcpt_names_the_recipient(smtp_server: SmtpServer) -> None:
    smtp_server.fail_next("RCPT", "550 5.1.1 no such user")
    [result] = send(plain_sender(smtp_server), envelope("m1", recipients=("nobody@acme-corp.example",)))

    assert result.outcome is Outcome.FAILED
    assert result.code == 550
    assert result.detail == "550 5.1.1 no such user (RCPT TO <nobody@acme-corp.example>)"
    assert smtp_server.received == []


@pytest.mark.usefixtures("no_leaks")
@pytest.mark.parametrize("stage", ["MAIL", "RCPT", "DATA"])
def test_421_closes_the_connection_and_the_next_message_goes_on_a_new_one(
    smtp_server: SmtpServer, stage: Stage
) -> None:
    smtp_server.fail_next(stage, "421 4.7.0 closing")
    results = send(plain_sender(smtp_server), envelope("m1", recipients=(CAROL, BRUCE)), envelope("m2", message(2)))

    assert outcomes(results) == [Outcome.RETRY, Outcome.SENT], results
    assert results[0].code == 421
    assert "421 4.7.0 closing" in results[0].detail
    assert [m.raw for m in smtp_server.received] == [message(2)]
    assert smtp_server.connections == 2


def test_one_of_two_recipients_refused_is_sent_to_the_other(smtp_server: SmtpServer) -> None:
    smtp_server.fail_next("RCPT", "550 5.1.1 no such user")
    [result] = send(plain_sender(smtp_server), envelope("m1", recipients=("gone@acme-corp.example", BRUCE)))

    assert result.outcome is Outcome.SENT, result
    assert result.code == 250
    sent, refused = result.detail.split("; refused: ")
    assert sent.startswith("250 ")
    assert refused == "550 5.1.1 no such user (RCPT TO <gone@acme-corp.example>)"
    [got] = smtp_server.received
    assert got.rcpt_tos == (BRUCE,)


@pytest.mark.parametrize(
    ("replies", "expected", "code"),
    [
        (["550 5.1.1 no such user", "550 5.1.1 no such user"], Outcome.FAILED, 550),
        (["550 5.1.1 no such user", "450 4.2.1 mailbox busy"], Outcome.RETRY, 450),
        (["450 4.2.1 mailbox busy"], Outcome.RETRY, 450),  # the other one was accepted: nobody gets it now
    ],
)
def test_refused_recipients_decide_for_the_whole_message(
    smtp_server: SmtpServer, replies: list[str], expected: Outcome, code: int
) -> None:
    for reply in replies:
        smtp_server.fail_next("RCPT", reply)
    [result] = send(plain_sender(smtp_server), envelope("m1", recipients=("gone@acme-corp.example", BRUCE)))

    assert result.outcome is expected, result
    assert result.code == code
    for reply in replies:
        assert reply in result.detail
    assert smtp_server.received == []


@pytest.mark.usefixtures("no_leaks")
def test_missing_credentials_are_not_the_customers_fault(tls_server_auth: SmtpServer) -> None:
    sender = SmtpSender(
        tls_server_auth.host, tls_server_auth.port, "starttls", None, None, ssl_context=tls_server_auth.ssl_context()
    )
    [result] = send(sender, envelope("m1"))

    assert result.outcome is Outcome.RETRY, result  # 530 authentication required: a config problem
    assert result.code == 530


# --- lost connections and timeouts ---------------------------------------------------------------------


@pytest.mark.usefixtures("no_leaks")
def test_a_connection_dropped_after_data_is_retried_and_the_batch_goes_on(smtp_server: SmtpServer) -> None:
    smtp_server.drop_after_data()
    results = send(plain_sender(smtp_server), envelope("m1"), envelope("m2", message(2)))

    assert outcomes(results) == [Outcome.RETRY, Outcome.SENT], results
    assert results[0].detail == "connection lost after DATA"
    assert results[0].code is None
    assert [m.raw for m in smtp_server.dropped] == [message(0)]  # it did arrive: a resend may duplicate it …
    assert [m.raw for m in smtp_server.received] == [message(2)]
    assert smtp_server.connections == 2


def test_a_resend_after_a_lost_answer_carries_the_same_message_id(smtp_server: SmtpServer) -> None:
    smtp_server.drop_after_data()
    sender = plain_sender(smtp_server)
    assert outcomes(send(sender, envelope("m1"))) == [Outcome.RETRY]
    assert outcomes(send(sender, envelope("m1"))) == [Outcome.SENT]

    # … which the receiving side recognises, because the bytes (Message-ID included) are the same.
    assert smtp_server.dropped[0].raw == smtp_server.received[0].raw == message(0)
    assert b"Message-ID: <s7.m0." in message(0)


@pytest.mark.usefixtures("no_leaks")
def test_a_connection_closed_between_messages_is_reopened_once(smtp_server: SmtpServer) -> None:
    smtp_server.drop_next("MAIL", after=1)  # the second MAIL FROM finds the connection gone
    raws = [message(n) for n in range(3)]
    results = send(plain_sender(smtp_server), *(envelope(f"m{n}", raw) for n, raw in enumerate(raws)))

    assert outcomes(results) == [Outcome.SENT] * 3, results
    assert [m.raw for m in smtp_server.received] == raws
    assert smtp_server.connections == 2
    assert smtp_server.mail_from_seen == [SHARED] * 4


@pytest.mark.usefixtures("no_leaks")
def test_a_new_connection_dropped_at_mail_is_not_retried_at_once(smtp_server: SmtpServer) -> None:
    smtp_server.drop_next("MAIL", times=2)
    [result] = send(plain_sender(smtp_server), envelope("m1"))

    assert result.outcome is Outcome.RETRY
    assert result.detail == "connection lost at MAIL FROM"
    assert smtp_server.connections == 1
    assert smtp_server.mail_from_seen == [SHARED]


@pytest.mark.usefixtures("no_leaks")
def test_a_timeout_after_data_is_retried_and_ends_the_batch(smtp_server: SmtpServer) -> None:
    smtp_server.stall_after_data()
    results = send(plain_sender(smtp_server, timeout=2), envelope("m1"), envelope("m2", message(2)))

    assert outcomes(results) == [Outcome.RETRY, Outcome.RETRY], results
    assert results[0].detail == "timed out after DATA"
    assert results[1].detail == "not attempted: the server timed out on m1"
    assert [m.raw for m in smtp_server.dropped] == [message(0)]
    assert smtp_server.received == []
    assert smtp_server.mail_from_seen == [SHARED]


@pytest.mark.usefixtures("no_leaks")
def test_nothing_listening_is_retry_for_every_envelope() -> None:
    port = free_port()
    sender = SmtpSender("127.0.0.1", port, "none", None, None, timeout=10, local_hostname="crm.test")
    results = send(sender, envelope("m1"), envelope("m2"))

    assert outcomes(results) == [Outcome.RETRY, Outcome.RETRY]
    for result in results:
        assert result.detail.startswith(f"could not connect to 127.0.0.1:{port}: ")
        assert result.code is None


def test_envelopes_no_server_could_take_fail_without_a_connection(smtp_server: SmtpServer) -> None:
    results = send(
        plain_sender(smtp_server),
        envelope("none", recipients=()),
        envelope("injection", recipients=("carol@acme-corp.example>\r\nRCPT TO:<eve@evil.example",)),
        envelope("blank", recipients=("",)),
    )

    assert outcomes(results) == [Outcome.FAILED] * 3, results
    assert results[0].detail == "no recipients"
    assert smtp_server.connections == 0


def test_an_invalid_envelope_does_not_stop_the_batch(smtp_server: SmtpServer) -> None:
    results = send(plain_sender(smtp_server), envelope("none", recipients=()), envelope("m2", message(2)))

    assert outcomes(results) == [Outcome.FAILED, Outcome.SENT]
    assert [m.raw for m in smtp_server.received] == [message(2)]


def test_a_sender_is_usable_from_a_worker_thread(smtp_server: SmtpServer) -> None:
    """The daemon sends from a thread of its own, with asyncio.run there."""
    sender = plain_sender(smtp_server)

    async def in_thread() -> list[SendResult]:
        return await asyncio.to_thread(lambda: asyncio.run(sender.send_many([envelope("m1")])))

    [result] = asyncio.run(in_thread())
    assert result.outcome is Outcome.SENT
    assert len(smtp_server.received) == 1


# --- TLS and AUTH ------------------------------------------------------------------------------------


@pytest.fixture
def starttls_server(cert_dir: Path) -> Iterator[SmtpServer]:
    with SmtpServer(tls="starttls", directory=cert_dir) as server:
        yield server


@pytest.fixture
def implicit_tls_server(cert_dir: Path) -> Iterator[SmtpServer]:
    with SmtpServer(tls="implicit", directory=cert_dir) as server:
        yield server


@pytest.fixture
def tls_server_auth(cert_dir: Path) -> Iterator[SmtpServer]:
    with SmtpServer(tls="starttls", auth=True, directory=cert_dir) as server:
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


# --- FileSender --------------------------------------------------------------------------------------


def test_file_sender_writes_the_exact_bytes(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    sender: Sender = FileSender(outbox)
    raws = [message(0), b"Subject: x\r\n\r\n.dot\r\nZo\xc3\xab\r\n"]
    results = send(sender, envelope("m1", raws[0]), envelope("m2", raws[1]))

    assert outcomes(results) == [Outcome.SENT, Outcome.SENT]
    assert (outbox / "m1.eml").read_bytes() == raws[0]
    assert (outbox / "m2.eml").read_bytes() == raws[1]
    assert sorted(os.listdir(outbox)) == ["m1.eml", "m2.eml"]  # no temporary files left behind


def test_file_sender_replaces_the_same_key(tmp_path: Path) -> None:
    sender = FileSender(tmp_path)
    send(sender, envelope("m1", b"first\r\n"))
    [result] = send(sender, envelope("m1", b"second\r\n"))

    assert result.outcome is Outcome.SENT
    assert (tmp_path / "m1.eml").read_bytes() == b"second\r\n"
    assert os.listdir(tmp_path) == ["m1.eml"]


def test_file_sender_never_leaves_half_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sender = FileSender(tmp_path)
    send(sender, envelope("m1", b"first\r\n"))

    def full_disk(source: str, target: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)  # (the one FileSender uses: for this test only)
    [result] = send(sender, envelope("m1", b"second, never complete\r\n"))

    assert result.outcome is Outcome.RETRY
    assert "No space left on device" in result.detail
    assert (tmp_path / "m1.eml").read_bytes() == b"first\r\n"
    assert os.listdir(tmp_path) == ["m1.eml"]


def test_file_sender_refuses_keys_that_are_not_file_names(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    results = send(FileSender(outbox), envelope("../escape"), envelope(".hidden"), envelope("ok-1"))

    assert outcomes(results) == [Outcome.FAILED, Outcome.FAILED, Outcome.SENT]
    assert os.listdir(outbox) == ["ok-1.eml"]
    assert sorted(os.listdir(tmp_path)) == ["outbox"]
