"""Service-level targets: when a ticket's first response and resolution are due, and which were breached.

A target is a duration counted round the clock (`hours` None) or in business hours: local wall-clock
opening hours (09:00–17:00) on some weekdays of an IANA timezone, holidays (local dates) excepted. Each
open day is the real time between its local opening and closing, so a 09:00–17:00 day is 8 hours on a DST
change day too; only hours that themselves span a DST change (01:00–05:00) are an hour shorter or longer.
Opening or closing at a local time that does not exist (skipped by DST) is read as PEP 495 does (fold=0).

Everything is computed a whole open span at a time, never minute by minute: a 30-day target takes
microseconds. Aware datetimes in (naive ones raise ValueError), aware UTC datetimes out. Pure: `now` is
passed in.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_DAY = timedelta(days=1)
_ZERO = timedelta(0)


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """Open from `start` to `end` (local wall clock, end > start) on `days` (0 = Monday … 6 = Sunday) in
    `timezone`, except on `holidays` (local dates). Raises ValueError when any of that does not hold."""

    timezone: str
    days: frozenset[int]
    start: clock_time
    end: clock_time
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {self.timezone!r}") from None
        if not self.days:
            # with no open day, adding any business time would never end
            raise ValueError("business hours need at least one open day")
        if not self.days <= frozenset(range(7)):
            raise ValueError(f"days are 0 (Monday) to 6 (Sunday), not {sorted(self.days)}")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("opening and closing are local wall-clock times, without a timezone")
        if self.end <= self.start:
            raise ValueError(f"closing {self.end} must be after opening {self.start}")


@dataclass(frozen=True, slots=True)
class Target:
    """The service level for one priority: time to the first response and to resolution (None: no target)."""

    first_response: timedelta | None
    resolution: timedelta | None

    def __post_init__(self) -> None:
        for value in (self.first_response, self.resolution):
            if value is not None and value < _ZERO:
                raise ValueError(f"a target cannot be negative: {value}")


@dataclass(frozen=True, slots=True)
class Due:
    """When the first response and the resolution are due (aware UTC), None where there is no target."""

    first_response: datetime | None
    resolution: datetime | None


@dataclass(frozen=True, slots=True)
class Breach:
    """A missed target: `kind` is "first_response" or "resolution"; `at` is when it was missed (UTC): the
    late response or resolution, or `due` itself while the target is still unmet."""

    kind: str
    due: datetime
    at: datetime


def add_business_time(start: datetime, duration: timedelta, hours: BusinessHours | None) -> datetime:
    """`start` + `duration` counting only open hours (None: round the clock), in UTC. A duration that runs
    out exactly at closing time ends at closing, not at the next opening. Raises ValueError on a naive
    `start` or a negative `duration`."""
    begin = _utc(start, "start")
    if duration < _ZERO:
        raise ValueError(f"duration cannot be negative: {duration}")
    if hours is None:
        return begin + duration
    if not duration:
        return begin
    left = duration
    for opens, closes in _open_spans(hours, begin):
        if left <= closes - opens:
            return opens + left
        left -= closes - opens
    raise AssertionError("open spans never run out")


def business_time_between(start: datetime, end: datetime, hours: BusinessHours | None) -> timedelta:
    """The open time from `start` to `end` (None: round the clock); negative when `end` is before `start`.
    `business_time_between(s, add_business_time(s, d, h), h) == d`."""
    begin, finish = _utc(start, "start"), _utc(end, "end")
    if finish < begin:
        return -business_time_between(finish, begin, hours)
    if hours is None:
        return finish - begin
    total = _ZERO
    for opens, closes in _open_spans(hours, begin):
        if opens >= finish:
            break
        total += min(closes, finish) - opens
    return total


def due(opened_at: datetime, target: Target | None, hours: BusinessHours | None) -> Due:
    """When the targets of a ticket opened at `opened_at` fall due."""
    if target is None:
        return Due(None, None)

    def after(duration: timedelta | None) -> datetime | None:
        return None if duration is None else add_business_time(opened_at, duration, hours)

    return Due(after(target.first_response), after(target.resolution))


def breaches(
    due: Due, first_response_at: datetime | None, resolved_at: datetime | None, now: datetime
) -> tuple[Breach, ...]:
    """The targets missed as of `now`: met after their due time, or still unmet and `now` past it.

    Resolving a ticket without any response stops the first-response clock too: that target is then missed
    only if the resolution came after it was due."""
    current = _utc(now, "now")
    responded = None if first_response_at is None else _utc(first_response_at, "first_response_at")
    resolved = None if resolved_at is None else _utc(resolved_at, "resolved_at")
    found: list[Breach] = []
    for kind, due_at, met, stopped in (
        ("first_response", due.first_response, responded, resolved),
        ("resolution", due.resolution, resolved, None),
    ):
        if due_at is None:
            continue
        deadline = _utc(due_at, kind)
        if met is not None:
            if met > deadline:
                found.append(Breach(kind, deadline, met))
        elif (current if stopped is None else stopped) > deadline:
            found.append(Breach(kind, deadline, deadline))
    return tuple(found)


def _utc(moment: datetime, name: str) -> datetime:
    # Aware datetimes sharing a tzinfo are compared and subtracted by wall clock (PEP 495), which is wrong
    # across DST changes: everything is computed in UTC.
    if moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, not {moment!r}")
    return moment.astimezone(UTC)


def _open_spans(hours: BusinessHours, after: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The open spans (UTC, in order, not overlapping, none empty) from `after` (UTC) on, the first one cut
    to begin at `after`. Endless: callers stop."""
    zone = ZoneInfo(hours.timezone)
    # from the day before: in zones that skipped a whole date, a local day can end after the next one starts
    day = after.astimezone(zone).date() - _DAY
    previous = after
    while True:
        if day.weekday() in hours.days and day not in hours.holidays:
            opens = max(datetime.combine(day, hours.start, zone).astimezone(UTC), previous)
            closes = datetime.combine(day, hours.end, zone).astimezone(UTC)
            if closes > opens:
                yield opens, closes
                previous = closes
        day += _DAY
