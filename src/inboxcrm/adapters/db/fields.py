"""The contact's own record (a mixin of `SqlTransaction`): custom field values, the name and company set by
a person, and the small reads webhooks and imports need (cards, ticket statuses, contacts new in a batch)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from inboxcrm.adapters.db import tables as t
from inboxcrm.core.addresses import company_name
from inboxcrm.core.record_ports import ContactCard

_CHUNK = 500


def _chunks(values: Iterable[int]) -> Iterable[list[int]]:
    ordered = sorted(set(values))
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


class FieldStatements:
    connection: Connection

    _insert_ignore: Callable[[Any], Any]  # SqlTransaction's (declared only: never shadows it)

    def contact_field_values(self, contact_ids: Iterable[int]) -> dict[int, dict[str, str]]:
        """Contact id → field name → stored value (contacts without values are left out)."""
        f = t.contact_fields.c
        found: dict[int, dict[str, str]] = {}
        for chunk in _chunks(contact_ids):
            for row in self.connection.execute(select(f.contact_id, f.name, f.value).where(f.contact_id.in_(chunk))):
                found.setdefault(row.contact_id, {})[row.name] = row.value
        return found

    def set_contact_fields(
        self, contact_id: int, values: Mapping[str, str | None], numbers: Mapping[str, float | None]
    ) -> dict[str, tuple[str | None, str | None]]:
        """Set (None: clear) field values; returns what changed: name → (before, after)."""
        f = t.contact_fields
        before = self.contact_field_values([contact_id]).get(contact_id, {})
        changed: dict[str, tuple[str | None, str | None]] = {}
        for name, value in values.items():
            old = before.get(name)
            if old == value:
                continue
            changed[name] = (old, value)
            if value is None:
                self.connection.execute(delete(f).where(f.c.contact_id == contact_id, f.c.name == name))
            elif old is None:
                self.connection.execute(
                    insert(f).values(contact_id=contact_id, name=name, value=value, number=numbers.get(name))
                )
            else:
                self.connection.execute(
                    update(f)
                    .where(f.c.contact_id == contact_id, f.c.name == name)
                    .values(value=value, number=numbers.get(name))
                )
        return changed

    def set_contact_name(self, contact_id: int, name: str) -> str | None:
        """Set the name; returns the name before (None: no such contact)."""
        before = self.connection.execute(select(t.contacts.c.name).where(t.contacts.c.id == contact_id)).first()
        if before is None:
            return None
        if before.name != name:
            self.connection.execute(update(t.contacts).where(t.contacts.c.id == contact_id).values(name=name[:255]))
        return str(before.name)

    def set_contact_company(self, contact_id: int, domain: str | None, now: datetime) -> str | None:
        """File the contact under the company of `domain` (created when new; None: no company); returns the
        domain before."""
        c, co = t.contacts, t.companies
        before = self.connection.execute(
            select(co.c.domain).select_from(c.outerjoin(co, co.c.id == c.c.company_id)).where(c.c.id == contact_id)
        ).scalar()
        if before == domain:
            return before
        company_id = None
        if domain is not None:
            self.connection.execute(
                self._insert_ignore(co), [{"domain": domain, "name": company_name(domain), "created_at": now}]
            )
            company_id = self.connection.execute(select(co.c.id).where(co.c.domain == domain)).scalar()
        self.connection.execute(update(c).where(c.c.id == contact_id).values(company_id=company_id))
        return str(before) if before is not None else None

    def contact_tags(self, contact_id: int) -> frozenset[str]:
        ct = t.contact_tags.c
        return frozenset(self.connection.execute(select(ct.tag).where(ct.contact_id == contact_id)).scalars())

    def contact_stage(self, contact_id: int) -> str | None:
        found = self.connection.execute(select(t.contacts.c.stage).where(t.contacts.c.id == contact_id)).scalar()
        return str(found) if found is not None else None

    def clear_stage(self, contact_id: int) -> None:
        self.connection.execute(update(t.contacts).where(t.contacts.c.id == contact_id).values(stage=None))

    def contacts_created_at(self, contact_ids: Iterable[int], at: datetime) -> list[int]:
        """Those of `contact_ids` created at exactly `at` (in the batch that stored mail at `at`)."""
        c = t.contacts.c
        found: list[int] = []
        for chunk in _chunks(contact_ids):
            found += [int(i) for i in self.connection.execute(select(c.id).where(c.id.in_(chunk), c.created_at == at))
                      .scalars()]  # fmt: skip
        return found

    def contact_cards(self, contact_ids: Iterable[int]) -> dict[int, ContactCard]:
        c, co = t.contacts.c, t.companies.c
        found: dict[int, ContactCard] = {}
        for chunk in _chunks(contact_ids):
            for row in self.connection.execute(
                select(c.id, c.email, c.name, c.stage, co.domain)
                .select_from(t.contacts.outerjoin(t.companies, co.id == c.company_id))
                .where(c.id.in_(chunk))
            ):
                found[row.id] = ContactCard(row.id, row.email, row.name, row.stage, row.domain)
        return found

    def ticket_statuses(self, ticket_ids: Iterable[int]) -> dict[int, str]:
        tk = t.tickets.c
        found: dict[int, str] = {}
        for chunk in _chunks(ticket_ids):
            found.update({row.id: row.status for row in self.connection.execute(select(tk.id, tk.status)
                          .where(tk.id.in_(chunk)))})  # fmt: skip
        return found
