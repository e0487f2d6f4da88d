"""What the reports say, without a database: their rows, and the queries a reports adapter answers.

Every ranged report covers `[since, until)`, two aware datetimes. "Now" figures (open tickets, contacts per
stage, scores) are as stored when the query runs. Percentiles are nearest-rank: the p-th percentile of n
sorted values is the value at 1-based rank ceil(p/100 · n), always a value that occurred (so the median of
an even count is the lower middle value, never an average of two).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import pairwise
from typing import Protocol

# Open means somebody still has to act: new, open and pending (snoozed tickets are pending).
OPEN_STATUSES = ("new", "open", "pending")

# Score buckets: below 0, [0, 10), [10, 20) … [90, 100), and 100 or more.
DEFAULT_SCORE_EDGES: tuple[float, ...] = tuple(float(edge) for edge in range(0, 101, 10))


@dataclass(frozen=True, slots=True)
class DayVolume:
    """Tickets opened on one UTC day in one queue."""

    day: date
    queue: str
    tickets: int


@dataclass(frozen=True, slots=True)
class DurationStats:
    """Seconds from a ticket's opening to an event, over the tickets that reached it: how many did, and the
    nearest-rank median and 90th percentile (None when none did)."""

    tickets: int
    median: float | None
    p90: float | None


@dataclass(frozen=True, slots=True)
class ResponseTimes:
    """First response (first agent reply − opening) and resolution (solved − opening) of the tickets opened
    in the range; `queue` is None for the figures over every queue."""

    queue: str | None
    first_response: DurationStats
    resolution: DurationStats


@dataclass(frozen=True, slots=True)
class SlaBreaches:
    """Targets missed in the range (by the time of the breach), per queue and priority."""

    queue: str
    priority: str
    first_response: int
    resolution: int


@dataclass(frozen=True, slots=True)
class AgentLoad:
    """Per assignee (None = unassigned): tickets open now; tickets opened in the range that are assigned to
    them now; tickets solved in the range that are assigned to them now."""

    assignee: str | None
    open_now: int
    assigned: int
    solved: int


@dataclass(frozen=True, slots=True)
class StageCount:
    """Contacts at a lifecycle stage now, and contacts that moved into it during the range."""

    stage: str
    contacts: int
    reached: int


@dataclass(frozen=True, slots=True)
class Funnel:
    """Stages in the configured order, then any stage found that is no longer configured; `unstaged`
    counts contacts without a stage."""

    stages: tuple[StageCount, ...]
    unstaged: int


@dataclass(frozen=True, slots=True)
class ScoreBucket:
    """Contacts whose stored score is in `[low, high)` (None = unbounded): all of them, and those created in
    the range."""

    low: float | None
    high: float | None
    contacts: int
    new_contacts: int


@dataclass(frozen=True, slots=True)
class CampaignStep:
    step: int
    sent: int
    replied: int
    bounced: int
    unsubscribed: int


@dataclass(frozen=True, slots=True)
class CampaignFunnel:
    """A campaign's enrolments by outcome and its figures per step (all time)."""

    campaign: str
    enrolled: int
    active: int
    completed: int
    left: int
    steps: tuple[CampaignStep, ...]


@dataclass(frozen=True, slots=True)
class PipelineStage:
    stage: str
    deals: int
    value: float


class Reports(Protocol):
    """The queries behind the reports (each a single or a few SQL statements in the adapter)."""

    def ticket_volume(self, since: datetime, until: datetime) -> list[DayVolume]: ...

    def response_times(self, since: datetime, until: datetime) -> list[ResponseTimes]: ...

    def sla_breaches(self, since: datetime, until: datetime) -> list[SlaBreaches]: ...

    def agent_load(self, since: datetime, until: datetime) -> list[AgentLoad]: ...

    def lead_funnel(self, since: datetime, until: datetime, stages: Sequence[str]) -> Funnel: ...

    def score_histogram(
        self, since: datetime, until: datetime, edges: Sequence[float] = DEFAULT_SCORE_EDGES
    ) -> list[ScoreBucket]: ...


def bucket_bounds(edges: Sequence[float]) -> list[tuple[float | None, float | None]]:
    """`[low, high)` of each bucket that strictly increasing `edges` cut the number line into: (None, e0),
    (e0, e1) … (e_last, None)."""
    if any(b <= a for a, b in pairwise(edges)):
        raise ValueError("bucket edges must be strictly increasing")
    bounds: list[float | None] = [None, *edges, None]
    return list(pairwise(bounds))
