"""Ports for mail going out: what a service queues (`NewMail`), what the outbox holds (`QueuedMail`), the
template renderer and the sender (SMTP or a folder). Re-exported by `core.ports`."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class NewMail:
    """An outbox row: the exact bytes to send and why, written in the transaction that decided to send."""

    key: str
    kind: str
    message_id: str
    sender: str
    recipients: tuple[str, ...]
    raw: bytes
    automatic: bool
    at: datetime
    mailbox: str | None = None
    cause: str | None = None
    ticket_id: int | None = None
    contact_id: int | None = None
    author: str | None = None
    source_message_id: int | None = None
    campaign: str | None = None
    step: int | None = None
    enrolment_id: int | None = None


@dataclass(frozen=True, slots=True)
class QueuedMail:
    """An outbox row claimed for sending."""

    id: int
    key: str
    kind: str
    message_id: str
    sender: str
    recipients: tuple[str, ...]
    raw: bytes
    attempts: int
    created_at: datetime
    mailbox: str | None
    ticket_id: int | None
    contact_id: int | None
    author: str | None
    campaign: str | None = None
    step: int | None = None
    enrolment_id: int | None = None


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered mail template: one-line subject, text body, optional HTML body."""

    subject: str
    text: str
    html: str | None = None


class Renderer(Protocol):
    """Named mail templates (adapters/templates.py); `render` raises with file:line when a template fails."""

    def render(self, name: str, context: Mapping[str, Any]) -> Rendered: ...
    def saved_replies(self) -> list[str]: ...


@dataclass(frozen=True, slots=True)
class Envelope:
    """One message for the sender: its outbox key, SMTP envelope and exact bytes."""

    key: str
    sender: str
    recipients: tuple[str, ...]
    raw: bytes


class Outcome(enum.StrEnum):
    """What became of one send: delivered to the server, to try again (4xx, connection trouble), or refused (5xx)."""

    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class SendResult:
    key: str
    outcome: Outcome
    detail: str
    code: int | None = None


class Sender(Protocol):
    """Hands messages to a mail server (or a folder): one result per envelope, in order."""

    async def send_many(self, envelopes: Sequence[Envelope]) -> list[SendResult]: ...
