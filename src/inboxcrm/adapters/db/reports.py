"""Report queries: tickets, response times, SLA, agents, the lead funnel and scores, campaigns and pipeline.

Each report is one SQL statement (the funnel two; campaigns three, through `SqlReads`) that aggregates in
the database and hands back a few rows, the same on SQLite and PostgreSQL. The few places where the two
differ (seconds between two timestamps, the UTC day of a timestamp, the position of text in text) are the
helpers at the top.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Engine,
    Float,
    String,
    and_,
    case,
    cast,
    extract,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)

from inboxcrm.adapters.db import tables as t
from inboxcrm.adapters.db.reads import SqlReads
from inboxcrm.core.reports import (
    DEFAULT_SCORE_EDGES,
    OPEN_STATUSES,
    AgentLoad,
    CampaignFunnel,
    CampaignStep,
    DayVolume,
    DurationStats,
    Funnel,
    PipelineStage,
    ResponseTimes,
    ScoreBucket,
    SlaBreaches,
    StageCount,
    bucket_bounds,
)

# SQLite reads timestamps to the millisecond (julianday); rounding there makes both databases agree.
_SECONDS_DIGITS = 3


def _utc(value: datetime) -> datetime:
    """Timestamps are stored in UTC, and SQLite compares them as text: bind UTC values only."""
    if value.tzinfo is None:
        raise ValueError(f"an aware datetime is needed, got {value.isoformat()}")
    return value.astimezone(UTC)


def _within(column: Any, since: datetime, until: datetime) -> ColumnElement[bool]:
    return and_(column >= since, column < until)


def _seconds(dialect: str, later: Any, earlier: Any) -> ColumnElement[Any]:
    """`later - earlier` in seconds (NULL when either is NULL)."""
    if dialect == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    # float, not the numeric PostgreSQL's extract() returns: sorting numerics costs several times more
    return cast(extract("epoch", later - earlier), Float)


def _utc_day(dialect: str, column: Any) -> ColumnElement[Any]:
    if dialect == "sqlite":
        return func.date(column)  # stored as UTC text: its date part is the UTC day
    return cast(func.timezone("UTC", column), Date)


def _position(dialect: str, haystack: Any, needle: Any) -> ColumnElement[int]:
    """1-based position of `needle` in `haystack`, 0 when absent: exact and case-sensitive, unlike LIKE on
    SQLite."""
    return func.instr(haystack, needle) if dialect == "sqlite" else func.strpos(haystack, needle)


_ARROW = " → "


def _new_stage(dialect: str, summary: Any) -> ColumnElement[Any]:
    """The stage a `stage_changed` event moved into. Its summary is the only record of it: rules write
    "Stage <old> → <new>", scoring "Stage <old> → <new>: score … reached …", so the new stage is the text
    after the arrow, up to a colon. Parsed once per row (rather than matched once per stage) because that
    is most of the report's cost."""
    rest = func.substr(summary, _position(dialect, summary, _ARROW) + len(_ARROW))
    colon = _position(dialect, rest, ":")
    return case((colon > 0, func.substr(rest, 1, colon - 1)), else_=rest)


def _queue() -> ColumnElement[Any]:
    """A ticket's queue; one stored before tickets had queues counts under its mailbox (ingest's default)."""
    return func.coalesce(t.tickets.c.queue, t.tickets.c.mailbox)


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _duration(value: Any) -> float | None:
    return None if value is None else round(float(value), _SECONDS_DIGITS)


