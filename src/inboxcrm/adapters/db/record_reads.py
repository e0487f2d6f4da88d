"""Reads of the customer record: a contact's tags, fields, aliases and lifetime value; its business events;
revenue per contact or company; contacts for a CSV export; webhook deliveries."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, and_, case, func, select, true

from inboxcrm.adapters.db import tables as t
from inboxcrm.adapters.db.segments import segment_clause
from inboxcrm.adapters.db.statements import aware
from inboxcrm.core.audiences import Segment
from inboxcrm.core.business import Revenue


def _signed(revenue: Revenue) -> Any:
    be = t.business_events.c
    return case(
        (be.kind.in_(revenue.refunds), -func.abs(be.amount)),
        (be.kind.in_(revenue.kinds), be.amount),
        else_=None,
    )


class SqlRecordReads:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def contact_details(self, contact_id: int, revenue: Revenue) -> dict[str, Any] | None:
        """Tags, custom fields, aliases and lifetime value (currency → amount) of a contact; None: no contact."""
        be = t.business_events.c
        with self.engine.connect() as connection:
            if connection.execute(select(t.contacts.c.id).where(t.contacts.c.id == contact_id)).first() is None:
                return None
            tags = sorted(
                connection.execute(
                    select(t.contact_tags.c.tag).where(t.contact_tags.c.contact_id == contact_id)
                ).scalars()
            )
            fields = {
                row.name: row.value
                for row in connection.execute(
                    select(t.contact_fields.c.name, t.contact_fields.c.value).where(
                        t.contact_fields.c.contact_id == contact_id
                    )
                )
            }
            aliases = sorted(
                connection.execute(
                    select(t.contact_aliases.c.email).where(t.contact_aliases.c.contact_id == contact_id)
                ).scalars()
            )
            value = _signed(revenue)
            worth = {
                row.currency: Decimal(row.total)
                for row in connection.execute(
                    select(be.currency, func.sum(value).label("total"))
                    .where(be.contact_id == contact_id, value.is_not(None))
                    .group_by(be.currency)
                )
                if row.total is not None
            }
        return {"tags": tags, "fields": fields, "aliases": aliases, "lifetime_value": worth}

    def contact_events(self, contact_id: int, limit: int) -> list[dict[str, Any]]:
        """A contact's business events, newest first."""
        be = t.business_events
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(be).where(be.c.contact_id == contact_id).order_by(be.c.at.desc(), be.c.id.desc()).limit(limit)
            )
            return [{**row._mapping, "at": aware(row.at), "created_at": aware(row.created_at)} for row in rows]

    def revenue(
        self, group: str, revenue: Revenue, since: datetime | None, until: datetime | None, limit: int
    ) -> list[dict[str, Any]]:
        """Revenue per contact or per company (and per currency), largest first: what each brought in over
        the period, and its events."""
        be = t.business_events.c
        value = _signed(revenue)
        when = and_(
            value.is_not(None),
            be.at >= since if since is not None else true(),
            be.at < until if until is not None else true(),
        )
        if group == "company":
            co = t.companies.c
            key = (co.id, co.domain, co.name)
            source = t.business_events.join(t.contacts, t.contacts.c.id == be.contact_id).join(
                t.companies, co.id == t.contacts.c.company_id
            )
        else:
            c = t.contacts.c
            key = (c.id, c.email, c.name)
            source = t.business_events.join(t.contacts, c.id == be.contact_id)
        total = func.sum(value).label("revenue")
        statement = (
            select(*key, be.currency, total, func.count().label("events"))
            .select_from(source)
            .where(when)
            .group_by(*key, be.currency)
            .order_by(total.desc(), key[0])
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [
                {
                    "id": row[0],
                    "key": row[1],
                    "name": row[2],
                    "currency": row.currency,
                    "revenue": Decimal(row.revenue),
                    "events": row.events,
                }
                for row in connection.execute(statement)
            ]

    def export_rows(self, segment: Segment | None, after_id: int, limit: int) -> list[dict[str, Any]]:
        """Contacts (in `segment`, or all) by id after `after_id`, as CSV export rows."""
        c, co = t.contacts.c, t.companies.c
        statement = (
            select(c.id, c.email, c.name, c.stage, c.score, c.created_at, co.domain, co.name.label("company_name"))
            .select_from(t.contacts.outerjoin(t.companies, co.id == c.company_id))
            .where(c.id > after_id)
            .order_by(c.id)
            .limit(limit)
        )
        if segment is not None:
            statement = statement.where(segment_clause(segment.condition))
        with self.engine.connect() as connection:
            rows = connection.execute(statement).all()
            ids = [r.id for r in rows]
            tags: dict[int, list[str]] = {}
            fields: dict[int, dict[str, str]] = {}
            if ids:
                for tag in connection.execute(
                    select(t.contact_tags.c.contact_id, t.contact_tags.c.tag).where(
                        t.contact_tags.c.contact_id.in_(ids)
                    )
                ):
                    tags.setdefault(tag.contact_id, []).append(tag.tag)
                for value in connection.execute(select(t.contact_fields).where(t.contact_fields.c.contact_id.in_(ids))):
                    fields.setdefault(value.contact_id, {})[value.name] = value.value
        return [
            {
                "id": r.id,
                "email": r.email,
                "name": r.name,
                "company": r.domain,
                "company_name": r.company_name,
                "tags": tags.get(r.id, []),
                "stage": r.stage,
                "score": float(r.score),
                "created_at": aware(r.created_at),
                "fields": fields.get(r.id, {}),
            }
            for r in rows
        ]

    def deliveries(self, status: str | None, limit: int) -> list[dict[str, Any]]:
        """Webhook deliveries, newest first (without their bodies)."""
        w = t.webhook_deliveries.c
        statement = (
            select(w.id, w.webhook, w.event, w.delivery_id, w.status, w.attempts, w.next_attempt_at, w.last_error)
            .add_columns(w.created_at, w.sent_at)
            .order_by(w.id.desc())
            .limit(limit)
        )
        if status:
            statement = statement.where(w.status == status)
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(statement)]

    def delivery_counts(self) -> dict[tuple[str, str], int]:
        """(webhook, status) → deliveries."""
        w = t.webhook_deliveries.c
        with self.engine.connect() as connection:
            rows = connection.execute(select(w.webhook, w.status, func.count()).group_by(w.webhook, w.status))
            return {(row[0], row[1]): int(row[2]) for row in rows}
