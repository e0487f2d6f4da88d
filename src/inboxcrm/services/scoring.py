"""Lead scoring at ingest: points for what mail itself shows, and the stage a score earns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from inboxcrm.core.addresses import company_domain
from inboxcrm.core.model import Direction
from inboxcrm.core.ports import IngestTransaction, NewEvent, NewMessage, Store
from inboxcrm.core.scoring import MessageSignals, Weights, earned_stage, signal_points


@dataclass(frozen=True)
class Scoring:
    weights: Weights
    half_life: timedelta | None
    thresholds: Mapping[str, float]
    stages: tuple[str, ...]


def score_messages(
    tx: IngestTransaction,
    scoring: Scoring,
    rows: Sequence[NewMessage],
    message_ids: Sequence[int],
    opened: set[int],
    seen_before: set[int],
    last_outbound: Mapping[int, datetime],
) -> list[NewEvent]:
    """Apply each message's signal points to its contact, then move contacts whose score earned a stage.

    `opened` holds the indexes of rows that opened a ticket; `seen_before` the contacts that had mail
    before this batch; `last_outbound` our last message per thread before this batch."""
    events: list[NewEvent] = []
    scores: dict[int, float] = {}
    first_seen: set[int] = set()
    for index, (row, message_id) in enumerate(zip(rows, message_ids, strict=True)):
        contact = row.contact_id
        if contact is None or row.ignored or row.meaning.contact is None:
            continue
        first = contact not in seen_before and contact not in first_seen
        first_seen.add(contact)
        inbound = row.direction is Direction.INBOUND
        last_out = last_outbound.get(row.thread_id)
        replied_after = row.sent_at - last_out if inbound and last_out and row.sent_at >= last_out else None
        signals = MessageSignals(
            inbound=inbound,
            automatic=row.analysis is not None and row.analysis.automatic,
            first_from_contact=first and inbound,
            company_domain=company_domain(row.meaning.contact.email) is not None,
            # keywords count in the subject and in what the contact newly wrote (not in quoted text)
            new_text=row.message.subject + "\n" + (row.analysis.body.new_text if row.analysis else row.message.text),
            opens_ticket=index in opened,
            replied_after=replied_after,
        )
        points = signal_points(signals, scoring.weights)
        if points:
            scores[contact] = tx.add_score_changes(contact, row.sent_at, points, message_id, scoring.half_life)
            total = sum(p for p, _ in points)
            reasons = "; ".join(f"{p:+g} {reason}" for p, reason in points)
            events.append(NewEvent(contact, row.sent_at, "score_changed", f"Score {total:+g}: {reasons}", message_id))
    if scoring.thresholds and scores:
        states = tx.contact_states(scores)
        last_at = {row.contact_id: row.sent_at for row in rows if row.contact_id is not None}
        for contact, score in scores.items():
            state = states.get(contact)
            stage = earned_stage(score, state.stage if state else None, scoring.thresholds, scoring.stages)
            if stage is not None:
                previous = tx.set_stage(contact, stage)
                summary = (
                    f"Stage {previous or '(none)'} → {stage}: score {score:g} reached {scoring.thresholds[stage]:g}"
                )
                events.append(NewEvent(contact, last_at[contact], "stage_changed", summary))
    return events


def decay_scores(store: Store, scoring: Scoring, now: datetime) -> int:
    """Bring every score up to `now` (the daemon does this hourly, so segments see decayed scores)."""
    if scoring.half_life is None:
        return 0
    with store.transaction() as tx:
        return tx.decay_scores(now, scoring.half_life)
