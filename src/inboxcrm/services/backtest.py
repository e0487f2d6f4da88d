"""What a rule set would have done to stored mail, next to what the rules of the day did. No side effects."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from inboxcrm.core.model import MailboxKind, MailboxProfile
from inboxcrm.core.ports import Reads
from inboxcrm.core.reading import read_raw
from inboxcrm.core.rules import RuleSet
from inboxcrm.services.routing import as_record
from inboxcrm.services.rulebook import RuleBook

# The parts of a decision a person reviewing a rule change cares about, in the order they are shown.
COMPARED = (
    ("queue", "queue"),
    ("priority", "priority"),
    ("assignee", "assignee"),
    ("open_ticket", "ticket"),
    ("ignore", "ignored"),
    ("tags_added", "tags added"),
    ("tags_removed", "tags removed"),
    ("stage", "stage"),
    ("score", "score"),
    ("enrol", "enrolments"),
    ("auto_replies", "auto-replies"),
    ("deals", "deals"),
)


@dataclass(frozen=True, slots=True)
class Difference:
    message_id: int
    mailbox: str
    subject: str
    sent_at: datetime
    changes: tuple[str, ...]


@dataclass
class BacktestReport:
    replayed: int = 0
    differences: list[Difference] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """How many messages changed, per compared part."""
        out: dict[str, int] = {}
        for difference in self.differences:
            for change in difference.changes:
                label = change.split(":", 1)[0]
                out[label] = out.get(label, 0) + 1
        return out


def _comparable(record: Mapping[str, Any] | None) -> dict[str, Any]:
    record = record or {}
    values = {key: record.get(key) for key, _ in COMPARED if key != "score"}
    values["score"] = sum(points for points, _ in record.get("score_changes") or [])
    for key in ("tags_added", "tags_removed", "enrol", "auto_replies"):
        values[key] = sorted(values[key] or [])
    values["deals"] = sorted((d.get("name"), d.get("stage")) for d in record.get("deals") or [])
    return values


def _show(value: Any) -> str:
    if value in (None, [], 0, False):
        return "—" if value is None or value == [] else str(value)
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def compare(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> tuple[str, ...]:
    """Human-readable `part: before → after` lines for every compared part that differs."""
    old, new = _comparable(before), _comparable(after)
    return tuple(f"{label}: {_show(old[key])} → {_show(new[key])}" for key, label in COMPARED if old[key] != new[key])


def backtest(
    reads: Reads, book: RuleBook, rules: RuleSet, since: datetime, mailboxes: Mapping[str, MailboxProfile]
) -> BacktestReport:
    """Replay every message stored since `since` through `rules` (contacts as they are now)."""
    report = BacktestReport()
    for message_id, mailbox_name, subject, sent_at, raw, stored in _stored(reads, since):
        mailbox = mailboxes.get(mailbox_name) or MailboxProfile(mailbox_name, MailboxKind.OTHER)
        decision = book.decide(rules, read_raw(raw), mailbox, sent_at)
        report.replayed += 1
        changes = compare(stored, as_record(decision))
        if changes:
            report.differences.append(Difference(message_id, mailbox_name, subject, sent_at, changes))
    return report


def _stored(reads: Reads, since: datetime) -> Iterator[tuple[int, str, str, datetime, bytes, dict[str, Any] | None]]:
    after = 0
    while batch := reads.messages_since(since, after, 500):
        yield from batch
        after = batch[-1][0]
