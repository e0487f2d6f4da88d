"""Several daemons share the mailboxes: each mailbox is fetched by exactly one of them at a time.

Every `takeover / 4` the daemon runs a lease round (see adapters/db/leases.py): leases last
`takeover * 3 / 4`, so when a daemon dies its mailboxes are free at most that long after its last round,
and another daemon claims them at its next round: within `takeover` in all. A daemon that cannot reach
the database stops fetching when its own leases run out, so that two daemons never fetch the same mailbox
for long (and if they do, the folder cursor's row lock still keeps them from storing a batch twice).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

log = logging.getLogger(__name__)


class LeaseStore(Protocol):
    def round(self, mailboxes: Sequence[str], now: datetime, lease: timedelta) -> set[str]: ...

    def release(self, mailboxes: Sequence[str]) -> None: ...


class Sharing:
    """Which mailboxes this daemon may fetch now (`holds`), kept up to date by `run` in a thread."""

    def __init__(
        self,
        leases: LeaseStore,
        mailboxes: Sequence[str],
        clock: Callable[[], datetime],
        takeover: float = 60.0,
    ) -> None:
        self.leases = leases
        self.mailboxes = tuple(mailboxes)
        self.clock = clock
        self.lease = timedelta(seconds=takeover * 3 / 4)
        self.every = takeover / 4
        self._held: set[str] = set()
        self._valid_until = 0.0  # time.monotonic(): our leases surely run until then
        self._lock = threading.Lock()

    def holds(self, mailbox: str) -> bool:
        with self._lock:
            return mailbox in self._held and time.monotonic() < self._valid_until

    def round(self) -> None:
        began = time.monotonic()
        held = self.leases.round(self.mailboxes, self.clock(), self.lease)
        with self._lock:
            if held != self._held:
                log.info("fetching %s here", ", ".join(sorted(held)) or "no mailbox")
            self._held = held
            # counted from before the round: the database may have written expires_at a little later
            self._valid_until = began + self.lease.total_seconds()

    def run(self, stop: threading.Event) -> None:
        due = time.monotonic()
        while not stop.is_set():
            try:
                self.round()
            except Exception as exc:
                log.error("mailbox leases: %s: %s; trying again in %.0fs", type(exc).__name__, exc, self.every)
            due += self.every  # on a fixed beat: a slow round must not stretch the takeover time
            stop.wait(max(0.0, due - time.monotonic()))
        try:
            self.leases.release(self.mailboxes)
        except Exception as exc:
            log.warning("could not give the mailboxes back on stopping (%s): they free up by themselves", exc)
