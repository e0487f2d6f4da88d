"""Contacts as CSV, in and out: reading a file into checked rows (every problem as row:column), and writing
contacts so that the same file read back changes nothing.

Columns: `email` (the key; an alias of a merged contact finds that contact), `name`, `company` (its domain,
acme.com), `tags` (separated by `;`: the contact's tags become exactly these), `stage`, and one column per
custom field (by its name). `id`, `score`, `created_at` and `company_name`, which an export writes, are read
only and skipped on import. Other headers are mapped with `mapping` (header → column, `-` to skip one). An
empty cell clears the value (but an empty company keeps the company the address gives); a column that is not in
the file leaves that value as it is. Pure.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from inboxcrm.core.addresses import normalise_email
from inboxcrm.core.fields import FieldDef, canonical
from inboxcrm.core.tomlfile import closest

COLUMNS = ("email", "name", "company", "tags", "stage")
READ_ONLY = ("id", "score", "created_at", "company_name")
SKIP = "-"
_SYNONYMS = {"e-mail": "email", "e_mail": "email", "address": "email", "email_address": "email", "domain": "company"}
_TAG = re.compile(r"^[\w.:-]{1,50}$")
_DOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}\.)+[a-z0-9-]{2,63}$")
MAX_ROWS = 200_000


@dataclass(frozen=True, slots=True)
class CsvProblem:
    row: int  # 1 is the header
    column: int  # from 1
    header: str
    message: str

    def __str__(self) -> str:
        return f"{self.row}:{self.column}: {self.header}: {self.message}"


@dataclass(frozen=True, slots=True)
class ContactRow:
    """One contact of the file. Only what `present` names is set by the import."""

    row: int
    email: str
    present: frozenset[str]
    name: str = ""
    company: str | None = None
    tags: frozenset[str] = frozenset()
    stage: str | None = None
    fields: Mapping[str, str | None] = field(default_factory=dict)


def _target(header: str, mapping: Mapping[str, str]) -> str:
    if header in mapping:
        return mapping[header]
    key = re.sub(r"\s+", "_", header.strip().lower())
    return _SYNONYMS.get(key, key)


def read_contacts_csv(
    text: str, fields: Mapping[str, FieldDef], stages: Sequence[str], mapping: Mapping[str, str] | None = None
) -> tuple[list[ContactRow], list[CsvProblem]]:
    """The rows of a CSV file and every problem in it (none: the rows can all be applied)."""
    problems: list[CsvProblem] = []
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        headers = next(reader)
    except (StopIteration, csv.Error):
        return [], [CsvProblem(1, 1, "", "the file is empty: the first row must name the columns")]
    known = (*COLUMNS, *fields)
    targets: list[str] = []
    for index, header in enumerate(headers, 1):
        target = _target(header, mapping or {})
        if target in (SKIP, *READ_ONLY):
            target = SKIP
        elif target.startswith("field:"):
            target = target.removeprefix("field:")
        if target != SKIP and target not in known:
            meant = closest(target, known)
            hint = f"did you mean {meant!r}?" if meant else f"columns: {', '.join(known)}"
            problems.append(CsvProblem(1, index, header, f"unknown column ({hint}; --map '{header}=-' skips it)"))
        elif target != SKIP and target in targets:
            problems.append(CsvProblem(1, index, header, f"a second {target!r} column"))
        targets.append(target)
    if "email" not in targets:
        problems.append(
            CsvProblem(1, 1, headers[0] if headers else "", "no email column (map one: --map 'Mail=email')")
        )
    if problems:
        return [], problems
    rows: list[ContactRow] = []
    seen: dict[str, int] = {}
    present = frozenset(targets) - {SKIP, "email"}
    number = 1
    try:
        for number, cells in enumerate(reader, 2):
            if number > MAX_ROWS:
                problems.append(CsvProblem(number, 1, "", f"more than {MAX_ROWS} rows: split the file"))
                break
            if not any(c.strip() for c in cells):
                continue
            row = _row(number, cells, headers, targets, fields, stages, present, problems)
            if row is None:
                continue
            if row.email in seen:
                column = targets.index("email") + 1
                problems.append(CsvProblem(number, column, "email", f"{row.email} is on row {seen[row.email]} already"))
                continue
            seen[row.email] = number
            rows.append(row)
    except csv.Error as exc:
        problems.append(CsvProblem(number + 1, 1, "", f"not CSV: {exc}"))
    return rows, problems


def _row(
    number: int,
    cells: Sequence[str],
    headers: Sequence[str],
    targets: Sequence[str],
    fields: Mapping[str, FieldDef],
    stages: Sequence[str],
    present: frozenset[str],
    problems: list[CsvProblem],
) -> ContactRow | None:
    if len(cells) > len(targets):
        problems.append(CsvProblem(number, len(targets) + 1, "", f"{len(cells)} cells, but {len(targets)} columns"))
        return None
    values: dict[str, Any] = {"fields": {}}
    before = len(problems)
    for index, target in enumerate(targets):
        cell = cells[index].strip() if index < len(cells) else ""
        where = (number, index + 1, headers[index])
        if target == SKIP:
            continue
        if target == "email":
            email = normalise_email(cell)
            if not email or "@" not in email:
                problems.append(CsvProblem(*where, f"not an email address: {cell!r}"))
            values["email"] = email
        elif target == "name":
            values["name"] = cell[:255]
        elif target == "company":
            domain = cell.lower().removeprefix("www.")
            if domain and not _DOMAIN.match(domain):
                problems.append(CsvProblem(*where, f"expected a company's domain such as acme.com, got {cell!r}"))
            values["company"] = domain or None
        elif target == "tags":
            tags = frozenset(t.strip() for t in re.split(r"[;,]", cell) if t.strip())
            bad = sorted(t for t in tags if not _TAG.match(t))
            if bad:
                problems.append(CsvProblem(*where, f"not a tag: {bad[0]!r} (letters, digits, _ . : -; at most 50)"))
            values["tags"] = tags
        elif target == "stage":
            stage = cell.lower() or None
            if stage is not None and stage not in stages:
                problems.append(CsvProblem(*where, f"unknown stage {cell!r} (stages: {', '.join(stages)})"))
            values["stage"] = stage
        else:
            try:
                values["fields"][target] = canonical(fields[target], cell)
            except ValueError as exc:
                problems.append(CsvProblem(*where, str(exc)))
    if len(problems) > before:
        return None
    return ContactRow(row=number, present=present, **values)


def write_contacts_csv(contacts: Sequence[Mapping[str, Any]], field_names: Sequence[str]) -> str:
    """Contacts (dicts with the export's columns and `fields`) as CSV text; reading it back changes nothing."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    columns = ("id", "email", "name", "company", "company_name", "tags", "stage", "score", "created_at")
    writer.writerow([*columns, *field_names])
    for contact in contacts:
        values = [
            contact["id"],
            contact["email"],
            contact["name"],
            contact.get("company") or "",
            contact.get("company_name") or "",
            ";".join(sorted(contact.get("tags") or ())),
            contact.get("stage") or "",
            f"{contact.get('score') or 0:g}",
            contact["created_at"].isoformat() if contact.get("created_at") else "",
        ]
        stored = contact.get("fields") or {}
        writer.writerow([*values, *(stored.get(name) or "" for name in field_names)])
    return out.getvalue()
