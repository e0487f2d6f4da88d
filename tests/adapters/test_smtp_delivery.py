"""SmtpSender against a real aiosmtpd (tests/support/smtpd.py), when all goes well: the exact bytes arrive,
8BITMIME and SMTPUTF8 are announced, a batch shares one connection, envelopes that no server could take
fail without one, and a sender works from a worker thread."""

from __future__ import annotations

import asyncio

from inboxcrm.adapters.smtp import Outcome, SendResult
from tests.adapters.smtp_support import CAROL, FAIL_ON_LEAKS, SHARED, envelope, message, outcomes, plain_sender, send
from tests.support.dovecot import sample_messages
from tests.support.smtpd import SmtpServer

pytestmark = FAIL_ON_LEAKS


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
