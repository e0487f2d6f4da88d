"""Named segments: groups of contacts described in TOML (`segments/*.toml`), checked like rules.

```toml
[[segment]]
name = "hot-leads"
description = "Leads worth a call this week"
when.stage = ["mql", "sql"]
when.score_at_least = 30
when.not = { tag = "do-not-call" }
```

Conditions: `tag` (has any of), `lacks_tag`, `stage` (one of), `score_at_least`, `score_at_most`,
`company` (company domain, `*` globs), `email_domain`, `free_mail` (true/false), `undeliverable`
(true/false), `event` (has had a business event of any of these kinds: "order"), `field.<name>` (a custom
field is one of these values, or { at_least, at_most } for number and date fields); combinators `all`, `any`,
`not`. A list means "any of". The store turns a segment into a
query, so a segment over 100k contacts is one SQL statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from inboxcrm.core.fields import FieldDef, canonical
from inboxcrm.core.tomlfile import Checker, FilesInvalid, Problem, suggest

FIELDS = (
    "tag",
    "lacks_tag",
    "stage",
    "score_at_least",
    "score_at_most",
    "company",
    "email_domain",
    "free_mail",
    "undeliverable",
    "event",
    "field",
)
COMBINATORS = ("all", "any", "not")
_SEGMENT_KEYS = ("name", "description", "when")


@dataclass(frozen=True, slots=True)
class Test:
    """One condition on a contact: `field` compared with `values` (any of them)."""

    field: str
    values: tuple[str | float | bool, ...]


@dataclass(frozen=True, slots=True)
class Group:
    """`all` / `any` of the parts, or `not` (one part)."""

    combinator: str
    parts: tuple[Test | Group, ...]


@dataclass(frozen=True, slots=True)
class Segment:
    name: str
    description: str
    file: str
    line: int
    condition: Group


class _Compiler(Checker):
    def __init__(
        self, file: str, stages: Sequence[str], problems: list[Problem], fields: Sequence[FieldDef] = ()
    ) -> None:
        super().__init__(file, problems)
        self.stages = tuple(stages)
        self.fields = {f.name: f for f in fields}

    def group(self, combinator: str, table: Any, loc: tuple[str | int, ...]) -> Group:
        if isinstance(table, list):  # any = [ {...}, {...} ]
            return Group(combinator, tuple(self.group("all", item, (*loc, i)) for i, item in enumerate(table)))
        if not isinstance(table, dict):
            self.problem(loc, f"'{loc[-1]}' must be a table of conditions")
            return Group(combinator, ())
        parts: list[Test | Group] = []
        for key, value in table.items():
            where = (*loc, key)
            if key in COMBINATORS:
                parts.append(self.group(key, value, where))
            elif key == "field":
                parts += self.field_tests(value, where)
            elif key in FIELDS:
                test = self.test(key, value, where)
                if test is not None:
                    parts.append(test)
            else:
                self.problem(where, f"unknown condition '{key}'", suggest(key, (*FIELDS, *COMBINATORS), in_order=True))
        if combinator == "not":
            return Group("not", (Group("all", tuple(parts)),))
        return Group(combinator, tuple(parts))

    def field_tests(self, value: Any, loc: tuple[str | int, ...]) -> list[Test | Group]:
        """`field.<name> = value | [values] | { at_least, at_most }` → tests `field:<name>` (canonical values,
        lower-cased), `field_at_least:<name>`, `field_at_most:<name>`."""
        if not isinstance(value, dict) or not value:
            self.problem(loc, "'field' takes a table of fields", 'e.g. field.plan = "pro"')
            return []
        found: list[Test | Group] = []
        for name, spec in value.items():
            where = (*loc, name)
            field = self.fields.get(name)
            if field is None:
                self.problem(where, f"unknown field '{name}'", suggest(name, self.fields, "field"))
                continue
            specs = spec.items() if isinstance(spec, dict) else [("equals", spec)]
            for op, wanted in specs:
                if op not in ("equals", "at_least", "at_most") or (
                    op != "equals" and field.type not in ("number", "date")
                ):
                    self.problem((*where, op), f"'{op}' is not a test for the {field.type} field '{name}'")
                    continue
                values = wanted if isinstance(wanted, list) and op == "equals" else [wanted]
                try:
                    stored = [canonical(field, v) for v in values]
                except ValueError as exc:
                    self.problem(where, f"{name}: {exc}")
                    continue
                texts = tuple(s.lower() for s in stored if s is not None)
                if not texts:
                    self.problem(where, f"give a value for '{name}'")
                    continue
                prefix = "field" if op == "equals" else f"field_{op}"
                found.append(Test(f"{prefix}:{field.type}:{name}", texts))
        return found

    def test(self, field: str, value: Any, loc: tuple[str | int, ...]) -> Test | None:
        values = tuple(value) if isinstance(value, list) else (value,)
        if field in ("score_at_least", "score_at_most"):
            if len(values) != 1 or isinstance(values[0], bool) or not isinstance(values[0], int | float):
                self.problem(loc, f"'{field}' takes a number", f"e.g. {field} = 30")
                return None
            return Test(field, (float(values[0]),))
        if field in ("free_mail", "undeliverable"):
            if len(values) != 1 or not isinstance(values[0], bool):
                self.problem(loc, f"'{field}' takes true or false")
                return None
            return Test(field, values)
        if not values or not all(isinstance(v, str) and v for v in values):
            self.problem(loc, f"'{field}' takes a text or a list of texts")
            return None
        texts = tuple(str(v).strip().lower() for v in values)
        if field == "stage":
            for stage in texts:
                if stage not in self.stages:
                    self.problem(loc, f"unknown stage '{stage}'", suggest(stage, self.stages, in_order=True))
        return Test(field, texts)


def compile_segments(
    files: Sequence[tuple[str, str]], stages: Sequence[str], fields: Sequence[FieldDef] = ()
) -> tuple[Segment, ...]:
    """Segments from (path, text) pairs; raises `FilesInvalid` (`RulesInvalid`) listing every problem with file:line."""
    segments: list[Segment] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for file, text in sorted(files):
        compiler = _Compiler(file, stages, problems, fields)
        data = compiler.parse(text)
        if data is None:
            continue
        for table, loc in compiler.array_of_tables(data, "segment", _SEGMENT_KEYS):
            for key in table:
                if key not in _SEGMENT_KEYS:
                    compiler.problem((*loc, key), f"unknown key '{key}'", suggest(key, _SEGMENT_KEYS, in_order=True))
            name = table.get("name")
            if not isinstance(name, str) or not name.strip():
                compiler.problem(loc, "a segment needs a name")
                continue
            if name in seen:
                compiler.problem((*loc, "name"), f"segment '{name}' is defined twice", f"first in {seen[name]}")
            seen[name] = file
            condition = compiler.group("all", table.get("when", {}), (*loc, "when"))
            line = compiler.line(loc) or 0
            segments.append(Segment(name, str(table.get("description", "")), file, line, condition))
    if problems:
        raise FilesInvalid(problems)
    return tuple(segments)
