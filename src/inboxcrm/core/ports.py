"""What the services need from the outside world, as Protocols the adapters satisfy structurally.

Services and adapters both import these (pure data and Protocols); `bootstrap.py` wires them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from inboxcrm.core.analysis import Analysis
from inboxcrm.core.audiences import Segment
from inboxcrm.core.history import HistoryMark
from inboxcrm.core.holding_ports import HoldingTransaction
from inboxcrm.core.mail_ports import Envelope as Envelope  # noqa: PLC0414 (re-exported)
from inboxcrm.core.mail_ports import NewMail as NewMail  # noqa: PLC0414 (re-exported)
from inboxcrm.core.mail_ports import Outcome as Outcome  # noqa: PLC0414 (re-exported)
from inboxcrm.core.mail_ports import QueuedMail as QueuedMail  # noqa: PLC0414 (re-exported)
from inboxcrm.core.mail_ports import Rendered as Rendered  # noqa: PLC0414 (re-exported)
from inboxcrm.core.mail_ports import Renderer as Renderer  # noqa: PLC0414 (re-exported)
from inboxcrm.core.mail_ports import Sender as Sender  # noqa: PLC0414 (re-exported)
from inboxcrm.core.mail_ports import SendResult as SendResult  # noqa: PLC0414 (re-exported)
from inboxcrm.core.model import Address, Direction, Message, TicketStatus
from inboxcrm.core.record_ports import RecordTransaction, SearchTransaction, WebhookTransaction
from inboxcrm.core.satisfaction import SatisfactionTransaction
from inboxcrm.core.source_ports import FetchedMessage as FetchedMessage  # noqa: PLC0414 (re-exported)
from inboxcrm.core.source_ports import FolderSnapshot as FolderSnapshot  # noqa: PLC0414 (re-exported)
from inboxcrm.core.source_ports import MailSource as MailSource  # noqa: PLC0414 (re-exported)
from inboxcrm.core.source_ports import NamedMailSource as NamedMailSource  # noqa: PLC0414 (re-exported)
from inboxcrm.core.tickets import Ticket
from inboxcrm.core.understanding import Understanding
from inboxcrm.core.views import ContactView, ThreadView, TicketView, TimelineEntry


class StoreUnavailable(Exception):
    """The database cannot do the work right now (locked, disk full, connection lost), though nothing is
    wrong with the work itself: do the same again later. The transaction was rolled back."""


@dataclass(frozen=True, slots=True)
class RawItem:
    """Raw bytes ready to store, keyed by content hash."""

    content_hash: str
    message_id: str | None
    raw: bytes


@dataclass(frozen=True, slots=True)
class FolderCursor:
    uidvalidity: int
    last_uid: int


@dataclass(frozen=True, slots=True)
class NewMessage:
    raw_id: int
    thread_id: int
    contact_id: int | None
    mailbox: str
    message: Message
    meaning: Understanding
    analysis: Analysis | None
    received_at: datetime
    decision: Mapping[str, object] | None = None
    ignored: bool = False
    role: str | None = None  # see the `messages.role` column: agent_reply, observed_reply, note, commands …

    @property
    def direction(self) -> Direction:
        return self.meaning.direction

    @property
    def sent_at(self) -> datetime:
        return self.meaning.sent_at


@dataclass(frozen=True, slots=True)
class NewThread:
    subject: str
    mailbox: str
    at: datetime
    subject_key: str = ""


@dataclass(frozen=True, slots=True)
class NewTicket:
    thread_id: int
    mailbox: str
    contact_id: int | None
    subject: str
    at: datetime
    queue: str | None = None
    priority: str = "normal"
    assignee: str | None = None
    first_response_due: datetime | None = None
    resolution_due: datetime | None = None


@dataclass(frozen=True, slots=True)
class ContactState:
    """What rules may test about a contact before a message is applied."""

    tags: frozenset[str]
    score: float
    stage: str | None


@dataclass(frozen=True, slots=True)
class NewEvent:
    contact_id: int
    at: datetime
    kind: str
    summary: str
    message_id: int | None = None
    ticket_id: int | None = None


@dataclass(frozen=True, slots=True)
class QuarantinedRaw:
    quarantine_id: int
    raw_id: int
    mailbox: str
    error: str
    attempts: int
    created_at: datetime
    raw: bytes


@dataclass(frozen=True, slots=True)
class CustomerMessage:
    """The message of the customer's that a reply on a thread answers."""

    message_id: str | None
    references: tuple[str, ...]
    subject: str
    author: Address
    reply_to: tuple[Address, ...]
    sent_at: datetime
    new_text: str


