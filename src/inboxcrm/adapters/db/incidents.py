"""Incidents in the database, and the outbox's state as the alerts see it.

At most one incident per key is open (a unique `open_key`), whichever daemon notices first; its alert
mail is queued in the outbox in the same transaction, so an incident is mailed exactly once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Connection, Engine, func, select, update

from inboxcrm.adapters.db import tables as t
from inboxcrm.adapters.db.statements import aware
from inboxcrm.adapters.db.store import SqlTransaction
from inboxcrm.core.alerts import Failure, Incident
from inboxcrm.core.ports import NewMail

INC = t.incidents


class IncidentTransaction:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def open_incidents(self) -> dict[str, Incident]:
        rows = self.connection.execute(select(INC).where(INC.c.closed_at.is_(None)))
        return {r.key: Incident(r.id, r.key, r.problem, r.detail, aware(r.opened_at)) for r in rows}

    def open_incident(self, failure: Failure, now: datetime) -> int | None:
        """The new incident's id, or None when one is open for that key already (another daemon was first)."""
        statement = SqlTransaction(self.connection)._insert_ignore(INC).returning(INC.c.id)
        values = {
            "key": failure.key,
            "open_key": failure.key,
            "problem": failure.problem,
            "detail": failure.detail[:2000],
            "opened_at": now,
        }
        found = self.connection.execute(statement, [values]).scalar()
        return int(found) if found is not None else None

    def close_incident(self, incident_id: int, now: datetime) -> bool:
        """True when this call closed it (not another daemon before)."""
        done = self.connection.execute(
            update(INC).where(INC.c.id == incident_id, INC.c.closed_at.is_(None)).values(closed_at=now, open_key=None)
        )
        return bool(done.rowcount)

    def queue_mail(self, mails: Sequence[NewMail]) -> list[str]:
        return SqlTransaction(self.connection).queue_mail(mails)

    def outbox_failing_since(self) -> tuple[datetime, str] | None:
        """(since, last error) when queued mail has failed to go out and nothing was sent since it was queued."""
        box = t.outbox
        oldest = self.connection.execute(
            select(box.c.created_at, box.c.last_error)
            .where(box.c.status == "queued", box.c.attempts > 0)
            .order_by(box.c.created_at)
            .limit(1)
        ).first()
        if oldest is None:
            return None
        since = aware(oldest.created_at)
        sent_after = self.connection.execute(
            select(func.count()).select_from(box).where(box.c.status == "sent", box.c.sent_at > since)
        ).scalar_one()
        return None if sent_after else (since, str(oldest.last_error or "not sent"))


class SqlIncidents:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def transaction(self) -> Iterator[IncidentTransaction]:
        with self.engine.begin() as connection:
            yield IncidentTransaction(connection)

    def open_now(self) -> list[Incident]:
        """Open incidents, oldest first (for /health and /metrics)."""
        with self.transaction() as tx:
            return sorted(tx.open_incidents().values(), key=lambda i: i.opened_at)
