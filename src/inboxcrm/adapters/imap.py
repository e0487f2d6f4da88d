"""IMAP mail source (imapclient): folders addressed by (UIDVALIDITY, UID).

Messages are fetched with BODY.PEEK[] so reading never marks them \\Seen; flags and moves happen only
in `after_commit`, which the ingest service calls once the batch is in the database.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from imapclient import IMAPClient

from inboxcrm.core.ports import FetchedMessage, FolderSnapshot

log = logging.getLogger(__name__)

Security = Literal["tls", "starttls", "none"]


@dataclass(frozen=True, slots=True)
class ImapAccount:
    host: str
    port: int
    user: str
    password: str
    security: Security = "tls"
    timeout: float = 60.0
    mark_seen: bool = False
    move_to: str | None = None
    ssl_context: ssl.SSLContext | None = None


def connect(account: ImapAccount) -> IMAPClient:
    """Connect and log in. imaplib's debug level is reset to 0 right after connecting."""
    context = account.ssl_context or ssl.create_default_context()
    client = IMAPClient(
        account.host,
        port=account.port,
        ssl=account.security == "tls",
        ssl_context=context if account.security == "tls" else None,
        timeout=account.timeout,
    )
    # imapclient sets imaplib's debug level to 5, which makes imaplib format every response line even
    # with logging off: fetching is slower (1.3x in bench/ingest.py on small messages, 4x reported on a
    # 20k-message mailbox). tests/adapters/test_imap.py keeps this off.
    client._imap.debug = 0
    try:
        if account.security == "starttls":
            client.starttls(context)
        client.login(account.user, account.password)
    except BaseException:
        # The poller retries a failed login forever: each attempt must close its socket, not leak it.
        try:
            client.shutdown()
        except Exception:
            log.debug("IMAP shutdown after a failed login failed", exc_info=True)
        raise
    return client


class ImapSource:
    """One logged-in connection to one mailbox; not thread-safe. Use as a context manager."""

    def __init__(self, account: ImapAccount) -> None:
        self.account = account
        self.client: IMAPClient = connect(account)
        self._selected: str | None = None
        self._uidvalidity = 0
        if account.move_to and not self.client.folder_exists(account.move_to):
            # Moving happens after the commit; a missing folder then would leave messages behind for good.
            log.info("creating folder %s for move_to", account.move_to)
            self.client.create_folder(account.move_to)

    def __enter__(self) -> ImapSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.client.logout()
        except Exception:  # the connection may already be gone; nothing is lost by not saying goodbye
            try:
                self.client.shutdown()
            except Exception:
                log.debug("IMAP shutdown failed", exc_info=True)

    def _select(self, folder: str) -> dict[bytes, Any]:
        writable = self.account.mark_seen or self.account.move_to is not None
        info: dict[bytes, Any] = self.client.select_folder(folder, readonly=not writable)
        self._selected = folder
        self._uidvalidity = int(info[b"UIDVALIDITY"])
        return info

    def uidvalidity(self, folder: str) -> int:
        self._select(folder)
        return self._uidvalidity

    def snapshot(self, folder: str) -> FolderSnapshot:
        """How many messages `folder` holds now, and UIDNEXT - 1: every message there now has a UID at or
        below it, every later one a UID above it."""
        info = self._select(folder)
        # UIDNEXT is optional before IMAP4rev2: without it, the highest UID there is
        uidnext = info.get(b"UIDNEXT")
        last_uid = int(uidnext) - 1 if uidnext is not None else max(self.client.search(["ALL"]), default=0)
        return FolderSnapshot(int(info.get(b"EXISTS", 0)), last_uid)

    def fetch_after(self, folder: str, last_uid: int, batch_size: int) -> Iterator[list[FetchedMessage]]:
        """Messages with UID > `last_uid`, in UID order, `batch_size` at a time."""
        if self._selected != folder:
            self._select(folder)
        # "n:*" always matches the highest UID, even when it is below n; hence the filter.
        uids = sorted(u for u in self.client.search(["UID", f"{last_uid + 1}:*"]) if u > last_uid)
        for start in range(0, len(uids), batch_size):
            chunk = uids[start : start + batch_size]
            data = self.client.fetch(chunk, ["BODY.PEEK[]"])
            batch = [FetchedMessage(uid, data[uid][b"BODY[]"]) for uid in chunk if uid in data]
            missing = [uid for uid in chunk if uid not in data]
            if missing:  # expunged between SEARCH and FETCH: nothing to store
                log.info("folder %s: UIDs %s vanished before they could be fetched", folder, missing)
            yield batch

    def after_commit(self, folder: str, uids: Sequence[int]) -> None:
        """Flag or move messages that are now safely in the database, if the config asks for it."""
        if not uids:
            return
        if self._selected != folder:
            self._select(folder)
        if self.account.mark_seen:
            self.client.add_flags(list(uids), [b"\\Seen"])
        if self.account.move_to:
            if self.client.has_capability("MOVE"):
                self.client.move(list(uids), self.account.move_to)
            else:
                self.client.copy(list(uids), self.account.move_to)
                self.client.delete_messages(list(uids))
                if self.client.has_capability("UIDPLUS"):
                    self.client.uid_expunge(list(uids))
                else:
                    self.client.expunge()
