"""Server-rendered pages: a contact's timeline, a ticket, the ticket list and the reports, behind a sign-in.

Everything is HTML from Jinja2 templates (`page_templates/`, autoescaped; see `render.py`) with one inline
style block: no script, no build step, nothing loaded from anywhere else. Charts are inline SVG (`charts.py`,
for the reports: `report_page.py`); HTML mail is sanitised and framed (`mail_html.py`). Signing in, and how a
refused token becomes pages, is `sign_in.py`. Every response here carries `render.SECURITY_HEADERS`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response

from inboxcrm.core.activity import TicketHistory, one_per_thing
from inboxcrm.core.model import TicketStatus
from inboxcrm.services.manage import Manage
from inboxcrm.services.reports import MAX_PAGE, BadCursor, ReadService
from inboxcrm.web import csrf
from inboxcrm.web.auth import Require, Scope
from inboxcrm.web.render import aware, page, problem
from inboxcrm.web.report_page import ReportData, report_context
from inboxcrm.web.report_window import DataSpan, report_window
from inboxcrm.web.sign_in import SignedInPage, sign_in_routes
from inboxcrm.web.ticket_page import sla_state, ticket_page_routes

_PAGE_SIZE = 50


def _bounded(value: str | None, default: int, low: int, high: int) -> int:
    """A whole-number query parameter; anything else (a hand-edited link) gives the default, not an error."""
    return int(value) if value and value.isdigit() and low <= int(value) <= high else default


def _utc_now() -> datetime:
    return datetime.now(UTC)


def page_routes(
    reads: ReadService,
    require: Require,
    message_html: Callable[[int], str | None],
    report_data: ReportData | None = None,
    *,
    pipeline_stages: Sequence[str] = (),
    clock: Callable[[], datetime] = _utc_now,
    history: TicketHistory | None = None,
    manage: Manage | None = None,
    data_span: DataSpan | None = None,
    csrf_key: bytes | None = None,
) -> APIRouter:
    """The pages. `require(Scope.READ)` guards all but `/`, `/sign-in` and `/sign-out`; `message_html(id)` is
    a message's stored HTML body (None for text-only mail); `report_data(since, until)` gives the report
    charts' figures (keys `tickets_by_day`, `funnel`, `scores`, `pipeline`), and without it the reports page
    shows the pipeline (in `pipeline_stages` order) and campaign figures from `reads` only. `history` adds
    a ticket's events and relayed replies to its page, `manage` the form that changes a ticket (write scope),
    `data_span()` the window the reports fall back to when the default one has no mail (see `report_window`).

    Page paths use `{id:int}`; include this router before the JSON API's all the same, so that a future
    `GET /tickets/{ticket_id}` there (a str convertor) cannot take `/tickets/page`."""
    router = sign_in_routes()
    pages = APIRouter(route_class=SignedInPage, dependencies=[require(Scope.READ)])

    @pages.get("/contacts/{contact_id:int}/page")
    def contact_page(
        request: Request, contact_id: int, cursor: str | None = None, limit: str | None = None
    ) -> Response:
        contact = reads.contact(contact_id)
        if contact is None:
            return problem(request, 404, "Not found", f"There is no contact {contact_id}.")
        size = _bounded(limit, _PAGE_SIZE, 1, MAX_PAGE)
        try:
            timeline = reads.timeline(contact_id, cursor=cursor, limit=size)
        except BadCursor:
            return problem(request, 400, "Bad link", "This page link is not one of ours; start from the newest.")
        keep = {"limit": str(size)} if size != _PAGE_SIZE else {}
        older = urlencode(keep | {"cursor": timeline.next_cursor}) if timeline.next_cursor else None
        shown = one_per_thing(timeline.items)
        replies = [s.message.id for s in shown if s.message is not None and s.message.role == "agent_reply"]
        return page(
            request,
            "contact.html",
            title=contact.name or contact.email,
            contact=contact,
            entries=shown,
            relayed=history.relayed(replies) if history else {},
            next_url=f"{request.url.path}?{older}" if older else None,
            first_url=f"{request.url.path}?{urlencode(keep)}".rstrip("?") if cursor else None,
        )

    @pages.get("/tickets/page")
    def tickets_page(request: Request, status: str | None = None, cursor: str | None = None) -> Response:
        statuses = [s.value for s in TicketStatus]
        if status and status not in statuses:
            return problem(request, 400, "Bad link", f"There is no ticket status {status!r}.")
        try:
            listing = reads.tickets(status=status or None, cursor=cursor, limit=_PAGE_SIZE)
        except BadCursor:
            return problem(request, 400, "Bad link", "This page link is not one of ours; start from the first.")
        more = {"status": status} if status else {}
        later = {"cursor": listing.next_cursor} if listing.next_cursor else None
        return page(
            request,
            "tickets.html",
            title="Tickets",
            tickets=[(t, sla_state(t)[0]) for t in listing.items],
            statuses=statuses,
            status=status or "",
            next_url=f"/tickets/page?{urlencode(more | later)}" if later else None,
            first_url=f"/tickets/page?{urlencode(more)}" if cursor else None,
        )

    @pages.get("/reports/page")
    def reports_page(request: Request, days: str | None = None) -> Response:
        window = report_window(_bounded(days, 0, 1, 366) or None, aware(clock()), data_span)
        return page(
            request,
            "reports.html",
            title="Reports",
            days=window.days,
            spans=(7, 30, 90, 365),
            since=window.since,
            until=window.until,
            fallback=window.fallback,
            **report_context(reads, report_data, pipeline_stages, window.since, window.until, window.days),
        )

    router.include_router(pages)
    router.include_router(ticket_page_routes(reads, require, message_html, history, manage, csrf_key or csrf.new_key()))
    return router
