"""Business events (a mixin of `SqlTransaction`): recorded once per external id."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from inboxcrm.adapters.db import tables as t
from inboxcrm.core.business import BusinessEvent


class EventStatements:
    connection: Connection

    _insert_ignore: Callable[[Any], Any]  # SqlTransaction's (declared only: never shadows it)

    def add_business_event(self, contact_id: int, event: BusinessEvent, source: str, now: datetime) -> tuple[int, bool]:
        """Record `event`; returns its id and whether it is new (an external id seen before: the first one)."""
        be = t.business_events
        if event.external_id is not None:
            found = self.connection.execute(select(be.c.id).where(be.c.external_id == event.external_id)).scalar()
            if found is not None:
                return int(found), False
        statement = self._insert_ignore(be).returning(be.c.id)
        row = {
            "contact_id": contact_id,
            "kind": event.kind,
            "amount": event.amount,
            "currency": event.currency,
            "at": event.at,
            "external_id": event.external_id,
            "source": source,
            "properties": dict(event.properties),
            "created_at": now,
        }
        new = self.connection.execute(statement, row).scalar()
        if new is None:  # another request recorded the same external id a moment ago
            found = self.connection.execute(select(be.c.id).where(be.c.external_id == event.external_id)).scalar_one()
            return int(found), False
        return int(new), True
