"""Compiling when a campaign's mail goes out: its send `window` (days and hours) and its steps (delay and
template)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import time as clock_time
from datetime import timedelta
from typing import Any

from inboxcrm.core.campaigns.checking import CampaignChecker, shown_value
from inboxcrm.core.campaigns.model import MAX_DELAY, MAX_STEPS, STEP_KEYS, WINDOW_KEYS, Step, Window
from inboxcrm.core.tomlfile import Loc, suggest
from inboxcrm.core.weekdays import weekdays_in

_DELAY = re.compile(r"(?:\d+[mhdw])+|0")
_DELAY_PART = re.compile(r"(\d+)([mhdw])")
_MINUTES = {"m": 1, "h": 60, "d": 24 * 60, "w": 7 * 24 * 60}
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")


class StepCompiler(CampaignChecker):
    """Compiles `window` and `step`."""

    def window(self, value: Any, loc: Loc) -> Window | None:
        example = 'window = { days = ["mon", "tue", "wed", "thu", "fri"], start = "09:00", end = "17:00" }'
        if not isinstance(value, dict):
            self.problem(loc, f"`window` must be a table, got {shown_value(value)}", example)
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

    def days(self, value: Any, loc: Loc) -> frozenset[int] | None:
        items = self.strings(value, loc, "a weekday")
        if items is None:
            return None
        if not items:
            self.problem(loc, "the window has no days", 'e.g. days = ["mon", "tue", "wed", "thu", "fri"]')
            return None
        return weekdays_in(items, self.problem)

    def clock(self, value: Any, loc: Loc) -> clock_time | None:
        if isinstance(value, clock_time) and value.tzinfo is None:
            return value
        found = _CLOCK.fullmatch(value.strip()) if isinstance(value, str) else None
        if found is None or int(found.group(1)) > 23 or int(found.group(2)) > 59:
            hint = 'write "HH:MM", 24-hour'
            if found is not None and int(found.group(1)) == 24:
                hint = 'the latest end is "23:59"'
            self.problem(loc, f'expected a time of day such as "09:00", got {shown_value(value)}', hint)
            return None
        return clock_time(int(found.group(1)), int(found.group(2)))

    def steps(self, table: Mapping[str, Any], loc: Loc, label: str) -> tuple[Step, ...] | None:
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
            self.problem(where, f"`step` must be a list of steps, got {shown_value(value)}", example)
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

    def step(self, value: Any, loc: Loc, number: int) -> Step | None:
        if not isinstance(value, dict):
            self.problem(loc, f"step {number} must be a table, got {shown_value(value)}", "write [[campaign.step]]")
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
            self.problem((*loc, "template"), f"`template` must be text, got {shown_value(value['template'])}")
        else:
            template = self.known(value["template"].strip(), (*loc, "template"), self.vocabulary.templates, "template")
        if delay is None or template is None or any(key not in STEP_KEYS for key in value):
            return None
        return Step(number, delay, template, self.line(loc) or 0)

    def delay(self, value: Any, loc: Loc) -> timedelta | None:
        units = '"30m", "4h", "2d" or "1w"'
        if not isinstance(value, str):
            self.problem(loc, f"a delay is text with a unit, got {shown_value(value)}", f"in quotes: {units}")
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
