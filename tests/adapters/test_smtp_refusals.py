"""SmtpSender when the server says no: temporary refusals are RETRY, permanent ones FAILED (and the connection
carries on), 421 closes the connection, refused recipients decide for the whole message, and missing
credentials are not the customer's fault."""

from __future__ import annotations

import pytest

from inboxcrm.adapters.smtp import Outcome, SmtpSender
from tests.adapters.smtp_support import BRUCE, CAROL, FAIL_ON_LEAKS, envelope, message, outcomes, plain_sender, send
from tests.support.smtpd import SmtpServer, Stage

pytestmark = FAIL_ON_LEAKS


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
