"""What every part of the desk shares: turning a draft into an outbox row in the current transaction, and
a ticket's changes into timeline events."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from inboxcrm.core.outgoing import Draft, compose
from inboxcrm.core.ports import NewEvent, NewMail, SupportTransaction
from inboxcrm.core.reply_tokens import reply_address
from inboxcrm.core.tickets import Change, Ticket
from inboxcrm.services.desk.setup import Desk, DeskMailbox

_PLAIN = re.compile(r"[A-Za-z0-9_.+=-]{1,60}")


def outbox_key(kind: str, *parts: object) -> str:
    """An outbox key: what the mail is and what it is about, usable as a file name (parts that are not
    plain, such as Message-IDs, are replaced by a digest: the key stays unique, short and safe)."""
    plain = [str(p) if _PLAIN.fullmatch(str(p)) else hashlib.sha256(str(p).encode()).hexdigest()[:24] for p in parts]
    return "-".join([kind, *plain])


def days(span: timedelta) -> str:
    """`span` as people say it: "4 days", "1 day", "0.5 days"."""
    count = span.total_seconds() / 86400
    return f"{count:g} day{'s' if count != 1 else ''}"


class DeskMail:
    """The base of the desk's parts: its setup, and the one way a mail leaves it (an outbox row)."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    def _queue(
        self,
        tx: SupportTransaction,
        desk_mailbox: DeskMailbox,
        draft: Draft,
        now: datetime,
        *,
        automatic: bool,
        cause: str | None = None,
        ticket: Ticket | None = None,
        contact_id: int | None = None,
        author: str | None = None,
        source: int | None = None,
    ) -> NewMail | None:
        """Compose `draft` and queue it; the mail, or None when it was queued before (same key)."""
        mail = self._mail(
            desk_mailbox,
            draft,
            now,
            automatic=automatic,
            cause=cause,
            ticket=ticket,
            contact_id=contact_id,
            author=author,
            source=source,
        )
        return mail if self._queue_all(tx, [mail]) else None

    def _queue_all(self, tx: SupportTransaction, mails: Sequence[NewMail]) -> list[str]:
        """Queue composed mail with one statement; the keys of what was not queued before."""
        # the key makes deciding twice (a retried batch, two daemons) queue the mail once
        return tx.queue_mail(mails) if mails else []

    def _mail(
        self,
        desk_mailbox: DeskMailbox,
        draft: Draft,
        now: datetime,
        *,
        automatic: bool,
        cause: str | None = None,
        ticket: Ticket | None = None,
        contact_id: int | None = None,
        author: str | None = None,
        source: int | None = None,
    ) -> NewMail:
        """`draft` composed, with a new Message-ID, as an outbox row would hold it."""
        domain = desk_mailbox.address.partition("@")[2]
        message_id = f"<{self.desk.new_id()}@{domain}>"
        return NewMail(
            key=draft.key,
            kind=draft.kind,
            message_id=message_id,
            sender=desk_mailbox.address,
            recipients=tuple(a.email for a in draft.to),
            raw=compose(draft, message_id, now),
            automatic=automatic,
            at=now,
            mailbox=desk_mailbox.name,
            cause=cause,
            ticket_id=ticket.id if ticket else None,
            contact_id=contact_id if contact_id is not None else (ticket.contact_id if ticket else None),
            author=author,
            source_message_id=source,
        )

    def _customer_reply_to(self, desk_mailbox: DeskMailbox, ticket: Ticket) -> tuple[str, ...]:
        if self.desk.secret is None:
            return ()
        return (reply_address(desk_mailbox.address, ticket.thread_id, self.desk.secret),)

    def events_for(self, ticket: Ticket, changes: Sequence[Change], at: datetime) -> list[NewEvent]:
        """Timeline events for changes to `ticket` (on its customer's timeline)."""
        return self._events(ticket, changes, at)

    def _events(self, ticket: Ticket, changes: Sequence[Change], at: datetime) -> list[NewEvent]:
        if ticket.contact_id is None:
            return []
        return [
            NewEvent(ticket.contact_id, at, f"ticket_{c.kind}", c.summary[:500], ticket_id=ticket.id) for c in changes
        ]
