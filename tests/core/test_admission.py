"""Who in a message may become a contact (pure): Cc only of our mail or of known conversations; a cap."""

from __future__ import annotations

from datetime import UTC, datetime

from inboxcrm.core.admission import capped, welcome
from inboxcrm.core.model import Address, Direction, MailboxKind, MailboxProfile, Message, Team
from inboxcrm.core.understanding import Understanding

SUPPORT = MailboxProfile("support", MailboxKind.SUPPORT, frozenset({"support@northwind.example"}))
TEAM = Team(frozenset({"ana@northwind.example"}), frozenset({"northwind.example"}))
NOW = datetime(2026, 11, 2, tzinfo=UTC)


def people(*emails: str) -> tuple[Address, ...]:
    return tuple(Address(e) for e in emails)


def meaning(direction: Direction, contact: str, *others: str) -> Understanding:
    return Understanding(direction, Address(contact), people(contact, *others), NOW)


def test_the_cc_of_a_strangers_new_conversation_is_left_out() -> None:
    message = Message("m1", "hi", Address("carol@a.example"), people("support@northwind.example", "dan@a.example"),
                      cc=people("eve@a.example"))  # fmt: skip
    seen = meaning(Direction.INBOUND, "carol@a.example", "dan@a.example", "eve@a.example")
    assert [p.email for p in welcome(message, seen, SUPPORT, TEAM, False).participants] == [
        "carol@a.example",
        "dan@a.example",
    ]
    assert welcome(message, seen, SUPPORT, TEAM, True) == seen  # a known conversation to us: Cc welcome
    bcc_only = Message("m2", "hi", Address("carol@a.example"), people("dan@a.example"), cc=people("eve@a.example"))
    assert "eve@a.example" not in {p.email for p in welcome(bcc_only, seen, SUPPORT, TEAM, True).participants}


def test_the_cap_counts_new_contacts_only_and_keeps_the_customer() -> None:
    seen = meaning(Direction.INBOUND, "carol@a.example", *(f"p{i}@a.example" for i in range(10)))
    known = {"p8@a.example", "p9@a.example"}
    assert [p.email for p in capped(seen, known, 3).participants] == [
        "carol@a.example",
        "p0@a.example",
        "p1@a.example",
        "p8@a.example",
        "p9@a.example",
    ]
