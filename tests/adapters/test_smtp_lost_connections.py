"""SmtpSender when the connection goes: dropped after DATA (RETRY, and a resend carries the same Message-ID),
closed between messages, dropped at MAIL, a server that stalls after DATA, and nothing listening."""

from __future__ import annotations

import pytest

from inboxcrm.adapters.smtp import Outcome, SmtpSender
from tests.adapters.smtp_support import FAIL_ON_LEAKS, SHARED, envelope, message, outcomes, plain_sender, send
from tests.support.smtpd import SmtpServer, free_port

pytestmark = FAIL_ON_LEAKS


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
