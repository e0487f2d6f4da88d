"""What a message means for the CRM: which way it went, which people it is about, and who wrote it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from inboxcrm.core.analysis import Analysis
from inboxcrm.core.classify import Kind
from inboxcrm.core.model import Address, Direction, MailboxProfile, Message, Team
from inboxcrm.core.reply_tokens import base_address


@dataclass(frozen=True, slots=True)
class Understanding:
    """`contact` is the customer the message is filed under; `participants` are all outside people.

    For a forward by a team member, `contact` is the original author and `forwarded_by` the team member.
    """

    direction: Direction
    contact: Address | None
    participants: tuple[Address, ...]
    sent_at: datetime
    kind: Kind = Kind.NORMAL
    forwarded_by: Address | None = None
    forward_confidence: float | None = None


def is_ours(email: str, mailbox: MailboxProfile, team: Team) -> bool:
    """True for a shared address (plus addresses such as support+token@ included) or a team member:
    these never become contacts."""
    base = base_address(email)
    return base in mailbox.addresses or team.includes(email) or team.includes(base)


def _sent_at(message: Message, received_at: datetime) -> datetime:
    # A missing or absurd Date header (more than a day in the future) gives way to the time we got it.
    sent_at = message.date
    if sent_at is None or (sent_at - received_at).total_seconds() > 86_400:
        return received_at
    return sent_at


def understand(
    message: Message, mailbox: MailboxProfile, team: Team, received_at: datetime, analysis: Analysis | None = None
) -> Understanding:
    """Direction, customer and participants of `message` as seen from `mailbox`."""
    sent_at = _sent_at(message, received_at)
    kind = analysis.kind if analysis else Kind.NORMAL
    if analysis is not None and (kind is Kind.BOUNCE or (kind is Kind.AUTO_REPLY and analysis.bounce)):
        # The bounce (or delay warning) is about the recipient whose address failed, not the mailer daemon.
        failed = tuple(Address(b.email) for b in analysis.bounce if not is_ours(b.email, mailbox, team))
        return Understanding(Direction.INBOUND, failed[0] if failed else None, failed, sent_at, kind)
    if kind is Kind.FEEDBACK_REPORT:
        return Understanding(Direction.INBOUND, None, (), sent_at, kind)

    sender = message.from_
    forward = analysis.forward if analysis else None
    if (
        forward is not None
        and sender is not None
        and is_ours(sender.email, mailbox, team)
        and not is_ours(forward.original_from.email, mailbox, team)
    ):
        # A team member forwarded a customer's mail to the shared address: it is the customer's.
        original = forward.original_from
        return Understanding(
            Direction.INBOUND, original, (original,), sent_at, kind, forward.forwarded_by, forward.confidence
        )

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
    return Understanding(
        Direction.OUTBOUND if outbound else Direction.INBOUND, contact, tuple(participants), sent_at, kind
    )
