"""IMAP mail source (imapclient): folders addressed by (UIDVALIDITY, UID).

Messages are fetched with BODY.PEEK[] so reading never marks them \\Seen; flags and moves happen only
in `after_commit`, which the ingest service calls once the batch is in the database.

Login is with a password, or SASL XOAUTH2 with an access token (imapclient's `oauth2_login`): a token the
server refuses is replaced once with a freshly fetched one before the login counts as refused. When the
server offers IDLE, `wait_for_change` waits in IDLE for new mail; every other command runs with the
socket timeout, so a half-dead connection raises instead of hanging.
"""

from __future__ import annotations

import logging
import socket
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from inboxcrm.adapters.oauth2 import AccessTokens
from inboxcrm.core.alerts import LoginRefused
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
    # XOAUTH2 instead of the password; IDLE when the server offers it
    tokens: AccessTokens | None = None
    idle: bool = True


def _keepalive(client: IMAPClient) -> None:
    """TCP keepalive probes after 60 s of silence, every 10 s, 3 unanswered = dead: a peer that vanished
    without closing (a NAT that forgot us, a host that went away) is noticed even while we wait in IDLE."""
    sock = client.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in (("TCP_KEEPIDLE", 60), ("TCP_KEEPINTVL", 10), ("TCP_KEEPCNT", 3)):
        if hasattr(socket, name):  # Linux; elsewhere the system's defaults apply
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)


def _login(client: IMAPClient, account: ImapAccount) -> None:
    """Log in; raises LoginRefused when the server says no (after one fresh token, for XOAUTH2)."""
    try:
        if account.tokens is None:
            client.login(account.user, account.password)
            return
        try:
            client.oauth2_login(account.user, account.tokens.token())
        except LoginError as first:
            # our clock may think a token valid that the server has ended (revoked, or a session limit)
            log.info(
                "IMAP %s refused the access token for %s (%s); fetching a new one", account.host, account.user, first
            )
            client.oauth2_login(account.user, account.tokens.token(force=True))
    except LoginError as exc:
        raise LoginRefused(f"IMAP login as {account.user} refused: {exc}") from exc


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
    _keepalive(client)
    try:
        if account.security == "starttls":
            client.starttls(context)
        _login(client, account)
    except BaseException:
        # The poller retries a failed login forever: each attempt must close its socket, not leak it.
        try:
            client.shutdown()
        except Exception:
            log.debug("IMAP shutdown after a failed login failed", exc_info=True)
        raise
    return client


def _text(response: tuple[Any, ...]) -> str:
    return " ".join(p.decode(errors="replace") if isinstance(p, bytes) else str(p) for p in response[1:])


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

    def can_idle(self) -> bool:
        return self.account.idle and bool(self.client.has_capability("IDLE"))

    def renew_by(self) -> float | None:
        """When this session should end so that the next login has a fresh token (time.time()), or None."""
        return self.account.tokens.refresh_due_at() if self.account.tokens is not None else None

    def wait_for_change(self, folder: str, seconds: float, keep_waiting: Callable[[], bool]) -> bool:
        """Wait in IDLE on `folder` for at most `seconds`, while `keep_waiting()`; True when the server
        announced new mail. Ending IDLE waits for the server's answer within the socket timeout: a dead
        connection raises here rather than waiting for ever."""
        if self._selected != folder:
            self._select(folder)
        self.client.idle()
        deadline = time.monotonic() + seconds
        changed = False
        empty_at_once = 0
        try:
            while not changed and keep_waiting() and (left := deadline - time.monotonic()) > 0:
                # short checks, so that stopping or losing the mailbox to another daemon is noticed at once
                began = time.monotonic()
                responses = self.client.idle_check(timeout=min(1.0, left))
                for response in responses:
                    if response and response[0] == b"BYE":
                        raise ConnectionError(f"the server ended the session: {_text(response)}")
                    if len(response) > 1 and response[1] in (b"EXISTS", b"RECENT"):
                        changed = True
                # imapclient's idle_check swallows EOF: a socket that is readable yet yields nothing, again
                # and again, has been closed by the other side
                quick = not responses and time.monotonic() - began < min(0.5, left / 2)
                empty_at_once = empty_at_once + 1 if quick else 0
                if empty_at_once >= 3:
                    raise ConnectionError("the server closed the connection during IDLE")
        except BaseException:
            self.client.shutdown()  # DONE would only wait for a dead server to answer
            raise
        self.client.idle_done()
        return changed

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
