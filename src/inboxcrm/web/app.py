"""FastAPI app factory. Routes are thin: they check the token's scope, call a service, shape the answer."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from inboxcrm.core.activity import TicketHistory
from inboxcrm.core.alerts import Incident
from inboxcrm.core.audiences import Segment
from inboxcrm.core.desk_reports import Satisfaction
from inboxcrm.core.model import TicketStatus
from inboxcrm.core.reports import Reports
from inboxcrm.services.access import Access, Caller, ConfiguredToken, Scope
from inboxcrm.services.contacts import ContactNotFound, ContactService
from inboxcrm.services.contacts_csv import ContactsCsv
from inboxcrm.services.desk_views import DeskViews
from inboxcrm.services.manage import Manage
from inboxcrm.services.outreach import Unsubscribes
from inboxcrm.services.polling import MailboxHealth
from inboxcrm.services.privacy import Privacy
from inboxcrm.services.record import CustomerRecord, amount_text, field_filter
from inboxcrm.services.reports import BadCursor, ReadService
from inboxcrm.services.satisfaction import SurveyLinks
from inboxcrm.services.search import SearchService
from inboxcrm.web.api_docs import install_api_docs
from inboxcrm.web.auth import actor, authenticate
from inboxcrm.web.data import data_routes
from inboxcrm.web.desk import desk_routes
from inboxcrm.web.manage import manage_routes
from inboxcrm.web.metrics import metrics_routes
from inboxcrm.web.pages import page_routes
from inboxcrm.web.record import record_routes
from inboxcrm.web.report_window import DataSpan
from inboxcrm.web.reports import Since, Until, parse_range, report_routes
from inboxcrm.web.satisfaction import satisfaction_routes
from inboxcrm.web.satisfaction_reports import satisfaction_report_routes
from inboxcrm.web.schemas import (
    CampaignFiguresOut,
    CompanyPage,
    CompanyRowOut,
    ContactDetailOut,
    ContactOut,
    ContactPage,
    DealOut,
    DealPage,
    HealthOut,
    HistoryOut,
    IncidentOut,
    MailboxHealthOut,
    MergeIn,
    PipelineStageOut,
    ScoreChangeOut,
    ScoreOut,
    SegmentOut,
    ThreadOut,
    TicketOut,
    TicketPage,
    TimelineEntryOut,
    TimelinePage,
)
from inboxcrm.web.search_page import search_page_routes
from inboxcrm.web.unsubscribe import unsubscribe_routes

Limit = Annotated[int, Query(ge=1, le=200, description="Items per page (at most 200).")]


SlaState = Literal["ok", "breached"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Features:
    """What the running daemon adds to the API: changes, customer data, reports, pages and metrics."""

    manage: Manage | None = None
    privacy: Privacy | None = None
    reports: Reports | None = None
    # the stored HTML body of a message (pages show it sanitised); None = no pages
    message_html: Callable[[int], str | None] | None = None
    report_data: Callable[[datetime, datetime], Mapping[str, Any]] | None = None
    rule_problems: Callable[[], int] = lambda: 0
    # exceptions meaning "the database refused a value the client sent" (answered 422, not 500)
    value_errors: tuple[type[Exception], ...] = ()
    clock: Callable[[], datetime] = _utc_now
    stages: Sequence[str] = field(default_factory=tuple)
    # the customer record: search, custom fields and business events, CSV in and out
    search: SearchService | None = None
    record: CustomerRecord | None = None
    contacts_csv: ContactsCsv | None = None
    # open incidents (alerts), for /health and /metrics
    incidents: Callable[[], Sequence[Incident]] = lambda: ()
    # the "How did we do?" links of solved tickets
    surveys: SurveyLinks | None = None
    satisfaction: Callable[[datetime, datetime], Satisfaction] | None = None
    # the desk's saved replies and collision figures
    desk: DeskViews | None = None
    # the ticket page's events and relayed replies; the span of the stored mail (the reports' fallback window)
    history: TicketHistory | None = None
    data_span: DataSpan | None = None


def create_app(
    reads: ReadService,
    tokens: Mapping[str, str] | None = None,
    health: Callable[[], Sequence[MailboxHealth]] = lambda: (),
    contacts: ContactService | None = None,
    segments: Mapping[str, Segment] | None = None,
    pipeline_stages: Sequence[str] = (),
    unsubscribes: Unsubscribes | None = None,
    *,
    access: Access | None = None,
    features: Features | None = None,
) -> FastAPI:
    """Build the API; every route but /health (and the signed unsubscribe links) needs a token.

    `access` identifies callers (configured and stored tokens, scopes, rate limits). Without it, `tokens`
    (token value → token name) are admin tokens at the default rate limit. Reads need the read scope, changes
    the write scope; raw message headers are shown to admin tokens only. `app.state.require` is the
    `require(scope)` of `inboxcrm.web.auth`, for routers included later.
    """
    app = FastAPI(
        title="inboxcrm",
        version="0.1.0",
        description="Contacts, timelines, threads and tickets from your shared mailboxes.",
        openapi_url=None,  # served below, behind a token like every other route
        docs_url=None,  # served by `api_docs` from files of our own: /docs works without internet
        redoc_url=None,
    )
    if access is None:
        access = Access([ConfiguredToken(value, name, Scope.ADMIN) for value, name in (tokens or {}).items()])
    require = authenticate(access)
    app.state.require = require

    reader = require(Scope.READ)  # routes take it as a default value: see `inboxcrm.web.auth`
    install_api_docs(app, dependencies=[reader])
    api = APIRouter(dependencies=[reader])

    @app.get("/openapi.json", include_in_schema=False, dependencies=[reader])
    def openapi_document() -> JSONResponse:
        """The OpenAPI description, to read tokens (a browser signed in to the pages may read it too)."""
        return JSONResponse(app.openapi())

    if unsubscribes is not None:
        app.include_router(unsubscribe_routes(unsubscribes))
    extra = features or Features()
    if extra.surveys is not None:
        app.include_router(satisfaction_routes(extra.surveys))
    if extra.message_html is not None:
        # before the API: /tickets/page must not be taken for a ticket id
        app.include_router(
            page_routes(
                reads,
                require,
                extra.message_html,
                extra.report_data,
                pipeline_stages=pipeline_stages,
                clock=extra.clock,
                history=extra.history,
                manage=extra.manage,
                data_span=extra.data_span,
            )
        )
    if extra.message_html is not None and extra.search is not None:
        app.include_router(search_page_routes(extra.search, reads.contact, require))
    if extra.desk is not None:
        for router in desk_routes(extra.desk, require, extra.clock):
            app.include_router(router)
    if extra.reports is not None:
        app.include_router(report_routes(extra.reports, require, extra.stages, extra.clock))
    if extra.satisfaction is not None:
        app.include_router(satisfaction_report_routes(extra.satisfaction, require, extra.clock))
    if extra.manage is not None:
        app.include_router(manage_routes(extra.manage, require, actor))
    if extra.privacy is not None:
        app.include_router(data_routes(extra.privacy, require, actor))
    app.include_router(metrics_routes(reads, require, health, extra.rule_problems, extra.clock, extra.incidents))
    if extra.search is not None and extra.record is not None and extra.contacts_csv is not None:
        app.include_router(
            record_routes(extra.search, extra.record, extra.contacts_csv, segments or {}, require, actor, extra.clock)
        )

    async def _bad_value(_request: Request, exc: Exception) -> JSONResponse:
        # the database refused a value the client sent (an id beyond its integers, a NUL in text): the
        # request's fault, not the server's
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        return JSONResponse(status_code=422, content={"detail": f"a value in the request is not valid: {reason}"})

    errors: tuple[type[Exception], ...] = (OverflowError, *(features.value_errors if features else ()))
    for error in errors:
        app.add_exception_handler(error, _bad_value)

    @app.exception_handler(BadCursor)
    async def _bad_cursor(_request: Request, exc: BadCursor) -> JSONResponse:
        return JSONResponse(status_code=400, content={"detail": str(exc)})

    @app.get("/health", response_model=HealthOut)
    def get_health() -> JSONResponse:
        try:
            reads.ping()
            database = "ok"
        except Exception as exc:
            database = f"failing: {type(exc).__name__}: {exc}"
        boxes = [
            MailboxHealthOut(
                mailbox=h.mailbox,
                ok=h.ok,
                last_success=h.last_success,
                last_error=h.last_error,
                failures_in_a_row=h.failures_in_a_row,
                fetched_here=h.fetched_here,
                history=HistoryOut(
                    read=sum(f.read for f in h.history),
                    total=sum(f.total for f in h.history),
                    done=all(f.done for f in h.history),
                )
                if h.history
                else None,
            )
            for h in health()
        ]
        try:
            open_incidents = [IncidentOut.of(i) for i in extra.incidents()]
        except Exception:  # the database is down: said above
            open_incidents = []
        ok = database == "ok" and all(b.ok for b in boxes) and not open_incidents
        body = HealthOut(
            status="ok" if ok else "degraded", database=database, mailboxes=boxes, incidents=open_incidents
        )
        return JSONResponse(status_code=200 if ok else 503, content=body.model_dump(mode="json"))

    @api.get("/contacts", response_model=ContactPage)
    def list_contacts(
        request: Request,
        email: str | None = None,
        q: str | None = None,
        tag: str | None = None,
        stage: str | None = None,
        company: str | None = None,
        segment: str | None = None,
        cursor: str | None = None,
        limit: Limit = 50,
    ) -> ContactPage:
        """Contacts by id: an exact address, part of an address or name (`q`), a tag, a stage, a company's
        domain, a named segment, custom fields (`field.plan=pro`, `field.seats.min=10`, `field.seats.max=50`);
        filters combine."""
        named = None
        if segment is not None:
            named = (segments or {}).get(segment)
            if named is None:
                raise HTTPException(status_code=404, detail=f"no segment named {segment!r}")
        wanted = [(k, v) for k, v in request.query_params.multi_items() if k.startswith("field.")]
        if wanted:
            try:
                named = field_filter(extra.record.fields if extra.record else {}, wanted, named)
            except ValueError as exc:
                raise HTTPException(status_code=422, detail=str(exc)) from None
        page = reads.contacts(
            email=email, query=q, cursor=cursor, limit=limit, tag=tag, stage=stage, company=company, segment=named
        )
        return ContactPage(items=[ContactOut.of(c) for c in page.items], next_cursor=page.next_cursor)

    @api.get("/companies", response_model=CompanyPage)
    def list_companies(q: str | None = None, cursor: str | None = None, limit: Limit = 50) -> CompanyPage:
        """Companies (by the domain their contacts write from), with how many contacts each has."""
        page = reads.companies(query=q, cursor=cursor, limit=limit)
        return CompanyPage(items=[CompanyRowOut(**row) for row in page.items], next_cursor=page.next_cursor)

    @api.get("/deals", response_model=DealPage)
    def list_deals(stage: str | None = None, cursor: str | None = None, limit: Limit = 50) -> DealPage:
        """Deals of the sales pipeline, optionally in one stage."""
        page = reads.deals(stage=stage, cursor=cursor, limit=limit)
        return DealPage(items=[DealOut(**row) for row in page.items], next_cursor=page.next_cursor)

    @api.get("/contacts/{contact_id}", response_model=ContactDetailOut)
    def get_contact(contact_id: int) -> ContactDetailOut:
        """The contact with its tags, custom fields, other addresses and lifetime value (per currency)."""
        contact = reads.contact(contact_id)
        if contact is None:
            raise HTTPException(status_code=404, detail=f"no contact {contact_id}")
        details = extra.record.details(contact_id) if extra.record is not None else None
        return ContactDetailOut(
            **ContactOut.of(contact).model_dump(),
            tags=list(contact.tags),
            fields=details["fields"] if details else {},
            aliases=details["aliases"] if details else [],
            lifetime_value={k: amount_text(v) for k, v in details["lifetime_value"].items()} if details else {},
        )

    @api.get("/contacts/{contact_id}/timeline", response_model=TimelinePage)
    def get_timeline(
        contact_id: int, caller: Caller = reader, cursor: str | None = None, limit: Limit = 50
    ) -> TimelinePage:
        """The contact's messages and ticket events, newest first (raw headers for admin tokens only)."""
        contact = reads.contact(contact_id)
        if contact is None:
            raise HTTPException(status_code=404, detail=f"no contact {contact_id}")
        page = reads.timeline(contact_id, cursor=cursor, limit=limit)
        return TimelinePage(
            contact=ContactOut.of(contact),
            items=[TimelineEntryOut.of(e, caller.may(Scope.ADMIN)) for e in page.items],
            next_cursor=page.next_cursor,
        )

    @api.get("/threads/{thread_id}", response_model=ThreadOut)
    def get_thread(thread_id: int, caller: Caller = reader) -> ThreadOut:
        """A thread's messages in order, and its ticket (raw headers for admin tokens only)."""
        thread = reads.thread(thread_id)
        if thread is None:
            raise HTTPException(status_code=404, detail=f"no thread {thread_id}")
        return ThreadOut.of(thread, caller.may(Scope.ADMIN))

    @api.get("/tickets", response_model=TicketPage)
    def list_tickets(
        status: TicketStatus | None = None,
        queue: str | None = None,
        assignee: str | None = None,
        priority: str | None = None,
        sla: SlaState | None = None,
        cursor: str | None = None,
        limit: Limit = 50,
    ) -> TicketPage:
        """Tickets, oldest first, filtered by status, queue, assignee (agent name), priority and SLA state."""
        page = reads.tickets(
            status=status.value if status else None,
            cursor=cursor,
            limit=limit,
            queue=queue,
            assignee=assignee,
            priority=priority,
            sla=sla,
        )
        return TicketPage(items=[TicketOut.of(t) for t in page.items], next_cursor=page.next_cursor)

    @api.post("/contacts/{contact_id}/merge", response_model=ContactOut, dependencies=[require(Scope.WRITE)])
    def merge_contact(contact_id: int, body: MergeIn) -> ContactOut:
        """Fold contact `other_id` into this one; its addresses become aliases of this contact."""
        if contacts is None:
            raise HTTPException(status_code=503, detail="contact changes are not available")
        try:
            contacts.merge(contact_id, body.other_id)
        except ContactNotFound as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from None
        except ValueError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        merged = reads.contact(contact_id)
        assert merged is not None
        return ContactOut.of(merged)

    named = dict(segments or {})

    @api.get("/segments", response_model=list[SegmentOut])
    def list_segments() -> list[SegmentOut]:
        return [SegmentOut(name=s.name, description=s.description) for s in named.values()]

    @api.get("/segments/{name}/contacts", response_model=ContactPage)
    def segment_contacts(name: str, cursor: str | None = None, limit: Limit = 50) -> ContactPage:
        """Contacts in a named segment (segments/*.toml), by id."""
        if name not in named:
            raise HTTPException(status_code=404, detail=f"no segment {name!r}")
        page = reads.segment_contacts(named[name], cursor=cursor, limit=limit)
        return ContactPage(items=[ContactOut.of(c) for c in page.items], next_cursor=page.next_cursor)

    @api.get("/contacts/{contact_id}/score", response_model=ScoreOut)
    def contact_score(contact_id: int) -> ScoreOut:
        """The contact's score and stage, and every score change with its reason, newest first."""
        contact = reads.contact(contact_id)
        if contact is None:
            raise HTTPException(status_code=404, detail=f"no contact {contact_id}")
        history = [ScoreChangeOut(at=at, points=p, reason=r) for at, p, r in reads.score_history(contact_id)]
        return ScoreOut(score=contact.score, stage=contact.stage, changes=history)

    @api.get("/reports/pipeline", response_model=list[PipelineStageOut])
    def pipeline_report() -> list[PipelineStageOut]:
        """Deals and their total value per pipeline stage."""
        return [
            PipelineStageOut(stage=stage, deals=count, value=value)
            for stage, count, value in reads.pipeline(pipeline_stages)
        ]

    @api.get("/reports/campaigns", response_model=dict[str, CampaignFiguresOut])
    def campaigns_report(since: Since = None, until: Until = None) -> dict[str, CampaignFiguresOut]:
        """Per campaign: enrolled, active, completed and left; per step: sent, replied, bounced, unsubscribed.
        With `since` and/or `until` (read as by the other reports: `until` defaults to now, `since` to 30 days
        before it): the enrolments begun in the range (active, completed, left: what they are now), the mail
        sent and the replies, bounces and unsubscribes in it. Without either: since each campaign began."""
        start, end = parse_range(since, until, extra.clock()) if since or until else (None, None)
        return {name: CampaignFiguresOut.model_validate(row) for name, row in reads.campaigns(start, end).items()}

    app.include_router(api)
    return app
