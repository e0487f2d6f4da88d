"""Keep a mailbox in sync: poll every folder, reconnect with backoff, report health."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime

from inboxcrm.core.model import MailboxProfile
from inboxcrm.core.ports import MailSource, NamedMailSource
from inboxcrm.services.ingest import IngestResult, IngestService

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
    ) -> None:
        self.ingest = ingest
        self.mailbox = mailbox
        self.folders = tuple(folders)
        self.open_source = open_source
        self.batch_size = batch_size
        self.interval = interval
        self.clock = clock
        self.health = MailboxHealth(mailbox.name)
        self._rng = random.Random(seed)

    def poll_once(self, source: MailSource | NamedMailSource) -> IngestResult:
        total = IngestResult()
        for folder in self.folders:
            result = self.ingest.sync_folder(source, self.mailbox, folder, self.batch_size)
            if result.fetched:
                log.info(
                    "mailbox %s folder %s: %d fetched, %d stored, %d duplicates, %d quarantined",
                    self.mailbox.name,
                    folder,
                    result.fetched,
                    result.stored,
                    result.duplicates,
                    result.quarantined,
                )
            total.add(result)
        return total

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                with self.open_source() as source:
                    if self.health.failures_in_a_row:
                        log.info(
                            "mailbox %s: connected again after %d failures",
                            self.mailbox.name,
                            self.health.failures_in_a_row,
                        )
                    while not stop.is_set():
                        self.poll_once(source)
                        self.health.ok = True
                        self.health.last_success = self.clock()
                        self.health.last_error = None
                        self.health.failures_in_a_row = 0
                        stop.wait(self.interval)
            except Exception as exc:
                self.health.ok = False
                self.health.failures_in_a_row += 1
                self.health.last_error = f"{type(exc).__name__}: {exc}"
                delay = backoff_delay(self.health.failures_in_a_row, self._rng)
                log.error(
                    "mailbox %s: %s; retrying in %.0fs (failure %d in a row)",
                    self.mailbox.name,
                    self.health.last_error,
                    delay,
                    self.health.failures_in_a_row,
                )
                stop.wait(delay)
