"""Changes made through the API: a contact's tags and stage, a ticket's status, assignee and priority, and
campaign enrolment. Each change is one transaction with its timeline event (and the ticket rules of the
desk: solving stamps the resolution clock, a new priority moves the SLA due times)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from inboxcrm.core.fields import FieldProblem
from inboxcrm.core.model import TicketStatus
from inboxcrm.core.ports import NewEvent, Store
from inboxcrm.core.tickets import Order, apply_orders, with_status
from inboxcrm.services.desk import Support
from inboxcrm.services.outreach import Outreach
from inboxcrm.services.record import CustomerRecord


class NotFound(LookupError):
    """No such contact, ticket or campaign."""


class Refused(ValueError):
    """The change is not allowed (an unknown agent, priority or stage; an enrolment refused)."""


@dataclass(frozen=True, slots=True)
class TicketChange:
    status: str | None = None
    assignee: str | None = None
    priority: str | None = None
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()


class Manage:
    def __init__(
        self,
        store: Store,
        support: Support,
        outreach: Outreach,
        clock: Callable[[], datetime],
        stages: Sequence[str],
        record: CustomerRecord | None = None,
    ) -> None:
        self._store = store
        self._support = support
        self._outreach = outreach
        self._clock = clock
        self._stages = tuple(stages)
        self._record = record

    def update_contact(
        self,
        contact_id: int,
        actor: str,
        add_tags: Sequence[str],
        remove_tags: Sequence[str],
        stage: str | None,
        name: str | None = None,
        fields: Mapping[str, object] | None = None,
    ) -> None:
        """Tags in and out, the lifecycle stage (any configured stage, forwards or back: a person decided), the
        name and custom fields, in one transaction."""
        if fields and self._record is None:
            raise Refused("no custom fields are declared ([[fields]] in the config)")
        if stage is not None and stage not in self._stages:
            raise Refused(f"unknown stage {stage!r} (stages: {', '.join(self._stages)})")
        now = self._clock()
        with self._store.transaction() as tx:
            if tx.contact_address(contact_id) is None:
                raise NotFound(f"no contact {contact_id}")
            events = []
            if self._record is not None and (name is not None or fields):
                try:
                    events += self._record.apply_edit(tx, contact_id, actor, name, fields, now)
                except FieldProblem as exc:
                    raise Refused(str(exc)) from None
            elif name is not None:
                before = tx.set_contact_name(contact_id, name.strip())
                if before != name.strip():
                    events.append(
                        NewEvent(contact_id, now, "contact_updated", f"Name {before!r} → {name!r} by {actor}")
                    )
            if add_tags or remove_tags:
                tx.change_tags(contact_id, add_tags, remove_tags)
                what = ", ".join([*(f"+{t}" for t in add_tags), *(f"-{t}" for t in remove_tags)])
                events.append(NewEvent(contact_id, now, "tags_changed", f"Tags {what} by {actor}"))
            if stage is not None:
                previous = tx.set_stage(contact_id, stage)
                if previous != stage:
                    events.append(
                        NewEvent(contact_id, now, "stage_changed", f"Stage {previous} → {stage}: set by {actor}")
                    )
            tx.add_events(events)

    def update_ticket(self, ticket_id: int, actor: str, change: TicketChange) -> None:
        """Status, assignee, priority and tags, with the same effects as an agent's mail commands."""
        desk = self._support.desk
        if change.assignee is not None and desk.agent_named(change.assignee) is None:
            names = ", ".join(a.name for a in desk.agents) or "none configured"
            raise Refused(f"unknown agent {change.assignee!r} (agents: {names})")
        if change.priority is not None and change.priority not in desk.priorities:
            raise Refused(f"unknown priority {change.priority!r} (priorities: {', '.join(desk.priorities)})")
        status = None
        if change.status is not None:
            try:
                status = TicketStatus(change.status)
            except ValueError:
                raise Refused(f"unknown status {change.status!r}") from None
        now = self._clock()
        with self._store.transaction() as tx:
            ticket = tx.ticket(ticket_id)
            if ticket is None:
                raise NotFound(f"no ticket {ticket_id}")
            orders = []
            if change.assignee is not None:
                orders.append(Order("assign", (change.assignee,)))
            if change.priority is not None:
                orders.append(Order("priority", (change.priority,)))
            if change.add_tags:
                orders.append(Order("tag", tuple(change.add_tags)))
            if change.remove_tags:
                orders.append(Order("untag", tuple(change.remove_tags)))
            updated, changes = apply_orders(ticket, orders, actor, now, lambda p: desk.due_for(p, ticket.created_at))
            if status is not None and status is not updated.status:
                updated = with_status(updated, status, now)
            updated, late = self._support.sla_on_save(updated, now)
            tx.save_ticket(updated, now)
            tx.end_history([ticket.id], [])  # a person decided now: history no longer changes this ticket
            events = self._support.events_for(updated, changes + late, now)
            if status is not None and status is not ticket.status and updated.contact_id is not None:
                events.append(
                    NewEvent(
                        updated.contact_id,
                        now,
                        "ticket_status",
                        f"Ticket #{ticket.id} {status.value} by {actor}",
                        ticket_id=ticket.id,
                    )
                )
            tx.add_events(events)

    def enrol(self, campaign: str, contact_id: int, actor: str) -> int:
        now = self._clock()
        with self._store.transaction() as tx:
            if campaign not in self._outreach.marketing.campaigns:
                raise NotFound(f"no campaign {campaign!r}")
            enrolment_id, why = self._outreach.enrol(tx, contact_id, campaign, "api", now)
            if enrolment_id is None:
                raise Refused(why)
            tx.add_events([NewEvent(contact_id, now, "campaign_enrolled", f"Enrolled in {campaign} by {actor}")])
            return enrolment_id

    def unenrol(self, campaign: str, contact_id: int, actor: str) -> None:
        now = self._clock()
        with self._store.transaction() as tx:
            active = [e for e in tx.active_enrolments([contact_id]) if e.campaign == campaign]
            if not active:
                raise NotFound(f"contact {contact_id} is not enrolled in {campaign!r}")
            for enrolment in active:
                tx.end_enrolment(enrolment.id, "exited", f"removed by {actor}", now)
            tx.add_events(
                [NewEvent(contact_id, now, "campaign_exited", f"Removed from campaign {campaign} by {actor}")]
            )
