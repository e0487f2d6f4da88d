"""Fetched messages → stored facts, exactly once.

The contract (see README "Never lose mail"):
- raw bytes are stored, keyed by place (mailbox, folder, UIDVALIDITY, UID; file sources also by name, see
  services/places.py) and by content hash, in the same transaction that advances the folder cursor and
  records what the message means (services/recording.py);
- a message that cannot be understood is kept raw and quarantined with its reason; the batch goes on;
- the source is told to flag/move messages only after that transaction has committed;
- a database that is unavailable (locked, full, gone) refuses nothing: the same work is done again after a
  wait (services/patience.py), and no good message is quarantined for it;
- mail that was in a folder when inboxcrm first connected, and everything `inboxcrm import` reads, is
  history (core/history.py): stored and understood, but it never causes mail, and webhooks are not told of it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime

from inboxcrm.core.admission import DEFAULT_NEW_CONTACTS_PER_MESSAGE
from inboxcrm.core.analysis import Analysis
from inboxcrm.core.history import Backlog
from inboxcrm.core.model import MailboxProfile, Message, Team
from inboxcrm.core.ports import (
    FetchedMessage,
    MailSource,
    NamedMailSource,
    RawItem,
    Store,
    StoreUnavailable,
)
from inboxcrm.core.reading import Reading, read_many
from inboxcrm.core.search_text import IndexedText
from inboxcrm.services import places
from inboxcrm.services.desk import Support
from inboxcrm.services.history import connect_folder, split_batch
from inboxcrm.services.memory import give_back_memory
from inboxcrm.services.outreach import Outreach
from inboxcrm.services.patience import Sleep, patiently
from inboxcrm.services.reading import Pending, Reader
from inboxcrm.services.recording import record_messages
from inboxcrm.services.routing import Routing
from inboxcrm.services.scoring import Scoring

__all__ = ["EVERYTHING", "IngestResult", "IngestService", "record_messages"]

log = logging.getLogger(__name__)

EVERYTHING = Backlog()  # the default: the whole backlog is stored, as history

Clock = Callable[[], datetime]


@dataclass
class IngestResult:
    """What one batch (or a whole sync) did. `fetched` = `stored` + `duplicates` + `quarantined` + `too_old`
    (history older than the mailbox's `backlog`, left in the mailbox); `history` of the stored were history."""

    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    too_old: int = 0
    history: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: IngestResult) -> None:
        self.fetched += other.fetched
        self.stored += other.stored
        self.duplicates += other.duplicates
        self.quarantined += other.quarantined
        self.too_old += other.too_old
        self.history += other.history
        self.errors.extend(other.errors)


@dataclass(frozen=True, slots=True)
class _Parsed:
    fetched: FetchedMessage
    content_hash: str
    message: Message | None
    analysis: Analysis | None
    problem: str | None
    indexed: IndexedText | None = None


def _pair(batch: Sequence[FetchedMessage], readings: Sequence[Reading]) -> list[_Parsed]:
    return [
        _Parsed(f, r.content_hash, r.message, r.analysis, r.problem, r.indexed)
        for f, r in zip(batch, readings, strict=True)
    ]


