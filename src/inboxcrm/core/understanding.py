"""What a message means for the CRM: which way it went and which people it is about."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from inboxcrm.core.model import Address, Direction, MailboxProfile, Message, Team


@dataclass(frozen=True, slots=True)
class Understanding:
    """`contact` is the customer the message is filed under; `participants` are all outside people."""

    direction: Direction
    contact: Address | None
    participants: tuple[Address, ...]
    sent_at: datetime


def is_ours(email: str, mailbox: MailboxProfile, team: Team) -> bool:
    """True for a shared address or a team member: these never become contacts."""
    return email in mailbox.addresses or team.includes(email)


def understand(message: Message, mailbox: MailboxProfile, team: Team, received_at: datetime) -> Understanding:
    """Direction, customer and participants of `message` as seen from `mailbox`.

    `received_at` stands in for a missing or absurd Date header (more than a day in the future).
    """
    sender = message.from_
    outbound = sender is not None and is_ours(sender.email, mailbox, team)
    everyone = ((sender,) if sender else ()) + message.reply_to + message.to + message.cc
    seen: set[str] = set()
    participants: list[Address] = []
    for address in everyone:
        if address.email in seen or is_ours(address.email, mailbox, team):
            continue
        seen.add(address.email)
        participants.append(address)
    if outbound:
        recipients = [a for a in message.to + message.cc if not is_ours(a.email, mailbox, team)]
        contact = recipients[0] if recipients else None
    else:
        contact = sender if sender and not is_ours(sender.email, mailbox, team) else None
    sent_at = message.date
    if sent_at is None or (sent_at - received_at).total_seconds() > 86_400:
        sent_at = received_at
    return Understanding(
        direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
        contact=contact,
        participants=tuple(participants),
        sent_at=sent_at,
    )
