"""Weekday names as people write them in rule and campaign files ("mon", "friday", "weekend") → day numbers."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from inboxcrm.core.tomlfile import suggest

WEEKDAYS: Mapping[str, tuple[int, ...]] = {
    **{name: (i,) for i, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    **{
        name: (i,)
        for i, name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
    },
    "weekdays": (0, 1, 2, 3, 4),
    "weekend": (5, 6),
}
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def weekdays_in(items: Sequence[tuple[str, Any]], problem: Callable[[Any, str, str], None]) -> frozenset[int] | None:
    """Day numbers (0 = Monday) for weekday names and groups ("mon", "weekdays" …); each unknown name is
    reported through `problem(where, message, hint)` and the result is then None."""
    days: set[int] = set()
    ok = True
    for item, where in items:
        found = WEEKDAYS.get(item.lower())
        if found is None:
            problem(where, f"unknown weekday {item!r}", suggest(item.lower(), WEEKDAYS))
            ok = False
        else:
            days.update(found)
    return frozenset(days) if ok else None
