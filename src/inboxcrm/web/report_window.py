"""Which days the reports page covers: the last `days` (90 by default) up to today, or, when the default
window holds no mail at all (a demo or an archive filed from old mail), the days the mail spans, so the
charts show something rather than empty axes. A period the person picked is never moved."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

DEFAULT_DAYS = 90  # a quarter
MAX_DAYS = 366

# (first, last) moment of the stored mail, or None when there is none
DataSpan = Callable[[], tuple[datetime, datetime] | None]


@dataclass(frozen=True, slots=True)
class Window:
    since: datetime
    until: datetime
    days: int
    fallback: bool  # the default window was empty: this is the span of the data instead


def _days_to(last_day_end: datetime, days: int) -> datetime:
    """The start of the first of `days` whole UTC days, the last of which contains `last_day_end`."""
    return datetime.combine(last_day_end.astimezone(UTC).date() - timedelta(days=days - 1), time(0), UTC)


def report_window(days: int | None, now: datetime, data_span: DataSpan | None) -> Window:
    """`days` whole UTC days ending now (today so far the last); without `days`, the default window, or the
    span of the data (at most `MAX_DAYS`, ending with its last day) when the default has no mail in it."""
    span = days or DEFAULT_DAYS
    since = _days_to(now, span)
    if days is not None or data_span is None:
        return Window(since, now, span, False)
    found = data_span()
    if found is None:
        return Window(since, now, span, False)
    first, last = (d if d.tzinfo else d.replace(tzinfo=UTC) for d in found)
    if last >= since:
        return Window(since, now, span, False)
    end = datetime.combine(last.astimezone(UTC).date() + timedelta(days=1), time(0), UTC)
    count = min(MAX_DAYS, (end.date() - first.astimezone(UTC).date()).days)
    # until: the last moment of the last day (the day bars run from since's day to until's, both included)
    return Window(end - timedelta(days=count), end - timedelta(microseconds=1), count, True)
