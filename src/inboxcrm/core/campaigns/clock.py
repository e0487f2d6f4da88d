"""The campaign clock: when a step is due, moved into the campaign's send window in the contact's local
wall-clock time, DST included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from inboxcrm.core.campaigns.model import Campaign, Window

_DAY = timedelta(days=1)
_TICK = timedelta(microseconds=1)
_DAYS_SCANNED = 16  # from the day before: a window open on any one weekday opens within this many local days
_MAX_HOPS = 64


def zone_or_none(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


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
    if contact_timezone and zone_or_none(contact_timezone) is not None:
        zone = contact_timezone
    return send_time(earliest, campaign.window, zone)


def _utc(moment: datetime, name: str) -> datetime:
    # Aware datetimes sharing a tzinfo compare by wall clock (PEP 495), wrong across DST: work in UTC.
    if moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, not {moment!r}")
    return moment.astimezone(UTC)


def _zone(name: str) -> ZoneInfo:
    zone = zone_or_none(name)
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
