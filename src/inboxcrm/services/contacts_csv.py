"""Contacts in and out as CSV (`inboxcrm contacts import|export`, `GET|POST /contacts.csv`).

An import is checked whole first: any bad cell (reported as row:column) and nothing is written. It runs the
very code of a real import in a transaction that is then rolled back, so a dry run reports exactly what the
import would change. Applying the same file again changes nothing (each value is compared first).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from inboxcrm.core.audiences import Segment
from inboxcrm.core.contacts_csv import ContactRow, CsvProblem, read_contacts_csv, write_contacts_csv
from inboxcrm.core.model import Address
from inboxcrm.core.ports import IngestTransaction, NewEvent, Store
from inboxcrm.services.record import CustomerRecord

_PAGE = 1000


class ExportReads(Protocol):
    def export_rows(self, segment: Segment | None, after_id: int, limit: int) -> list[dict[str, Any]]: ...


@dataclass
class ImportReport:
    applied: bool = False
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[CsvProblem] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)  # one line per change: "row 4 ana@x: tags +vip"


class _DryRun(Exception):
    pass


class ContactsCsv:
    def __init__(
        self,
        store: Store,
        reads: ExportReads,
        record: CustomerRecord,
        stages: Sequence[str],
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._reads = reads
        self._record = record
        self._stages = tuple(stages)
        self._clock = clock

    def export(self, segment: Segment | None = None) -> str:
        """Every contact (of `segment`) as CSV, with a column per custom field."""
        rows: list[dict[str, Any]] = []
        after = 0
        while True:
            page = self._reads.export_rows(segment, after, _PAGE)
            rows += page
            if len(page) < _PAGE:
                break
            after = page[-1]["id"]
        return write_contacts_csv(rows, list(self._record.fields))

    def import_(self, text: str, actor: str, apply: bool, mapping: Mapping[str, str] | None = None) -> ImportReport:
        """Read `text`; with problems, nothing is written. `apply` False: a dry run (the report says what an
        import would do)."""
        rows, problems = read_contacts_csv(text, self._record.fields, self._stages, mapping)
        report = ImportReport(problems=problems)
        if problems:
            return report
        now = self._clock()
        try:
            with self._store.transaction() as tx:
                events: list[NewEvent] = []
                for row in rows:
                    events += self._row(tx, row, actor, now, report)
                tx.add_events(events)
                if not apply:
                    raise _DryRun
        except _DryRun:
            return report
        report.applied = True
        return report

    def _row(
        self, tx: IngestTransaction, row: ContactRow, actor: str, now: datetime, report: ImportReport
    ) -> list[NewEvent]:
        contact_id = tx.contact_id_for(row.email)
        events: list[NewEvent] = []
        changes: list[str] = []
        if contact_id is None:
            contact_id = tx.ensure_contacts([Address(row.email, row.name)], now)[row.email]
            events.append(NewEvent(contact_id, now, "contact_created", f"Contact created by a CSV import ({actor})"))
            report.created += 1
            changes.append("created")
        name = row.name if "name" in row.present else None
        fields = dict(row.fields)
        edits = self._record.apply_edit(tx, contact_id, actor, name, fields, now)
        changes += [e.summary.removesuffix(f" by {actor}") for e in edits]
        events += edits
        # an empty company cell keeps the company the address gives (companies are by domain)
        if "company" in row.present and row.company is not None:
            before = tx.set_contact_company(contact_id, row.company, now)
            if before != row.company:
                summary = f"Company {before or '(none)'} → {row.company or '(none)'}"
                events.append(NewEvent(contact_id, now, "contact_updated", f"{summary} by {actor}"))
                changes.append(summary)
                tx.index_contacts([contact_id])
        if "tags" in row.present:
            have = tx.contact_tags(contact_id)
            added, removed = row.tags - have, have - row.tags
            if added or removed:
                tx.change_tags(contact_id, added, removed)
                what = " ".join([*(f"+{t}" for t in sorted(added)), *(f"-{t}" for t in sorted(removed))])
                events.append(NewEvent(contact_id, now, "tags_changed", f"Tags {what} by {actor}"))
                changes.append(f"tags {what}")
        if "stage" in row.present and row.stage != tx.contact_stage(contact_id):
            if row.stage is None:
                changes.append("stage cleared")
                tx.clear_stage(contact_id)
            else:
                previous = tx.set_stage(contact_id, row.stage)
                events.append(
                    NewEvent(contact_id, now, "stage_changed", f"Stage {previous} → {row.stage}: set by {actor}")
                )
                changes.append(f"stage {previous or '(none)'} → {row.stage}")
        if changes and changes[0] != "created":
            report.updated += 1
        elif not changes:
            report.unchanged += 1
        if changes:
            report.changes.append(f"row {row.row} {row.email}: " + "; ".join(changes))
        return events
