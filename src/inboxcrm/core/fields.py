"""Custom fields: the team's own facts about a contact, declared in the config's `[[fields]]` (name, type
text/number/date/choice/bool, choices), checked on every write.

Values are stored in a canonical text (`canonical`): numbers as `12` or `12.5`, dates as `2024-05-31`,
booleans as `true`/`false`, a choice as declared. Rules, segments and templates read them typed (`typed`).
Pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from inboxcrm.core.tomlfile import suggest

FIELD_TYPES = ("text", "number", "date", "choice", "bool")
NAME = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
MAX_TEXT = 1000
_TRUE = ("true", "yes", "1", "on")
_FALSE = ("false", "no", "0", "off")


class FieldProblem(ValueError):
    """Values that do not fit their fields; `problems` lists (field, what is wrong) for every one of them."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{name}: {what}" for name, what in self.problems))


@dataclass(frozen=True, slots=True)
class FieldDef:
    name: str
    type: str
    choices: tuple[str, ...] = ()
    label: str = ""


def canonical(field: FieldDef, value: object) -> str | None:
    """`value` as stored for `field`; None (or "") clears the field. Raises ValueError saying what is wrong."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if field.type == "bool":
        if isinstance(value, bool):
            return "true" if value else "false"
        word = str(value).strip().lower()
        if word in _TRUE:
            return "true"
        if word in _FALSE:
            return "false"
        raise ValueError(f"expected true or false, got {value!r}")
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal | date):
        raise ValueError(f"expected {_expected(field)}, got {value!r}")
    if field.type == "number":
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(f"expected a number, got {value!r}") from None
        if not number.is_finite():
            raise ValueError(f"expected a number, got {value!r}")
        shown = format(number.normalize(), "f")
        return shown if "." not in shown else shown.rstrip("0").rstrip(".")
    if field.type == "date":
        if isinstance(value, datetime):
            return value.date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        try:
            return date.fromisoformat(str(value).strip()[:10]).isoformat()
        except ValueError:
            raise ValueError(f"expected a date such as 2024-05-31, got {value!r}") from None
    text = str(value).strip()
    if field.type == "choice":
        for choice in field.choices:
            if choice.lower() == text.lower():
                return choice
        raise ValueError(f"expected one of {', '.join(field.choices)}, got {value!r}")
    if len(text) > MAX_TEXT:
        raise ValueError(f"at most {MAX_TEXT} characters, got {len(text)}")
    return text


def _expected(field: FieldDef) -> str:
    return {"number": "a number", "date": "a date", "choice": "one of " + ", ".join(field.choices)}.get(
        field.type, "text"
    )


def typed(field: FieldDef | None, stored: str) -> str | float | bool:
    """A stored value as rules and templates read it: numbers as numbers, booleans as booleans."""
    if field is not None and field.type == "number":
        return float(stored)
    if field is not None and field.type == "bool":
        return stored == "true"
    return stored


def number_of(field: FieldDef, stored: str | None) -> float | None:
    """The number stored for a number field (kept beside the text, for comparisons in SQL)."""
    return float(stored) if stored is not None and field.type == "number" else None


def validate(fields: Mapping[str, FieldDef], values: Mapping[str, object]) -> dict[str, str | None]:
    """Every value canonical, or `FieldProblem` naming every bad one (unknown fields with a suggestion)."""
    out: dict[str, str | None] = {}
    problems: list[tuple[str, str]] = []
    for name, value in values.items():
        field = fields.get(name)
        if field is None:
            problems.append((name, f"unknown field ({suggest(name, fields, 'field')})"))
            continue
        try:
            out[name] = canonical(field, value)
        except ValueError as exc:
            problems.append((name, str(exc)))
    if problems:
        raise FieldProblem(problems)
    return out