class SqlReports:
    """Read-only report queries over `[since, until)` (aware datetimes); each opens its own connection."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._dialect = engine.dialect.name
        self._reads = SqlReads(engine)

    def ticket_volume(self, since: datetime, until: datetime) -> list[DayVolume]:
        """Tickets opened per UTC day and queue, by day then queue; days without tickets are left out."""
        tk = t.tickets
        opened = (
            select(_utc_day(self._dialect, tk.c.created_at).label("day"), _queue().label("queue"))
            .where(_within(tk.c.created_at, _utc(since), _utc(until)))
            .subquery()
        )
        # grouped on the subquery's columns: PostgreSQL does not see two bound 'UTC' parameters as one expression
        stmt = (
            select(opened.c.day, opened.c.queue, func.count().label("tickets"))
            .group_by(opened.c.day, opened.c.queue)
            .order_by(opened.c.day, opened.c.queue)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(stmt).all()
        return [DayVolume(_day(r.day), r.queue, int(r.tickets)) for r in rows]

    def response_times(self, since: datetime, until: datetime) -> list[ResponseTimes]:
        """First-response and resolution times of the tickets opened in the range: overall first (queue None),
        then per queue by name. Nearest-rank percentiles, computed in SQL: each duration is ranked within its
        queue and overall (NULLs after every value), and the p-th percentile of n is the smallest duration
        whose rank k has k·100 ≥ p·n."""
        tk = t.tickets
        durations = (
            select(
                _queue().label("queue"),
                _seconds(self._dialect, tk.c.first_response_at, tk.c.created_at).label("first"),
                _seconds(self._dialect, tk.c.solved_at, tk.c.created_at).label("solved"),
            )
            .where(_within(tk.c.created_at, _utc(since), _utc(until)))
            .subquery("durations")
        )
        d = durations.c
        windows: list[Any] = []
        for name, value in (("first", d.first), ("solved", d.solved)):
            for scope, partition in (("q", d.queue), ("all", None)):
                order = [value.is_(None), value]
                windows.append(
                    func.row_number().over(partition_by=partition, order_by=order).label(f"{name}_{scope}_k")
                )
                windows.append(func.count(value).over(partition_by=partition).label(f"{name}_{scope}_n"))
        # a CTE: both halves of the UNION read the ranks computed once
        ranked = select(d.queue, d.first, d.solved, *windows).cte("ranked")
        r = ranked.c

        def figures(scope: str) -> list[Any]:
            out: list[Any] = []
            for name in ("first", "solved"):
                value, k, n = r[name], r[f"{name}_{scope}_k"], r[f"{name}_{scope}_n"]
                out.append(func.max(n))
                out.extend(func.min(case((k * 100 >= n * p, value))) for p in (50, 90))
            return out

        per_queue = select(r.queue, *figures("q")).group_by(r.queue)
        overall = select(cast(null(), String).label("queue"), *figures("all"))
        with self.engine.connect() as connection:
            rows = connection.execute(union_all(overall, per_queue)).all()
        out = [
            ResponseTimes(
                row[0],
                DurationStats(int(row[1] or 0), _duration(row[2]), _duration(row[3])),
                DurationStats(int(row[4] or 0), _duration(row[5]), _duration(row[6])),
            )
            for row in rows
        ]
        return sorted(out, key=lambda x: (x.queue is not None, x.queue or ""))

    def sla_breaches(self, since: datetime, until: datetime) -> list[SlaBreaches]:
        """Per queue and priority, the first-response and resolution targets missed in the range (counted when
        the breach happened, whenever the ticket opened); pairs without a breach are left out."""
        tk = t.tickets
        since, until = _utc(since), _utc(until)
        first = _within(tk.c.first_response_breached_at, since, until)
        resolution = _within(tk.c.resolution_breached_at, since, until)
        queue = _queue().label("queue")
        stmt = (
            select(queue, tk.c.priority, func.count(case((first, 1))), func.count(case((resolution, 1))))
            .where(or_(first, resolution))
            .group_by(queue, tk.c.priority)
            .order_by(queue, tk.c.priority)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(stmt).all()
        return [SlaBreaches(r[0], r[1], int(r[2]), int(r[3])) for r in rows]

    def agent_load(self, since: datetime, until: datetime) -> list[AgentLoad]:
        """Per assignee (by name, unassigned last): open tickets now, and tickets opened or solved in the range.
        A ticket counts for whoever it is assigned to now: reassignments are not kept with dates (the timeline
        only records `#assign`, not the assignment a ticket opens with)."""
        tk = t.tickets
        since, until = _utc(since), _utc(until)
        open_now = tk.c.status.in_(OPEN_STATUSES)
        opened = _within(tk.c.created_at, since, until)
        solved = _within(tk.c.solved_at, since, until)
        # coalesce(x, NULL) is x, but no index's: grouping on the bare column makes SQLite walk
        # ix_tickets_assignee to skip a sort and fetch every row at random, 4-5x slower than one scan.
        assignee = func.coalesce(tk.c.assignee, null()).label("assignee")
        stmt = (
            select(
                assignee,
                func.count(case((open_now, 1))),
                func.count(case((opened, 1))),
                func.count(case((solved, 1))),
            )
            .where(or_(open_now, opened, solved))
            .group_by(assignee)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(stmt).all()
        loads = [AgentLoad(r[0], int(r[1]), int(r[2]), int(r[3])) for r in rows]
        return sorted(loads, key=lambda x: (x.assignee is None, x.assignee or ""))

    def lead_funnel(self, since: datetime, until: datetime, stages: Sequence[str]) -> Funnel:
        """Contacts per lifecycle stage now (`stages` in order, then stages found that are not in it, by name),
        and how many distinct contacts moved into each stage during the range (`stage_changed` timeline
        events; a contact that moved into a stage twice counts once)."""
        c, e = t.contacts, t.timeline_events
        moved = (
            select(_new_stage(self._dialect, e.c.summary).label("stage"), e.c.contact_id)
            .where(
                e.c.kind == "stage_changed",
                _within(e.c.at, _utc(since), _utc(until)),
                _position(self._dialect, e.c.summary, _ARROW) > 0,
            )
            .subquery()
        )
        # grouped on the subquery's column: PostgreSQL does not see the bound arrows as one expression
        reached_stmt = select(moved.c.stage, func.count(func.distinct(moved.c.contact_id))).group_by(moved.c.stage)
        with self.engine.connect() as connection:
            now = {r[0]: int(r[1]) for r in connection.execute(select(c.c.stage, func.count()).group_by(c.c.stage))}
            reached = {r[0]: int(r[1]) for r in connection.execute(reached_stmt)}
        unstaged = now.pop(None, 0)
        ordered = [*stages, *sorted(set(now) - set(stages))]
        return Funnel(tuple(StageCount(s, now.get(s, 0), reached.get(s, 0)) for s in ordered), unstaged)

    def score_histogram(
        self, since: datetime, until: datetime, edges: Sequence[float] = DEFAULT_SCORE_EDGES
    ) -> list[ScoreBucket]:
        """Contacts per score bucket (see `bucket_bounds`; every bucket, empty ones too): all contacts by their
        stored score (decay brings it up to date hourly), and those created in the range."""
        bounds = bucket_bounds(edges)
        c = t.contacts
        bucket = case(*((c.c.score < edge, i) for i, edge in enumerate(edges)), else_=len(edges)) if edges else None
        scored = (
            select(
                (bucket if bucket is not None else literal(0)).label("bucket"),
                _within(c.c.created_at, _utc(since), _utc(until)).label("new"),
            )
        ).subquery()
        # grouped on the subquery's column: PostgreSQL does not see the edges' bound parameters as one expression
        stmt = select(scored.c.bucket, func.count(), func.count(case((scored.c.new, 1)))).group_by(scored.c.bucket)
        with self.engine.connect() as connection:
            found = {int(r[0]): (int(r[1]), int(r[2])) for r in connection.execute(stmt)}
        return [ScoreBucket(low, high, *found.get(i, (0, 0))) for i, (low, high) in enumerate(bounds)]

    def campaign_funnel(self) -> list[CampaignFunnel]:
        """Per campaign by name (all time): enrolled, active, completed, left, and per step sent / replied /
        bounced / unsubscribed — the figures of `inboxcrm campaigns list`."""
        counts, figures = self._reads.enrolment_counts(), self._reads.campaign_figures()
        out: list[CampaignFunnel] = []
        for name in sorted(set(counts) | set(figures)):
            by_status = counts.get(name, {})
            steps = tuple(CampaignStep(**step) for step in figures.get(name, []))
            out.append(
                CampaignFunnel(
                    name,
                    enrolled=sum(by_status.values()),
                    active=by_status.get("active", 0),
                    completed=by_status.get("finished", 0),
                    left=by_status.get("exited", 0),
                    steps=steps,
                )
            )
        return out

    def pipeline(self, stages: Sequence[str]) -> list[PipelineStage]:
        """Deals and their total value per stage: `stages` in order, then stages no longer configured."""
        found = self._reads.pipeline()
        ordered = [*stages, *sorted(set(found) - set(stages))]
        return [PipelineStage(stage, *found.get(stage, (0, 0.0))) for stage in ordered]
