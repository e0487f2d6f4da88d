"""The things inboxcrm talks about, as frozen values.

Everything here is plain data: no I/O, no clock, no ORM. The shell converts rows to and from these.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class MailboxKind(enum.StrEnum):
    """What a shared mailbox is for; `support` mailboxes open tickets."""

    SUPPORT = "support"
    SALES = "sales"
    OTHER = "other"


class Direction(enum.StrEnum):
    """Whether a message came from outside (a customer) or from our side (a team member)."""

    INBOUND = "in"
    OUTBOUND = "out"


class TicketStatus(enum.StrEnum):
    """The life of a ticket: new → open → pending → solved → closed."""

    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    SOLVED = "solved"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Address:
    """One mailbox address; `email` is normalised (see `addresses.normalise_email`)."""

    email: str
    name: str = ""

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2]


@dataclass(frozen=True, slots=True)
class Attachment:
    """What we know of an attachment without keeping a second copy of its bytes."""

    filename: str
    content_type: str
    size: int


@dataclass(frozen=True, slots=True)
class Message:
    """A parsed message. Whatever could not be read is listed in `defects`; nothing raises."""

    message_id: str | None
    subject: str
    from_: Address | None
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    reply_to: tuple[Address, ...] = ()
    date: datetime | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    text: str = ""
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    defects: tuple[str, ...] = ()

    def header(self, name: str) -> str | None:
        """The first value of header `name` (case-insensitive), decoded, or None."""
        wanted = name.lower()
        size = len(wanted)
        for key, value in self.headers:
            # most names differ in length: that test is cheaper than lower-casing each (long header blocks)
            if len(key) == size and key.lower() == wanted:
                return value
        return None


@dataclass(frozen=True, slots=True)
class MailboxProfile:
    """What the core needs to know about the shared mailbox a message arrived on."""

    name: str
    kind: MailboxKind
    addresses: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class Team:
    """Our side: shared addresses and team members, who never become contacts."""

    addresses: frozenset[str] = field(default_factory=frozenset)
    domains: frozenset[str] = field(default_factory=frozenset)

    def includes(self, email: str) -> bool:
        """Our addresses, and any address at one of our domains or their subdomains (mx.example.com)."""
        if email in self.addresses:
            return True
        domain = email.rpartition("@")[2]
        return any(domain == d or domain.endswith("." + d) for d in self.domains)
