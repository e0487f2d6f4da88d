"""Server-rendered pages: a contact's timeline, a ticket, the ticket list and the reports, behind a sign-in.

Everything is HTML from Jinja2 templates (`page_templates/`, autoescaped) with one inline style block: no
script, no build step, nothing loaded from anywhere else. Charts are inline SVG (`charts.py`); HTML mail is
sanitised and framed (`mail_html.py`).

Sign-in: the person pastes an API token; it is kept in the cookie `inboxcrm_token` (HttpOnly, SameSite=Strict,
Path=/, Secure unless the request is plain http to a loopback host; see `_secure_cookie`). The signed-in pages
declare `require(Scope.READ)` like any router, and `require` (`inboxcrm.web.auth`) reads the token from the
bearer header or that cookie. A refusal by `require` (an `HTTPException`) is turned into pages by the route
class, not by an app-wide exception handler (which would change the JSON API too): 401 → a redirect to
`/sign-in?next=…`, 403 → an HTML page, 429 → an HTML page with `Retry-After`.

Every response here carries `SECURITY_HEADERS`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from starlette.exceptions import HTTPException

from inboxcrm.core.model import Address, TicketStatus
from inboxcrm.core.views import MessageView, TicketView
from inboxcrm.services.reports import MAX_PAGE, BadCursor, ReadService
from inboxcrm.web import charts
from inboxcrm.web.auth import COOKIE, Require, Scope
from inboxcrm.web.mail_html import FRAME_SANDBOX, frame_document

# The policy asked for, plus `frame-ancestors 'none'` (no other site may frame our pages: clickjacking).
# Nothing needed loosening for the mail frames: a srcdoc document loads nothing, so `frame-src` does not
# apply to it; it inherits this policy and adds its own stricter one (mail_html.FRAME_CSP), and the browser
# enforces both.
PAGE_CSP = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": PAGE_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # never to other sites; our own forms then carry a real Origin
    # customer data: never kept in shared caches, nor shown from the back/forward cache after signing out
    "Cache-Control": "no-store",
}
HOME = "/tickets/page"
_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
_TOKEN = re.compile(r"[\x21-\x7e]{1,512}")  # printable ASCII, no spaces: a token, not a pasted sentence
_MAX_FORM = 8 * 1024
_PAGE_SIZE = 50

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("page_templates")),
    autoescape=True,
    undefined=StrictUndefined,  # a misspelt name in a template fails the tests rather than rendering blank
    trim_blocks=True,
    lstrip_blocks=True,
)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)  # the store hands back UTC; SQLite forgets the zone


def _when(at: datetime | None) -> str:
    return _aware(at).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if at else "—"


def _address(address: Address | None) -> str:
    if address is None:
        return "—"
    return f"{address.name} <{address.email}>" if address.name else address.email


def _size(octets: int) -> str:
    if octets < 1024:
        return f"{octets:,} bytes"
    if octets < 1024 * 1024:
        return f"{octets / 1024:,.1f} KB"
    return f"{octets / (1024 * 1024):,.1f} MB"


_KIND_LABELS = {
    "message_in": "Message in",
    "message_out": "Message out",
    "note": "Note",
    "score_changed": "Score",
    "stage_changed": "Stage",
    "tags_changed": "Tags",
    "deal_moved": "Deal",
    "mail_sent": "Mail sent",
    "mail_failed": "Mail failed",
    "automatic_mail_held": "Automatic mail held back",
    "contacts_merged": "Contacts merged",
}


def kind_label(kind: str) -> str:
    """A timeline kind for people: `ticket_sla_breached` → "Ticket: sla breached"."""
    if kind in _KIND_LABELS:
        return _KIND_LABELS[kind]
    for prefix in ("ticket", "campaign", "mail", "deal"):
        if kind.startswith(prefix + "_"):
            return f"{prefix.capitalize()}: {kind[len(prefix) + 1 :].replace('_', ' ')}"
    return kind.replace("_", " ").capitalize()


def kind_group(kind: str) -> str:
    """The colour group of a timeline kind (a CSS class suffix)."""
    if kind in {"message_in", "message_out", "note"}:
        return kind
    for group in ("ticket", "campaign", "mail", "score", "stage", "deal"):
        if kind.startswith(group):
            return group
    return "other"


_templates.filters.update(when=_when, address=_address, size=_size, kind_label=kind_label, kind_group=kind_group)


def _page(request: Request, template: str, code: int = 200, **context: Any) -> HTMLResponse:
    signed_in = COOKIE in request.cookies or "authorization" in request.headers
    html = _templates.get_template(template).render(signed_in=signed_in, path=request.url.path, **context)
    return HTMLResponse(html, status_code=code, headers=dict(SECURITY_HEADERS))


def _problem(request: Request, code: int, title: str, detail: str) -> HTMLResponse:
    return _page(request, "problem.html", code, title=title, detail=detail)


def _redirect(url: str) -> RedirectResponse:
    # 303: after a POST the browser follows with a GET; for GETs it is the same as 302
    return RedirectResponse(url, status_code=303, headers=dict(SECURITY_HEADERS))


def _proxied(request: Request) -> bool:
    return "x-forwarded-proto" in request.headers or "forwarded" in request.headers


def _secure_cookie(request: Request) -> bool:
    """Whether the sign-in cookie gets the Secure flag: always, except for plain http to a loopback host
    name (the demo at http://127.0.0.1:8000), where browsers and http clients that refuse Secure cookies over
    http would otherwise never keep the sign-in. Plain http to any other host still gets Secure, so the
    browser drops the cookie rather than send a token in clear text; a request that came through a proxy
    (X-Forwarded-Proto / Forwarded) gets Secure whatever the proxy called the upstream host."""
    if _proxied(request):
        return True
    host = (request.url.hostname or "").lower().strip("[]")
    local = host in _LOOPBACK_HOSTS or host.endswith(".localhost")
    return not (request.url.scheme == "http" and local)


def _safe_next(value: str | None) -> str:
    """Where to go after signing in: a path on this site only (never `//host`, never a scheme)."""
    if (
        value
        and value.startswith("/")
        and not value.startswith("//")
        and "\\" not in value
        and value.isprintable()
        and len(value) <= 2000
        and not value.startswith("/sign-")
    ):
        return value
    return HOME


def _our_hosts(request: Request) -> set[str]:
    """The host[:port] names this site answers as: the Host header, and what a proxy says it forwarded."""
    hosts = {request.headers.get("host", "")}
    hosts.update(h.strip() for h in request.headers.get("x-forwarded-host", "").split(","))
    for element in request.headers.get("forwarded", "").replace(",", ";").split(";"):
        name, _, value = element.strip().partition("=")
        if name.lower() == "host":
            hosts.add(value.strip('"'))
    return {h.lower() for h in hosts if h}


def _cross_site(request: Request) -> bool:
    """A form posted from another site (login CSRF, forced sign-out). Browsers say so in Sec-Fetch-Site; the
    Origin header (sent with every cross-origin POST, also by browsers that do not send Sec-Fetch-Site) must
    then name this site: the Host the browser asked for, or the one a proxy says it forwarded. Requests
    with neither header (curl, old clients) carry no cookie a browser was tricked into sending."""
    if request.headers.get("sec-fetch-site", "same-origin") in {"cross-site", "same-site"}:
        return True
    origin = request.headers.get("origin")
    if origin is None:
        return False
    return origin == "null" or urlsplit(origin).netloc.lower() not in _our_hosts(request)


async def _form(request: Request) -> dict[str, str] | None:
    """The fields of a small urlencoded form, or None when the body is not one (or is too big)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_FORM:
            return None
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


class _SignedInPage(APIRoute):
    """A page route: a refusal by the route's dependencies (`require`) is answered for a person with a
    browser, not with JSON: no or a bad token → the sign-in page (a refused cookie is dropped on the way),
    a token without the scope or over its rate limit → an HTML page saying so."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except HTTPException as exc:
                cookie = COOKIE in request.cookies
                offered = cookie or "authorization" in request.headers
                # 403 without any credentials: what older FastAPI security classes answer for "not signed in"
                if exc.status_code == 401 or (exc.status_code == 403 and not offered):
                    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                    query = {"next": target} | ({"expired": "1"} if cookie else {})
                    response: Response = _redirect("/sign-in?" + urlencode(query))
                    if cookie:  # it was refused: drop it, or every page would bounce back here
                        _forget_cookie(response, request)
                    return response
                if exc.status_code == 403:
                    detail = "This token may not read contacts and tickets: sign out and sign in with another."
                    return _problem(request, 403, "Not allowed", detail)
                if exc.status_code == 429:
                    response = _problem(request, 429, "Too many requests", "Wait a moment, then reload the page.")
                    response.headers.update({k: v for k, v in (exc.headers or {}).items() if k == "Retry-After"})
                    return response
                raise

        return handle


def _forget_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(COOKIE, path="/", secure=_secure_cookie(request), httponly=True, samesite="strict")


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


def _day(value: object) -> date | None:
    if isinstance(value, datetime):
        return _aware(value).astimezone(UTC).date()
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
    first, last = _aware(since).astimezone(UTC).date(), _aware(until).astimezone(UTC).date()
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)] if first <= last else []
    days += sorted(d for d in counts if not first <= d <= last)
    return [(f"{d:%b} {d.day}", counts.get(d, 0.0)) for d in days] + undated


def _pairs(rows: Sequence[Mapping[str, Any]], name: str, value: str) -> list[tuple[str, float]]:
    return [(str(row.get(name)), float(row.get(value) or 0)) for row in rows]


def _bounded(value: str | None, default: int, low: int, high: int) -> int:
    """A whole-number query parameter; anything else (a hand-edited link) gives the default, not an error."""
    return int(value) if value and value.isdigit() and low <= int(value) <= high else default


def _utc_now() -> datetime:
    return datetime.now(UTC)


def page_routes(
    reads: ReadService,
    require: Require,
    message_html: Callable[[int], str | None],
    report_data: Callable[[datetime, datetime], Mapping[str, Any]] | None = None,
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
    router = APIRouter(include_in_schema=False)
    pages = APIRouter(route_class=_SignedInPage, dependencies=[require(Scope.READ)])

    @router.get("/")
    def home(request: Request) -> Response:
        signed_in = COOKIE in request.cookies or "authorization" in request.headers
        return _redirect(HOME if signed_in else "/sign-in")

    @router.get("/sign-in")
    def sign_in_form(
        request: Request, next_url: Annotated[str | None, Query(alias="next")] = None, expired: str | None = None
    ) -> Response:
        return _sign_in(request, _safe_next(next_url), "Your token was not accepted. Sign in again." if expired else "")

    def _sign_in(request: Request, next_url: str, error: str, code: int = 200) -> HTMLResponse:
        # plain http to a host that is not this machine: the Secure cookie would be dropped, so say why
        insecure = request.url.scheme == "http" and not _proxied(request) and _secure_cookie(request)
        return _page(request, "sign_in.html", code, title="Sign in", next_url=next_url, error=error, insecure=insecure)

    @router.post("/sign-in")
    async def sign_in(request: Request) -> Response:
        if _cross_site(request):
            return _problem(request, 403, "Not allowed", "Sign in from this site's own sign-in page.")
        form = await _form(request)
        if form is None:
            return _problem(request, 400, "Bad request", "Send the sign-in form.")
        token = form.get("token", "").strip()
        next_url = _safe_next(form.get("next"))
        if not _TOKEN.fullmatch(token):
            return _sign_in(request, next_url, "Paste an API token (printable characters, no spaces).", 400)
        # Not checked here: the page it leads to checks it, and a refused token comes back with a message.
        response = _redirect(next_url)
        response.set_cookie(COOKIE, token, path="/", secure=_secure_cookie(request), httponly=True, samesite="strict")
        return response

    @router.post("/sign-out")
    def sign_out(request: Request) -> Response:
        if _cross_site(request):
            return _problem(request, 403, "Not allowed", "Sign out from this site's own pages.")
        response = _redirect("/sign-in")
        _forget_cookie(response, request)
        return response

    @pages.get("/contacts/{contact_id:int}/page")
    def contact_page(
        request: Request, contact_id: int, cursor: str | None = None, limit: str | None = None
    ) -> Response:
        contact = reads.contact(contact_id)
        if contact is None:
            return _problem(request, 404, "Not found", f"There is no contact {contact_id}.")
        size = _bounded(limit, _PAGE_SIZE, 1, MAX_PAGE)
        try:
            page = reads.timeline(contact_id, cursor=cursor, limit=size)
        except BadCursor:
            return _problem(request, 400, "Bad link", "This page link is not one of ours; start from the newest.")
        keep = {"limit": str(size)} if size != _PAGE_SIZE else {}
        older = urlencode(keep | {"cursor": page.next_cursor}) if page.next_cursor else None
        return _page(
            request,
            "contact.html",
            title=contact.name or contact.email,
            contact=contact,
            entries=page.items,
            next_url=f"{request.url.path}?{older}" if older else None,
            first_url=f"{request.url.path}?{urlencode(keep)}".rstrip("?") if cursor else None,
        )

    @pages.get("/tickets/page")
    def tickets_page(request: Request, status: str | None = None, cursor: str | None = None) -> Response:
        statuses = [s.value for s in TicketStatus]
        if status and status not in statuses:
            return _problem(request, 400, "Bad link", f"There is no ticket status {status!r}.")
        try:
            page = reads.tickets(status=status or None, cursor=cursor, limit=_PAGE_SIZE)
        except BadCursor:
            return _problem(request, 400, "Bad link", "This page link is not one of ours; start from the first.")
        more = {"status": status} if status else {}
        return _page(
            request,
            "tickets.html",
            title="Tickets",
            tickets=[(t, _sla(t)[0]) for t in page.items],
            statuses=statuses,
            status=status or "",
            next_url=f"/tickets/page?{urlencode(more | {'cursor': page.next_cursor})}" if page.next_cursor else None,
            first_url=f"/tickets/page?{urlencode(more)}" if cursor else None,
        )

    @pages.get("/tickets/{ticket_id:int}/page")
    def ticket_page(request: Request, ticket_id: int) -> Response:
        found = reads.source.tickets(None, ticket_id - 1, 1)  # ReadService has no ticket-by-id: the first after
        if not found or found[0].id != ticket_id:
            return _problem(request, 404, "Not found", f"There is no ticket {ticket_id}.")
        ticket = found[0]
        thread = reads.thread(ticket.thread_id)
        contact = reads.contact(ticket.contact_id) if ticket.contact_id is not None else None
        messages: list[tuple[MessageView, str | None]] = []
        for message in thread.messages if thread else ():
            html = message_html(message.id)
            messages.append((message, frame_document(html) if html and html.strip() else None))
        state, clocks = _sla(ticket)
        return _page(
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
        until = _aware(clock())
        # `span` whole UTC days, today's (so far) the last: as many bars as the period says
        since = datetime.combine(until.astimezone(UTC).date() - timedelta(days=span - 1), time(0), UTC)
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
                figures["tickets"] = charts.bar_chart(
                    tables["tickets"], label=f"Tickets opened per day, last {span} days"
                )
            if any(v for _, v in tables["funnel"]):
                figures["funnel"] = charts.funnel_chart(tables["funnel"], label="Contacts by lifecycle stage")
            if any(v for _, v in tables["scores"]):
                figures["scores"] = charts.histogram(tables["scores"], label="Contacts by score")
        else:
            pipeline = reads.pipeline(pipeline_stages)
        tables["pipeline"] = [(f"{stage} ({deals})", value) for stage, deals, value in pipeline]
        if any(v for _, v in tables["pipeline"]):
            figures["pipeline"] = charts.horizontal_bars(tables["pipeline"], label="Deal value by stage")
        return _page(
            request,
            "reports.html",
            title="Reports",
            days=span,
            spans=(7, 30, 90, 365),
            since=since,
            until=until,
            detailed=report_data is not None,
            figures=figures,
            tables=tables,
            pipeline=pipeline,
            campaigns=_campaign_rows(reads.campaigns()),
        )

    router.include_router(pages)
    return router


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