@dataclass(frozen=True, slots=True)
class Enrolment:
    """A contact in a campaign: the next step to send and when (None once finished or exited)."""

    id: int
    contact_id: int
    campaign: str
    status: str
    source: str
    enrolled_at: datetime
    step: int
    next_due_at: datetime | None
    last_sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class Recipient:
    """What a campaign step needs to know about its contact, as of now."""

    contact_id: int
    email: str
    name: str
    company: str | None
    company_domain: str | None
    undeliverable: bool
    suppressed: str | None
    tags: frozenset[str]
    stage: str | None
    score: float
    replied_since_enrolment: bool
    open_ticket: bool
    fields: Mapping[str, str] = field(default_factory=dict)  # custom fields, as stored


@dataclass(frozen=True, slots=True)
class CampaignMail:
    """A campaign mail someone answered: matched by the Message-ID their reply names."""

    enrolment_id: int | None
    campaign: str
    step: int
    contact_id: int | None


class OutreachTransaction(Protocol):
    """What campaigns read and write, inside the transaction of the decision."""

    def enrolment_statuses(self, contact_id: int, campaign: str) -> list[str]: ...
    def add_enrolment(self, contact_id: int, campaign: str, source: str, at: datetime, due: datetime) -> int: ...
    def due_enrolments(self, now: datetime, limit: int) -> list[Enrolment]: ...
    def active_enrolments(self, contact_ids: Iterable[int]) -> list[Enrolment]: ...
    def advance_enrolments(self, sent: Sequence[tuple[int, int, datetime | None]], at: datetime) -> None: ...
    def end_enrolment(self, enrolment_id: int, status: str, reason: str | None, at: datetime) -> None: ...
    def hold_enrolment(self, enrolment_id: int, until: datetime) -> None: ...
    def recipient(self, contact_id: int, since: datetime) -> Recipient | None: ...
    def recipients(self, wanted: Sequence[tuple[int, datetime]]) -> list[Recipient | None]: ...
    def suppress(self, email: str, reason: str, campaign: str | None, at: datetime) -> bool: ...
    def suppressed(self, emails: Iterable[str]) -> dict[str, str]: ...
    def add_soft_bounce(self, email: str, at: datetime, reason: str, source: str) -> None: ...
    def soft_bounces_since(self, email: str, since: datetime) -> int: ...
    def trigger_candidates(
        self, campaign: str, kind: str, value: str | float, stages: Sequence[str], limit: int
    ) -> list[int]: ...
    def segment_candidates(self, campaign: str, segment: Segment, limit: int) -> list[int]: ...
    def campaign_message_ids(self, message_ids: Iterable[str]) -> set[str]: ...
    def campaign_mail(self, message_ids: Iterable[str]) -> list[CampaignMail]: ...
    def contact_ids_for(self, emails: Iterable[str]) -> dict[str, int]: ...
    def queue_mail(self, mails: Sequence[NewMail]) -> list[str]: ...
    def add_events(self, events: Sequence[NewEvent]) -> None: ...


class SupportTransaction(SatisfactionTransaction, HoldingTransaction, Protocol):
    """What the support desk reads and writes, inside the same transaction as the mail it acts on."""

    def ticket(self, ticket_id: int) -> Ticket | None: ...
    def tickets_by_id(self, ticket_ids: Iterable[int]) -> dict[int, Ticket]: ...
    def tickets_needing_attention(self, now: datetime, solved_before: datetime, limit: int) -> list[Ticket]: ...
    def save_ticket(self, ticket: Ticket, at: datetime) -> None: ...
    def save_tickets(self, changed: Sequence[tuple[Ticket, datetime]]) -> None: ...
    def last_customer_message(self, thread_id: int) -> CustomerMessage | None: ...
    def contact_address(self, contact_id: int) -> Address | None: ...
    def wrote_before(self, contact_id: int, before: datetime) -> bool: ...
    def raw_message(self, raw_id: int) -> bytes | None: ...
    def queue_mail(self, mails: Sequence[NewMail]) -> list[str]: ...
    def automatic_mail_count(self, cause: str, since: datetime) -> int: ...
    def map_threads(self, pairs: Sequence[tuple[str, int]]) -> None: ...
    def add_events(self, events: Sequence[NewEvent]) -> None: ...
    def claim_mail(
        self,
        now: datetime,
        claim_until: datetime,
        limit: int,
        campaign_allowance: Mapping[str, int] | None = None,
    ) -> list[QueuedMail]: ...
    def campaign_sent_since(self, since: datetime) -> dict[str, int]: ...
    def mail_cancelled(self, mail_id: int, at: datetime, detail: str) -> None: ...
    def mails_sent(self, mail_ids: Sequence[int], at: datetime) -> None: ...
    def extend_claims(self, mail_ids: Sequence[int], until: datetime) -> None: ...
    def mail_retry(self, mail_id: int, next_attempt_at: datetime, detail: str) -> None: ...
    def mail_failed(self, mail_id: int, at: datetime, detail: str) -> None: ...


