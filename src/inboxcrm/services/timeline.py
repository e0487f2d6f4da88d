"""How a stored message reads on a contact's timeline: the kind of event it makes and its one-line summary."""

from __future__ import annotations

from inboxcrm.core.classify import Kind
from inboxcrm.core.model import Direction
from inboxcrm.core.ports import NewMessage


def event_kind(row: NewMessage) -> str:
    """The timeline event a stored message makes: bounce, auto_reply, message_in or message_out."""
    kind = row.meaning.kind
    if kind is Kind.BOUNCE:
        return "bounce"
    if kind is Kind.AUTO_REPLY:
        return "auto_reply"
    return "message_in" if row.direction is Direction.INBOUND else "message_out"


def event_summary(row: NewMessage, email: str) -> str:
    """The line the timeline of `email` shows for the message: for a bounce or delay about `email`, why."""
    if row.meaning.kind in (Kind.BOUNCE, Kind.AUTO_REPLY) and row.analysis is not None:
        for bounced in row.analysis.bounce:
            if bounced.email != email or bounced.reason is None:
                continue
            status = bounced.status or "no status"
            if not bounced.counts:
                return f"Mail to {email} is delayed ({status}); the server keeps trying: {bounced.diagnostic}"[:500]
            how = f"{'hard' if bounced.hard else 'soft'}, {bounced.reason.words}, {status}"
            return f"Mail to {email} bounced ({how}): {bounced.diagnostic}"[:500]
    if row.meaning.forwarded_by is not None:
        return f"{subject_line(row)} (forwarded by {row.meaning.forwarded_by.email})"
    return subject_line(row)


def subject_line(row: NewMessage) -> str:
    """The message's subject, or "(no subject)"."""
    return row.message.subject or "(no subject)"
