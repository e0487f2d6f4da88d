from __future__ import annotations

from datetime import UTC, datetime, timedelta

from inboxcrm.core.model import Address, Direction, MailboxKind, MailboxProfile, Message, Team
from inboxcrm.core.understanding import understand

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
SUPPORT = MailboxProfile("support", MailboxKind.SUPPORT, frozenset({"support@northwind.example"}))
TEAM = Team(frozenset({"support@northwind.example"}), frozenset({"northwind.example"}))


def message(sender: str, to: tuple[str, ...], cc: tuple[str, ...] = (), date: datetime | None = NOW) -> Message:
    return Message(
        None,
        "s",
        Address(sender, "Name"),
        to=tuple(Address(a) for a in to),
        cc=tuple(Address(a) for a in cc),
        date=date,
    )


def test_customer_mail_is_inbound_and_filed_under_the_sender() -> None:
    meaning = understand(
        message("carol@acme.example", ("support@northwind.example",), ("dave@acme.example",)), SUPPORT, TEAM, NOW
    )
    assert meaning.direction is Direction.INBOUND
    assert meaning.contact is not None and meaning.contact.email == "carol@acme.example"
    assert [p.email for p in meaning.participants] == ["carol@acme.example", "dave@acme.example"]


def test_team_reply_is_outbound_and_filed_under_the_customer() -> None:
    meaning = understand(
        message("ana@northwind.example", ("carol@acme.example",), ("support@northwind.example",)), SUPPORT, TEAM, NOW
    )
    assert meaning.direction is Direction.OUTBOUND
    assert meaning.contact is not None and meaning.contact.email == "carol@acme.example"
    assert [p.email for p in meaning.participants] == ["carol@acme.example"]


def test_missing_or_future_date_falls_back_to_receipt_time() -> None:
    assert understand(message("c@x.example", (), date=None), SUPPORT, TEAM, NOW).sent_at == NOW
    future = NOW + timedelta(days=30)
    assert understand(message("c@x.example", (), date=future), SUPPORT, TEAM, NOW).sent_at == NOW
    past = NOW - timedelta(days=3)
    assert understand(message("c@x.example", (), date=past), SUPPORT, TEAM, NOW).sent_at == past


def test_subdomains_of_the_team_domain_are_ours() -> None:
    assert TEAM.includes("mailer-daemon@mx.northwind.example")
    assert not TEAM.includes("someone@northwind.example.evil.example")
    assert not TEAM.includes("someone@notnorthwind.example")
