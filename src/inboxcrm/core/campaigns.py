"""Drip campaigns as code: campaign files (`campaigns/*.toml`) → `Campaign`s; when each step is due, who
enrols and who leaves.

Pure: callers pass file texts in (`compile_campaigns([(path, text), …], vocabulary)`), and times and contact
states into the other functions. The format::

    [[campaign]]
    name = "trial-nurture"                   # letters, digits, - and _; unique over all files (ignoring case)
    description = "Three mails for people who asked for a trial"
    from = "Northwind Sales <sales@northwind.example>"   # one of our shared addresses
    reply_to = "sales@northwind.example"      # optional, default: the from address
    timezone = "Europe/Berlin"               # IANA; for contacts whose own timezone is unknown (default UTC)
    postal_address = "Northwind GmbH, Hauptstr. 1, 10115 Berlin"
    trigger = { tag = "trial" }              # or { stage = "lead" }, { score = 30 }, { segment = "hot-leads" },
                                             # "rule" (a rule's `enrol` action), "manual" (the default)
    reenrol = false                          # may a contact who finished or left enrol again?
    window = { days = ["mon", "tue", "wed", "thu", "fri"], start = "09:00", end = "17:00" }
    rate_limit = 60                          # messages per minute

    [campaign.exit]                          # unsubscribes, bounces and complaints always end a campaign
    reply = true                             # the contact wrote to us after enrolling
    ticket = true                            # the contact has an open support ticket
    tags = ["customer"]                      # any of these tags (default none)
    stages = ["customer"]                    # any of these stages or a later one reached (default none)

    [[campaign.step]]
    delay = "0d"                             # after enrolment (first step) or the previous step: 30m, 4h, 2d, 1w
    template = "campaigns/trial-1"

A contact enrols when `triggers(…)` (or a rule, or a person) says so, `may_enrol(…)` allows it and
`exit_reason(…)` is None; it leaves at the first `exit_reason(…)` that is not None.

Delays are elapsed time (2d = 48 hours); a send window then moves a step into local wall-clock hours.
`compile_campaigns` reports every problem in every file at once, as rule files do (`file:line: message (hint)`).
"""

from __future__ import annotations

import difflib
import email.utils
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from inboxcrm.core.addresses import normalise_email
from inboxcrm.core.model import Address
from inboxcrm.core.rules import RuleProblem, RulesInvalid, key_lines, suggest, weekdays_in

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

_Loc = tuple[str | int, ...]
_NAME = re.compile(r"[A-Za-z0-9_-]+")
_DELAY = re.compile(r"(?:\d+[mhdw])+|0")
_DELAY_PART = re.compile(r"(\d+)([mhdw])")
_MINUTES = {"m": 1, "h": 60, "d": 24 * 60, "w": 7 * 24 * 60}
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
_VALUE_TRIGGERS = ("tag", "stage", "score", "segment")
_DAY = timedelta(days=1)
_TICK = timedelta(microseconds=1)
_DAYS_SCANNED = 16  # from the day before: a window open on any one weekday opens within this many local days
_MAX_HOPS = 64


# ---------------------------------------------------------------------------------------------------------
# Values


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


# ---------------------------------------------------------------------------------------------------------
# Compiling


def compile_campaigns(files: Sequence[tuple[str, str]], vocabulary: CampaignVocabulary) -> tuple[Campaign, ...]:
    """Campaigns from (path, text) pairs, files sorted by path; raises `RulesInvalid` listing every problem
    with file:line, and never returns a half-valid set."""
    problems: list[RuleProblem] = []
    campaigns: list[Campaign] = []
    names: dict[str, list[tuple[str, str, int | None]]] = {}  # lower-cased name → (name, file, line)
    for file, text in sorted(files):
        compiler = _FileCompiler(file, text, vocabulary, problems)
        campaigns.extend(compiler.compile())
        for name, line in compiler.names:
            names.setdefault(name.lower(), []).append((name, file, line))
    for places in names.values():
        if len(places) < 2:
            continue
        for index, (name, file, line) in enumerate(places):
            others = ", ".join(_where(f, n) for _, f, n in places[:index] + places[index + 1 :])
            message = f"campaign {name!r} is defined more than once"
            problems.append(RuleProblem(file, line, message, f"names are unique ignoring case; also at {others}"))
    if problems:
        # in file and line order, so that duplicates reported at the end read in place
        raise RulesInvalid(sorted(problems, key=lambda p: (p.file, p.line or 0)))
    return tuple(campaigns)


