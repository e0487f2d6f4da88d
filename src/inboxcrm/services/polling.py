"""Keep a mailbox in sync: poll every folder (or wait in IDLE), reconnect with backoff, report health.

A source that can IDLE is waited on in IDLE on its first folder between polls: new mail there is fetched
when it arrives. Every folder is still read every `interval` (and IDLE renewed at least every
`idle_renew`; servers end it after 29 minutes), so IDLE only ever makes mail come in sooner. A session
whose access token is due for refresh ends by itself and logs in anew (not a failure). With several
daemons, `may_fetch` says whether this daemon holds the mailbox now: when it does not, no session is open.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from inboxcrm.core.alerts import Problem, problem_of
from inboxcrm.core.history import Backlog, FolderHistory
from inboxcrm.core.model import MailboxProfile
from inboxcrm.core.ports import MailSource, NamedMailSource
from inboxcrm.services.ingest import EVERYTHING, IngestResult, IngestService

log = logging.getLogger(__name__)

MAX_BACKOFF = 300.0


@dataclass
class MailboxHealth:
    """What `/health` says about one mailbox."""

    mailbox: str
    ok: bool = True
    last_success: datetime | None = None
    last_error: str | None = None
    failures_in_a_row: int = 0
    # what failed ("connection", "login", "token") and since when, for alerts
    problem: Problem | None = None
    failing_since: datetime | None = None
    # False while another daemon holds the mailbox (it reports on it)
    fetched_here: bool = True
    history: tuple[FolderHistory, ...] = ()  # how far each folder's history import has got


@runtime_checkable
class Waiting(Protocol):
    """A source that can wait for new mail (IMAP IDLE) and knows when its session should be renewed."""

    def can_idle(self) -> bool: ...

    def wait_for_change(self, folder: str, seconds: float, keep_waiting: Callable[[], bool]) -> bool: ...

    def renew_by(self) -> float | None: ...


def backoff_delay(failures: int, rng: random.Random) -> float:
    """Seconds to wait after `failures` failures in a row: 1, 2, 4 … up to 5 minutes, with ±20% jitter."""
    base = min(MAX_BACKOFF, 2.0 ** max(0, failures - 1))
    return float(base * rng.uniform(0.8, 1.2))


class MailboxPoller:
    """Polls one mailbox until `stop` is set. Errors never end the loop: it reconnects with backoff."""

    def __init__(
        self,
        ingest: IngestService,
        mailbox: MailboxProfile,
        folders: Sequence[str],
        open_source: Callable[[], AbstractContextManager[MailSource | NamedMailSource]],
        batch_size: int,
        interval: float,
        clock: Callable[[], datetime],
        seed: int | None = None,
        idle_renew: float = 300.0,
        may_fetch: Callable[[], bool] = lambda: True,
        backlog: Backlog = EVERYTHING,
    ) -> None:
        self.ingest = ingest
        self.mailbox = mailbox
        self.folders = tuple(folders)
        self.open_source = open_source
        self.batch_size = batch_size
        self.interval = interval
        self.clock = clock
        self.backlog = backlog
        self.health = MailboxHealth(mailbox.name)
        self.idle_renew = idle_renew
        self.may_fetch = may_fetch
        self._rng = random.Random(seed)

    def poll_once(self, source: MailSource | NamedMailSource) -> IngestResult:
        total = IngestResult()
        for folder in self.folders:
            result = self.ingest.sync_folder(source, self.mailbox, folder, self.batch_size, backlog=self.backlog)
            if result.fetched:
                log.info(
                    "mailbox %s folder %s: %d fetched, %d stored (%d of them history), %d duplicates, %d quarantined%s",
                    self.mailbox.name,
                    folder,
                    result.fetched,
                    result.stored,
                    result.history,
                    result.duplicates,
                    result.quarantined,
                    f", {result.too_old} older than the backlog setting" if result.too_old else "",
                )
            total.add(result)
        return total

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            if not self.may_fetch():
                self.health = MailboxHealth(self.mailbox.name, fetched_here=False)
                stop.wait(1.0)
                continue
            self.health.fetched_here = True
            try:
                with self.open_source() as source:
                    if self.health.failures_in_a_row:
                        log.info(
                            "mailbox %s: connected again after %d failures",
                            self.mailbox.name,
                            self.health.failures_in_a_row,
                        )
                    while not stop.is_set() and self.may_fetch():
                        self.poll_once(source)
                        self.health.ok = True
                        self.health.last_success = self.clock()
                        self.health.last_error = None
                        self.health.failures_in_a_row = 0
                        self.health.problem = self.health.failing_since = None
                        if not self._wait(source, stop):
                            break
            except Exception as exc:
                self.health.ok = False
                self.health.failures_in_a_row += 1
                self.health.last_error = f"{type(exc).__name__}: {exc}"
                self.health.problem = problem_of(exc)
                self.health.failing_since = self.health.failing_since or self.clock()
                delay = backoff_delay(self.health.failures_in_a_row, self._rng)
                log.error(
                    "mailbox %s: %s; retrying in %.0fs (failure %d in a row)",
                    self.mailbox.name,
                    self.health.last_error,
                    delay,
                    self.health.failures_in_a_row,
                )
                stop.wait(delay)

    def _wait(self, source: object, stop: threading.Event) -> bool:
        """Wait until the next poll: in IDLE when the source can, else `interval`. False when the session
        should end now (its token is due for refresh, or the mailbox went to another daemon)."""

        def keep_waiting() -> bool:
            return not stop.is_set() and self.may_fetch() and (renew_by is None or time.time() < renew_by)

        renew_by = source.renew_by() if isinstance(source, Waiting) else None
        if isinstance(source, Waiting) and source.can_idle():
            # the poll interval still bounds the wait: every folder is read at least that often, whatever a
            # server's IDLE misses (Dovecot says nothing when the selected folder is deleted and re-created)
            source.wait_for_change(self.folders[0], min(self.idle_renew, self.interval), keep_waiting)
        else:
            deadline = time.monotonic() + self.interval
            while keep_waiting() and (left := deadline - time.monotonic()) > 0:
                stop.wait(min(1.0, left))
        if renew_by is not None and time.time() >= renew_by:
            log.info("mailbox %s: logging in again with a fresh access token", self.mailbox.name)
            return False
        return not stop.is_set() and self.may_fetch()
