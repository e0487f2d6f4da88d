"""API response shapes (the OpenAPI schema at /docs is generated from these)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from inboxcrm.core.alerts import Incident
from inboxcrm.core.model import Address
from inboxcrm.core.views import ContactView, MessageView, ThreadView, TicketView, TimelineEntry


class AddressOut(BaseModel):
    email: str
    name: str

    @classmethod
    def of(cls, address: Address) -> AddressOut:
        return cls(email=address.email, name=address.name)


class CompanyOut(BaseModel):
    id: int
    domain: str
    name: str


class ContactOut(BaseModel):
    id: int
    email: str
    name: str
    company: CompanyOut | None
    undeliverable: bool
    created_at: datetime
    score: float
    stage: str | None

    @classmethod
    def of(cls, contact: ContactView) -> ContactOut:
        company = contact.company
        return cls(
            id=contact.id,
            email=contact.email,
            name=contact.name,
            undeliverable=contact.undeliverable,
            created_at=contact.created_at,
            score=contact.score,
            stage=contact.stage,
            company=CompanyOut(id=company.id, domain=company.domain, name=company.name) if company else None,
        )


class ContactDetailOut(ContactOut):
    """One contact with its record: tags, custom fields, other addresses, lifetime value per currency."""

    tags: list[str]
    fields: dict[str, str] = {}
    aliases: list[str] = []
    lifetime_value: dict[str, str] = {}


class AttachmentOut(BaseModel):
    filename: str
    content_type: str
    size: int


class MessageOut(BaseModel):
    id: int
    thread_id: int
    mailbox: str
    direction: str
    message_id: str | None
    subject: str
    from_: AddressOut | None
    to: list[AddressOut]
    cc: list[AddressOut]
    sent_at: datetime
    kind: str
    new_text: str | None
    quoted_text: str | None
    signature: str | None
    forwarded_by: str | None
    # agent_reply, observed_reply, note, commands, command_problem, refused, echo (support desk); null otherwise
    role: str | None
    text: str
    attachments: list[AttachmentOut]
    # the raw header fields, in order: for admin tokens only (null for the others)
    headers: list[tuple[str, str]] | None = None

    @classmethod
    def of(cls, m: MessageView, raw_headers: bool = False) -> MessageOut:
        """The message; with its raw header fields only when `raw_headers` (the caller is an admin)."""
        return cls(
            id=m.id,
            thread_id=m.thread_id,
            mailbox=m.mailbox,
            direction=m.direction,
            message_id=m.message_id,
            subject=m.subject,
            from_=AddressOut.of(m.from_) if m.from_ else None,
            to=[AddressOut.of(a) for a in m.to],
            cc=[AddressOut.of(a) for a in m.cc],
            sent_at=m.sent_at,
            kind=m.kind,
            new_text=m.new_text,
            quoted_text=m.quoted_text,
            signature=m.signature,
            forwarded_by=m.forwarded_by,
            role=m.role,
            text=m.text,
            attachments=[
                AttachmentOut(filename=a.filename, content_type=a.content_type, size=a.size) for a in m.attachments
            ],
            headers=[(k, v) for k, v in m.headers] if raw_headers else None,
        )


class TimelineEntryOut(BaseModel):
    id: int
    at: datetime
    kind: str
    summary: str
    message: MessageOut | None
    ticket_id: int | None

    @classmethod
    def of(cls, e: TimelineEntry, raw_headers: bool = False) -> TimelineEntryOut:
        return cls(
            id=e.id,
            at=e.at,
            kind=e.kind,
            summary=e.summary,
            ticket_id=e.ticket_id,
            message=MessageOut.of(e.message, raw_headers) if e.message else None,
        )


class SlaOut(BaseModel):
    """The ticket's service-level clocks: `state` is "breached" once any target was missed."""

    state: str
    first_response_due: datetime | None
    resolution_due: datetime | None
    first_response_breached_at: datetime | None
    resolution_breached_at: datetime | None


