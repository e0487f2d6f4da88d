"""How far the stored data reaches: the reports page falls back to it when its default window is empty."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, func, select

from inboxcrm.adapters.db import tables as t
from inboxcrm.adapters.db.statements import aware


def mail_span(engine: Engine) -> tuple[datetime, datetime] | None:
    """The first and last `sent_at` of the stored messages, or None when there are none."""
    m = t.messages
    with engine.connect() as connection:
        first, last = connection.execute(select(func.min(m.c.sent_at), func.max(m.c.sent_at))).one()
    return (aware(first), aware(last)) if first is not None and last is not None else None
