"""Campaign values: a compiled `Campaign` (sender, trigger, exits, send window, steps), the names campaign
files may use, and what triggers and exits read about a contact."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time as clock_time
from datetime import timedelta

from inboxcrm.core.model import Address

MAX_STEPS = 50
# Longer than any drip anyone means; also keeps delay arithmetic far from datetime's limits.
MAX_DELAY = timedelta(weeks=520)
TRIGGER_KINDS = ("tag", "stage", "score", "segment", "rule", "manual")
ENROLMENT_STATUSES = ("active", "finished", "exited")
CAMPAIGN_KEYS = (
    "name",
    "description",
    "from",
    "reply_to",
    "timezone",
    "postal_address",
    "trigger",
    "reenrol",
    "window",
    "rate_limit",
    "exit",
    "step",
)
STEP_KEYS = ("delay", "template")
WINDOW_KEYS = ("days", "start", "end")
EXIT_KEYS = ("reply", "ticket", "tags", "stages")
ALWAYS_EXIT = ("unsubscribed", "bounced", "complained")


@dataclass(frozen=True, slots=True)
class CampaignVocabulary:
    """The names campaign files may refer to; `stages` in lifecycle order, `senders` our shared addresses."""

    templates: frozenset[str] = frozenset()
    segments: frozenset[str] = frozenset()
    stages: tuple[str, ...] = ()
    senders: frozenset[str] = frozenset()
    # mailbox name → its address (with display name): `from = "sales"` sends as that mailbox
    mailboxes: Mapping[str, Address] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Window:
    """Send only from `start` to `end` (local wall clock, end excluded) on `days` (0 = Monday … 6 = Sunday)."""

    days: frozenset[int]
    start: clock_time
    end: clock_time


@dataclass(frozen=True, slots=True)
class Step:
    """Step `number` (from 1) sends `template` `delay` after enrolment (step 1) or after the previous step."""

    number: int
    delay: timedelta
    template: str
    line: int


@dataclass(frozen=True, slots=True)
class Trigger:
    """What enrols a contact: `kind` is one of `TRIGGER_KINDS`; `value` the tag, stage, segment (str) or score
    (float), None for rule and manual."""

    kind: str
    value: str | float | None = None


@dataclass(frozen=True, slots=True)
class Exits:
    """What ends a contact's enrolment besides unsubscribing, bouncing and complaining. `stages` holds every
    stage that ends it: `compile_campaigns` adds to each stage written the stages after it in lifecycle order."""

    reply: bool = True
    ticket: bool = True
    tags: frozenset[str] = frozenset()
    stages: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Campaign:
    """One compiled campaign; `reply_to` is a lower-cased address, `timezone` an IANA name."""

    name: str
    file: str
    line: int
    description: str
    sender: Address
    reply_to: str
    timezone: str
    postal_address: str
    trigger: Trigger
    steps: tuple[Step, ...]
    exits: Exits = Exits()
    reenrol: bool = False
    window: Window | None = None
    rate_limit: int | None = None


@dataclass(frozen=True, slots=True)
class ContactNow:
    """What triggers and exits read about a contact at one moment (tags as stored)."""

    tags: frozenset[str] = frozenset()
    stage: str | None = None
    score: float = 0.0
    segments: frozenset[str] = frozenset()
    replied_since_enrolment: bool = False
    open_ticket: bool = False
    unsubscribed: bool = False
    bounced: bool = False
    complained: bool = False
