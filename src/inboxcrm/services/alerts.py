"""Alerts that reach a person: one mail per incident when it begins, one when it ends.

Every tick looks at the mailboxes this daemon fetches (their health) and at the outbox (refused sign-in,
or queued mail failing with nothing sent since), opens and closes incidents (`core.alerts.decide`) and
queues each incident's mail in the same transaction, through the outbox like any mail we send: it carries
Auto-Submitted and our own header, so nothing answers it and it never comes back in as work. `/health` and
`/metrics` show the same open incidents, from the database, whichever daemon opened them.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Protocol

from inboxcrm.core.alerts import Failure, Incident, closed_mail, decide, opened_mail
from inboxcrm.core.model import Address
from inboxcrm.core.outgoing import Draft, compose
from inboxcrm.core.ports import NewMail
from inboxcrm.services.polling import MailboxHealth

log = logging.getLogger(__name__)


class IncidentTransaction(Protocol):
    def open_incidents(self) -> dict[str, Incident]: ...

    def open_incident(self, failure: Failure, now: datetime) -> int | None: ...

    def close_incident(self, incident_id: int, now: datetime) -> bool: ...

    def queue_mail(self, mails: Sequence[NewMail]) -> list[str]: ...

    def outbox_failing_since(self) -> tuple[datetime, str] | None: ...


class IncidentStore(Protocol):
    def transaction(self) -> AbstractContextManager[IncidentTransaction]: ...


class Alerts:
    def __init__(
        self,
        store: IncidentStore,
        clock: Callable[[], datetime],
        alert_after: timedelta,
        sender: Address,
        to: Sequence[str],
        mailboxes: Callable[[], Sequence[MailboxHealth]],
        outbox_problem: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.alert_after = alert_after
        self.sender = sender
        self.to = tuple(to)
        self.mailboxes = mailboxes
        self.outbox_problem = outbox_problem

    def tick(self) -> None:
        now = self.clock()
        failures: list[Failure] = []
        healthy: list[str] = []
        for health in self.mailboxes():
            if not health.fetched_here:
                continue  # the daemon that fetches it reports on it
            if health.ok and health.last_success is not None:
                healthy.append(f"mailbox:{health.mailbox}")
            elif not health.ok and health.problem and health.failing_since:
                failures.append(Failure(health.mailbox, health.problem, health.failing_since, health.last_error or ""))
        with self.store.transaction() as tx:
            refused = self.outbox_problem()
            stuck = tx.outbox_failing_since()
            if refused:
                problem, _, detail = refused.partition(": ")
                failures.append(Failure("outbox", "token" if problem == "token" else "login", now, detail))
            elif stuck:
                failures.append(Failure("outbox", "outbox", stuck[0], stuck[1]))
            else:
                healthy.append("outbox")
            decision = decide(failures, healthy, tx.open_incidents(), now, self.alert_after)
            for failure in decision.open:
                incident_id = tx.open_incident(failure, now)
                if incident_id is None:
                    continue
                log.error(
                    "incident %d: %s is failing (%s): %s", incident_id, failure.key, failure.problem, failure.detail
                )
                if self.to:
                    tx.queue_mail([self._mail(opened_mail(failure, incident_id, self.sender, self.to, now), now)])
            for incident in decision.close:
                if not tx.close_incident(incident.id, now):
                    continue
                log.info("incident %d: %s works again", incident.id, incident.key)
                if self.to:
                    tx.queue_mail([self._mail(closed_mail(incident, self.sender, self.to, now), now)])

    def _mail(self, draft: Draft, now: datetime) -> NewMail:
        message_id = f"<{draft.key}.{secrets.token_hex(6)}@{self.sender.domain or 'localhost'}>"
        return NewMail(
            key=draft.key,
            kind=draft.kind,
            message_id=message_id,
            sender=self.sender.email,
            recipients=tuple(a.email for a in draft.to),
            raw=compose(draft, message_id, now),
            automatic=True,
            at=now,
        )
