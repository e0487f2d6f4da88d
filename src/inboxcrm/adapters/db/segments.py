"""Segments as SQL: one boolean expression over `contacts` per segment condition (see core/audiences.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, false, func, not_, or_, select, true

from inboxcrm.adapters.db import tables as t
from inboxcrm.core.audiences import Group, Test


def _like(glob: str) -> str:
    escaped = glob.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")


def _field_clause(test: str, values: list[str | float | bool]) -> Any:
    """`field:<type>:<name>` (any of the values), `field_at_least:…`, `field_at_most:…` over contact_fields."""
    kind, type_, name = test.split(":", 2)
    f = t.contact_fields.c
    wanted: Any
    if kind == "field":
        wanted = (
            f.number.in_([float(str(v)) for v in values])
            if type_ == "number"
            else func.lower(f.value).in_([str(v) for v in values])
        )
    else:
        column, bound = (f.number, float(str(values[0]))) if type_ == "number" else (f.value, str(values[0]))
        wanted = column >= bound if kind == "field_at_least" else column <= bound
    return select(f.contact_id).where(f.contact_id == t.contacts.c.id, f.name == name, wanted).exists()


def segment_clause(node: Group | Test) -> Any:
    """A segment condition as a SQL boolean expression over `contacts`."""
    if isinstance(node, Group):
        parts = [segment_clause(part) for part in node.parts]
        if node.combinator == "not":
            return not_(and_(true(), *parts))
        return or_(false(), *parts) if node.combinator == "any" else and_(true(), *parts)
    c = t.contacts.c
    values = list(node.values)
    has_tag = (
        select(t.contact_tags.c.contact_id)
        .where(t.contact_tags.c.contact_id == c.id, t.contact_tags.c.tag.in_([str(v) for v in values]))
        .exists()
    )
    if node.field == "tag":
        return has_tag
    if node.field == "lacks_tag":
        return not_(has_tag)
    if node.field == "stage":
        return c.stage.in_([str(v) for v in values])
    if node.field == "score_at_least":
        return c.score >= values[0]
    if node.field == "score_at_most":
        return c.score <= values[0]
    if node.field == "company":
        domains = select(t.companies.c.id).where(
            or_(*(t.companies.c.domain.like(_like(str(v)), escape="\\") for v in values))
        )
        return c.company_id.in_(domains)
    if node.field == "email_domain":
        return or_(*(c.email.like("%@" + _like(str(v)), escape="\\") for v in values))
    if node.field == "free_mail":
        # free-mail addresses are the ones with no company (companies exclude free-mail domains)
        return c.company_id.is_(None) if values[0] else c.company_id.is_not(None)
    if node.field == "event":
        return (
            select(t.business_events.c.id)
            .where(t.business_events.c.contact_id == c.id, t.business_events.c.kind.in_([str(v) for v in values]))
            .exists()
        )
    if node.field.startswith("field"):
        return _field_clause(node.field, values)
    if node.field == "undeliverable":
        return c.undeliverable.is_(bool(values[0]))
    raise ValueError(f"unknown segment field {node.field}")
