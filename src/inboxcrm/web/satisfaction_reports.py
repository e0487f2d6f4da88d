"""`GET /reports/satisfaction`: CSAT over a range — overall, per queue, per agent and per week."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from inboxcrm.core.desk_reports import Satisfaction
from inboxcrm.core.satisfaction import Tally
from inboxcrm.web.auth import Require, Scope
from inboxcrm.web.reports import RangeOut, Since, Until, parse_range


class TallyOut(BaseModel):
    good: int
    okay: int
    bad: int
    total: int
    csat: int | None = Field(description="Good ratings as a percentage of all ratings (whole number); null: none.")

    @classmethod
    def of(cls, tally: Tally) -> TallyOut:
        return cls(good=tally.good, okay=tally.okay, bad=tally.bad, total=tally.total, csat=tally.csat)


class NamedTallyOut(TallyOut):
    name: str


class WeekTallyOut(TallyOut):
    week: date = Field(description="The week's Monday (weeks start Monday 00:00 UTC).")


class CommentOut(BaseModel):
    ticket_id: int
    rating: str
    comment: str


class SatisfactionOut(RangeOut):
    overall: TallyOut
    queues: list[NamedTallyOut]
    agents: list[NamedTallyOut] = Field(description="By the ticket's assignee when it was rated.")
    weeks: list[WeekTallyOut]
    comments: list[CommentOut] = Field(description="The latest 20 comments, newest first.")


def satisfaction_report_routes(
    satisfaction: Callable[[datetime, datetime], Satisfaction], require: Require, now: Callable[[], datetime]
) -> APIRouter:
    router = APIRouter(prefix="/reports", tags=["reports"], dependencies=[require(Scope.READ)])

    @router.get("/satisfaction", response_model=SatisfactionOut)
    def report(since: Since = None, until: Until = None) -> SatisfactionOut:
        """Ratings customers gave in the range (by when they answered): CSAT = good / all ratings."""
        start, end = parse_range(since, until, now())
        found = satisfaction(start, end)
        return SatisfactionOut(
            since=start,
            until=end,
            overall=TallyOut.of(found.overall),
            queues=[NamedTallyOut(name=n, **TallyOut.of(t).model_dump()) for n, t in found.queues.items()],
            agents=[NamedTallyOut(name=n, **TallyOut.of(t).model_dump()) for n, t in found.agents.items()],
            weeks=[WeekTallyOut(week=w, **TallyOut.of(t).model_dump()) for w, t in found.weeks.items()],
            comments=[CommentOut(ticket_id=i, rating=r, comment=c) for i, r, c in found.comments],
        )

    return router
