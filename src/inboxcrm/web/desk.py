"""The desk's saved replies (`GET /saved-replies`, and a page listing them) and the collision guard's
figures (`GET /reports/collisions`), all needing the `read` scope."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from inboxcrm.services.desk_views import DeskViews
from inboxcrm.web.auth import Require, Scope
from inboxcrm.web.render import page
from inboxcrm.web.reports import RangeOut, Since, Until, parse_range
from inboxcrm.web.sign_in import SignedInPage


class SavedReplyOut(BaseModel):
    name: str
    usage: str = Field(description="What an agent writes at the top of a reply to send it.")
    preview: str = Field(description="Its text rendered with sample data.")
    problem: str | None = Field(default=None, description="Why it does not render, if it does not.")


class CollisionsOut(RangeOut):
    """Replies the collision guard held in the range, by what became of them, and replies it could only record."""

    held: int = Field(description="Held and still waiting for #send.")
    sent: int = Field(description="Held, then sent anyway with #send.")
    dropped: int = Field(description="Held, never sent, dropped.")
    observed: int = Field(description="Observed replies (shared address in Cc) that crossed another answer.")


def desk_routes(views: DeskViews, require: Require, clock: Callable[[], datetime]) -> list[APIRouter]:
    api = APIRouter(dependencies=[require(Scope.READ)], tags=["desk"])

    @api.get("/saved-replies", response_model=list[SavedReplyOut])
    def saved_replies() -> list[SavedReplyOut]:
        """The saved replies agents can send with `#reply NAME` (templates/replies/NAME.j2)."""
        return [
            SavedReplyOut(name=s.name, usage=s.usage, preview=s.preview, problem=s.problem)
            for s in views.saved_replies()
        ]

    @api.get("/reports/collisions", response_model=CollisionsOut)
    def collisions(since: Since = None, until: Until = None) -> CollisionsOut:
        """Two agents answering the same customer: held, sent anyway, dropped, and observed collisions."""
        start, end = parse_range(since, until, clock())
        return CollisionsOut(since=start, until=end, **views.collisions(start, end))

    pages = APIRouter(route_class=SignedInPage, dependencies=[require(Scope.READ)], include_in_schema=False)

    @pages.get("/saved-replies/page")
    def saved_replies_page(request: Request) -> Response:
        return page(request, "saved_replies.html", title="Saved replies", replies=views.saved_replies())

    return [pages, api]
