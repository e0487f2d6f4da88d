"""Agent mail authenticated end to end, with real servers: mail arrives in a private Dovecot, inboxcrm polls
it over IMAP and sends over SMTP to a real aiosmtpd. The agents' domain signs their mail with DKIM (real
signatures, dkimpy); only the DNS that publishes the public keys is played (tests/support/dkim_keys.py).

Someone writing `From: Ben <ben@northwind.example>` — unsigned, signed by their own domain, or with an
Authentication-Results header from a server that is not ours — changes nothing and reaches no customer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_support_desk import CAROL, SHARED, Desk, open_desk, reply, text_of
from tests.support.dkim_keys import KeysInDns, sign
from tests.support.dovecot import Dovecot
from tests.support.mail import mail
from tests.support.smtpd import SmtpServer

pytestmark = pytest.mark.imap

OURS = "northwind.example"
OUR_SERVER = "mx.northwind.example"


@pytest.fixture
def signed(tmp_path: Path, dovecot: Dovecot, smtp_server: SmtpServer) -> Iterator[Desk]:
    """The desk checking DKIM; northwind.example and acme-corp.example publish their keys."""
    yield from open_desk(tmp_path, dovecot, smtp_server, KeysInDns(OURS, "acme-corp.example"), agent_mail="dkim")


@pytest.fixture
def behind_server(tmp_path: Path, dovecot: Dovecot, smtp_server: SmtpServer) -> Iterator[Desk]:
    """The desk believing the Authentication-Results of the team's own receiving server."""
    yield from open_desk(
        tmp_path, dovecot, smtp_server, agent_mail="authentication-results", trusted_authserv_id=OUR_SERVER
    )


def direct(from_: str, text: str, message_id: str = "ben1@northwind.example") -> bytes:
    """An answer to Carol with the shared address in Cc."""
    return mail(
        from_=from_,
        to=CAROL,
        cc=SHARED,
        subject="Re: Invoice wrong",
        message_id=message_id,
        in_reply_to="c1@acme-corp.example",
        body=text,
        date=None,
    )


def tampered(raw: bytes) -> bytes:
    """Signed by northwind.example, then changed: the signature no longer verifies."""
    return sign(raw, OURS).replace(b"Done.", b"Done!")


def open_ticket(desk: Desk) -> None:
    desk.deliver(mail(from_=CAROL, subject="Invoice wrong", message_id="c1@acme-corp.example", date=None))
    desk.cycle()


def untouched(desk: Desk) -> None:
    row = desk.ticket()
    assert (row.status, row.priority, row.assignee, row.first_response_at) == ("new", "normal", None, None)
    assert len(desk.inbox("carol@acme-corp.example")) == 1  # only the acknowledgement


def test_observed_reply_note_and_commands(signed: Desk) -> None:
    desk = signed
    open_ticket(desk)
    (notification,) = desk.inbox("ana@northwind.example")
    ana = "Ana Alves <ana@northwind.example>"
    desk.deliver(sign(reply(notification, ana, "#note\nShe is on the enterprise plan."), OURS))
    desk.deliver(sign(reply(notification, ana, "#assign ben\n#priority urgent\n#tag billing"), OURS))
    desk.cycle()
    row = desk.ticket()
    assert (row.assignee, row.priority, row.first_response_at) == ("ben", "urgent", None)
    assert len(desk.inbox("carol@acme-corp.example")) == 1  # only the acknowledgement

    # Ben answers Carol directly, with the shared address in Cc: observed, not sent again
    desk.deliver(sign(direct("Ben <ben@northwind.example>", "#close\nHi Carol, corrected invoice attached.\n"), OURS))
    desk.cycle()
    row = desk.ticket()
    assert row.status == "solved" and row.first_response_at is not None
    assert len(desk.inbox("carol@acme-corp.example")) == 1


def test_a_signed_reply_through_the_relay_is_applied_and_relayed(signed: Desk) -> None:
    desk = signed
    open_ticket(desk)
    (notification,) = desk.inbox("ana@northwind.example")
    desk.deliver(sign(reply(notification, "Ana Alves <ana@northwind.example>", "#pending\nHi Carol, fixed."), OURS))
    desk.cycle()
    answer = desk.inbox("carol@acme-corp.example")[-1]
    assert answer["From"].addresses[0].addr_spec == SHARED and text_of(answer).startswith("Hi Carol, fixed.")
    assert desk.ticket().status == "pending" and desk.ticket().first_response_at is not None


@pytest.mark.parametrize(
    "forge",
    [lambda raw: raw, lambda raw: sign(raw, "acme-corp.example"), tampered],
    ids=["unsigned", "signed-by-another-domain", "signature-broken"],
)
def test_a_forged_agent_applies_nothing_and_sends_nothing(signed: Desk, forge: object) -> None:
    desk = signed
    assert callable(forge)
    open_ticket(desk)
    # the audit's forgery: "Ben" in Cc solving Carol's ticket
    desk.deliver(forge(direct("Ben <ben@northwind.example>", "#close\n#priority low\n#tag spoofed\nDone.\n")))
    desk.cycle()
    untouched(desk)
    # and through the relay, as if the forger had got hold of Ben's relay address
    notification = desk.inbox("ben@northwind.example")[0]
    desk.deliver(forge(reply(notification, "Ben <ben@northwind.example>", "#close\nDone.")))
    desk.cycle(rounds=2)
    untouched(desk)
    told = [m for m in desk.inbox("ben@northwind.example") if "(not authenticated)" in str(m["Subject"])]
    assert len(told) == 2  # the real Ben learns that someone wrote in his name, twice; nobody else hears of it
    assert "nothing was sent to the customer" in text_of(told[0])


def test_authentication_results_of_our_server_are_believed_and_no_others(behind_server: Desk) -> None:
    desk = behind_server
    open_ticket(desk)
    forged = b"Authentication-Results: mx.acme-corp.example; dmarc=pass header.from=northwind.example\r\n"
    desk.deliver(forged + direct("Ben <ben@northwind.example>", "#close\n#priority low\n#tag spoofed\nDone.\n"))
    desk.cycle()
    untouched(desk)

    # our server (the test plays its MTA) prepends its own results to Ben's genuine reply
    ours = f"Authentication-Results: {OUR_SERVER}; dkim=pass header.d={OURS}; dmarc=pass header.from={OURS}\r\n"
    genuine = direct("Ben <ben@northwind.example>", "#close\nCorrected.\n", "ben2@northwind.example")
    desk.deliver(ours.encode() + genuine)
    desk.cycle()
    row = desk.ticket()
    assert row.status == "solved" and row.first_response_at is not None
    assert len(desk.inbox("carol@acme-corp.example")) == 1
