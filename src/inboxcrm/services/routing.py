"""The team's rules applied to stored mail: ticket routing, contact tags, score points and stage.

Enrolments, auto-replies and deals that rules decide are recorded with the message (in its decision)
but not carried out here: sending mail and the sales pipeline come with their own features.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from inboxcrm.core.addresses import company_domain
from inboxcrm.core.fields import FieldDef, typed
from inboxcrm.core.model import MailboxProfile
from inboxcrm.core.ports import ContactState, IngestTransaction, NewEvent, NewMessage
from inboxcrm.core.rules import ContactFacts, Decision, Facts, RuleSet, evaluate
from inboxcrm.services.scoring import ScoreLedger


@dataclass(frozen=True)
class Routing:
    """Compiled rules plus what assignment needs: the agents who work each queue."""

    rules: RuleSet
    timezone: str
    agents_by_queue: Mapping[str, tuple[str, ...]]
    all_agents: tuple[str, ...]
    first_deal_stage: str = "qualified"
    fields: tuple[FieldDef, ...] = ()  # custom fields, for `contact.field.*` conditions


def contact_fields(
    tx: IngestTransaction, declared: Sequence[FieldDef], contact_ids: set[int]
) -> dict[int, dict[str, str | float | bool]]:
    """Contact id → its custom fields as rules read them (nothing is read when no field is declared)."""
    if not declared or not contact_ids:
        return {}
    by_name = {f.name: f for f in declared}
    return {
        contact: {name: typed(by_name.get(name), value) for name, value in values.items()}
        for contact, values in tx.contact_field_values(contact_ids).items()
    }


def decide(
    tx: IngestTransaction, routing: Routing, mailbox: MailboxProfile, rows: Sequence[NewMessage]
) -> list[Decision]:
    """One decision per row, in order; a contact's tags, score and stage carry over within the batch."""
    states = dict(tx.contact_states({r.contact_id for r in rows if r.contact_id is not None}))
    fields = contact_fields(tx, routing.fields, {r.contact_id for r in rows if r.contact_id is not None})
    decisions = []
    for row in rows:
        contact = None
        state = states.get(row.contact_id) if row.contact_id is not None else None
        if row.meaning.contact is not None:
            email = row.meaning.contact.email
            contact = ContactFacts(
                email,
                state.tags if state else frozenset(),
                state.score if state else 0.0,
                state.stage if state else None,
                company_domain(email),
                fields.get(row.contact_id or 0, {}),
            )
        analysis = row.analysis
        decision = evaluate(
            routing.rules,
            Facts(
                message=row.message,
                kind=row.meaning.kind.value,
                mailbox=row.mailbox,
                mailbox_kind=mailbox.kind.value,
                contact=contact,
                now=row.sent_at,
                timezone=routing.timezone,
                new_text=analysis.body.new_text if analysis else None,
                direction=row.direction.value,
                words=analysis.words if analysis else None,
            ),
            reasons=False,  # what is stored of a match is its rule, file and line (`rules explain` says why)
        )
        decisions.append(decision)
        if row.contact_id is not None and state is not None:
            states[row.contact_id] = ContactState(
                (state.tags | decision.tags_added) - decision.tags_removed,
                state.score + sum(points for points, _ in decision.score_changes),
                decision.stage or state.stage,
            )
    return decisions


def as_record(decision: Decision) -> dict[str, Any]:
    """What is stored with the message: matched rules and the decision's outcome."""
    return {
        "rules": [{"rule": m.rule, "file": m.file, "line": m.line} for m in decision.matches],
        "queue": decision.queue,
        "priority": decision.priority,
        "assignee": decision.assignee,
        "tags_added": sorted(decision.tags_added),
        "tags_removed": sorted(decision.tags_removed),
        "stage": decision.stage,
        "score_changes": [[points, reason] for points, reason in decision.score_changes],
        "open_ticket": decision.open_ticket,
        "ignore": decision.ignore,
        "enrol": list(decision.enrol),
        "auto_replies": list(decision.auto_replies),
        "deals": [{"name": d.name, "value": d.value, "stage": d.stage} for d in decision.deals],
    }


