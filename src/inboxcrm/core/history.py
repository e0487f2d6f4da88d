"""History and live mail: what a message that was already in a folder when inboxcrm first connected (or that
`inboxcrm import` reads) may do, and how the tickets of such mail end up.

History is replayed at its own times — threads, contacts, tickets with their real times, first responses,
rules' tags, points and stages — but causes no mail and re-opens nothing "now". History has no `#close`, so
an agent's answer counts as solving the ticket (see `answered_in_history`); the desk's clock then closes it
`close_solved_after` later, as it would have live. A customer writing again re-opens it, even once closed:
after the import, a ticket is open exactly when the customer had the last word.

Pure: times are passed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from inboxcrm.core.model import TicketStatus
from inboxcrm.core.tickets import Change, Ticket, closes_now, new_breaches, wakes_now, with_breaches, with_status


@dataclass(frozen=True, slots=True)
class Backlog:
    """What happens to the mail already in a folder when inboxcrm first connects to it.

    `keep` None: all of it is stored as history; a span: only the mail of that last span (older mail is left
    in the mailbox, unread by inboxcrm); zero: none of it (start from now)."""

    keep: timedelta | None = None

    @classmethod
    def parse(cls, value: str) -> Backlog:
        """`"all"`, `"none"`, or a span such as `"90d"`, `"12w"`, `"36h"` (the last 90 days …)."""
        text = value.strip().lower()
        if text == "all":
            return cls(None)
        if text == "none":
            return cls(timedelta(0))
        match = _SPAN.fullmatch(text)
        if not match:
            raise ValueError('expected "all", "none" or a span such as "90d" or "12w"')
        return cls(int(match.group(1)) * _UNITS[match.group(2)])

    def since(self, connected_at: datetime) -> datetime | None:
        """History dated before this is not stored (None: everything is)."""
        return None if self.keep is None else connected_at - self.keep

    @property
    def reads_nothing(self) -> bool:
        return self.keep == timedelta(0)


_SPAN = re.compile(r"([0-9]{1,6})\s*([hdw])")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


@dataclass(frozen=True, slots=True)
class HistoryMark:
    """A folder's history, as recorded when inboxcrm first connected: UIDs up to `until_uid` are history;
    history dated before `since` is not stored; `total` messages were there, `read` of them are done."""

    until_uid: int
    since: datetime | None
    total: int
    read: int
    connected_at: datetime

    def is_history(self, uid: int) -> bool:
        return uid <= self.until_uid

    def keeps(self, sent_at: datetime | None) -> bool:
        """Whether a history message dated `sent_at` is stored (one without a date always is)."""
        return self.since is None or sent_at is None or sent_at >= self.since


@dataclass(frozen=True, slots=True)
class FolderHistory:
    """How far a folder's history import has got: `read` of `total` messages, `done` once all are read."""

    mailbox: str
    folder: str
    read: int
    total: int
    done: bool
    since: datetime | None
    connected_at: datetime | None

    def describe(self) -> str:
        """One line for people: "1,200 of 30,000 read (4%)", "done: 120 of 120 read"."""
        share = f" ({100 * self.read // self.total}%)" if self.total and not self.done else ""
        since = f", mail since {self.since:%Y-%m-%d}" if self.since is not None else ""
        return f"{'done: ' if self.done else ''}{self.read:,} of {self.total:,} read{share}{since}"


def answered_in_history(ticket: Ticket, at: datetime, status_ordered: bool) -> tuple[Ticket, list[Change]]:
    """An agent's answer found in history: the ticket counts as solved at `at` (history has no `#close`),
    unless the answer's own commands set a status, or the ticket is pending, solved or closed already."""
    if status_ordered or ticket.status not in (TicketStatus.NEW, TicketStatus.OPEN):
        return ticket, []
    return with_status(ticket, TicketStatus.SOLVED, at), [
        Change("status", f"Ticket #{ticket.id} solved: answered by the team (history)")
    ]


def as_of(ticket: Ticket, at: datetime, close_after: timedelta) -> tuple[Ticket, list[tuple[datetime, Change]]]:
    """`ticket` as the desk's clock would have left it by `at`: a solved ticket closed `close_after` after it
    was solved, a snooze that ended woke it (nobody is told: it is history), missed SLA targets recorded.
    Each change comes with the time it happened."""
    changes: list[tuple[datetime, Change]] = []
    if closes_now(ticket, at, close_after) and ticket.solved_at is not None:
        when = ticket.solved_at + close_after
        ticket = with_status(ticket, TicketStatus.CLOSED, when)
        changes.append((when, Change("status", f"Ticket #{ticket.id} closed ({_days(close_after)} after solved)")))
    if wakes_now(ticket, at) and ticket.snoozed_until is not None:
        when = ticket.snoozed_until
        ticket = with_status(ticket, TicketStatus.OPEN, when)
        changes.append((when, Change("status", f"Ticket #{ticket.id} open again: its snooze ended")))
    found = new_breaches(ticket, at)
    if found:
        ticket = with_breaches(ticket, found)
        changes += [
            (b.at, Change("sla_breached", f"Ticket #{ticket.id}: {b.kind.replace('_', ' ')} target missed"))
            for b in found
        ]
    return ticket, changes


def reopenable(ticket: Ticket, at: datetime) -> Ticket:
    """A ticket opened by history that the clock closed, as a customer's later message in history finds it:
    solved again, so that the message re-opens it — the customer is waiting on the team, whatever the clock
    did meanwhile. Spam stays closed; so does a ticket closed after `at`."""
    if (
        ticket.status is TicketStatus.CLOSED
        and "spam" not in ticket.tags
        and ticket.solved_at is not None
        and ticket.solved_at <= at
    ):
        return replace(ticket, status=TicketStatus.SOLVED)
    return ticket


def _days(span: timedelta) -> str:
    count = span.total_seconds() / 86400
    return f"{count:g} day{'s' if count != 1 else ''}"
