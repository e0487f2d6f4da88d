"""One entry per thing that happened: how a contact's timeline and a ticket's activity are laid out for
reading, without repeating a mail.

A stored message makes several timeline events: its own (`message_in`, `message_out`, `note`, `bounce`,
`auto_reply`) and, from the same mail, score, tag, stage and deal events. On a page the mail is shown once,
with its own event; the other events become short lines referring to it. A ticket's activity is its messages
and its events (opened, SLA, status, assignee, priority, acknowledgement sent, …) in one oldest-first list, an
agent's message shown as the customer received it (the relayed mail's text) rather than as the agent wrote it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from inboxcrm.core.views import MessageView, TimelineEntry

# the events that stand for a message itself (services/timeline.py and the desk's reply and note events)
MESSAGE_KINDS = frozenset({"message_in", "message_out", "note", "bounce", "auto_reply"})
# when one mail makes two of those (an agent's reply: filed as it came in, then as the reply it is), the
# one that says more wins: the reply or note over the plain arrival
_PREFERENCE = {"message_out": 0, "note": 0, "bounce": 1, "auto_reply": 1, "message_in": 2}


@dataclass(frozen=True, slots=True)
class ShownEntry:
    """A timeline entry as a page shows it: with its message (`message` set), or as a line referring to a
    message shown elsewhere (`refers_to` set), or as a line alone."""

    entry: TimelineEntry
    message: MessageView | None
    refers_to: Reference | None


@dataclass(frozen=True, slots=True)
class Reference:
    """The mail an event came from: its id, its subject, and whether it is shown in the same list."""

    message_id: int
    subject: str
    listed: bool


def one_per_thing(entries: Sequence[TimelineEntry]) -> list[ShownEntry]:
    """`entries` in their order, each mail embedded once: by its own event (the preferred one when a mail
    has several), every other event from that mail a reference to it. A mail whose own event is not among
    `entries` (another page of the timeline) is referred to, not embedded, by the events that are."""
    owner: dict[int, TimelineEntry] = {}
    for entry in entries:
        if entry.message is None or entry.kind not in MESSAGE_KINDS:
            continue
        best = owner.get(entry.message.id)
        if best is None or _PREFERENCE.get(entry.kind, 3) < _PREFERENCE.get(best.kind, 3):
            owner[entry.message.id] = entry
    shown: list[ShownEntry] = []
    for entry in entries:
        message = entry.message
        if message is None:
            shown.append(ShownEntry(entry, None, None))
        elif owner.get(message.id) is entry:
            shown.append(ShownEntry(entry, message, None))
        else:
            reference = Reference(message.id, message.subject or "(no subject)", message.id in owner)
            shown.append(ShownEntry(entry, None, reference))
    return shown


@dataclass(frozen=True, slots=True)
class Relayed:
    """The mail inboxcrm sent the customer for an agent's reply: its text, to whom, and how it went
    (`status`: queued, sent, failed … as the outbox says)."""

    text: str
    recipients: tuple[str, ...]
    status: str
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class TicketEvent:
    """Something that happened to a ticket, as its timeline recorded it."""

    id: int
    at: datetime
    kind: str
    summary: str
    message_id: int | None = None


@dataclass(frozen=True, slots=True)
class ActivityItem:
    """One line of a ticket's activity: a message (with `relayed`, what the customer got for it) or an event."""

    at: datetime
    message: MessageView | None = None
    relayed: Relayed | None = None
    event: TicketEvent | None = None


class TicketHistory(Protocol):
    """What the ticket page reads besides the thread: the ticket's events and the relayed copies."""

    def ticket_events(self, ticket_id: int) -> list[TicketEvent]:
        """The ticket's timeline events, oldest first."""
        ...

    def relayed(self, message_ids: Sequence[int]) -> dict[int, Relayed]:
        """For each of `message_ids` that an agent wrote and inboxcrm relayed, the mail the customer got."""
        ...


def ticket_activity(
    messages: Sequence[MessageView], events: Sequence[TicketEvent], relayed: Mapping[int, Relayed]
) -> list[ActivityItem]:
    """Messages and events in one list, oldest first (a message before the events at its own time: they
    follow from it). Events standing for a message of the thread are left out (the message is there), as are
    the duplicates of one event recorded for several contacts."""
    in_thread = {m.id for m in messages}
    items = [ActivityItem(m.sent_at, message=m, relayed=relayed.get(m.id)) for m in messages]
    seen: set[tuple[datetime, str, str]] = set()
    for event in events:
        if event.message_id in in_thread and event.kind in MESSAGE_KINDS:
            continue
        key = (event.at, event.kind, event.summary)
        if key in seen:
            continue
        seen.add(key)
        items.append(ActivityItem(event.at, event=event))
    order = {id(item): n for n, item in enumerate(items)}
    return sorted(items, key=lambda i: (i.at, i.message is None, order[id(i)]))
