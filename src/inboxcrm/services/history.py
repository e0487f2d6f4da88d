"""History and live at the folder level (see core/history.py): on the first connection to a folder (or after
the server renumbered it), what is there already is history; each batch is split into the history it holds
(stored quietly, or left out when older than the mailbox's `backlog`) and live mail."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from inboxcrm.core.history import Backlog, HistoryMark
from inboxcrm.core.ports import FolderCursor, IngestTransaction, MailSource, NamedMailSource

log = logging.getLogger(__name__)

T = TypeVar("T")


def connect_folder(
    tx: IngestTransaction,
    source: MailSource | NamedMailSource,
    mailbox: str,
    folder: str,
    uidvalidity: int,
    cursor: FolderCursor | None,
    backlog: Backlog,
    now: datetime,
) -> int:
    """Record the folder's history on a first connection (or a renumbered folder); returns the UID to read
    after. With `backlog = "none"` a first connection reads nothing that is there already; a renumbered
    folder is read again from the start (content hashes stop duplicates), quietly, with the first
    connection's date limit.

    A file source (Maildir, mbox, .eml) names its messages and the ingest numbers them after the cursor, so
    the ones there now get UIDs 1 … `snapshot.last_uid` (see adapters/files.py): reading starts at 0, and with
    `backlog = "none"` every dated one is left out as too old (and remembered by name, see services/places.py)."""
    snapshot = source.snapshot(folder)
    earlier = tx.history_mark(mailbox, folder) if cursor is not None else None
    since = earlier.since if earlier is not None else backlog.since(now)
    named = isinstance(source, NamedMailSource)
    start = snapshot.last_uid if cursor is None and backlog.reads_nothing and not named else 0
    tx.begin_history(mailbox, folder, uidvalidity, snapshot, since, start, now)
    log.info(
        "mailbox %s folder %s: %s; %d message(s) there are history (stored without mailing anyone%s)",
        mailbox,
        folder,
        "first connection" if cursor is None else "renumbered",
        snapshot.messages if not start and not (named and backlog.reads_nothing) else 0,
        f", from {since:%Y-%m-%d} on" if since is not None else "",
    )
    return start


def split_batch(
    items: Sequence[T], uid: Callable[[T], int], sent_at: Callable[[T], datetime | None], mark: HistoryMark | None
) -> tuple[list[T], list[T], int]:
    """`items` as (history to store, live, how many history items are too old to store)."""
    if mark is None:
        return [], list(items), 0
    history, live, old = [], [], 0
    for item in items:
        if not mark.is_history(uid(item)):
            live.append(item)
        elif mark.keeps(sent_at(item)):
            history.append(item)
        else:
            old += 1
    return history, live, old
