"""Where a folder's new messages start, and which of a fetched batch are new: by UID for IMAP (a cursor per
folder), by name for file sources (Maildir unique names, mbox offsets and hashes, .eml file names)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime

from inboxcrm.core.model import MailboxProfile
from inboxcrm.core.ports import FetchedMessage, FolderCursor, IngestTransaction, MailSource, NamedMailSource, Store

log = logging.getLogger(__name__)


def start(
    store: Store, source: MailSource | NamedMailSource, mailbox: MailboxProfile, folder: str, batch_size: int
) -> tuple[int, Iterator[list[FetchedMessage]]]:
    """How far the folder was read (the last UID, or how many named messages are stored) and the batches
    still to read: UIDs after the cursor, or every message whose name is not stored yet, whatever order
    the names sort in."""
    uidvalidity = source.uidvalidity(folder)
    if isinstance(source, NamedMailSource):
        names = source.names(folder)
        with store.transaction() as tx:
            stored = tx.names_stored(mailbox.name, folder, names)
        return len(stored), source.fetch_named(folder, [name for name in names if name not in stored], batch_size)
    with store.transaction() as tx:
        cursor = tx.lock_cursor(mailbox.name, folder)
    last_uid = 0
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
    return last_uid, source.fetch_after(folder, last_uid, batch_size)


def new_in_batch(
    tx: IngestTransaction, mailbox: str, folder: str, cursor: FolderCursor | None, uidvalidity: int,
    batch: Sequence[FetchedMessage],
) -> list[FetchedMessage | None]:  # fmt: skip
    """`batch` with None for what is stored already (another daemon sharing the database may have taken part
    of it). Named messages get UIDs after the cursor, so `inboxcrm status` counts them."""
    current = cursor is not None and cursor.uidvalidity == uidvalidity
    if batch and batch[0].name is not None:
        stored = tx.names_stored(mailbox, folder, [item.name or "" for item in batch])
        uid = cursor.last_uid if cursor is not None and current else 0
        out: list[FetchedMessage | None] = []
        for item in batch:
            if item.name in stored:
                out.append(None)
            else:
                uid += 1
                out.append(replace(item, uid=uid))
        return out
    if cursor is None or not current:
        return list(batch)
    return [item if item.uid > cursor.last_uid else None for item in batch]


def link(
    tx: IngestTransaction, mailbox: str, folder: str, uidvalidity: int, places: Sequence[tuple[FetchedMessage, int]],
    now: datetime,
) -> None:  # fmt: skip
    """Record where each (message, raw id) was seen."""
    named: list[tuple[int, str, int | None]] = [
        (item.uid, item.name, raw_id) for item, raw_id in places if item.name is not None
    ]
    tx.link_named(mailbox, folder, uidvalidity, named, now)
    numbered = [(item.uid, raw_id) for item, raw_id in places if item.name is None]
    tx.link_locations(mailbox, folder, uidvalidity, numbered, now)


def leave_out(
    tx: IngestTransaction, mailbox: str, folder: str, uidvalidity: int, items: Sequence[FetchedMessage], now: datetime
) -> None:
    """Remember named messages the mailbox's `backlog` leaves out (too old), by name and without their bytes:
    a file source hands over every name not stored yet, so one forgotten would come back later as live mail.
    A message with a UID needs nothing: the cursor passes it."""
    tx.link_named(mailbox, folder, uidvalidity, [(item.uid, item.name, None) for item in items if item.name], now)
