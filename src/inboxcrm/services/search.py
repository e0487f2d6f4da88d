"""Full-text search: `GET /search`, `inboxcrm search`, the pages' search box, and keeping the index up to
date (in the ingest transaction) and rebuilding it (`inboxcrm search --rebuild`).

A page of results is the newest matching messages (by when inboxcrm stored them), each with its subject and a
snippet of its body with the searched words in <mark>…</mark>; the first page also lists matching contacts.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from inboxcrm.core.model import Address
from inboxcrm.core.ports import IngestTransaction, NewEvent, Store
from inboxcrm.core.search_query import QueryProblem, SearchQuery, parse_query
from inboxcrm.core.search_text import Analyzer, IndexedText, Wanted, marked, snippet

MAX_PAGE = 100
LANGUAGE_TTL = 5.0  # seconds a search trusts the index's language it read
CONTACTS_SHOWN = 5


class SearchReads(Protocol):
    """The index, read (adapters/db/search.py)."""

    def language(self) -> str: ...
    def messages(self, query: SearchQuery, before_id: int | None, limit: int) -> list[Any]: ...
    def contacts(self, query: SearchQuery, limit: int) -> list[int]: ...


@dataclass(frozen=True, slots=True)
class MessageHit:
    id: int
    thread_id: int
    contact_id: int | None
    mailbox: str
    direction: str
    from_: Address | None
    sent_at: datetime
    subject: str  # HTML: escaped, searched words marked
    snippet: str  # HTML: escaped, searched words marked
    attachments: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SearchPage:
    messages: tuple[MessageHit, ...]
    contact_ids: tuple[int, ...]
    next_cursor: str | None


def _cursor(message_id: int) -> str:
    return base64.urlsafe_b64encode(f"m{message_id}".encode()).decode().rstrip("=")


def _before(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if text.startswith("m"):
            return int(text[1:])
    except (ValueError, UnicodeDecodeError):
        pass
    raise QueryProblem("invalid cursor")


class SearchService:
    def __init__(self, reads: SearchReads, language_ttl: float = LANGUAGE_TTL) -> None:
        self._reads = reads
        self._ttl = language_ttl
        self._analyzer: Analyzer | None = None
        self._checked = 0.0

    def analyzer(self) -> Analyzer:
        """The index's analyzer (its language may change with a rebuild: read again every few seconds)."""
        now = time.monotonic()
        if self._analyzer is None or now - self._checked >= self._ttl:
            language = self._reads.language()
            if self._analyzer is None or self._analyzer.language != language:
                self._analyzer = Analyzer(language)
            self._checked = now
        return self._analyzer

    def search(self, text: str, cursor: str | None = None, limit: int = 20) -> SearchPage:
        """One page of messages matching `text` (and, on the first page, matching contacts); raises
        `QueryProblem` for a query or cursor that cannot be read."""
        query = parse_query(text, self.analyzer())
        limit = max(1, min(limit, MAX_PAGE))
        if query.empty:
            return SearchPage((), (), None)
        before = _before(cursor)
        rows = self._reads.messages(query, before, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        wanted = query.wanted()
        analyzer = self.analyzer()
        hits = tuple(self._hit(analyzer, row, wanted) for row in rows)
        contacts = tuple(self._reads.contacts(query, CONTACTS_SHOWN)) if before is None else ()
        return SearchPage(hits, contacts, _cursor(rows[-1].id) if more and rows else None)

    def _hit(self, analyzer: Analyzer, row: Any, wanted: Wanted) -> MessageHit:
        sent = row.sent_at if row.sent_at.tzinfo is not None else row.sent_at.replace(tzinfo=UTC)
        files = tuple(str(a.get("filename", "")) for a in row.attachments or ())
        return MessageHit(
            id=row.id,
            thread_id=row.thread_id,
            contact_id=row.contact_id,
            mailbox=row.mailbox,
            direction=row.direction,
            from_=Address(row.from_email, row.from_name or "") if row.from_email else None,
            sent_at=sent,
            subject=marked(analyzer, row.subject or "", wanted),
            snippet=snippet(analyzer, row.text or "", wanted),
            attachments=files,
        )


def record_stored(
    tx: IngestTransaction,
    message_ids: Sequence[int],
    contact_ids: Iterable[int],
    now: datetime,
    indexed: Mapping[int, IndexedText] | None = None,
) -> list[NewEvent]:
    """What the customer record does in the ingest transaction: index the new messages (`indexed`: the terms
    of some, by message id, made where they were read) and their contacts, and tell webhooks of the contacts
    that are new (`contact.created`; the timeline has their first message). Returns no timeline events (a
    list, to add to the batch's)."""
    tx.index_messages(message_ids, indexed)
    people = list(contact_ids)
    tx.index_contacts(people)
    new = tx.contacts_created_at(people, now)
    if new:
        tx.after_events([NewEvent(i, now, "contact_created", "Contact created from mail") for i in new])
    return []


@dataclass
class Rebuilt:
    messages: int = 0
    contacts: int = 0


def rebuild(
    store: Store, language: str, now: datetime, chunk: int = 2000, progress: Callable[[Rebuilt], object] | None = None
) -> Rebuilt:
    """Build the index anew in `language`: emptied in one transaction, then filled a chunk per transaction
    (searches meanwhile see what is indexed so far)."""
    Analyzer(language)  # an unknown language fails here, before anything is emptied
    done = Rebuilt()
    with store.transaction() as tx:
        tx.reset_search(language, now)
    for table in ("contacts", "messages"):
        after = 0
        while True:
            with store.transaction() as tx:
                ids = tx.ids_after(table, after, chunk)
                if not ids:
                    break
                if table == "messages":
                    done.messages += tx.index_messages(ids)
                else:
                    done.contacts += tx.index_contacts(ids)
            after = ids[-1]
            if progress is not None:
                progress(done)
    return done
