"""Messages we could not understand: list them, and try them again after a fix."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from inboxcrm.core.admission import DEFAULT_NEW_CONTACTS_PER_MESSAGE
from inboxcrm.core.limits import DEFAULT_MAX_MESSAGE_BYTES
from inboxcrm.core.model import MailboxKind, MailboxProfile, Team
from inboxcrm.core.ports import QuarantinedRaw, Store
from inboxcrm.core.reading import read_raw
from inboxcrm.services.desk import Support
from inboxcrm.services.outreach import Outreach
from inboxcrm.services.recording import record_messages
from inboxcrm.services.routing import Routing
from inboxcrm.services.scoring import Scoring


@dataclass(frozen=True, slots=True)
class RetryResult:
    recovered: int
    still_failing: int


class QuarantineService:
    """`list` shows what is held and why; `retry` re-parses each held message from its raw bytes and files the
    ones that now work as history (core/history.py): their tickets open with their real times, nobody is mailed."""

    def __init__(
        self,
        store: Store,
        team: Team,
        mailboxes: Mapping[str, MailboxProfile],
        clock: Callable[[], datetime],
        routing: Callable[[], Routing | None] = lambda: None,
        scoring: Scoring | None = None,
        support: Support | None = None,
        reply_secret: bytes | None = None,
        outreach: Outreach | None = None,
        max_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        new_contacts_per_message: int = DEFAULT_NEW_CONTACTS_PER_MESSAGE,
    ) -> None:
        self._contacts_cap = new_contacts_per_message
        self._max_bytes = max_bytes  # a message still over the limit stays in quarantine
        self._outreach = outreach
        self._store = store
        self._support = support
        self._reply_secret = reply_secret
        self._team = team
        self._mailboxes = mailboxes
        self._clock = clock
        self._routing = routing  # a recovered message is filed like any other: rules and scoring apply
        self._scoring = scoring

    def list(self, limit: int = 1000) -> list[QuarantinedRaw]:
        with self._store.transaction() as tx:
            return tx.open_quarantine(limit)

    def retry(self, limit: int = 1000) -> RetryResult:
        recovered = failing = 0
        for held in self.list(limit):
            mailbox = self._mailboxes.get(held.mailbox) or MailboxProfile(held.mailbox, MailboxKind.OTHER)
            reading = read_raw(held.raw, self._max_bytes)
            problem = reading.problem
            if problem is None and reading.message is not None:
                try:
                    with self._store.transaction() as tx:
                        record_messages(
                            tx,
                            mailbox,
                            self._team,
                            [(held.raw_id, reading.message, reading.analysis)],
                            self._clock(),
                            reply_secret=self._reply_secret,
                            routing=self._routing(),
                            scoring=self._scoring,
                            support=self._support,
                            outreach=self._outreach,
                            contacts_cap=self._contacts_cap,
                            # read again later, maybe much later: filed as history, it mails nobody
                            live=False,
                        )
                        tx.resolve_quarantine(held.quarantine_id, self._clock())
                    recovered += 1
                    continue
                except Exception as exc:
                    problem = f"could not be stored as understood: {type(exc).__name__}: {exc}"
            with self._store.transaction() as tx:
                tx.retry_failed(held.quarantine_id, (problem or "unreadable")[:2000])
            failing += 1
        return RetryResult(recovered, failing)
