"""SQL for the desk's reports over time (see `core.desk_reports`): response times per week, SLA attainment
per week, and customer satisfaction."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, case, func, select

from inboxcrm.adapters.db import tables as t
from inboxcrm.adapters.db.reports import SqlReports, _utc, _within
from inboxcrm.adapters.db.statements import aware
from inboxcrm.core.desk_reports import Satisfaction, SlaWeek, WeekTimes, weeks
from inboxcrm.core.satisfaction import tally


class DeskReports:
    def __init__(self, engine: Engine, reports: SqlReports | None = None) -> None:
        self.engine = engine
        self._reports = reports or SqlReports(engine)

    def weekly_times(self, since: datetime, until: datetime) -> list[WeekTimes]:
        """Per week (and per queue within it), the response times of the tickets opened that week: one query
        per week, each the nearest-rank percentiles of `SqlReports.response_times`."""
        out: list[WeekTimes] = []
        for monday, start, end in weeks(_utc(since), _utc(until)):
            out += [
                WeekTimes(monday, r.queue, r.first_response, r.resolution)
                for r in self._reports.response_times(start, end)
            ]
        return out

    def sla_weeks(self, since: datetime, until: datetime) -> list[SlaWeek]:
        """Per week: tickets opened with each target, and those that have not missed it."""
        tk = t.tickets
        out: list[SlaWeek] = []
        with self.engine.connect() as connection:
            for monday, start, end in weeks(_utc(since), _utc(until)):
                row = connection.execute(
                    select(
                        func.count(tk.c.first_response_due),
                        func.count(
                            case((tk.c.first_response_due.is_not(None) & tk.c.first_response_breached_at.is_(None), 1))
                        ),
                        func.count(tk.c.resolution_due),
                        func.count(case((tk.c.resolution_due.is_not(None) & tk.c.resolution_breached_at.is_(None), 1))),
                    ).where(_within(tk.c.created_at, start, end))
                ).one()
                out.append(SlaWeek(monday, int(row[0]), int(row[1]), int(row[2]), int(row[3])))
        return out

    def satisfaction(self, since: datetime, until: datetime) -> Satisfaction:
        """Ratings given in the range, counted overall, per queue, per agent and per week (of the rating)."""
        s, tk = t.satisfaction, t.tickets
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(s.c.ticket_id, s.c.rating, s.c.comment, s.c.rated_at, s.c.assignee, s.c.queue, tk.c.mailbox)
                .join(tk, tk.c.id == s.c.ticket_id)
                .where(s.c.rating.is_not(None), _within(s.c.rated_at, _utc(since), _utc(until)))
                .order_by(s.c.rated_at.desc(), s.c.ticket_id.desc())
            ).all()
        queues: dict[str, list[str]] = {}
        agents: dict[str, list[str]] = {}
        by_week: dict[date, list[str]] = {}
        for row in rows:
            queues.setdefault(row.queue or row.mailbox, []).append(row.rating)
            agents.setdefault(row.assignee or "(unassigned)", []).append(row.rating)
            day = aware(row.rated_at).astimezone(UTC).date()
            monday = day - timedelta(days=day.weekday())
            by_week.setdefault(monday, []).append(row.rating)
        return Satisfaction(
            overall=tally(r.rating for r in rows),
            queues={k: tally(v) for k, v in sorted(queues.items())},
            agents={k: tally(v) for k, v in sorted(agents.items())},
            weeks={monday: tally(by_week.get(monday, [])) for monday, _, _ in weeks(_utc(since), _utc(until))},
            comments=tuple((r.ticket_id, r.rating, r.comment) for r in rows if r.comment)[:20],
        )
