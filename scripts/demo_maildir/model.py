"""What a demo message is: the `Mail` spec its author writes, the `Person` who sends it, and the fixed
time zones its dates are in. Every value that looks random (seconds, delivery delays, Message-IDs, MIME
boundaries, queue IDs) is a `digest` of the message's key, so every run writes the same bytes."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.headerregistry import Address

# Time zones: fixed rules for autumn 2026, so the output never depends on the host's tz database.


def _offset(region: str, local: datetime) -> timezone:
    """UTC offset of `region` at naive local time `local` (Oct-Nov 2026 only)."""
    if region == "uk":  # BST until Sun 25 Oct 2026 02:00, then GMT
        return timezone(timedelta(hours=1 if local < datetime(2026, 10, 25, 2) else 0))
    if region == "eu":  # CEST until Sun 25 Oct 2026 03:00, then CET
        return timezone(timedelta(hours=2 if local < datetime(2026, 10, 25, 3) else 1))
    if region == "us":  # US Eastern: EDT until Sun 1 Nov 2026 02:00, then EST
        return timezone(timedelta(hours=-4 if local < datetime(2026, 11, 1, 2) else -5))
    raise ValueError(region)


def to_region(moment: datetime, region: str) -> datetime:
    """An aware datetime shown in `region`'s local time."""
    utc = moment.astimezone(UTC)
    # Guess with the summer offset, then correct (no demo message falls in a DST gap).
    guess = utc.astimezone(_offset(region, datetime(2026, 10, 1))).replace(tzinfo=None)
    return utc.astimezone(_offset(region, guess))


def tz_abbrev(moment: datetime) -> str:
    return {1: "BST", 0: "GMT"}[int(moment.utcoffset().total_seconds() // 3600)]  # type: ignore[union-attr]


def digest(*parts: str) -> str:
    """A hex SHA-256 of `parts`: where a message's seemingly random values come from."""
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class Person:
    name: str
    addr: str
    region: str = "us"
    client: str = "generic"  # mail client style (quoting, Message-ID): gmail|outlook|uuid|generic

    @property
    def domain(self) -> str:
        return self.addr.split("@", 1)[1]

    def address(self) -> Address:
        return Address(display_name=self.name, addr_spec=self.addr)

    def __str__(self) -> str:
        return f"{self.name} <{self.addr}>"


@dataclass
class Mail:
    """One message as its author wrote it. See render.py for what the generator adds."""

    key: str  # short id, used for replies and to derive Message-ID etc.
    folder: str  # "support" or "sales": the shared inbox it is delivered to
    when: str  # sender's local time, "YYYY-MM-DD HH:MM[:SS]"
    sender: Person
    to: list[Person]
    body: str = ""  # plain text; `{on[key]}` inserts the reply attribution line for `key`
    subject: str | None = None  # None: "Re: " + the parent's subject
    cc: list[Person] = field(default_factory=list)
    reply_to: Person | None = None
    parent: str | None = None  # key of the message this replies to
    quote: bool = True  # replies: put the quoted parent under the text (top-posting)
    alternative: bool = False  # text/plain + a generated text/html twin
    html_only: str | None = None  # the whole body is this text/html
    attachments: list[tuple[str, str, bytes]] = field(default_factory=list)  # (filename, mime, data)
    headers: dict[str, str] = field(default_factory=dict)
    message_id: str | None = None
    delay: int | None = None  # seconds between sending and delivery; None: 1-25, from the key
    raw: Callable[[Mail, Ctx], bytes] | None = None  # hand-written message (headers + body)
    envelope_from: str | None = None  # Return-Path; None: the sender's address

    # filled in by the generator
    sent: datetime = field(init=False)
    arrived: datetime = field(init=False)
    text: str = field(init=False, default="")  # final plain text (for quoting by later replies)

    def __post_init__(self) -> None:
        fmt = "%Y-%m-%d %H:%M:%S" if self.when.count(":") == 2 else "%Y-%m-%d %H:%M"
        local = datetime.strptime(self.when, fmt)
        if fmt.endswith("%M"):
            local = local.replace(second=int(digest("sec", self.key), 16) % 60)
        self.sent = local.replace(tzinfo=_offset(self.sender.region, local))
        delay = self.delay if self.delay is not None else 1 + int(digest("delay", self.key), 16) % 25
        self.arrived = self.sent + timedelta(seconds=delay)


@dataclass
class Ctx:
    """What a message needs to know about the others."""

    mails: dict[str, Mail]
    ids: dict[str, str]
    subjects: dict[str, str]

    def refs(self, mail: Mail) -> list[str]:
        """References of `mail`: the parent's References plus the parent's Message-ID."""
        if mail.parent is None:
            return []
        return [*self.refs(self.mails[mail.parent]), self.ids[mail.parent]]
