"""The desk's charts on the reports page: response times and SLA attainment per week, response times per
queue, agent load and customer satisfaction (CSAT) — from the figures `report_data` gives (see
`bootstrap_reports.py`), as inline SVG and the tables beside them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup

from inboxcrm.core.desk_reports import Satisfaction, SlaWeek, WeekTimes
from inboxcrm.core.reports import AgentLoad, ResponseTimes
from inboxcrm.web import charts
from inboxcrm.web.charts_time import hours, line_chart


def money(value: float) -> str:
    """An amount for people: 12,500 or 1,234.50 (cents only when there are some)."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _week(day: Any) -> str:
    return f"{day:%b} {day.day}"


def _percent(value: float) -> str:
    return f"{value:.0f}%"


def desk_figures(data: Mapping[str, Any], figures: dict[str, Markup], tables: dict[str, Any]) -> None:
    """Add the desk's figures (keys `first_response`, `resolution`, `queue_times`, `sla`, `agents`, `csat_weeks`,
    `csat_queues`, `csat_agents`) and their tables to `figures` and `tables`."""
    weekly: Sequence[WeekTimes] = [w for w in data.get("weekly_times", []) if w.queue is None]
    labels = [_week(w.week) for w in weekly]
    for key, name, first in (("first_response", "First response", True), ("resolution", "Resolution", False)):
        stats = [w.first_response if first else w.resolution for w in weekly]
        medians = [s.median for s in stats]
        p90s = [s.p90 for s in stats]
        tables[key] = [
            (
                label,
                s.tickets,
                hours(s.median) if s.median is not None else "–",
                hours(s.p90) if s.p90 is not None else "–",
            )
            for label, s in zip(labels, stats, strict=True)
        ]
        if any(v is not None for v in medians):
            figures[key] = line_chart(
                labels, [("median", medians), ("p90", p90s)], label=f"{name} time per week", value_format=hours
            )
    queues: Sequence[ResponseTimes] = [r for r in data.get("response_times", []) if r.queue is not None]
    tables["queue_times"] = [
        (
            r.queue,
            r.first_response.tickets,
            *(hours(v) if v is not None else "–" for v in (r.first_response.median, r.first_response.p90)),
            *(hours(v) if v is not None else "–" for v in (r.resolution.median, r.resolution.p90)),
        )
        for r in queues
    ]
    per_queue = [(str(r.queue), float(r.first_response.median)) for r in queues if r.first_response.median is not None]
    if per_queue:
        figures["queue_times"] = charts.horizontal_bars(
            per_queue, label="Median first response per queue", value_format=hours
        )
    sla: Sequence[SlaWeek] = data.get("sla_weeks", [])
    tables["sla"] = [
        (_week(w.week), w.first_response_due, w.first_response_percent, w.resolution_due, w.resolution_percent)
        for w in sla
    ]
    if any(w.first_response_due or w.resolution_due for w in sla):
        figures["sla"] = line_chart(
            [_week(w.week) for w in sla],
            [
                ("first response", [w.first_response_percent for w in sla]),
                ("resolution", [w.resolution_percent for w in sla]),
            ],
            label="SLA targets met per week (%)",
            value_format=_percent,
            top=100.0,
        )
    load: Sequence[AgentLoad] = data.get("agent_load", [])
    tables["agents"] = [(a.assignee or "(unassigned)", a.open_now, a.assigned, a.solved) for a in load]
    if any(a.open_now or a.assigned or a.solved for a in load):
        figures["agents"] = charts.horizontal_bars(
            [(a.assignee or "(unassigned)", float(a.open_now)) for a in load], label="Open tickets per agent now"
        )
    _satisfaction(data.get("satisfaction"), figures, tables)


def _satisfaction(found: Satisfaction | None, figures: dict[str, Markup], tables: dict[str, Any]) -> None:
    if found is None:
        return
    weeks = list(found.weeks.items())
    tables["csat_weeks"] = [(_week(w), t.good, t.okay, t.bad, t.csat) for w, t in weeks]
    if found.overall.total:
        figures["csat_weeks"] = line_chart(
            [_week(w) for w, _ in weeks],
            [("CSAT", [float(t.csat) if t.csat is not None else None for _, t in weeks])],
            label="CSAT per week (% good)",
            value_format=_percent,
            top=100.0,
        )
    for key, rows, what in (("csat_queues", found.queues, "queue"), ("csat_agents", found.agents, "agent")):
        tables[key] = [(name, t.good, t.okay, t.bad, t.csat) for name, t in rows.items()]
        rated = [(name, float(t.csat)) for name, t in rows.items() if t.csat is not None]
        if rated:
            figures[key] = charts.horizontal_bars(rated, label=f"CSAT per {what} (% good)", value_format=_percent)
