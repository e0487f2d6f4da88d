"""Time conditions: `weekday` ("weekend", ["mon", "fri"]) and `time = { after, before }`, read in the
timezone the facts give."""

from __future__ import annotations

import re
from datetime import time as clock_time
from typing import Any

from inboxcrm.core.rules.checking import RuleChecker, shown_value
from inboxcrm.core.rules.conditions import Leaf, Node
from inboxcrm.core.rules.context import local_time
from inboxcrm.core.rules.vocabulary import TIME_OPERATORS
from inboxcrm.core.tomlfile import Loc, suggest
from inboxcrm.core.weekdays import DAY_NAMES, weekdays_in

_TIME = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?\s*$")


class TimeConditions(RuleChecker):
    """Compiles `weekday` and `time`."""

    def weekday(self, value: Any, loc: Loc) -> Node | None:
        items = self.strings(value, loc, "a weekday")
        if items is None:
            return None
        days = weekdays_in(items, self.problem)
        if days is None:
            return None
        k = self.ns.const(frozenset(days))
        text = "weekday is " + ", ".join(DAY_NAMES[d] for d in sorted(days))
        return Leaf(f"(c.weekday in {k})", text, 1, ("time",), lambda c: f"it is {local_time(c)}")

    def clock(self, value: Any, loc: Loc) -> int | None:
        if isinstance(value, clock_time):
            return value.hour * 60 + value.minute
        found = _TIME.match(value) if isinstance(value, str) else None
        if found is None or int(found.group(1)) > 24 or int(found.group(2) or 0) > 59:
            self.problem(
                loc, f'expected a time of day such as "18:00", got {shown_value(value)}', 'write "HH:MM", 24-hour'
            )
            return None
        return min(int(found.group(1)) * 60 + int(found.group(2) or 0), 24 * 60)

    def time_window(self, value: Any, loc: Loc) -> Node | None:
        if not isinstance(value, dict) or not value:
            self.problem(
                loc,
                f"`time` takes a table, got {shown_value(value)}",
                'e.g. time = { after = "18:00", before = "08:00" }',
            )
            return None
        ok = True
        for op in value:
            if op not in TIME_OPERATORS:
                self.problem((*loc, op), f"unknown operator {op!r} for `time`", suggest(op, TIME_OPERATORS))
                ok = False
        after = self.clock(value["after"], (*loc, "after")) if "after" in value else None
        before = self.clock(value["before"], (*loc, "before")) if "before" in value else None
        if not ok or ("after" in value and after is None) or ("before" in value and before is None):
            return None
        a = self.ns.const(after)
        b = self.ns.const(before)
        if after is not None and before is not None:
            # after 18:00, before 08:00 is the night: the window wraps around midnight.
            if after <= before:
                expr = f"({a} <= c.minute < {b})"
                text = f"time is after {value['after']} and before {value['before']}"
            else:
                expr = f"(c.minute >= {a} or c.minute < {b})"
                text = f"time is after {value['after']} or before {value['before']}"
        elif after is not None:
            expr, text = f"(c.minute >= {a})", f"time is after {value['after']}"
        else:
            expr, text = f"(c.minute < {b})", f"time is before {value['before']}"
        return Leaf(expr, text, 1, ("time",), lambda c: f"it is {local_time(c)} ({text})")
