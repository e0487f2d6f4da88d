"""Read-side values: what the API and pages show. Built by the store, shaped by the services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from inboxcrm.core.model import Address, Attachment

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CompanyView:
    id: int
    domain: str
    name: str


@dataclass(frozen=True, slots=True)
class ContactView:
    id: int
    email: str
    name: str
    company: CompanyView | None
    undeliverable: bool
    created_at: datetime
    score: float = 0.0
    stage: str | None = None
    tags: tuple[str, ...] = ()  # loaded for one contact (`Reads.contact`), not for lists


@dataclass(frozen=True, slots=True)
class MessageView:
    id: int
    thread_id: int
    mailbox: str
    direction: str
    message_id: str | None
    subject: str
    from_: Address | None
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    sent_at: datetime
    text: str
    attachments: tuple[Attachment, ...]
    kind: str = "normal"
    new_text: str | None = None
    quoted_text: str | None = None
    signature: str | None = None
    forwarded_by: str | None = None
    role: str | None = None
    # the raw header fields, in order (the API shows them to admin tokens only)
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    id: int
    at: datetime
    kind: str
    summary: str
    message: MessageView | None
    ticket_id: int | None


@dataclass(frozen=True, slots=True)
class TicketView:
    id: int
    thread_id: int
    mailbox: str
    contact_id: int | None
    subject: str
    status: str
    created_at: datetime
    updated_at: datetime
    queue: str | None = None
    priority: str = "normal"
    assignee: str | None = None
    tags: tuple[str, ...] = ()
    first_response_at: datetime | None = None
    solved_at: datetime | None = None
    first_response_due: datetime | None = None
    resolution_due: datetime | None = None
    first_response_breached_at: datetime | None = None
    resolution_breached_at: datetime | None = None
    snoozed_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class ThreadView:
    id: int
    subject: str
    mailbox: str
    created_at: datetime
    last_message_at: datetime
    messages: tuple[MessageView, ...]
    ticket: TicketView | None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list; `next_cursor` is None on the last page."""

    items: tuple[T, ...]
    next_cursor: str | None
