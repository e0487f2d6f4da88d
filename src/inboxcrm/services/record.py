"""The customer record: custom fields and the name, edited by people (`PATCH /contacts/{id}`, CSV imports);
business events recorded by the shop or the accounting system, which rules (`event = "order"`) then act on;
and what a contact's record shows (tags, fields, aliases, lifetime value). Every change is on the timeline."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from inboxcrm.core.addresses import normalise_email
from inboxcrm.core.audiences import Group, Segment, Test
from inboxcrm.core.business import BusinessEvent, EventProblem, Revenue
from inboxcrm.core.fields import FieldDef, canonical, number_of, validate
from inboxcrm.core.model import Address, Message
from inboxcrm.core.ports import IngestTransaction, NewEvent, Store
from inboxcrm.core.rules import ContactFacts, EventFacts, Facts, evaluate_event
from inboxcrm.core.tomlfile import suggest
from inboxcrm.services.outreach import Outreach
from inboxcrm.services.routing import Routing, contact_fields, effects_on_contact


class NoContact(LookupError):
    """No contact with that id (or address)."""


class RecordReads(Protocol):
    def contact_details(self, contact_id: int, revenue: Revenue) -> dict[str, Any] | None: ...
    def contact_events(self, contact_id: int, limit: int) -> list[dict[str, Any]]: ...
    def revenue(
        self, group: str, revenue: Revenue, since: datetime | None, until: datetime | None, limit: int
    ) -> list[dict[str, Any]]: ...


@dataclass(frozen=True, slots=True)
class Recorded:
    event_id: int
    contact_id: int
    created: bool  # False: an event with that external id was recorded before (nothing changed)


_NOTHING = Message(message_id=None, subject="", from_=None)


def json_size(value: Any) -> int:
    return len(json.dumps(value, default=str))


class CustomerRecord:
    def __init__(
        self,
        store: Store,
        reads: RecordReads,
        fields: Sequence[FieldDef],
        clock: Callable[[], datetime],
        revenue: Revenue | None = None,
        routing: Callable[[], Routing | None] = lambda: None,
        outreach: Outreach | None = None,
        half_life: timedelta | None = None,
    ) -> None:
        self._store = store
        self._reads = reads
        self.fields = {f.name: f for f in fields}
        self._clock = clock
        self.revenue_kinds = revenue or Revenue()
        self._routing = routing
        self._outreach = outreach
        self._half_life = half_life

    # -- people's edits

    def apply_edit(
        self,
        tx: IngestTransaction,
        contact_id: int,
        actor: str,
        name: str | None,
        fields: Mapping[str, object] | None,
        now: datetime,
    ) -> list[NewEvent]:
        """Set the name and field values (None clears a field) inside `tx`; raises `FieldProblem` naming every
        bad value before anything is written. Returns the timeline events."""
        values = validate(self.fields, fields or {})
        events: list[NewEvent] = []
        if name is not None:
            before = tx.set_contact_name(contact_id, name.strip())
            if before is None:
                raise NoContact(f"no contact {contact_id}")
            if before != name.strip():
                events.append(
                    NewEvent(contact_id, now, "contact_updated", f"Name {before!r} → {name.strip()!r} by {actor}")
                )
        if values:
            numbers = {n: number_of(self.fields[n], v) for n, v in values.items()}
            for field, (old, new) in sorted(tx.set_contact_fields(contact_id, values, numbers).items()):
                shown = f"{old or '(empty)'} → {new or '(empty)'}"
                events.append(NewEvent(contact_id, now, "contact_updated", f"Field {field}: {shown} by {actor}"))
        if events:
            tx.index_contacts([contact_id])
        return events

    def edit(
        self, contact_id: int, actor: str, name: str | None = None, fields: Mapping[str, object] | None = None
    ) -> None:
        now = self._clock()
        with self._store.transaction() as tx:
            if tx.contact_address(contact_id) is None:
                raise NoContact(f"no contact {contact_id}")
            tx.add_events(self.apply_edit(tx, contact_id, actor, name, fields, now))

    # -- business events

    def record_event(
        self, contact: int | str, event: BusinessEvent, source: str, actor: str, name: str = ""
    ) -> Recorded:
        """Record `event` for a contact (an id, or an address: a new address becomes a new contact). An event
        whose external id was recorded before changes nothing. A new one goes on the timeline and through the
        rules that name `event`."""
        now = self._clock()
        with self._store.transaction() as tx:
            if isinstance(contact, int):
                if tx.contact_address(contact) is None:
                    raise NoContact(f"no contact {contact}")
                contact_id = contact
            else:
                email = normalise_email(contact)
                if email is None:
                    raise EventProblem(f"email: not an email address: {contact!r}")
                found = tx.contact_id_for(email)
                contact_id = found or tx.ensure_contacts([Address(email, name)], now)[email]
                if found is None:
                    tx.index_contacts([contact_id])
                    tx.after_events([NewEvent(contact_id, now, "contact_created", f"Contact created by {source}")])
            event_id, created = tx.add_business_event(contact_id, event, source, now)
            if created:
                events = [NewEvent(contact_id, event.at, "business_event", f"{event.summary()} ({actor})")]
                events += self._rules(tx, contact_id, event, now)
                tx.add_events(events)
        return Recorded(event_id, contact_id, created)

    def _rules(self, tx: IngestTransaction, contact_id: int, event: BusinessEvent, now: datetime) -> list[NewEvent]:
        routing = self._routing()
        if routing is None:
            return []
        state = tx.contact_states([contact_id]).get(contact_id)
        address = tx.contact_address(contact_id)
        if state is None or address is None:
            return []
        facts = Facts(
            message=_NOTHING,
            kind="event",
            mailbox="",
            mailbox_kind="",
            contact=ContactFacts(
                address.email,
                state.tags,
                state.score,
                state.stage,
                address.email.rpartition("@")[2],
                contact_fields(tx, routing.fields, {contact_id}).get(contact_id, {}),
            ),
            now=event.at,
            timezone=routing.timezone,
            direction="",
            event=EventFacts(event.kind, float(event.amount) if event.amount is not None else None, event.currency),
        )
        decision = evaluate_event(routing.rules, facts)
        events = effects_on_contact(tx, contact_id, event.at, decision, None, routing.first_deal_stage, self._half_life)
        if self._outreach is not None:
            for campaign in decision.enrol:
                enrolment, _why = self._outreach.enrol(tx, contact_id, campaign, "rule", now)
                if enrolment is not None:
                    events.append(NewEvent(contact_id, now, "campaign_enrolled", f"Enrolled in {campaign} by a rule"))
        return events

    # -- reading

    def details(self, contact_id: int) -> dict[str, Any] | None:
        return self._reads.contact_details(contact_id, self.revenue_kinds)

    def events(self, contact_id: int, limit: int = 100) -> list[dict[str, Any]]:
        return self._reads.contact_events(contact_id, limit)

    def revenue(
        self, group: str, since: datetime | None = None, until: datetime | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        return self._reads.revenue(group, self.revenue_kinds, since, until, limit)


def amount_text(value: Decimal) -> str:
    """An amount as the API shows it: two decimals at least (49.00), more when it has them."""
    shown = f"{value:.4f}".rstrip("0")
    whole, _, cents = shown.partition(".")
    return f"{whole}.{cents.ljust(2, '0')}"


def field_filter(
    fields: Mapping[str, FieldDef], wanted: Sequence[tuple[str, str]], within: Segment | None = None
) -> Segment:
    """`field.plan=pro`, `field.seats.min=10`, `field.seats.max=50` (query parameters) as a segment (within
    another, when given); raises ValueError naming a bad field or value."""
    tests: list[Test | Group] = []
    for key, value in wanted:
        name, _, bound = key.removeprefix("field.").partition(".")
        field = fields.get(name)
        if field is None:
            raise ValueError(f"unknown field {name!r} ({suggest(name, fields, 'field')})")
        if bound not in ("", "min", "max") or (bound and field.type not in ("number", "date")):
            raise ValueError(f"{key}: use field.{name}=value" + (f", field.{name}.min or .max" if bound else ""))
        try:
            stored = canonical(field, value)
        except ValueError as exc:
            raise ValueError(f"{key}: {exc}") from None
        if stored is None:
            raise ValueError(f"{key}: give a value")
        kind = {"": "field", "min": "field_at_least", "max": "field_at_most"}[bound]
        tests.append(Test(f"{kind}:{field.type}:{name}", (stored.lower(),)))
    if within is not None:
        tests.append(within.condition)
    return Segment("(filter)", "", "", 0, Group("all", tuple(tests)))
