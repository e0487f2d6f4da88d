"""Server-rendered pages: a contact's timeline, a ticket, the ticket list and the reports, behind a sign-in.

Everything is HTML from Jinja2 templates (`page_templates/`, autoescaped; see `render.py`) with one inline
style block: no script, no build step, nothing loaded from anywhere else. Charts are inline SVG (`charts.py`,
for the reports: `report_page.py`); HTML mail is sanitised and framed (`mail_html.py`). Signing in, and how a
refused token becomes pages, is `sign_in.py`. Every response here carries `render.SECURITY_HEADERS`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response

from inboxcrm.core.model import TicketStatus
from inboxcrm.core.views import MessageView, TicketView
from inboxcrm.services.reports import MAX_PAGE, BadCursor, ReadService
from inboxcrm.web.auth import Require, Scope
from inboxcrm.web.mail_html import FRAME_SANDBOX, frame_document
from inboxcrm.web.render import aware, page, problem
from inboxcrm.web.report_page import ReportData, report_context
from inboxcrm.web.sign_in import SignedInPage, sign_in_routes

_PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class SlaClock:
    """One of a ticket's SLA clocks, for the ticket header: due, met (`done`) or missed (`breached`)."""

    name: str
    due: datetime | None
    done: datetime | None
    breached: datetime | None


def _sla(ticket: TicketView) -> tuple[str, list[SlaClock]]:
    state = "breached" if ticket.first_response_breached_at or ticket.resolution_breached_at else "on track"
    return state, [
        SlaClock(
            "First response", ticket.first_response_due, ticket.first_response_at, ticket.first_response_breached_at
        ),
        SlaClock("Resolution", ticket.resolution_due, ticket.solved_at, ticket.resolution_breached_at),
    ]


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
) -> APIRouter:
    """The pages. `require(Scope.READ)` guards all but `/`, `/sign-in` and `/sign-out`; `message_html(id)` is
    a message's stored HTML body (None for text-only mail); `report_data(since, until)` gives the report
    charts' figures (keys `tickets_by_day`, `funnel`, `scores`, `pipeline`), and without it the reports page
    shows the pipeline (in `pipeline_stages` order) and campaign figures from `reads` only.

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
        return page(
            request,
            "contact.html",
            title=contact.name or contact.email,
            contact=contact,
            entries=timeline.items,
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
            tickets=[(t, _sla(t)[0]) for t in listing.items],
            statuses=statuses,
            status=status or "",
            next_url=f"/tickets/page?{urlencode(more | later)}" if later else None,
            first_url=f"/tickets/page?{urlencode(more)}" if cursor else None,
        )

    @pages.get("/tickets/{ticket_id:int}/page")
    def ticket_page(request: Request, ticket_id: int) -> Response:
        found = reads.source.tickets(None, ticket_id - 1, 1)  # ReadService has no ticket-by-id: the first after
        if not found or found[0].id != ticket_id:
            return problem(request, 404, "Not found", f"There is no ticket {ticket_id}.")
        ticket = found[0]
        thread = reads.thread(ticket.thread_id)
        contact = reads.contact(ticket.contact_id) if ticket.contact_id is not None else None
        messages: list[tuple[MessageView, str | None]] = []
        for message in thread.messages if thread else ():
            html = message_html(message.id)
            messages.append((message, frame_document(html) if html and html.strip() else None))
        state, clocks = _sla(ticket)
        return page(
            request,
            "ticket.html",
            title=f"#{ticket.id} {ticket.subject}",
            ticket=ticket,
            contact=contact,
            sla_state=state,
            clocks=clocks,
            messages=messages,
            sandbox=FRAME_SANDBOX,
        )

    @pages.get("/reports/page")
    def reports_page(request: Request, days: str | None = None) -> Response:
        span = _bounded(days, 30, 1, 366)
        until = aware(clock())
        # `span` whole UTC days, today's (so far) the last: as many bars as the period says
        since = datetime.combine(until.astimezone(UTC).date() - timedelta(days=span - 1), time(0), UTC)
        return page(
            request,
            "reports.html",
            title="Reports",
            days=span,
            spans=(7, 30, 90, 365),
            since=since,
            until=until,
            **report_context(reads, report_data, pipeline_stages, since, until, span),
        )

    router.include_router(pages)
    return router
