"""Lead scoring at ingest: points for what mail itself shows, and the stage a score earns."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from inboxcrm.core.addresses import company_domain
from inboxcrm.core.model import Direction
from inboxcrm.core.ports import IngestTransaction, NewEvent, NewMessage, Store
from inboxcrm.core.scoring import MessageSignals, Weights, decayed, earned_stage, signal_points


@dataclass(frozen=True)
class Scoring:
    weights: Weights
    half_life: timedelta | None
    thresholds: Mapping[str, float]
    stages: tuple[str, ...]


class ScoreLedger:
    """The score, stage and tag changes of one batch, worked out in memory from one read of the batch's
    contacts and written with one statement per table (`flush`), with the same results as writing them one
    by one."""

    def __init__(self, tx: IngestTransaction, half_life: timedelta | None, contact_ids: Iterable[int]) -> None:
        self._tx = tx
        self._half_life = half_life
        self._state = tx.contact_scores(contact_ids)
        self._changes: list[tuple[int, datetime, float, str, int | None]] = []
        self._scores: dict[int, tuple[float, datetime]] = {}
        self._stages: dict[int, str] = {}
        self._tags: dict[tuple[int, str], bool] = {}  # (contact, tag) → there after the batch; the last change wins

    def _of(self, contact: int) -> tuple[float, datetime | None, str | None] | None:
        if contact not in self._state:
            self._state.update(self._tx.contact_scores([contact]))
        return self._state.get(contact)

    def add(self, contact: int, at: datetime, changes: Sequence[tuple[float, str]], message_id: int | None) -> float:
        """Record the points (kept as history); the contact's new score, decayed up to `at`."""
        self._changes.extend((contact, at, points, reason, message_id) for points, reason in changes)
        score, score_at, stage = self._of(contact) or (0.0, None, None)
        since = score_at if score_at is not None else at
        new_at = max(at, since)
        new = decayed(score, since, new_at, self._half_life) + sum(p for p, _ in changes)
        self._state[contact] = (new, new_at, stage)
        self._scores[contact] = (new, new_at)
        return new

    def stage(self, contact: int) -> str | None:
        state = self._of(contact)
        return state[2] if state else None

    def exists(self, contact: int) -> bool:
        return self._of(contact) is not None

    def set_stage(self, contact: int, stage: str) -> str | None:
        """Move the contact to `stage`; its stage before."""
        state = self._of(contact)
        if state is None:
            return None
        previous = state[2]
        if previous != stage:
            self._state[contact] = (state[0], state[1], stage)
            self._stages[contact] = stage
        return previous

    def change_tags(self, contact: int, added: Iterable[str], removed: Iterable[str]) -> None:
        """Remove, then add, the contact's tags (as `IngestTransaction.change_tags` does, when flushed)."""
        for tag in removed:
            self._tags[(contact, tag)] = False
        for tag in added:
            self._tags[(contact, tag)] = True

    def flush(self) -> None:
        self._tx.write_scores(self._changes, self._scores, self._stages)
        if self._tags:
            there = [pair for pair, kept in self._tags.items() if kept]
            self._tx.change_many_tags(there, [pair for pair, kept in self._tags.items() if not kept])
        self._changes, self._scores, self._stages, self._tags = [], {}, {}, {}


def score_messages(
    ledger: ScoreLedger,
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
            scores[contact] = ledger.add(contact, row.sent_at, points, message_id)
            total = sum(p for p, _ in points)
            reasons = "; ".join(f"{p:+g} {reason}" for p, reason in points)
            events.append(NewEvent(contact, row.sent_at, "score_changed", f"Score {total:+g}: {reasons}", message_id))
    if scoring.thresholds and scores:
        last_at = {row.contact_id: row.sent_at for row in rows if row.contact_id is not None}
        for contact, score in scores.items():
            stage = earned_stage(score, ledger.stage(contact), scoring.thresholds, scoring.stages)
            if stage is not None:
                previous = ledger.set_stage(contact, stage)
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
