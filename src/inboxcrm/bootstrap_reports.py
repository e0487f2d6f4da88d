"""What the reports page shows, read from the database for a range: built from the settings by `bootstrap`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from inboxcrm.adapters.db.desk_reports import DeskReports
from inboxcrm.adapters.db.reports import SqlReports

if TYPE_CHECKING:
    from inboxcrm.bootstrap import App


def bucket_name(low: float | None, high: float | None) -> str:
    """A score bucket as a table says it: "< 0", "10–20", "≥ 100"."""
    if low is None:
        return f"< {high:g}"
    if high is None:
        return f"≥ {low:g}"
    return f"{low:g}–{high:g}"


def bucket_tick(low: float | None, high: float | None) -> str:
    """A score bucket as the histogram's axis says it, short enough for every bar: "<0", "10", "100+"."""
    if low is None:
        return f"<{high:g}"
    return f"{low:g}+" if high is None else f"{low:g}"


def reached(stages: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Contacts that reached each stage, in order: those at the stage now and at every later one (a contact
    at `customer` went through `lead` and `mql`), so each stage is at most the one before it."""
    out: list[tuple[str, int]] = []
    running = 0
    for stage, count in reversed(stages):
        running += count
        out.append((stage, running))
    return out[::-1]


def report_data(app: App, reports: SqlReports) -> Callable[[datetime, datetime], dict[str, Any]]:
    """`report_data(since, until)`: every figure of the reports page (see `web/report_page.py`)."""
    settings = app.settings
    stages = settings.lifecycle.stages
    desk = DeskReports(app.engine, reports)

    def data(since: datetime, until: datetime) -> dict[str, Any]:
        days: dict[str, int] = {}
        for row in reports.ticket_volume(since, until):
            days[row.day.isoformat()] = days.get(row.day.isoformat(), 0) + row.tickets
        funnel = reports.lead_funnel(since, until, stages)
        configured = [(s.stage, s.contacts) for s in funnel.stages if s.stage in stages]
        buckets = reports.score_histogram(since, until)
        return {
            "tickets_by_day": [{"day": day, "count": count} for day, count in sorted(days.items())],
            "funnel": [{"stage": stage, "contacts": count} for stage, count in reached(configured)],
            "scores": [{"bucket": bucket_name(b.low, b.high), "contacts": b.contacts} for b in buckets],
            "score_ticks": [bucket_tick(b.low, b.high) for b in buckets],
            "pipeline": [
                {"stage": stage, "deals": deals, "value": value}
                for stage, deals, value in app.reads.pipeline(settings.pipeline.stages)
            ],
            "response_times": reports.response_times(since, until),
            "weekly_times": desk.weekly_times(since, until),
            "sla_weeks": desk.sla_weeks(since, until),
            "agent_load": reports.agent_load(since, until),
            "satisfaction": desk.satisfaction(since, until),
        }

    return data