class TicketOut(BaseModel):
    id: int
    thread_id: int
    mailbox: str
    contact_id: int | None
    subject: str
    status: str
    created_at: datetime
    updated_at: datetime
    queue: str | None
    priority: str
    assignee: str | None
    tags: list[str]
    first_response_at: datetime | None
    solved_at: datetime | None
    snoozed_until: datetime | None
    sla: SlaOut

    @classmethod
    def of(cls, t: TicketView) -> TicketOut:
        return cls(
            id=t.id,
            thread_id=t.thread_id,
            mailbox=t.mailbox,
            contact_id=t.contact_id,
            subject=t.subject,
            status=t.status,
            created_at=t.created_at,
            updated_at=t.updated_at,
            queue=t.queue,
            priority=t.priority,
            assignee=t.assignee,
            tags=list(t.tags),
            first_response_at=t.first_response_at,
            solved_at=t.solved_at,
            snoozed_until=t.snoozed_until,
            sla=SlaOut(
                state="breached" if t.first_response_breached_at or t.resolution_breached_at else "ok",
                first_response_due=t.first_response_due,
                resolution_due=t.resolution_due,
                first_response_breached_at=t.first_response_breached_at,
                resolution_breached_at=t.resolution_breached_at,
            ),
        )


class ThreadOut(BaseModel):
    id: int
    subject: str
    mailbox: str
    created_at: datetime
    last_message_at: datetime
    messages: list[MessageOut]
    ticket: TicketOut | None

    @classmethod
    def of(cls, t: ThreadView, raw_headers: bool = False) -> ThreadOut:
        return cls(
            id=t.id,
            subject=t.subject,
            mailbox=t.mailbox,
            created_at=t.created_at,
            last_message_at=t.last_message_at,
            messages=[MessageOut.of(m, raw_headers) for m in t.messages],
            ticket=TicketOut.of(t.ticket) if t.ticket else None,
        )


class ContactPage(BaseModel):
    items: list[ContactOut]
    next_cursor: str | None


class TimelinePage(BaseModel):
    contact: ContactOut
    items: list[TimelineEntryOut]
    next_cursor: str | None


class TicketPage(BaseModel):
    items: list[TicketOut]
    next_cursor: str | None


class HistoryOut(BaseModel):
    """How far the import of a mailbox's history (the mail it held when inboxcrm first connected) has got."""

    read: int
    total: int
    done: bool


class MailboxHealthOut(BaseModel):
    mailbox: str
    ok: bool
    last_success: datetime | None
    last_error: str | None
    failures_in_a_row: int
    # False: another daemon fetches this mailbox (and reports on it)
    fetched_here: bool = True

    history: HistoryOut | None = None


class IncidentOut(BaseModel):
    """Something failing that the admins were mailed about ("mailbox:support", "outbox")."""

    key: str
    problem: str
    detail: str
    opened_at: datetime

    @classmethod
    def of(cls, incident: Incident) -> IncidentOut:
        return cls(key=incident.key, problem=incident.problem, detail=incident.detail, opened_at=incident.opened_at)


class HealthOut(BaseModel):
    status: str
    database: str
    mailboxes: list[MailboxHealthOut]
    incidents: list[IncidentOut] = []


class MergeIn(BaseModel):
    other_id: int


class SegmentOut(BaseModel):
    name: str
    description: str


class PipelineStageOut(BaseModel):
    stage: str
    deals: int
    value: float


class ScoreChangeOut(BaseModel):
    at: datetime
    points: float
    reason: str


class ScoreOut(BaseModel):
    score: float
    stage: str | None
    changes: list[ScoreChangeOut]


class CampaignStepOut(BaseModel):
    step: int
    sent: int
    replied: int
    bounced: int
    unsubscribed: int


class CampaignFiguresOut(BaseModel):
    enrolled: int
    active: int
    completed: int
    left: int
    steps: list[CampaignStepOut]


class CompanyRowOut(BaseModel):
    id: int
    domain: str
    name: str
    created_at: datetime
    contacts: int


class CompanyPage(BaseModel):
    items: list[CompanyRowOut]
    next_cursor: str | None


class DealOut(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int
    name: str
    stage: str
    value: float | None
    company_id: int | None
    company_domain: str | None
    contact_id: int | None
    created_at: datetime
    updated_at: datetime


class DealPage(BaseModel):
    items: list[DealOut]
    next_cursor: str | None
