"""The read side: contacts, a contact's timeline, threads and tickets, with opaque page cursors."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from inboxcrm.core.audiences import Segment
from inboxcrm.core.ports import Reads
from inboxcrm.core.views import ContactView, Page, ThreadView, TicketView, TimelineEntry

MAX_PAGE = 200


class BadCursor(ValueError):
    """A page cursor that we did not hand out (or that was cut short)."""


def _encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadCursor("invalid cursor") from exc


def _after_id(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        return int(_decode(cursor))
    except ValueError as exc:
        raise BadCursor("invalid cursor") from exc


class ReadService:
    """Pages are capped at `MAX_PAGE` items; a cursor continues where the previous page ended."""

    def __init__(self, reads: Reads) -> None:
        self._reads = reads

    @property
    def source(self) -> Reads:
        """The read queries underneath (for read-only tools such as the rules backtest)."""
        return self._reads

    def ping(self) -> None:
        self._reads.ping()

    def contacts(
        self,
        email: str | None = None,
        query: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
        tag: str | None = None,
        stage: str | None = None,
        company: str | None = None,
        segment: Segment | None = None,
    ) -> Page[ContactView]:
        limit = max(1, min(limit, MAX_PAGE))
        rows = self._reads.contacts(email, query, _after_id(cursor), limit + 1, tag, stage, company, segment)
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(tuple(rows), _encode(str(rows[-1].id)) if more else None)

    def companies(self, query: str | None = None, cursor: str | None = None, limit: int = 50) -> Page[dict[str, Any]]:
        limit = max(1, min(limit, MAX_PAGE))
        rows = self._reads.companies(query, _after_id(cursor), limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(tuple(rows), _encode(str(rows[-1]["id"])) if more else None)

    def deals(self, stage: str | None = None, cursor: str | None = None, limit: int = 50) -> Page[dict[str, Any]]:
        limit = max(1, min(limit, MAX_PAGE))
        rows = self._reads.deals(stage, _after_id(cursor), limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(tuple(rows), _encode(str(rows[-1]["id"])) if more else None)

    def segment_contacts(self, segment: Segment, cursor: str | None = None, limit: int = 50) -> Page[ContactView]:
        """The contacts a named segment describes, by id."""
        limit = max(1, min(limit, MAX_PAGE))
        rows = self._reads.segment_contacts(segment, _after_id(cursor), limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(tuple(rows), _encode(str(rows[-1].id)) if more else None)

    def score_history(self, contact_id: int, limit: int = 200) -> list[tuple[datetime, float, str]]:
        return self._reads.score_history(contact_id, max(1, min(limit, 1000)))

    def campaigns(self, since: datetime | None = None, until: datetime | None = None) -> dict[str, dict[str, object]]:
        """Per campaign: enrolments by status (enrolled, active, completed, left) and, per step, sent /
        replied / bounced / unsubscribed. With `since`/`until`: the enrolments begun in `[since, until)` (by
        their status now), the mail sent and the exits in it; without, since each campaign began."""
        counts, figures = self._reads.enrolment_counts(since, until), self._reads.campaign_figures(since, until)
        out: dict[str, dict[str, object]] = {}
        for name in sorted(set(counts) | set(figures)):
            by_status = counts.get(name, {})
            out[name] = {
                "enrolled": sum(by_status.values()),
                "active": by_status.get("active", 0),
                "completed": by_status.get("finished", 0),
                "left": by_status.get("exited", 0),
                "steps": figures.get(name, []),
            }
        return out

    def pipeline(self, stages: Sequence[str]) -> list[tuple[str, int, float]]:
        """(stage, deals, total value) for every pipeline stage in order, then any stage no longer configured."""
        found = self._reads.pipeline()
        ordered = [*stages, *sorted(set(found) - set(stages))]
        return [(stage, *found.get(stage, (0, 0.0))) for stage in ordered]

    def contact(self, contact_id: int) -> ContactView | None:
        return self._reads.contact(contact_id)

    def timeline(self, contact_id: int, cursor: str | None = None, limit: int = 50) -> Page[TimelineEntry]:
        """A contact's timeline, newest first."""
        limit = max(1, min(limit, MAX_PAGE))
        before: tuple[datetime, int] | None = None
        if cursor:
            at, _, event_id = _decode(cursor).partition("|")
            try:
                before = (datetime.fromisoformat(at), int(event_id))
            except ValueError as exc:
                raise BadCursor("invalid cursor") from exc
        rows = self._reads.timeline(contact_id, before, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = _encode(f"{rows[-1].at.isoformat()}|{rows[-1].id}") if more else None
        return Page(tuple(rows), next_cursor)

    def thread(self, thread_id: int) -> ThreadView | None:
        return self._reads.thread(thread_id)

    def tickets(
        self,
        status: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
        queue: str | None = None,
        assignee: str | None = None,
        priority: str | None = None,
        sla: str | None = None,
    ) -> Page[TicketView]:
        limit = max(1, min(limit, MAX_PAGE))
        rows = self._reads.tickets(status, _after_id(cursor), limit + 1, queue, assignee, priority, sla)
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(tuple(rows), _encode(str(rows[-1].id)) if more else None)

    def all_threads(self) -> list[tuple[int, str, list[str]]]:
        out: list[tuple[int, str, list[str]]] = []
        after = 0
        while batch := self._reads.threads(after, 1000):
            out.extend(batch)
            after = batch[-1][0]
        return out

    def status(self) -> dict[str, int]:
        return self._reads.counts()

    def cursors(self) -> list[tuple[str, str, int, int, datetime]]:
        return self._reads.cursors()
