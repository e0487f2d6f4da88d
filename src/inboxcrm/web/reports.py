"""Report routes: ticket volume, response times, SLA breaches, agent load, the lead funnel and scores.

Every route takes `since` and `until` (ISO 8601 dates or date-times; the last 30 days when left out) and
covers `[since, until)`. A date-time without an offset is UTC; a date as `since` is that day's start (UTC),
a date as `until` is the end of that day, so `since=2026-11-01&until=2026-11-30` is the whole of November.
Bad dates, or `since` not before `until`, are answered with 422 and a message saying which and why.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from inboxcrm.core.reports import (
    DEFAULT_SCORE_EDGES,
    DurationStats,
    Reports,
    ResponseTimes,
    bucket_bounds,
)
from inboxcrm.web.auth import Require, Scope

DEFAULT_SPAN = timedelta(days=30)
MAX_EDGES = 100

Since = Annotated[
    str | None,
    Query(description="Start (inclusive): an ISO 8601 date or date-time, UTC unless it has an offset."),
]
Until = Annotated[
    str | None,
    Query(description="End (exclusive) as a date-time; a date means the end of that day. Default: now."),
]

# '+' in a query string is a space unless the client encoded it: "…T09:00:00 02:00" is a lost "+02:00".
_LOST_PLUS = re.compile(r"(\d\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d(?::?\d\d)?)$")


class RangeOut(BaseModel):
    since: datetime = Field(description="Start of the range (inclusive), UTC.")
    until: datetime = Field(description="End of the range (exclusive), UTC.")


class DayVolumeOut(BaseModel):
    day: date
    queue: str
    tickets: int


class TicketVolumeOut(RangeOut):
    """Tickets opened per UTC day and queue; days without tickets are left out."""

    total: int
    queues: dict[str, int] = Field(description="Tickets opened in the range per queue.")
    days: list[DayVolumeOut]


class DurationOut(BaseModel):
    """Seconds from opening, over the tickets that got there; nearest-rank percentiles (null: none did)."""

    tickets: int
    median_seconds: float | None
    p90_seconds: float | None

    @classmethod
    def of(cls, stats: DurationStats) -> DurationOut:
        return cls(tickets=stats.tickets, median_seconds=stats.median, p90_seconds=stats.p90)


class TimesOut(BaseModel):
    first_response: DurationOut
    resolution: DurationOut

    @classmethod
    def of(cls, times: ResponseTimes) -> TimesOut:
        return cls(first_response=DurationOut.of(times.first_response), resolution=DurationOut.of(times.resolution))


class QueueTimesOut(TimesOut):
    queue: str


class ResponseTimesOut(RangeOut):
    """First response and resolution times of the tickets opened in the range, overall and per queue."""

    overall: TimesOut
    queues: list[QueueTimesOut]


class SlaBreachOut(BaseModel):
    queue: str
    priority: str
    first_response: int
    resolution: int


class SlaReportOut(RangeOut):
    """SLA targets missed in the range (counted when missed), in total and per queue and priority."""

    first_response: int
    resolution: int
    breaches: list[SlaBreachOut]


class AgentLoadOut(BaseModel):
    assignee: str | None = Field(description="The agent's name; null for unassigned tickets.")
    open: int = Field(description="Tickets new, open or pending now.")
    assigned: int = Field(description="Tickets opened in the range and assigned to this agent now.")
    solved: int = Field(description="Tickets solved in the range and assigned to this agent now.")


class AgentsReportOut(RangeOut):
    agents: list[AgentLoadOut]


class StageOut(BaseModel):
    stage: str
    contacts: int = Field(description="Contacts at this stage now.")
    reached: int = Field(description="Contacts that moved into this stage during the range.")


class FunnelOut(RangeOut):
    """Lifecycle stages in the configured order, then stages no longer configured."""

    stages: list[StageOut]
    unstaged: int = Field(description="Contacts without a stage.")


class ScoreBucketOut(BaseModel):
    low: float | None = Field(description="Lowest score in the bucket (inclusive); null: no lower bound.")
    high: float | None = Field(description="Highest score (exclusive); null: no upper bound.")
    contacts: int
    new_contacts: int = Field(description="Of these, contacts created in the range.")


class ScoresOut(RangeOut):
    buckets: list[ScoreBucketOut]


def _bad(detail: str) -> HTTPException:
    return HTTPException(status_code=422, detail=detail)


def parse_moment(name: str, value: str, end_of_day: bool) -> datetime:
    """`value` as an aware UTC datetime; a date is the start of that UTC day, or its end when `end_of_day`.
    Raises a 422 HTTPException naming the parameter and the accepted forms."""
    text = _LOST_PLUS.sub(r"\1+\2", value.strip())
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        if not end_of_day:
            return start
        if day == date.max:
            raise _bad(f"{name}: {value!r} is out of range")
        return start + timedelta(days=1)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _bad(
            f"{name}: {value!r} is not an ISO 8601 date (2026-11-01) or date-time (2026-11-01T09:30:00Z, "
            "2026-11-01T09:30:00+01:00)"
        ) from None
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:  # an offset that pushes year 9999 or year 1 over the edge
        raise _bad(f"{name}: {value!r} is out of range") from None


def parse_range(since: str | None, until: str | None, now: datetime) -> tuple[datetime, datetime]:
    """The range a request asks for: `until` defaults to `now`, `since` to 30 days before `until`."""
    end = parse_moment("until", until, end_of_day=True) if until else now.astimezone(UTC)
    try:
        start = parse_moment("since", since, end_of_day=False) if since else end - DEFAULT_SPAN
    except OverflowError:
        raise _bad(f"until: {until!r} leaves no room for the default 30 days before it; give since") from None
    if start >= end:
        raise _bad(f"since ({start.isoformat()}) must be before until ({end.isoformat()})")
    return start, end


def parse_edges(value: str | None) -> tuple[float, ...]:
    """Comma-separated, strictly increasing, finite bucket edges (at most `MAX_EDGES`); 422 otherwise."""
    if value is None or not value.strip():
        return DEFAULT_SCORE_EDGES
    try:
        edges = tuple(float(part) for part in value.split(","))
    except ValueError:
        raise _bad(f"edges: {value!r} is not a comma-separated list of numbers (e.g. 0,10,50,100)") from None
    if len(edges) > MAX_EDGES or not all(math.isfinite(e) for e in edges):
        raise _bad(f"edges: at most {MAX_EDGES} finite numbers")
    try:
        bucket_bounds(edges)
    except ValueError as exc:
        raise _bad(f"edges: {exc}") from None
    return edges


def report_routes(
    reports: Reports,
    require: Require,
    stages: Sequence[str],
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> APIRouter:
    """The report routes, all needing the `read` scope. `stages` are the lifecycle stages in order; `now`
    gives the end of the default range."""
    router = APIRouter(prefix="/reports", tags=["reports"], dependencies=[require(Scope.READ)])
    lifecycle = tuple(stages)

    @router.get("/tickets", response_model=TicketVolumeOut)
    def ticket_volume(since: Since = None, until: Until = None) -> TicketVolumeOut:
        """Tickets opened per UTC day and queue."""
        start, end = parse_range(since, until, now())
        rows = reports.ticket_volume(start, end)
        queues: dict[str, int] = {}
        for row in rows:
            queues[row.queue] = queues.get(row.queue, 0) + row.tickets
        return TicketVolumeOut(
            since=start,
            until=end,
            total=sum(queues.values()),
            queues=dict(sorted(queues.items())),
            days=[DayVolumeOut(day=r.day, queue=r.queue, tickets=r.tickets) for r in rows],
        )

    @router.get("/response-times", response_model=ResponseTimesOut)
    def response_times(since: Since = None, until: Until = None) -> ResponseTimesOut:
        """Median and 90th percentile of first-response and resolution times (seconds from opening) of the
        tickets opened in the range, overall and per queue. Percentiles are nearest-rank: always a time that
        occurred (the median of an even count is the lower middle one)."""
        start, end = parse_range(since, until, now())
        rows = reports.response_times(start, end)
        overall = next(r for r in rows if r.queue is None)
        return ResponseTimesOut(
            since=start,
            until=end,
            overall=TimesOut.of(overall),
            queues=[
                QueueTimesOut(
                    queue=r.queue,
                    first_response=DurationOut.of(r.first_response),
                    resolution=DurationOut.of(r.resolution),
                )
                for r in rows
                if r.queue is not None
            ],
        )

    @router.get("/sla", response_model=SlaReportOut)
    def sla(since: Since = None, until: Until = None) -> SlaReportOut:
        """First-response and resolution targets missed in the range, per queue and priority."""
        start, end = parse_range(since, until, now())
        rows = reports.sla_breaches(start, end)
        return SlaReportOut(
            since=start,
            until=end,
            first_response=sum(r.first_response for r in rows),
            resolution=sum(r.resolution for r in rows),
            breaches=[
                SlaBreachOut(
                    queue=r.queue, priority=r.priority, first_response=r.first_response, resolution=r.resolution
                )
                for r in rows
            ],
        )

    @router.get("/agents", response_model=AgentsReportOut)
    def agents(since: Since = None, until: Until = None) -> AgentsReportOut:
        """Per agent: open tickets now, tickets opened and solved in the range (by the current assignee)."""
        start, end = parse_range(since, until, now())
        return AgentsReportOut(
            since=start,
            until=end,
            agents=[
                AgentLoadOut(assignee=r.assignee, open=r.open_now, assigned=r.assigned, solved=r.solved)
                for r in reports.agent_load(start, end)
            ],
        )

    @router.get("/funnel", response_model=FunnelOut)
    def funnel(since: Since = None, until: Until = None) -> FunnelOut:
        """Contacts per lifecycle stage now, and how many moved into each stage during the range."""
        start, end = parse_range(since, until, now())
        found = reports.lead_funnel(start, end, lifecycle)
        return FunnelOut(
            since=start,
            until=end,
            stages=[StageOut(stage=s.stage, contacts=s.contacts, reached=s.reached) for s in found.stages],
            unstaged=found.unstaged,
        )

    @router.get("/scores", response_model=ScoresOut)
    def scores(
        since: Since = None,
        until: Until = None,
        edges: Annotated[
            str | None,
            Query(description="Bucket edges, comma-separated and increasing. Default: 0,10,20,…,100."),
        ] = None,
    ) -> ScoresOut:
        """Contacts per score bucket (below the first edge, between edges, from the last edge up): all
        contacts, and those created in the range."""
        start, end = parse_range(since, until, now())
        buckets = reports.score_histogram(start, end, parse_edges(edges))
        return ScoresOut(
            since=start,
            until=end,
            buckets=[
                ScoreBucketOut(low=b.low, high=b.high, contacts=b.contacts, new_contacts=b.new_contacts)
                for b in buckets
            ],
        )

    return router