class IngestService:
    """Stores batches of fetched messages and understands them."""

    def __init__(
        self,
        store: Store,
        team: Team,
        clock: Clock,
        reader: Reader | None = None,
        reply_secret: bytes | None = None,
        routing: Callable[[], Routing | None] = lambda: None,
        scoring: Scoring | None = None,
        support: Support | None = None,
        outreach: Outreach | None = None,
        new_contacts_per_message: int = DEFAULT_NEW_CONTACTS_PER_MESSAGE,
        sleep: Sleep = time.sleep,
    ) -> None:
        self._store = store
        self._sleep = sleep  # while the database is unavailable (see services/patience.py)
        self._contacts_cap = new_contacts_per_message
        self._support = support
        self._outreach = outreach
        self._team = team
        self._clock = clock
        self._reader = reader or Reader()
        self._reply_secret = reply_secret
        self._routing = routing  # asked per batch, so a reloaded rule set applies from the next batch
        self._scoring = scoring

    def sync_folder(
        self,
        source: MailSource | NamedMailSource,
        mailbox: MailboxProfile,
        folder: str,
        batch_size: int,
        progress: Callable[[int], object] | None = None,
        *,
        backlog: Backlog = EVERYTHING,
        history: bool = False,
    ) -> IngestResult:
        """Fetch everything new in `folder` since the stored cursor and ingest it batch by batch.

        `progress` is called with how far it got (the last UID done, or for file sources how many messages
        are stored): first before anything is read, then after each batch. On the first connection to the
        folder, what it holds is history (`backlog` says how much of it to store); with `history`, everything
        read is (`inboxcrm import`).
        """
        total = IngestResult()
        uidvalidity = source.uidvalidity(folder)

        def connect() -> None:
            with self._store.transaction() as tx:
                cursor = tx.lock_cursor(mailbox.name, folder)
                if not history and (cursor is None or cursor.uidvalidity != uidvalidity):
                    # sets the cursor where reading starts; places.start reads it back
                    connect_folder(tx, source, mailbox.name, folder, uidvalidity, cursor, backlog, self._clock())

        patiently(connect, self._sleep, f"mailbox {mailbox.name} folder {folder}")
        # the parsing processes make the search terms too (checked against the language again when stored)
        language, vectors = patiently(self._search_index, self._sleep, "search language")
        done, batches = places.start(self._store, source, mailbox, folder, batch_size)
        if progress:
            progress(done)

        def store(batch: list[FetchedMessage], readings: Pending) -> IngestResult:
            return self._store_batch(mailbox, folder, uidvalidity, _pair(batch, readings()), history)

        def stored(batch: list[FetchedMessage], result: IngestResult) -> None:
            """After the batch's commit, on this thread (the source's connection is this thread's)."""
            nonlocal done
            total.add(result)
            source.after_commit(folder, [item.uid for item in batch])
            give_back_memory()  # a long backfill holds a flat resident size
            if progress:
                done = done + len(batch) if batch[0].name else max(item.uid for item in batch)
                progress(done)

        # A pipeline of three: batch k+1 is fetched here while batch k is parsed (in worker processes when
        # configured) and batch k-1 is stored by a writer thread, whose database work (in the driver, without
        # Python's lock) goes on beside the fetching. One batch is stored at a time, in order, and the
        # source hears of a batch only after its commit.
        waiting: tuple[list[FetchedMessage], Pending] | None = None
        writing: tuple[list[FetchedMessage], Future[IngestResult]] | None = None
        # (Leaving the `with` waits for a batch being stored, also when something failed here.)
        with ThreadPoolExecutor(1, thread_name_prefix=f"store-{mailbox.name}") as writer:
            for batch in batches:
                if not batch:
                    continue
                submitted = (batch, self._reader.submit([item.raw for item in batch], language, vectors))
                if waiting is not None:
                    if writing is not None:
                        stored(writing[0], writing[1].result())
                    writing = (waiting[0], writer.submit(store, *waiting))
                waiting = submitted
            if writing is not None:
                stored(writing[0], writing[1].result())
            if waiting is not None:
                stored(waiting[0], store(*waiting))
        return total

    def _search_index(self) -> tuple[str, bool]:
        """The index's language, and whether it is written as PostgreSQL tsvector literals."""
        with self._store.transaction() as tx:
            return tx.search_language(), tx.search_vectors()

    def ingest_batch(
        self, mailbox: MailboxProfile, folder: str, uidvalidity: int, batch: Sequence[FetchedMessage]
    ) -> IngestResult:
        """Store and understand `batch` in one transaction; on a database error, one message at a time."""
        if not batch:
            return IngestResult()
        language, vectors = patiently(self._search_index, self._sleep, "search language")
        readings = read_many([m.raw for m in batch], self._reader.max_bytes, language, vectors)
        return self._store_batch(mailbox, folder, uidvalidity, _pair(batch, readings))

    def _store_batch(
        self, mailbox: MailboxProfile, folder: str, uidvalidity: int, parsed: Sequence[_Parsed], history: bool = False
    ) -> IngestResult:
        """The batch in one transaction; when the database refuses it, one message at a time, quarantining
        what it refuses. A database that is unavailable (locked, full, gone) refuses nothing: the same work
        is done again after a wait, and after a minute the error goes up (nothing was committed)."""
        where = f"mailbox {mailbox.name} folder {folder}"

        def store(some: Sequence[_Parsed]) -> IngestResult:
            return patiently(lambda: self._ingest(mailbox, folder, uidvalidity, some, history), self._sleep, where)

        try:
            return store(parsed)
        except StoreUnavailable:
            raise
        except Exception as exc:
            log.warning("%s: batch of %d failed (%s); retrying one message at a time", where, len(parsed), exc)
        total = IngestResult()
        for one in parsed:
            try:
                total.add(store([one]))
            except StoreUnavailable:
                raise
            except Exception as exc:
                reason = f"could not be stored as understood: {type(exc).__name__}: {exc}"
                log.error("%s: %s: %s", where, one.fetched.name or f"uid {one.fetched.uid}", reason)
                held = _Parsed(one.fetched, one.content_hash, None, None, reason[:2000])
                total.add(store([held]))
        return total

    def _ingest(
        self,
        mailbox: MailboxProfile,
        folder: str,
        uidvalidity: int,
        parsed: Sequence[_Parsed],
        history: bool = False,
    ) -> IngestResult:
        now = self._clock()
        result = IngestResult()
        with self._store.transaction() as tx:
            cursor = tx.lock_cursor(mailbox.name, folder)
            # what another daemon sharing this database took already is left out; named messages get UIDs
            new = places.new_in_batch(tx, mailbox.name, folder, cursor, uidvalidity, [p.fetched for p in parsed])
            parsed = [replace(p, fetched=fetched) for p, fetched in zip(parsed, new, strict=True) if fetched]
            if not parsed:
                return result
            last_uid = max(p.fetched.uid for p in parsed)
            mark = None if history else tx.history_mark(mailbox.name, folder)
            if mark is not None:
                tx.count_history(mailbox.name, folder, sum(mark.is_history(p.fetched.uid) for p in parsed))
            old, live, too_old = split_batch(
                parsed, lambda p: p.fetched.uid, lambda p: p.message.date if p.message else None, mark
            )
            # history too old for the mailbox's backlog is left out (a named one is remembered, by name only)
            kept = {id(p) for p in old + live}
            left_out = [p.fetched for p in parsed if id(p) not in kept]
            places.leave_out(tx, mailbox.name, folder, uidvalidity, left_out, now)
            parsed = old + live
            quiet = {id(p) for p in (parsed if history else old)}
            result.fetched += too_old
            result.too_old += too_old
            items = {
                p.content_hash: RawItem(p.content_hash, p.message.message_id if p.message else None, p.fetched.raw)
                for p in parsed
            }
            raw_ids = tx.store_raw(list(items.values()), now)
            seen = [(p.fetched, raw_ids[p.content_hash]) for p in parsed]
            places.link(tx, mailbox.name, folder, uidvalidity, seen, now)
            done = tx.raws_with_messages(raw_ids.values()) | tx.raws_in_quarantine(raw_ids.values())
            understood: list[tuple[int, Message, Analysis | None]] = []
            replayed: list[tuple[int, Message, Analysis | None]] = []
            indexed: dict[int, IndexedText] = {}
            for p in parsed:
                raw_id = raw_ids[p.content_hash]
                result.fetched += 1
                if raw_id in done:
                    result.duplicates += 1
                    continue
                done.add(raw_id)
                if p.message is None or p.problem is not None:
                    tx.quarantine(raw_id, mailbox.name, p.problem or "unreadable", now)
                    result.quarantined += 1
                    result.errors.append(f"{p.fetched.name or f'uid {p.fetched.uid}'}: {p.problem}")
                    continue
                (replayed if id(p) in quiet else understood).append((raw_id, p.message, p.analysis))
                if p.indexed is not None:
                    indexed[raw_id] = p.indexed
            routing = self._routing()
            for batch, is_live in ((replayed, False), (understood, True)):  # history first: it is older
                # history tells no webhook either: a backfill is not a flood of "new" contacts and tickets
                with nullcontext() if is_live else tx.unannounced():
                    record_messages(
                        tx,
                        mailbox,
                        self._team,
                        batch,
                        now,
                        self._reply_secret,
                        routing,
                        self._scoring,
                        self._support,
                        self._outreach,
                        live=is_live,
                        contacts_cap=self._contacts_cap,
                        indexed=indexed,
                    )
            result.stored += len(understood) + len(replayed)
            result.history += len(replayed)
            if cursor is None or cursor.uidvalidity != uidvalidity or last_uid > cursor.last_uid:
                tx.set_cursor(mailbox.name, folder, uidvalidity, last_uid, now)
        return result
