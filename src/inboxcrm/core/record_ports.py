"""What the customer record's services need from the store (search index, custom fields, business events,
webhook deliveries), as Protocols the SQL transaction satisfies; `IngestTransaction` includes them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from inboxcrm.core.business import BusinessEvent
from inboxcrm.core.search_text import IndexedText

if TYPE_CHECKING:
    from inboxcrm.core.ports import NewEvent


@dataclass(frozen=True, slots=True)
class ContactCard:
    """Who a webhook is about: enough for a receiver to find the contact."""

    id: int
    email: str
    name: str
    stage: str | None
    company_domain: str | None


@dataclass(frozen=True, slots=True)
class NewDelivery:
    webhook: str
    event: str
    delivery_id: str
    body: str
    contact_id: int | None
    at: datetime


@dataclass(frozen=True, slots=True)
class Delivery:
    """A webhook delivery claimed for sending."""

    id: int
    webhook: str
    event: str
    delivery_id: str
    body: str
    attempts: int
    created_at: datetime


class SearchTransaction(Protocol):
    def index_messages(self, message_ids: Iterable[int], known: Mapping[int, IndexedText] | None = None) -> int: ...
    def index_contacts(self, contact_ids: Iterable[int]) -> int: ...
    def forget_contacts(self, contact_ids: Iterable[int]) -> None: ...
    def forget_messages(self, message_ids: Iterable[int]) -> None: ...
    def search_language(self) -> str: ...
    def search_vectors(self) -> bool: ...  # whether the index is written as tsvector literals (PostgreSQL)
    def reset_search(self, language: str, now: datetime) -> None: ...
    def claim_search_language(self, language: str, now: datetime) -> str: ...
    def ids_after(self, table: str, after_id: int, limit: int) -> list[int]: ...


class RecordTransaction(Protocol):
    def contact_field_values(self, contact_ids: Iterable[int]) -> dict[int, dict[str, str]]: ...
    def set_contact_fields(
        self, contact_id: int, values: Mapping[str, str | None], numbers: Mapping[str, float | None]
    ) -> dict[str, tuple[str | None, str | None]]: ...
    def set_contact_name(self, contact_id: int, name: str) -> str | None: ...
    def set_contact_company(self, contact_id: int, domain: str | None, now: datetime) -> str | None: ...
    def contact_tags(self, contact_id: int) -> frozenset[str]: ...
    def contact_stage(self, contact_id: int) -> str | None: ...
    def clear_stage(self, contact_id: int) -> None: ...
    def contacts_created_at(self, contact_ids: Iterable[int], at: datetime) -> list[int]: ...
    def add_business_event(
        self, contact_id: int, event: BusinessEvent, source: str, now: datetime
    ) -> tuple[int, bool]: ...
    def contact_cards(self, contact_ids: Iterable[int]) -> dict[int, ContactCard]: ...
    def ticket_statuses(self, ticket_ids: Iterable[int]) -> dict[int, str]: ...
    def move_contact_references(self, other_id: int, keep_id: int) -> dict[str, int]: ...
    def after_events(self, events: Sequence[NewEvent]) -> None: ...
    def unannounced(self) -> AbstractContextManager[None]: ...


class WebhookTransaction(Protocol):
    def queue_deliveries(self, deliveries: Sequence[NewDelivery]) -> None: ...
    def claim_deliveries(self, now: datetime, claim_until: datetime, limit: int) -> list[Delivery]: ...
    def delivery_sent(self, delivery_id: int, at: datetime) -> None: ...
    def delivery_retry(self, delivery_id: int, next_attempt_at: datetime, detail: str) -> None: ...
    def delivery_failed(self, delivery_id: int, at: datetime, detail: str) -> None: ...
    def release_deliveries(self, delivery_ids: Sequence[int]) -> None: ...


@dataclass(frozen=True, slots=True)
class Posted:
    """What became of one webhook POST: the HTTP status (None: no answer) and a word on why it failed."""

    status: int | None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Poster(Protocol):
    """Sends one webhook delivery (adapters/webhook_http.py)."""

    def post(self, url: str, payload: bytes, headers: Mapping[str, str], timeout: float) -> Posted: ...
