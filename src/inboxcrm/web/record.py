"""The customer record over the API: search (`GET /search`), business events (`POST /contacts/{id}/events`,
`POST /events` by address), contacts as CSV (`GET|POST /contacts.csv`) and revenue (`GET /reports/revenue`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from inboxcrm.core.audiences import Segment
from inboxcrm.core.business import EventProblem, business_event
from inboxcrm.core.search_query import QueryProblem
from inboxcrm.services.contacts_csv import ContactsCsv
from inboxcrm.services.record import CustomerRecord, NoContact, amount_text, json_size
from inboxcrm.services.search import SearchService
from inboxcrm.web.auth import Require, Scope


class AddressOut(BaseModel):
    email: str
    name: str


class MessageHitOut(BaseModel):
    id: int
    thread_id: int
    contact_id: int | None
    mailbox: str
    direction: str
    from_: AddressOut | None
    sent_at: datetime
    # HTML: the text escaped, the words found in <mark>…</mark>
    subject: str
    snippet: str
    attachments: list[str]


class SearchOut(BaseModel):
    query: str
    messages: list[MessageHitOut]
    # ids of contacts whose name, address, company or text fields match (first page only)
    contacts: list[int]
    next_cursor: str | None


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(max_length=40, description="order, invoice, payment, refund, subscription, or a name of yours")
    amount: Decimal | None = Field(default=None, description="e.g. 49.90; needs `currency`")
    currency: str | None = Field(default=None, max_length=3)
    at: datetime | None = Field(default=None, description="when it happened (default: now)")
    external_id: str | None = Field(default=None, max_length=200, description="your id: sent twice, recorded once")
    properties: dict[str, Any] = Field(default_factory=dict)


class EventByAddressIn(EventIn):
    email: str = Field(max_length=320)
    name: str = Field(default="", max_length=255)


class EventOut(BaseModel):
    id: int
    contact_id: int
    # false: an event with this external id was recorded before; nothing changed
    created: bool


class StoredEventOut(BaseModel):
    id: int
    kind: str
    amount: str | None
    currency: str | None
    at: datetime
    external_id: str | None
    source: str
    properties: dict[str, Any]


class ImportOut(BaseModel):
    applied: bool
    created: int
    updated: int
    unchanged: int
    changes: list[str]
    # "row:column: header: what is wrong"; any problem and nothing is applied
    problems: list[str]


class RevenueOut(BaseModel):
    id: int
    key: str  # the contact's address or the company's domain
    name: str
    currency: str
    revenue: str
    events: int


def record_routes(
    search: SearchService,
    record: CustomerRecord,
    csv: ContactsCsv,
    segments: Mapping[str, Segment],
    require: Require,
    actor: Callable[[Request], str],
    clock: Callable[[], datetime],
) -> APIRouter:
    router = APIRouter(tags=["customer record"])
    reader, writer = require(Scope.READ), require(Scope.WRITE)

    @router.get("/search", response_model=SearchOut, dependencies=[reader])
    def search_messages(
        q: Annotated[str, Query(max_length=2000, description="see README: Search")],
        cursor: str | None = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> SearchOut:
        """Messages matching `q`, newest first, a page at a time; snippets mark the words found."""
        try:
            page = search.search(q, cursor, limit)
        except QueryProblem as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        hits = [
            MessageHitOut(
                id=h.id,
                thread_id=h.thread_id,
                contact_id=h.contact_id,
                mailbox=h.mailbox,
                direction=h.direction,
                from_=AddressOut(email=h.from_.email, name=h.from_.name) if h.from_ else None,
                sent_at=h.sent_at,
                subject=h.subject,
                snippet=h.snippet,
                attachments=list(h.attachments),
            )
            for h in page.messages
        ]
        return SearchOut(query=q, messages=hits, contacts=list(page.contact_ids), next_cursor=page.next_cursor)

    def _record(contact: int | str, body: EventIn, request: Request) -> EventOut:
        try:
            event = business_event(
                body.kind, body.at or clock(), body.amount, body.currency, body.external_id, body.properties, json_size
            )
            name = body.name if isinstance(body, EventByAddressIn) else ""
            done = record.record_event(contact, event, "api", actor(request), name)
        except EventProblem as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        except NoContact as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from None
        return EventOut(id=done.event_id, contact_id=done.contact_id, created=done.created)

    @router.post("/contacts/{contact_id}/events", response_model=EventOut, dependencies=[writer])
    def add_event(contact_id: int, body: EventIn, request: Request, response: Response) -> EventOut:
        """Record an order, invoice, payment, refund, subscription change or any named event of a contact."""
        done = _record(contact_id, body, request)
        response.status_code = 201 if done.created else 200
        return done

    @router.post("/events", response_model=EventOut, dependencies=[writer])
    def add_event_by_address(body: EventByAddressIn, request: Request, response: Response) -> EventOut:
        """The same, naming the contact by address (an unknown address becomes a new contact)."""
        done = _record(body.email, body, request)
        response.status_code = 201 if done.created else 200
        return done

    @router.get("/contacts/{contact_id}/events", response_model=list[StoredEventOut], dependencies=[reader])
    def list_events(contact_id: int, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[StoredEventOut]:
        """A contact's business events, newest first."""
        return [
            StoredEventOut(
                **{k: v for k, v in row.items() if k in StoredEventOut.model_fields and k != "amount"},
                amount=amount_text(row["amount"]) if row["amount"] is not None else None,
            )
            for row in record.events(contact_id, limit)
        ]

    @router.get(
        "/contacts.csv",
        response_class=Response,
        dependencies=[reader],
        responses={200: {"content": {"text/csv": {}}}},
    )
    def export_csv(segment: str | None = None) -> Response:
        """Every contact, or a named segment's, as CSV (a column per custom field); importing it back changes
        nothing."""
        chosen = None
        if segment is not None:
            chosen = segments.get(segment)
            if chosen is None:
                raise HTTPException(status_code=404, detail=f"no segment named {segment!r}")
        return Response(
            csv.export(chosen),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{segment or "contacts"}.csv"'},
        )

    @router.post("/contacts.csv", response_model=ImportOut, dependencies=[writer])
    async def import_csv(
        request: Request,
        apply: bool = False,
        map_: Annotated[list[str] | None, Query(alias="map", description="Header=column, e.g. E-Mail=email")] = None,
    ) -> ImportOut:
        """Import contacts from the CSV body: a dry run unless `apply=true`. Any problem (row:column) and
        nothing is written."""
        raw = await request.body()
        if len(raw) > 20_000_000:
            raise HTTPException(status_code=413, detail="at most 20 MB of CSV per request")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise HTTPException(status_code=422, detail="the CSV must be UTF-8") from None
        mapping = dict(pair.split("=", 1) for pair in map_ or () if "=" in pair)
        report = csv.import_(text, actor(request), apply, mapping)
        return ImportOut(
            applied=report.applied,
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
            changes=report.changes,
            problems=[str(p) for p in report.problems],
        )

    @router.get("/reports/revenue", response_model=list[RevenueOut], dependencies=[reader])
    def revenue_report(
        group: Literal["contact", "company"] = "company",
        since: datetime | None = None,
        until: datetime | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[RevenueOut]:
        """Revenue per company (or contact) and currency, largest first (`since`/`until` bound the period;
        without them it is the lifetime value)."""
        return [
            RevenueOut(**{**row, "revenue": amount_text(row["revenue"]), "name": row["name"] or ""})
            for row in record.revenue(group, since, until, limit)
        ]

    return router
