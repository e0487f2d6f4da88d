"""Fetched messages → stored facts, exactly once.

The contract (see README "Never lose mail"):
- raw bytes are stored, keyed by place (mailbox, folder, UIDVALIDITY, UID) and by content hash, in the
  same transaction that advances the folder cursor and records what the message means;
- a message that cannot be understood is kept raw and quarantined with its reason; the batch goes on;
- the source is told to flag/move messages only after that transaction has committed;
- mail that was in a folder when inboxcrm first connected, and everything `inboxcrm import` reads, is
  history (core/history.py): stored and understood, but it never causes mail.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from inboxcrm.core.analysis import Analysis
from inboxcrm.core.history import Backlog
from inboxcrm.core.model import MailboxProfile, Message, Team
from inboxcrm.core.ports import (
    FetchedMessage,
    MailSource,
    RawItem,
    Store,
)
from inboxcrm.core.reading import Reading, read_many
from inboxcrm.services.desk import Support
from inboxcrm.services.history import connect_folder, split_batch
from inboxcrm.services.outreach import Outreach
from inboxcrm.services.reading import Pending, Reader
from inboxcrm.services.recording import record_messages
from inboxcrm.services.routing import Routing
from inboxcrm.services.scoring import Scoring

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


def _pair(batch: Sequence[FetchedMessage], readings: Sequence[Reading]) -> list[_Parsed]:
    return [_Parsed(f, r.content_hash, r.message, r.analysis, r.problem) for f, r in zip(batch, readings, strict=True)]


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
    ) -> None:
        self._store = store
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
        source: MailSource,
        mailbox: MailboxProfile,
        folder: str,
        batch_size: int,
        progress: Callable[[int], object] | None = None,
        *,
        backlog: Backlog = EVERYTHING,
        history: bool = False,
    ) -> IngestResult:
        """Fetch everything new in `folder` since the stored cursor and ingest it batch by batch.

        `progress` is called with the last UID done: first the stored cursor, then after each batch. On the
        first connection to the folder, what it holds is history (`backlog` says how much of it to store);
        with `history`, everything read is (`inboxcrm import`).
        """
        total = IngestResult()
        uidvalidity = source.uidvalidity(folder)
        last_uid = 0
        with self._store.transaction() as tx:
            cursor = tx.lock_cursor(mailbox.name, folder)
            if not history and (cursor is None or cursor.uidvalidity != uidvalidity):
                last_uid = connect_folder(tx, source, mailbox.name, folder, uidvalidity, cursor, backlog, self._clock())
        if cursor is not None and cursor.uidvalidity == uidvalidity:
            last_uid = cursor.last_uid
        elif cursor is not None:
            # The server renumbered the folder: re-read all of it; content hashes stop duplicates.
            log.warning(
                "mailbox %s folder %s: UIDVALIDITY changed %s → %s; re-scanning the folder",
                mailbox.name,
                folder,
                cursor.uidvalidity,
                uidvalidity,
            )
        if progress:
            progress(last_uid)

        def store(batch: list[FetchedMessage], readings: Pending) -> None:
            total.add(self._store_batch(mailbox, folder, uidvalidity, _pair(batch, readings()), history))
            source.after_commit(folder, [item.uid for item in batch])
            if progress:
                progress(max(item.uid for item in batch))

        # A pipeline: batch k is parsed (in worker processes when configured) while batch k+1 is fetched.
        waiting: tuple[list[FetchedMessage], Pending] | None = None
        for batch in source.fetch_after(folder, last_uid, batch_size):
            if not batch:
                continue
            submitted = (batch, self._reader.submit([item.raw for item in batch]))
            if waiting is not None:
                store(*waiting)
            waiting = submitted
        if waiting is not None:
            store(*waiting)
        return total

    def ingest_batch(
        self, mailbox: MailboxProfile, folder: str, uidvalidity: int, batch: Sequence[FetchedMessage]
    ) -> IngestResult:
        """Store and understand `batch` in one transaction; on a database error, one message at a time."""
        if not batch:
            return IngestResult()
        return self._store_batch(mailbox, folder, uidvalidity, _pair(batch, read_many([m.raw for m in batch])))

    def _store_batch(
        self, mailbox: MailboxProfile, folder: str, uidvalidity: int, parsed: Sequence[_Parsed], history: bool = False
    ) -> IngestResult:
        try:
            return self._ingest(mailbox, folder, uidvalidity, parsed, history)
        except Exception as exc:
            log.warning(
                "mailbox %s folder %s: batch of %d failed (%s); retrying one message at a time",
                mailbox.name,
                folder,
                len(parsed),
                exc,
            )
        total = IngestResult()
        for one in parsed:
            try:
                total.add(self._ingest(mailbox, folder, uidvalidity, [one], history))
            except Exception as exc:
                reason = f"could not be stored as understood: {type(exc).__name__}: {exc}"
                log.error("mailbox %s folder %s uid %d: %s", mailbox.name, folder, one.fetched.uid, reason)
                quarantined = _Parsed(one.fetched, one.content_hash, None, None, reason[:2000])
                total.add(self._ingest(mailbox, folder, uidvalidity, [quarantined], history))
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
            if cursor is not None and cursor.uidvalidity == uidvalidity:
                # Another daemon sharing this database may have taken part of the batch already.
                parsed = [p for p in parsed if p.fetched.uid > cursor.last_uid]
                if not parsed:
                    return result
            last_uid = max(p.fetched.uid for p in parsed)
            mark = None if history else tx.history_mark(mailbox.name, folder)
            if mark is not None:
                tx.count_history(mailbox.name, folder, sum(mark.is_history(p.fetched.uid) for p in parsed))
            old, live, too_old = split_batch(
                parsed, lambda p: p.fetched.uid, lambda p: p.message.date if p.message else None, mark
            )
            parsed = old + live  # history too old for the mailbox's backlog is left out
            quiet = {id(p) for p in (parsed if history else old)}
            result.fetched += too_old
            result.too_old += too_old
            items = {
                p.content_hash: RawItem(p.content_hash, p.message.message_id if p.message else None, p.fetched.raw)
                for p in parsed
            }
            raw_ids = tx.store_raw(list(items.values()), now)
            tx.link_locations(
                mailbox.name, folder, uidvalidity, [(p.fetched.uid, raw_ids[p.content_hash]) for p in parsed], now
            )
            done = tx.raws_with_messages(raw_ids.values()) | tx.raws_in_quarantine(raw_ids.values())
            understood: list[tuple[int, Message, Analysis | None]] = []
            replayed: list[tuple[int, Message, Analysis | None]] = []
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
                    result.errors.append(f"uid {p.fetched.uid}: {p.problem}")
                    continue
                (replayed if id(p) in quiet else understood).append((raw_id, p.message, p.analysis))
            routing = self._routing()
            for batch, is_live in ((replayed, False), (understood, True)):  # history first: it is older
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
                )
            result.stored += len(understood) + len(replayed)
            result.history += len(replayed)
            if cursor is None or cursor.uidvalidity != uidvalidity or last_uid > cursor.last_uid:
                tx.set_cursor(mailbox.name, folder, uidvalidity, last_uid, now)
        return result
