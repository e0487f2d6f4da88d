"""Merging contacts (a mixin of `SqlTransaction`): every row of every table that references a contact moves
from the merged contact to the kept one, found from the schema's foreign keys, so a table added later moves
too without anyone remembering it.

Conflicts (a row the kept contact has already under the same key: a tag both have, a field both have set) are
resolved for the kept contact: its row stays, the merged contact's is dropped. So tags are united, and a
field keeps the kept contact's value where both have one and takes the merged contact's where only it has one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Column, Connection, Table, and_, delete, exists, update

from inboxcrm.adapters.db import tables as t


def contact_references() -> list[tuple[Table, Column[Any]]]:
    """(table, column) of every foreign key to `contacts.id`, in the schema's order."""
    found = []
    for table in t.metadata.sorted_tables:
        for key in table.foreign_keys:
            if key.column is t.contacts.c.id:
                found.append((table, key.parent))
    return found


def _keys_with(table: Table, column: Column[Any]) -> list[list[Column[Any]]]:
    """The unique keys (primary key, unique constraints) of `table` that `column` is part of, each without it."""
    keys = [list(table.primary_key.columns)] if table.primary_key is not None else []
    for constraint in table.constraints:
        columns = list(getattr(constraint, "columns", ()))
        if getattr(constraint, "__visit_name__", "") == "unique_constraint":
            keys.append(columns)
    for index in table.indexes:
        if index.unique:
            keys.append(list(index.columns))
    return [[c for c in key if c is not column] for key in keys if column in key and len(key) > 1]


class MergeStatements:
    connection: Connection
    forget_contacts: Any  # the search index's (SearchStatements)

    def move_contact_references(self, other_id: int, keep_id: int) -> dict[str, int]:
        """Move everything referencing `other_id` to `keep_id` (see the module's docstring); returns the rows
        moved per table. `contact_aliases` is left to the caller, which keeps the addresses as aliases."""
        moved: dict[str, int] = {}
        for table, column in contact_references():
            if table is t.contact_aliases:
                continue
            guard = []
            for others in _keys_with(table, column):
                twin = table.alias("twin")
                same = [twin.c[c.name] == c for c in others]
                guard.append(~exists().where(and_(twin.c[column.name] == keep_id, *same)))
            done = self.connection.execute(
                update(table).where(column == other_id, *guard).values({column.name: keep_id})
            ).rowcount
            if guard:  # what could not move is the kept contact's already
                self.connection.execute(delete(table).where(column == other_id))
            moved[table.name] = int(done or 0)
        self.forget_contacts([other_id])
        return moved


def referencing_tables() -> Iterable[str]:
    return [table.name for table, _ in contact_references()]