@dataclass(frozen=True, slots=True)
class StoredToken:
    """An API token kept in the database: never its value, only what it may do and when it was used."""

    id: int
    name: str
    scope: str  # read | write | admin
    rate_limit: int | None  # requests per minute; None = the configured default
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class AccessTransaction(Protocol):
    """API tokens (stored as SHA-256 hashes) and the audit log."""

    def api_token_by_hash(self, token_hash: str) -> StoredToken | None: ...
    def api_token_named(self, name: str) -> StoredToken | None: ...
    def api_token_list(self) -> list[StoredToken]: ...
    def add_api_token(
        self, name: str, scope: str, token_hash: str, rate_limit: int | None, at: datetime
    ) -> int | None: ...
    def touch_api_token(self, token_id: int, at: datetime, unless_since: datetime) -> None: ...
    def revoke_api_token(self, token_id: int, at: datetime) -> None: ...
    def add_audit(self, actor: str, action: str, subject: str, detail: Mapping[str, Any], at: datetime) -> None: ...


class HistoryTransaction(Protocol):
    """Each folder's history mark (see core/history.py), tickets opened by history and contacts known only from
    history."""

    def history_mark(self, mailbox: str, folder: str) -> HistoryMark | None: ...
    def begin_history(
        self,
        mailbox: str,
        folder: str,
        uidvalidity: int,
        snapshot: FolderSnapshot,
        since: datetime | None,
        start_uid: int,
        now: datetime,
    ) -> None: ...
    def count_history(self, mailbox: str, folder: str, read: int) -> None: ...
    def history_tickets(self, ticket_ids: Iterable[int]) -> set[int]: ...
    def mark_history(self, ticket_ids: Iterable[int], contact_ids: Iterable[int]) -> None: ...
    def end_history(self, ticket_ids: Iterable[int], contact_ids: Iterable[int]) -> None: ...


