"""The reports page's figures: tickets per day, the lifecycle funnel, scores, the pipeline and campaigns, as
charts (inline SVG, `charts.py`) and the tables beside them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from markupsafe import Markup

from inboxcrm.services.reports import ReadService
from inboxcrm.web import charts
from inboxcrm.web.render import aware

ReportData = Callable[[datetime, datetime], Mapping[str, Any]]


def _day(value: object) -> date | None:
    if isinstance(value, datetime):
        return aware(value).astimezone(UTC).date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def daily_series(rows: Sequence[Mapping[str, Any]], since: datetime, until: datetime) -> list[tuple[str, float]]:
    """`tickets_by_day` rows as one (label, count) per UTC day from `since` to `until`, days without a row
    as 0 (a gap in the bars is a quiet day, not a missing one). Rows whose day is not a date are kept as
    they come, after the dated ones."""
    counts: dict[date, float] = {}
    undated: list[tuple[str, float]] = []
    for row in rows:
        day = _day(row.get("day"))
        if day is None:
            undated.append((str(row.get("day")), float(row.get("count") or 0)))
        else:
            counts[day] = counts.get(day, 0.0) + float(row.get("count") or 0)
    first, last = aware(since).astimezone(UTC).date(), aware(until).astimezone(UTC).date()
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)] if first <= last else []
    days += sorted(d for d in counts if not first <= d <= last)
    return [(f"{d:%b} {d.day}", counts.get(d, 0.0)) for d in days] + undated


def _pairs(rows: Sequence[Mapping[str, Any]], name: str, value: str) -> list[tuple[str, float]]:
    return [(str(row.get(name)), float(row.get(value) or 0)) for row in rows]


def report_context(
    reads: ReadService,
    report_data: ReportData | None,
    pipeline_stages: Sequence[str],
    since: datetime,
    until: datetime,
    span: int,
) -> dict[str, Any]:
    """What `reports.html` shows for the `span` days from `since` to `until`: with `report_data`, every chart;
    without it, the pipeline (in `pipeline_stages` order) and campaign figures from `reads` only."""
    figures: dict[str, Markup] = {}
    tables: dict[str, list[tuple[str, float]]] = {}
    if report_data is not None:
        data = report_data(since, until)
        tables["tickets"] = daily_series(data.get("tickets_by_day", []), since, until)
        tables["funnel"] = _pairs(data.get("funnel", []), "stage", "contacts")
        tables["scores"] = _pairs(data.get("scores", []), "bucket", "contacts")
        pipeline = [
            (str(r.get("stage")), int(r.get("deals") or 0), float(r.get("value") or 0))
            for r in data.get("pipeline", [])
        ]
        if any(v for _, v in tables["tickets"]):
            figures["tickets"] = charts.bar_chart(tables["tickets"], label=f"Tickets opened per day, last {span} days")
        if any(v for _, v in tables["funnel"]):
            figures["funnel"] = charts.funnel_chart(tables["funnel"], label="Contacts by lifecycle stage")
        if any(v for _, v in tables["scores"]):
            figures["scores"] = charts.histogram(tables["scores"], label="Contacts by score")
    else:
        pipeline = reads.pipeline(pipeline_stages)
    tables["pipeline"] = [(f"{stage} ({deals})", value) for stage, deals, value in pipeline]
    if any(v for _, v in tables["pipeline"]):
        figures["pipeline"] = charts.horizontal_bars(tables["pipeline"], label="Deal value by stage")
    return {
        "detailed": report_data is not None,
        "figures": figures,
        "tables": tables,
        "pipeline": pipeline,
        "campaigns": _campaign_rows(reads.campaigns()),
    }


@dataclass(frozen=True, slots=True)
class CampaignRow:
    name: str
    enrolled: int
    active: int
    completed: int
    left: int
    steps: list[Mapping[str, Any]]

    def total(self, figure: str) -> int:
        return sum(int(step.get(figure) or 0) for step in self.steps)


def _campaign_rows(figures: Mapping[str, Mapping[str, object]]) -> list[CampaignRow]:
    """`ReadService.campaigns()` (loosely typed there) as rows for the reports table."""
    rows = []
    for name, row in figures.items():
        steps = row.get("steps")
        rows.append(
            CampaignRow(
                name,
                int(str(row.get("enrolled", 0))),
                int(str(row.get("active", 0))),
                int(str(row.get("completed", 0))),
                int(str(row.get("left", 0))),
                [s for s in steps if isinstance(s, Mapping)] if isinstance(steps, list) else [],
            )
        )
    return rows
