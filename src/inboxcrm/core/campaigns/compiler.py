"""Compiling campaign files: TOML → `Campaign`s, or `FilesInvalid` with every problem in every file, as rule
files do (`file:line: message (hint)`). The campaign's own keys are read here; its trigger and exits in
`trigger_compiler`, its send window and steps in `step_compiler`.

The format::

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
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import available_timezones

from inboxcrm.core.addresses import normalise_email
from inboxcrm.core.campaigns.checking import shown_value
from inboxcrm.core.campaigns.clock import zone_or_none
from inboxcrm.core.campaigns.model import (
    CAMPAIGN_KEYS,
    EXIT_KEYS,
    STEP_KEYS,
    WINDOW_KEYS,
    Campaign,
    CampaignVocabulary,
    Exits,
    Trigger,
)
from inboxcrm.core.campaigns.step_compiler import StepCompiler
from inboxcrm.core.campaigns.trigger_compiler import TriggerCompiler
from inboxcrm.core.model import Address
from inboxcrm.core.tomlfile import FilesInvalid, Loc, Problem, closest, suggest

_NAME = re.compile(r"[A-Za-z0-9_-]+")
TOML_HINT = 'check quotes, brackets and commas on that line; text needs quotes: delay = "2d"'


def compile_campaigns(files: Sequence[tuple[str, str]], vocabulary: CampaignVocabulary) -> tuple[Campaign, ...]:
    """Campaigns from (path, text) pairs, files sorted by path; raises `FilesInvalid` (`RulesInvalid`) listing
    every problem with file:line, and never returns a half-valid set."""
    problems: list[Problem] = []
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
            problems.append(Problem(file, line, message, f"names are unique ignoring case; also at {others}"))
    if problems:
        # in file and line order, so that duplicates reported at the end read in place
        raise FilesInvalid(sorted(problems, key=lambda p: (p.file, p.line or 0)))
    return tuple(campaigns)


def _where(file: str, line: int | None) -> str:
    return f"{file}:{line}" if line else file


class _FileCompiler(TriggerCompiler, StepCompiler):
    """Checks and compiles one file's campaigns; problems go to the shared list. `names` lists every campaign
    name found with its line, valid campaign or not, for the duplicate check over all files."""

    def __init__(self, file: str, text: str, vocabulary: CampaignVocabulary, problems: list[Problem]) -> None:
        super().__init__(file, vocabulary, problems)
        self.text = text
        self.names: list[tuple[str, int | None]] = []

    def compile(self) -> list[Campaign]:
        data = self.parse(self.text, TOML_HINT)
        if data is None:
            return []
        compiled: list[Campaign] = []
        for table, loc in self.array_of_tables(data, "campaign", CAMPAIGN_KEYS, shown_value):
            campaign = self.campaign(table, loc)
            if campaign is not None:
                compiled.append(campaign)
        return compiled

    # -- one campaign

    def campaign(self, table: Mapping[str, Any], loc: Loc) -> Campaign | None:
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

    def name(self, table: Mapping[str, Any], loc: Loc) -> str | None:
        if "name" not in table:
            self.problem(loc, "a campaign needs a `name`", 'add name = "trial-nurture"')
            return None
        name = table["name"]
        where = (*loc, "name")
        if not isinstance(name, str) or not name.strip():
            self.problem(where, f"a campaign name must be text, got {shown_value(name)}", 'e.g. name = "trial-nurture"')
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
        self, table: Mapping[str, Any], key: str, loc: Loc, *, required: bool, label: str = ""
    ) -> str | None:
        if key not in table:
            if required:
                self.problem(loc, f"campaign {label} needs `{key}`", f'add {key} = "…"')
            return None
        value = table[key]
        if not isinstance(value, str) or (required and not value.strip()):
            self.problem((*loc, key), f"`{key}` must be text, got {shown_value(value)}", "put it in quotes")
            return None
        return value.strip()

    def address(self, value: Any, loc: Loc, key: str) -> Address | None:
        if not isinstance(value, str) or not value.strip():
            self.problem(
                loc, f"`{key}` must be an address in quotes, got {shown_value(value)}", f'{key} = "Name <a@b.c>"'
            )
            return None
        found = email.utils.getaddresses([value])
        normalised = normalise_email(found[0][1]) if len(found) == 1 else None
        if normalised is None:
            self.problem(loc, f"`{key}` is not one address: {value!r}", 'write "Name <someone@example.com>"')
            return None
        return Address(normalised, found[0][0].strip())

    def sender(self, table: Mapping[str, Any], loc: Loc, label: str) -> Address | None:
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
            close = closest(sender.email, senders)
            hint = f"did you mean {close!r}?" if close else "campaigns send from one of our shared addresses: "
            if not close:
                hint += ", ".join(sorted(senders)) if senders else "none are configured"
            self.problem((*loc, "from"), f"{sender.email!r} is not one of our shared addresses", hint)
            return None
        return sender

    def reply_to(self, table: Mapping[str, Any], loc: Loc, sender: Address | None) -> str | None:
        if "reply_to" not in table:
            return sender.email if sender is not None else None
        address = self.address(table["reply_to"], (*loc, "reply_to"), "reply_to")
        return address.email if address is not None else None

    def timezone(self, table: Mapping[str, Any], loc: Loc) -> str | None:
        value = table.get("timezone", "UTC")
        where = (*loc, "timezone")
        if not isinstance(value, str) or not value.strip():
            self.problem(where, f"`timezone` must be text, got {shown_value(value)}", 'e.g. timezone = "Europe/Berlin"')
            return None
        if zone_or_none(value.strip()) is None:
            # listing the zones reads the tz database's index: only ever done for a bad name
            hint = suggest(value.strip(), available_timezones(), "timezone")
            if not hint.startswith("did you mean"):
                hint = 'an IANA name such as "Europe/Berlin" or "America/New_York"'
            self.problem(where, f"unknown timezone {value!r}", hint)
            return None
        return value.strip()

    def rate_limit(self, table: Mapping[str, Any], loc: Loc) -> int | None:
        if "rate_limit" not in table:
            return None
        value = table["rate_limit"]
        where = (*loc, "rate_limit")
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(where, f"`rate_limit` must be a whole number, got {shown_value(value)}", "messages per minute")
            return None
        if value <= 0:
            self.problem(
                where, f"`rate_limit` must be at least 1, got {value}", "messages per minute; leave it out for no limit"
            )
            return None
        return value