class IngestTransaction(
    SupportTransaction,
    OutreachTransaction,
    AccessTransaction,
    SearchTransaction,
    RecordTransaction,
    WebhookTransaction,
    HistoryTransaction,
    Protocol,
):
    """One database transaction; everything written through it commits or rolls back together."""

    def lock_cursor(self, mailbox: str, folder: str) -> FolderCursor | None: ...
    def set_cursor(self, mailbox: str, folder: str, uidvalidity: int, last_uid: int, now: datetime) -> None: ...
    def store_raw(self, items: Sequence[RawItem], now: datetime) -> dict[str, int]: ...
    def link_locations(
        self, mailbox: str, folder: str, uidvalidity: int, places: Sequence[tuple[int, int]], now: datetime
    ) -> None: ...
    def names_stored(self, mailbox: str, folder: str, names: Sequence[str]) -> set[str]: ...
    def known_addresses(self, emails: Sequence[str]) -> set[str]: ...
    def link_named(
        self,
        mailbox: str,
        folder: str,
        uidvalidity: int,
        places: Sequence[tuple[int, str, int | None]],
        now: datetime,
    ) -> None: ...
    def raws_with_messages(self, raw_ids: Iterable[int]) -> set[int]: ...
    def raws_in_quarantine(self, raw_ids: Iterable[int]) -> set[int]: ...
    def ensure_contacts(self, addresses: Sequence[Address], now: datetime) -> dict[str, int]: ...
    def mark_undeliverable(self, emails: Sequence[str]) -> None: ...
    def contact_states(self, contact_ids: Iterable[int]) -> dict[int, ContactState]: ...
    def change_tags(self, contact_id: int, added: Iterable[str], removed: Iterable[str]) -> None: ...
    def change_many_tags(self, added: Iterable[tuple[int, str]], removed: Iterable[tuple[int, str]]) -> None: ...
    def add_score_changes(
        self,
        contact_id: int,
        at: datetime,
        changes: Sequence[tuple[float, str]],
        message_id: int | None,
        half_life: timedelta | None = None,
    ) -> float: ...
    def contact_scores(self, contact_ids: Iterable[int]) -> dict[int, tuple[float, datetime | None, str | None]]: ...
    def write_scores(
        self,
        changes: Sequence[tuple[int, datetime, float, str, int | None]],
        scores: Mapping[int, tuple[float, datetime]],
        stages: Mapping[int, str],
    ) -> None: ...
    def contacts_with_messages(self, contact_ids: Iterable[int]) -> set[int]: ...
    def last_outbound_at(self, thread_ids: Iterable[int]) -> dict[int, datetime]: ...
    def decay_scores(self, now: datetime, half_life: timedelta) -> int: ...
    def set_stage(self, contact_id: int, stage: str) -> str | None: ...
    def open_ticket_load(self, agents: Sequence[str]) -> dict[str, int]: ...
    def upsert_deal(
        self, contact_id: int, name: str, value: float | None, stage: str, at: datetime
    ) -> tuple[int, str | None]: ...
    def contact_id_for(self, email: str) -> int | None: ...
    def merge_contacts(self, keep_id: int, other_id: int, now: datetime) -> None: ...
    def threads_for(self, message_ids: Iterable[str]) -> dict[str, int]: ...
    def new_threads(self, threads: Sequence[NewThread]) -> list[int]: ...
    def touch_threads(self, last_message_at: Mapping[int, datetime]) -> None: ...
    def merge_threads(self, moves: Mapping[int, int]) -> None: ...
    def thread_exists(self, thread_id: int) -> bool: ...
    def thread_of_ticket(self, ticket_id: int, contact_id: int) -> int | None: ...
    def thread_by_subject(self, mailbox: str, subject_key: str, contact_id: int, since: datetime) -> int | None: ...
    def add_messages(self, rows: Sequence[NewMessage]) -> list[int]: ...
    def tickets_for_threads(self, thread_ids: Iterable[int]) -> dict[int, tuple[int, TicketStatus]]: ...
    def open_tickets(self, tickets: Sequence[NewTicket]) -> list[int]: ...
    def set_ticket_status(self, ticket_id: int, status: TicketStatus, at: datetime) -> None: ...
    def quarantine(self, raw_id: int, mailbox: str, error: str, now: datetime) -> None: ...
    def open_quarantine(self, limit: int) -> list[QuarantinedRaw]: ...
    def resolve_quarantine(self, quarantine_id: int, now: datetime) -> None: ...
    def retry_failed(self, quarantine_id: int, error: str) -> None: ...


class Store(Protocol):
    """Where facts are kept."""

    def transaction(self) -> AbstractContextManager[IngestTransaction]: ...


class Reads(Protocol):
    """Read-only queries behind the API."""

    def ping(self) -> None: ...
    def contacts(
        self,
        email: str | None,
        query: str | None,
        after_id: int,
        limit: int,
        tag: str | None = None,
        stage: str | None = None,
        company: str | None = None,
        segment: Segment | None = None,
    ) -> list[ContactView]: ...
    def companies(self, query: str | None, after_id: int, limit: int) -> list[dict[str, Any]]: ...
    def deals(self, stage: str | None, after_id: int, limit: int) -> list[dict[str, Any]]: ...
    def contact(self, contact_id: int) -> ContactView | None: ...
    def timeline(self, contact_id: int, before: tuple[datetime, int] | None, limit: int) -> list[TimelineEntry]: ...
    def thread(self, thread_id: int) -> ThreadView | None: ...
    def threads(self, after_id: int, limit: int) -> list[tuple[int, str, list[str]]]: ...
    def tickets(
        self,
        status: str | None,
        after_id: int,
        limit: int,
        queue: str | None = None,
        assignee: str | None = None,
        priority: str | None = None,
        sla: str | None = None,
    ) -> list[TicketView]: ...
    def counts(self) -> dict[str, int]: ...
    def cursors(self) -> list[tuple[str, str, int, int, datetime]]: ...
    def segment_contacts(self, segment: Segment, after_id: int, limit: int) -> list[ContactView]: ...
    def pipeline(self) -> dict[str, tuple[int, float]]: ...
    def campaign_figures(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> dict[str, list[dict[str, int]]]: ...
    def enrolment_counts(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> dict[str, dict[str, int]]: ...
    def score_history(self, contact_id: int, limit: int) -> list[tuple[datetime, float, str]]: ...
    def messages_since(
        self, since: datetime, after_id: int, limit: int
    ) -> list[tuple[int, str, str, datetime, bytes, dict[str, Any] | None]]: ...