class Assigner:
    """Round-robin as people mean it: the agent of the queue with the fewest open tickets, then by name."""

    def __init__(self, tx: IngestTransaction, routing: Routing) -> None:
        self._tx = tx
        self._routing = routing
        self._load: dict[str, int] | None = None

    def assign(self, queue: str, wanted: str | None) -> str | None:
        if wanted is None or wanted != "round-robin":
            return wanted
        candidates = self._routing.agents_by_queue.get(queue) or self._routing.all_agents
        if not candidates:
            return None
        if self._load is None:
            self._load = dict(self._tx.open_ticket_load(self._routing.all_agents))
        chosen = min(candidates, key=lambda name: (self._load.get(name, 0) if self._load else 0, name))
        self._load[chosen] = self._load.get(chosen, 0) + 1
        return chosen


def contact_effects(
    tx: IngestTransaction,
    rows: Sequence[NewMessage],
    message_ids: Sequence[int],
    decisions: Sequence[Decision | None],
    ledger: ScoreLedger,
    first_deal_stage: str = "qualified",
) -> list[NewEvent]:
    """Apply tags, score points, stage and deals to contacts (scores and stages through `ledger`, which the
    caller flushes); return the timeline events that say so."""
    events: list[NewEvent] = []
    for row, message_id, decision in zip(rows, message_ids, decisions, strict=True):
        if decision is None or row.contact_id is None or decision.ignore:
            continue
        events += effects_on_contact(
            tx, row.contact_id, row.sent_at, decision, message_id, first_deal_stage, ledger=ledger
        )
    return events


def effects_on_contact(
    tx: IngestTransaction,
    contact: int,
    at: datetime,
    decision: Decision,
    message_id: int | None = None,
    first_deal_stage: str = "qualified",
    half_life: timedelta | None = None,
    ledger: ScoreLedger | None = None,
) -> list[NewEvent]:
    """Apply one decision's tags, score points, deals and stage to a contact; the timeline events that say so.
    Tags, scores and stages go through `ledger` (the caller flushes it), or are written before this returns."""
    own = ledger is None
    scores = ledger if ledger is not None else ScoreLedger(tx, half_life, [contact])
    events: list[NewEvent] = []
    if decision.tags_added or decision.tags_removed:
        scores.change_tags(contact, decision.tags_added, decision.tags_removed)
        changes = [f"+{t}" for t in sorted(decision.tags_added)] + [f"-{t}" for t in sorted(decision.tags_removed)]
        events.append(NewEvent(contact, at, "tags_changed", "Tags " + " ".join(changes), message_id))
    if decision.score_changes:
        scores.add(contact, at, decision.score_changes, message_id)
        total = sum(points for points, _ in decision.score_changes)
        reasons = "; ".join(f"{points:+g} {reason}" for points, reason in decision.score_changes)
        events.append(NewEvent(contact, at, "score_changed", f"Score {total:+g}: {reasons}", message_id))
    for deal in decision.deals:
        stage = deal.stage or first_deal_stage
        _, before = tx.upsert_deal(contact, deal.name, deal.value, stage, at)
        value = f", {deal.value:,.0f}" if deal.value is not None else ""
        if before is None:
            events.append(
                NewEvent(contact, at, "deal_opened", f"Deal '{deal.name}' opened ({stage}{value})", message_id)
            )
        elif before != stage:
            events.append(
                NewEvent(contact, at, "deal_moved", f"Deal '{deal.name}' {before} → {stage}{value}", message_id)
            )
    if decision.stage:
        previous = scores.set_stage(contact, decision.stage)
        if previous != decision.stage:
            summary = f"Stage {previous or '(none)'} → {decision.stage}"
            events.append(NewEvent(contact, at, "stage_changed", summary, message_id))
    if own:
        scores.flush()
    return events
