"""The desk's reports over time, without a database: weeks of a range, response times and SLA attainment
per week, and customer satisfaction per queue, agent and week.

Weeks start on Monday 00:00 UTC; the first and last week of a range are cut to the range. SLA attainment is
the share of tickets opened in the week with a target that did not miss it (a ticket still inside its target
counts as met so far). CSAT is the share of good ratings among all ratings (see core/satisfaction.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from inboxcrm.core.reports import DurationStats
from inboxcrm.core.satisfaction import Tally


def weeks(since: datetime, until: datetime) -> list[tuple[date, datetime, datetime]]:
    """(the week's Monday, start, end) of every week that meets `[since, until)`, cut to the range."""
    out: list[tuple[date, datetime, datetime]] = []
    monday = (since - timedelta(days=since.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    while monday < until:
        following = monday + timedelta(days=7)
        out.append((monday.date(), max(monday, since), min(following, until)))
        monday = following
    return out


@dataclass(frozen=True, slots=True)
class WeekTimes:
    """First-response and resolution times of the tickets opened in one week (`queue` None = every queue)."""

    week: date
    queue: str | None
    first_response: DurationStats
    resolution: DurationStats


def percent(part: int, whole: int) -> float | None:
    """`part` of `whole` in percent, to one decimal; None when `whole` is 0."""
    return round(100 * part / whole, 1) if whole else None


@dataclass(frozen=True, slots=True)
class SlaWeek:
    """Tickets opened in one week with a first-response / resolution target, and how many met it."""

    week: date
    first_response_due: int
    first_response_met: int
    resolution_due: int
    resolution_met: int

    @property
    def first_response_percent(self) -> float | None:
        return percent(self.first_response_met, self.first_response_due)

    @property
    def resolution_percent(self) -> float | None:
        return percent(self.resolution_met, self.resolution_due)


@dataclass(frozen=True, slots=True)
class Satisfaction:
    """Ratings given in a range: overall, per queue, per agent (as assigned when rated) and per week."""

    overall: Tally
    queues: dict[str, Tally]
    agents: dict[str, Tally]
    weeks: dict[date, Tally]
    comments: tuple[tuple[int, str, str], ...]  # (ticket id, rating, comment), newest first