def _where(file: str, line: int | None) -> str:
    return f"{file}:{line}" if line else file


def _shown(value: object) -> str:
    if isinstance(value, bool):  # as written in TOML
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _toml_problem(file: str, text: str, exc: tomllib.TOMLDecodeError) -> RuleProblem:
    message = str(exc)
    found = re.search(r"\s*\(at line (\d+), column \d+\)", message)
    if found is not None:
        line: int | None = int(found.group(1))
        message = message[: found.start()]
    elif message.endswith("(at end of document)"):
        # an unclosed quote or bracket: the reader gave up on the last line
        line = len(text.splitlines()) or None
        message = message.removesuffix("(at end of document)").strip()
    else:
        line = None
    hint = 'check quotes, brackets and commas on that line; text needs quotes: delay = "2d"'
    return RuleProblem(file, line, f"not valid TOML: {message}", hint)


def _zone_or_none(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


class _FileCompiler:
    """Checks and compiles one file's campaigns; problems go to the shared list. `names` lists every campaign
    name found with its line, valid campaign or not, for the duplicate check over all files."""

    def __init__(self, file: str, text: str, vocabulary: CampaignVocabulary, problems: list[RuleProblem]) -> None:
        self.file = file
        self.text = text
        self.vocabulary = vocabulary
        self.problems = problems
        self.lines: dict[_Loc, int] = {}
        self.names: list[tuple[str, int | None]] = []

    def line(self, loc: _Loc) -> int | None:
        for end in range(len(loc), 0, -1):
            found = self.lines.get(loc[:end])
            if found is not None:
                return found
        return None

    def problem(self, loc: _Loc, message: str, hint: str = "") -> None:
        self.problems.append(RuleProblem(self.file, self.line(loc), message, hint))

    def compile(self) -> list[Campaign]:
        try:
            data = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as exc:
            self.problems.append(_toml_problem(self.file, self.text, exc))
            return []
        self.lines = key_lines(self.text)
        for key in data:
            if key != "campaign":
                hint = "start each campaign with a [[campaign]] line" if key in CAMPAIGN_KEYS else ""
                self.problem((key,), f"unknown key {key!r} at the top of the file", hint or suggest(key, ["campaign"]))
        tables = data.get("campaign", [])
        if isinstance(tables, dict):
            self.problem(("campaign",), "`[campaign]` is a single table", "write [[campaign]] (double brackets)")
            return []
        if not isinstance(tables, list):
            self.problem(("campaign",), f"`campaign` must be a list of tables, got {_shown(tables)}", "[[campaign]]")
            return []
        compiled: list[Campaign] = []
        for index, table in enumerate(tables):
            loc: _Loc = ("campaign", index)
            if not isinstance(table, dict):
                self.problem(loc, f"a campaign must be a table, got {_shown(table)}", "write each as [[campaign]]")
                continue
            campaign = self.campaign(table, loc)
            if campaign is not None:
                compiled.append(campaign)
        return compiled

    # -- one campaign

    def campaign(self, table: Mapping[str, Any], loc: _Loc) -> Campaign | None:
        before = len(self.problems)
        name = self.name(table, loc)
        # how messages name the campaign: its name, or its place in the file when it has none
        label = repr(name) if name else f"#{int(loc[-1]) + 1}"
        for key in table:
            if key not in CAMPAIGN_KEYS:
                self.problem((*loc, key), f"unknown key {key!r} in campaign {label}", self.key_hint(key))
        description = self.text_value(table, "description", loc, required=False) or ""
        sender = self.sender(table, loc, label)
        reply_to = self.reply_to(table, loc, sender)
        timezone = self.timezone(table, loc)
        postal_address = self.text_value(table, "postal_address", loc, required=True, label=label)
        trigger = self.trigger(table.get("trigger"), (*loc, "trigger")) if "trigger" in table else Trigger("manual")
        reenrol = self.flag(table, "reenrol", loc, default=False)
        window = self.window(table["window"], (*loc, "window")) if "window" in table else None
        if window is not None and "timezone" not in table:
            self.problem(
                (*loc, "window"),
                "a send window needs the campaign's `timezone`",
                'add timezone = "Europe/Berlin", used when a contact\'s own timezone is unknown',
            )
        rate_limit = self.rate_limit(table, loc)
        exits = self.exits(table["exit"], (*loc, "exit")) if "exit" in table else Exits()
        steps = self.steps(table, loc, label)
        if trigger is not None and exits is not None:
            self.trigger_is_exit(trigger, exits, (*loc, "trigger"))
        if len(self.problems) > before:
            return None
        # every None below came with a problem, so none is left here
        assert name and sender and reply_to and timezone and postal_address and trigger and exits and steps
        assert reenrol is not None
        return Campaign(
            name=name,
            file=self.file,
            line=self.line(loc) or 0,
            description=description,
            sender=sender,
            reply_to=reply_to,
            timezone=timezone,
            postal_address=postal_address,
            trigger=trigger,
            steps=steps,
            exits=exits,
            reenrol=reenrol,
            window=window,
            rate_limit=rate_limit,
        )

    @staticmethod
    def key_hint(key: str) -> str:
        if key in STEP_KEYS:
            return f"`{key}` belongs to a step: [[campaign.step]] then {key} = …"
        if key in ("subject", "body", "html"):
            return "the subject and body are part of the step's template"
        if key in EXIT_KEYS:
            return f"exits go under [campaign.exit]: {key} = …"
        if key in WINDOW_KEYS:
            return f"window = {{ {key} = … }}"
        if key == "steps":
            return "write each step as a [[campaign.step]] table"
        return suggest(key, CAMPAIGN_KEYS)

    def name(self, table: Mapping[str, Any], loc: _Loc) -> str | None:
        if "name" not in table:
            self.problem(loc, "a campaign needs a `name`", 'add name = "trial-nurture"')
            return None
        name = table["name"]
        where = (*loc, "name")
        if not isinstance(name, str) or not name.strip():
            self.problem(where, f"a campaign name must be text, got {_shown(name)}", 'e.g. name = "trial-nurture"')
            return None
        name = name.strip()
        self.names.append((name, self.line(where)))
        if not _NAME.fullmatch(name):
            self.problem(
                where,
                f"campaign name {name!r} may hold only letters, digits, '-' and '_'",
                f"e.g. {re.sub(r'[^A-Za-z0-9_-]+', '-', name).strip('-') or 'trial-nurture'!r}",
            )
            return None
        return name

    def text_value(
        self, table: Mapping[str, Any], key: str, loc: _Loc, *, required: bool, label: str = ""
    ) -> str | None:
        if key not in table:
            if required:
                self.problem(loc, f"campaign {label} needs `{key}`", f'add {key} = "…"')
            return None
        value = table[key]
        if not isinstance(value, str) or (required and not value.strip()):
            self.problem((*loc, key), f"`{key}` must be text, got {_shown(value)}", "put it in quotes")
            return None
        return value.strip()

    def flag(self, table: Mapping[str, Any], key: str, loc: _Loc, *, default: bool) -> bool | None:
        value = table.get(key, default)
        if not isinstance(value, bool):
            self.problem(
                (*loc, key), f"`{key}` must be true or false, got {_shown(value)}", f"{key} = {_shown(default)}"
            )
            return None
        return value

    def address(self, value: Any, loc: _Loc, key: str) -> Address | None:
        if not isinstance(value, str) or not value.strip():
            self.problem(loc, f"`{key}` must be an address in quotes, got {_shown(value)}", f'{key} = "Name <a@b.c>"')
            return None
        found = email.utils.getaddresses([value])
        normalised = normalise_email(found[0][1]) if len(found) == 1 else None
        if normalised is None:
            self.problem(loc, f"`{key}` is not one address: {value!r}", 'write "Name <someone@example.com>"')
            return None
        return Address(normalised, found[0][0].strip())

    def sender(self, table: Mapping[str, Any], loc: _Loc, label: str) -> Address | None:
        if "from" not in table:
            self.problem(loc, f"campaign {label} needs `from`", 'add from = "Sales <sales@…>", one of our addresses')
            return None
        value = table["from"]
        if isinstance(value, str) and value.strip() in self.vocabulary.mailboxes:
            # a mailbox's name: its address and display name, so one campaign file serves every deployment
            return self.vocabulary.mailboxes[value.strip()]
        sender = self.address(value, (*loc, "from"), "from")
        if sender is None:
            return None
        senders = {s.lower() for s in self.vocabulary.senders}
        if sender.email not in senders:
            close = difflib.get_close_matches(sender.email, sorted(senders), n=1)
            hint = f"did you mean {close[0]!r}?" if close else "campaigns send from one of our shared addresses: "
            if not close:
                hint += ", ".join(sorted(senders)) if senders else "none are configured"
            self.problem((*loc, "from"), f"{sender.email!r} is not one of our shared addresses", hint)
            return None
        return sender

    def reply_to(self, table: Mapping[str, Any], loc: _Loc, sender: Address | None) -> str | None:
        if "reply_to" not in table:
            return sender.email if sender is not None else None
        address = self.address(table["reply_to"], (*loc, "reply_to"), "reply_to")
        return address.email if address is not None else None

    def timezone(self, table: Mapping[str, Any], loc: _Loc) -> str | None:
        value = table.get("timezone", "UTC")
        where = (*loc, "timezone")
        if not isinstance(value, str) or not value.strip():
            self.problem(where, f"`timezone` must be text, got {_shown(value)}", 'e.g. timezone = "Europe/Berlin"')
            return None
        if _zone_or_none(value.strip()) is None:
            # listing the zones reads the tz database's index: only ever done for a bad name
            hint = suggest(value.strip(), available_timezones(), "timezone")
            if not hint.startswith("did you mean"):
                hint = 'an IANA name such as "Europe/Berlin" or "America/New_York"'
            self.problem(where, f"unknown timezone {value!r}", hint)
            return None
        return value.strip()

    def rate_limit(self, table: Mapping[str, Any], loc: _Loc) -> int | None:
        if "rate_limit" not in table:
            return None
        value = table["rate_limit"]
        where = (*loc, "rate_limit")
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(where, f"`rate_limit` must be a whole number, got {_shown(value)}", "messages per minute")
            return None
        if value <= 0:
            self.problem(
                where, f"`rate_limit` must be at least 1, got {value}", "messages per minute; leave it out for no limit"
            )
            return None
        return value

    def known(self, value: str, loc: _Loc, choices: Iterable[str], what: str) -> str | None:
        """The vocabulary's spelling of `value` (names match ignoring case), or None with a problem."""
        options = list(choices)
        for option in options:
            if option.lower() == value.lower():
                return option
        self.problem(loc, f"unknown {what} {value!r}", suggest(value, options, what))
        return None

    def strings(self, value: Any, loc: _Loc, what: str) -> list[tuple[str, _Loc]] | None:
        """A text or a list of texts, stripped, with where each was written."""
        if isinstance(value, str):
            items: list[tuple[Any, _Loc]] = [(value, loc)]
        elif isinstance(value, list):
            items = [(item, (*loc, i)) for i, item in enumerate(value)]
        else:
            self.problem(loc, f"expected {what} or a list of them, got {_shown(value)}", 'e.g. ["x", "y"]')
            return None
        ok = True
        for item, where in items:
            if not isinstance(item, str) or not item.strip():
                self.problem(where, f"expected {what}, got {_shown(item)}", "put text in quotes")
                ok = False
        return [(item.strip(), where) for item, where in items] if ok else None

    # -- trigger

    def trigger(self, value: Any, loc: _Loc) -> Trigger | None:
        shapes = (
            'trigger = { tag = "trial" }, { stage = "lead" }, { score = 30 }, { segment = "…" }, "rule" or "manual"'
        )
        if isinstance(value, str):
            kind = value.strip()
            if kind in ("rule", "manual"):
                return Trigger(kind)
            if kind in _VALUE_TRIGGERS:
                self.problem(loc, f"trigger {kind!r} needs a value", f"write trigger = {{ {kind} = … }}")
            else:
                self.problem(loc, f"unknown trigger {value!r}", suggest(kind, TRIGGER_KINDS))
            return None
        if not isinstance(value, dict):
            self.problem(loc, f"`trigger` must be a table or text, got {_shown(value)}", shapes)
            return None
        for key in value:
            if key not in _VALUE_TRIGGERS:
                hint = f'write trigger = "{key}"' if key in ("rule", "manual") else suggest(key, _VALUE_TRIGGERS)
                self.problem((*loc, key), f"unknown trigger {key!r}", hint)
        kinds = [key for key in value if key in _VALUE_TRIGGERS]
        if len(value) != 1:
            if not value:
                self.problem(loc, "the trigger is empty", shapes)
            elif len(kinds) > 1:
                self.problem(
                    loc,
                    f"a trigger is exactly one kind, got {' and '.join(kinds)}",
                    "use a segment that combines them, or make one campaign per trigger",
                )
            return None
        if not kinds:
            return None
        kind = kinds[0]
        spec = value[kind]
        where = (*loc, kind)
        if kind == "score":
            if isinstance(spec, bool) or not isinstance(spec, int | float):
                self.problem(where, f"`score` must be a number, got {_shown(spec)}", "trigger = { score = 30 }")
                return None
            return Trigger("score", float(spec))
        if not isinstance(spec, str) or not spec.strip():
            self.problem(where, f"`{kind}` must be text, got {_shown(spec)}", f'trigger = {{ {kind} = "…" }}')
            return None
        name = spec.strip()
        if kind == "stage":
            found = self.known(name, where, self.vocabulary.stages, "stage")
            return None if found is None else Trigger("stage", found)
        if kind == "segment":
            found = self.known(name, where, self.vocabulary.segments, "segment")
            return None if found is None else Trigger("segment", found)
        return Trigger("tag", name)

    def trigger_is_exit(self, trigger: Trigger, exits: Exits, loc: _Loc) -> None:
        # A contact who enrols would leave at once: certainly a mistake.
        if trigger.kind == "tag" and trigger.value in exits.tags:
            self.problem(loc, f"tag {trigger.value!r} both enrols and ends the campaign", "remove it from exit.tags")
        elif trigger.kind == "stage" and trigger.value in exits.stages:
            self.problem(
                loc,
                f"reaching stage {trigger.value!r} both enrols and ends the campaign",
                "exit.stages ends the campaign at the stages listed and every later one",
            )

    # -- window

    def window(self, value: Any, loc: _Loc) -> Window | None:
        example = 'window = { days = ["mon", "tue", "wed", "thu", "fri"], start = "09:00", end = "17:00" }'
        if not isinstance(value, dict):
            self.problem(loc, f"`window` must be a table, got {_shown(value)}", example)
            return None
        ok = True
        for key in value:
            if key not in WINDOW_KEYS:
                self.problem((*loc, key), f"unknown key {key!r} in `window`", suggest(key, WINDOW_KEYS))
                ok = False
        days = self.days(value["days"], (*loc, "days")) if "days" in value else frozenset(range(7))
        times: list[clock_time | None] = []
        for key in ("start", "end"):
            if key not in value:
                self.problem(loc, f"the window needs `{key}`", example)
                times.append(None)
            else:
                times.append(self.clock(value[key], (*loc, key)))
        start, end = times
        if start is not None and end is not None and end <= start:
            self.problem(
                (*loc, "end"),
                f"the window must end after it starts ({end:%H:%M} is not after {start:%H:%M})",
                "a window cannot span midnight; the latest end is 23:59",
            )
            ok = False
        if not ok or days is None or start is None or end is None:
            return None
        return Window(days, start, end)

    def days(self, value: Any, loc: _Loc) -> frozenset[int] | None:
        items = self.strings(value, loc, "a weekday")
        if items is None:
            return None
        if not items:
            self.problem(loc, "the window has no days", 'e.g. days = ["mon", "tue", "wed", "thu", "fri"]')
            return None
        return weekdays_in(items, self.problem)

    def clock(self, value: Any, loc: _Loc) -> clock_time | None:
        if isinstance(value, clock_time) and value.tzinfo is None:
            return value
        found = _CLOCK.fullmatch(value.strip()) if isinstance(value, str) else None
        if found is None or int(found.group(1)) > 23 or int(found.group(2)) > 59:
            hint = 'write "HH:MM", 24-hour'
            if found is not None and int(found.group(1)) == 24:
                hint = 'the latest end is "23:59"'
            self.problem(loc, f'expected a time of day such as "09:00", got {_shown(value)}', hint)
            return None
        return clock_time(int(found.group(1)), int(found.group(2)))

    # -- exits

    def exits(self, value: Any, loc: _Loc) -> Exits | None:
        if not isinstance(value, dict):
            self.problem(loc, f"`exit` must be a table, got {_shown(value)}", "write [campaign.exit]")
            return None
        before = len(self.problems)
        for key in value:
            if key in ("unsubscribe", "unsubscribed", "bounce", "bounced", "complaint", "complained"):
                self.problem(
                    (*loc, key),
                    f"`{key}` cannot be configured",
                    "unsubscribes, bounces and complaints always end a campaign",
                )
            elif key not in EXIT_KEYS:
                self.problem((*loc, key), f"unknown exit {key!r}", suggest(key, EXIT_KEYS))
        reply = self.flag(value, "reply", loc, default=True)
        ticket = self.flag(value, "ticket", loc, default=True)
        tags: frozenset[str] = frozenset()
        if "tags" in value:
            items = self.strings(value["tags"], (*loc, "tags"), "a tag")
            tags = frozenset(item for item, _ in items or [])
        stages: set[str] = set()
        if "stages" in value:
            order = self.vocabulary.stages
            for item, where in self.strings(value["stages"], (*loc, "stages"), "a stage") or []:
                found = self.known(item, where, order, "stage")
                if found is not None:
                    stages.update(order[order.index(found) :])
        if len(self.problems) > before or reply is None or ticket is None:
            return None
        return Exits(reply, ticket, tags, frozenset(stages))

    # -- steps

    def steps(self, table: Mapping[str, Any], loc: _Loc, label: str) -> tuple[Step, ...] | None:
        example = 'add [[campaign.step]] tables with delay = "0d" and template = "…"'
        if "step" not in table:
            self.problem(loc, f"campaign {label} has no steps", example)
            return None
        value = table["step"]
        where = (*loc, "step")
        if isinstance(value, dict):
            self.problem(where, "`[campaign.step]` is a single table", "write [[campaign.step]] (double brackets)")
            return None
        if not isinstance(value, list):
            self.problem(where, f"`step` must be a list of steps, got {_shown(value)}", example)
            return None
        if not value:
            self.problem(where, f"campaign {label} has no steps", example)
            return None
        if len(value) > MAX_STEPS:
            self.problem(
                (*where, MAX_STEPS),
                f"a campaign has at most {MAX_STEPS} steps, campaign {label} has {len(value)}",
                "split it into several campaigns",
            )
        steps: list[Step] = []
        for index, item in enumerate(value):
            step = self.step(item, (*where, index), index + 1)
            if step is not None:
                steps.append(step)
        return tuple(steps) if len(steps) == len(value) <= MAX_STEPS else None

    def step(self, value: Any, loc: _Loc, number: int) -> Step | None:
        if not isinstance(value, dict):
            self.problem(loc, f"step {number} must be a table, got {_shown(value)}", "write [[campaign.step]]")
            return None
        for key in value:
            if key not in STEP_KEYS:
                hint = "the subject is part of the template" if key == "subject" else suggest(key, STEP_KEYS)
                self.problem((*loc, key), f"unknown key {key!r} in step {number}", hint)
        delay = None
        if "delay" not in value:
            self.problem(loc, f"step {number} needs a `delay`", 'e.g. delay = "2d"; "0d" sends at once')
        else:
            delay = self.delay(value["delay"], (*loc, "delay"))
        template = None
        if "template" not in value:
            self.problem(loc, f"step {number} needs a `template`", 'e.g. template = "campaigns/trial-1"')
        elif not isinstance(value["template"], str) or not value["template"].strip():
            self.problem((*loc, "template"), f"`template` must be text, got {_shown(value['template'])}")
        else:
            template = self.known(value["template"].strip(), (*loc, "template"), self.vocabulary.templates, "template")
        if delay is None or template is None or any(key not in STEP_KEYS for key in value):
            return None
        return Step(number, delay, template, self.line(loc) or 0)

    def delay(self, value: Any, loc: _Loc) -> timedelta | None:
        units = '"30m", "4h", "2d" or "1w"'
        if not isinstance(value, str):
            self.problem(loc, f"a delay is text with a unit, got {_shown(value)}", f"in quotes: {units}")
            return None
        text = "".join(value.split())
        negative = text.startswith("-")
        if not _DELAY.fullmatch(text.removeprefix("-")):
            self.problem(loc, f"cannot read delay {value!r}", f"write whole minutes, hours, days or weeks: {units}")
            return None
        if negative and text != "-0":
            self.problem(loc, f"a delay cannot be negative, got {value!r}", 'delays count from the step before; "0d"')
            return None
        minutes = sum(int(n) * _MINUTES[unit] for n, unit in _DELAY_PART.findall(text))
        if minutes > MAX_DELAY // timedelta(minutes=1):
            self.problem(loc, f"delay {value!r} is longer than {MAX_DELAY.days // 7} weeks", "is a unit wrong?")
            return None
        return timedelta(minutes=minutes)


# ---------------------------------------------------------------------------------------------------------
# When steps go out


def send_time(earliest: datetime, window: Window | None, timezone: str) -> datetime:
    """The first instant at or after `earliest` whose wall clock in `timezone` is inside `window` (None: any
    time), in UTC. Raises ValueError on a naive `earliest` or an unknown timezone.

    Wall clock means DST-correct: a 09:00 start is 09:00 local on both sides of a change. A start in an hour
    the clocks skip opens the window when the clock jumps past it (02:30 on a spring-forward night opens at
    03:00); in an hour that repeats, the window is open on both passes.
    """
    moment = _utc(earliest, "earliest")
    if window is None:
        return moment
    zone = _zone(timezone)
    for _ in range(_MAX_HOPS):
        if _inside(moment, window, zone):
            return moment
        moment = _next_chance(moment, window, zone)
    raise AssertionError(f"no send window found after {earliest}")  # pragma: no cover - windows open weekly


def due_at(campaign: Campaign, step_number: int, base: datetime, contact_timezone: str | None) -> datetime:
    """When step `step_number` (from 1) is due: `base` (the enrolment, or when the previous step was sent) plus
    its delay, moved into the window in the contact's timezone, or the campaign's when that is unknown or
    not a valid IANA name. Aware UTC out; raises ValueError on a step that does not exist or a naive `base`."""
    if not 1 <= step_number <= len(campaign.steps):
        raise ValueError(f"campaign {campaign.name!r} has steps 1 to {len(campaign.steps)}, not {step_number}")
    earliest = _utc(base, "base") + campaign.steps[step_number - 1].delay
    zone = campaign.timezone
    if contact_timezone and _zone_or_none(contact_timezone) is not None:
        zone = contact_timezone
    return send_time(earliest, campaign.window, zone)


def _utc(moment: datetime, name: str) -> datetime:
    # Aware datetimes sharing a tzinfo compare by wall clock (PEP 495), wrong across DST: work in UTC.
    if moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, not {moment!r}")
    return moment.astimezone(UTC)


def _zone(name: str) -> ZoneInfo:
    zone = _zone_or_none(name)
    if zone is None:
        raise ValueError(f"unknown timezone {name!r}")
    return zone


def _inside(moment: datetime, window: Window, zone: ZoneInfo) -> bool:
    local = moment.astimezone(zone)
    return local.weekday() in window.days and window.start <= local.time() < window.end


def _next_chance(after: datetime, window: Window, zone: ZoneInfo) -> datetime:
    """The next instant after `after` (UTC) at which the window may open. It can open only when the wall clock
    reaches the start on an open day or when the clock jumps (a DST change), and no such instant is skipped."""
    # from the day before: a clock set back across midnight shows yesterday's date again
    day = after.astimezone(zone).date() - _DAY
    opening: datetime | None = None
    for _ in range(_DAYS_SCANNED):
        if opening is not None and datetime.combine(day, window.start).replace(tzinfo=UTC) > opening + _DAY:
            break  # UTC offsets stay within ±15 hours: this and every later day open after `opening`
        if day.weekday() in window.days:
            wall = datetime.combine(day, window.start)
            # fold 1 is the second pass of a repeated hour; a start the clocks skip converts to an instant
            # near the jump, which is harmless: every chance is checked before it is taken
            for fold in (0, 1):
                instant = wall.replace(tzinfo=zone, fold=fold).astimezone(UTC)
                if instant > after and (opening is None or instant < opening):
                    opening = instant
        day += _DAY
    bound = opening if opening is not None else after + _DAYS_SCANNED * _DAY
    jump = _offset_change(after, bound, zone)
    return jump if jump is not None else bound


def _offset_change(after: datetime, until: datetime, zone: ZoneInfo) -> datetime | None:
    """The instant in (after, until] at which `zone`'s UTC offset changes, found by bisection to the
    microsecond; None when the offset at `until` is the one at `after` (two changes that cancel out within a
    couple of weeks are not looked for: no zone has them)."""
    offset = after.astimezone(zone).utcoffset()
    if until.astimezone(zone).utcoffset() == offset:
        return None
    low, high = after, until
    while high - low > _TICK:
        middle = low + (high - low) // 2
        if middle.astimezone(zone).utcoffset() == offset:
            low = middle
        else:
            high = middle
    return high


# ---------------------------------------------------------------------------------------------------------
# Who enrols, who leaves


def exit_reason(campaign: Campaign, contact: ContactNow) -> str | None:
    """Why `contact` must leave `campaign` now, or None to stay. Unsubscribing, bouncing and complaining come
    first and always apply; then reply, ticket, tag and stage as the campaign's exits say."""
    exits = campaign.exits
    if contact.unsubscribed:
        return "unsubscribed"
    if contact.bounced:
        return "bounced"
    if contact.complained:
        return "complained"
    if exits.reply and contact.replied_since_enrolment:
        return "replied"
    if exits.ticket and contact.open_ticket:
        return "ticket opened"
    tags = sorted(exits.tags & contact.tags)
    if tags:
        return f"tag {tags[0]}"
    if contact.stage is not None and contact.stage in exits.stages:
        return f"stage {contact.stage}"
    return None


def triggers(campaign: Campaign, before: ContactNow | None, after: ContactNow, stages: Sequence[str]) -> bool:
    """Whether the change from `before` (None: a new contact) to `after` enrols in `campaign`: its tag newly
    present, its stage (or a later one in lifecycle order `stages`) newly reached, its score newly reached
    from below, its segment newly entered. Rule and manual campaigns never enrol here."""
    trigger = campaign.trigger
    value = trigger.value
    if trigger.kind == "tag":
        return value in after.tags and (before is None or value not in before.tags)
    if trigger.kind == "segment":
        return value in after.segments and (before is None or value not in before.segments)
    if trigger.kind == "score" and isinstance(value, float | int):
        return after.score >= value and (before is None or before.score < value)
    if trigger.kind == "stage" and isinstance(value, str) and value in stages:
        order = list(stages)
        needed = order.index(value)

        def reached(contact: ContactNow | None) -> bool:
            stage = None if contact is None else contact.stage
            return stage is not None and stage in order and order.index(stage) >= needed

        return reached(after) and not reached(before)
    return False


def may_enrol(campaign: Campaign, previous: Sequence[str]) -> tuple[bool, str]:
    """Whether a contact whose earlier enrolments in `campaign` ended as `previous` (statuses from
    `ENROLMENT_STATUSES`) may enrol now, and why. Raises ValueError on an unknown status."""
    unknown = sorted(set(previous) - set(ENROLMENT_STATUSES))
    if unknown:
        raise ValueError(f"unknown enrolment status {unknown[0]!r}; expected one of {', '.join(ENROLMENT_STATUSES)}")
    if "active" in previous:
        return False, f"already enrolled in {campaign.name!r}"
    if not previous:
        return True, "first enrolment"
    if not campaign.reenrol:
        ended = "finished" if "finished" in previous else "left"
        return False, f"{ended} {campaign.name!r} before, and the campaign does not allow re-enrolment"
    return True, "re-enrolment allowed"
