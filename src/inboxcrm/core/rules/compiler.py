"""Compiling rule files: TOML → a `RuleSet`, or `RulesInvalid` (`FilesInvalid`) with every problem.

`compile_rules` reports every problem at once, each with file:line and a hint, and never returns a half-valid
rule set. A file's rules are checked here (keys, `enabled`, `when`, `then`); each kind of condition has a
module of its own (`address_conditions`, `text_conditions`, …) and the actions have `actions`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from inboxcrm.core.classify import Kind
from inboxcrm.core.model import Direction, MailboxKind
from inboxcrm.core.rules.actions import ActionCompiler
from inboxcrm.core.rules.address_conditions import AddressConditions
from inboxcrm.core.rules.attachment_conditions import AttachmentConditions
from inboxcrm.core.rules.checking import quoted_list, shown_value
from inboxcrm.core.rules.conditions import AllOf, AnyOf, Leaf, Namespace, Node, Not, guard_of, walk
from inboxcrm.core.rules.contact_conditions import ContactConditions
from inboxcrm.core.rules.event_conditions import EventConditions
from inboxcrm.core.rules.model import Action, Effect, Rule, RuleSet
from inboxcrm.core.rules.text_conditions import TextConditions
from inboxcrm.core.rules.time_conditions import TimeConditions
from inboxcrm.core.rules.vocabulary import (
    ACTIONS,
    ADDRESS_FIELDS,
    CONDITIONS,
    GUARDED,
    MAX_DEPTH,
    RULE_KEYS,
    TEXT_FIELDS,
    Vocabulary,
)
from inboxcrm.core.tomlfile import FilesInvalid, Loc, Problem, suggest

# Rules hold regexes: the TOML mistake people make most is a single backslash inside "…".
TOML_HINT = (
    'check quotes, brackets and commas on that line; text needs quotes, and inside "…" a '
    "backslash must be doubled (or write regexes in single quotes: '\\d+')"
)


class _FileCompiler(
    AddressConditions,
    TextConditions,
    AttachmentConditions,
    ContactConditions,
    EventConditions,
    TimeConditions,
    ActionCompiler,
):
    """Validates and compiles one file's rules; problems go to the shared list, never raised one by one."""

    def __init__(
        self, file: str, text: str, vocabulary: Vocabulary, problems: list[Problem], numbers: Iterator[int]
    ) -> None:
        super().__init__(file, vocabulary, problems)
        self.text = text
        self.numbers = numbers

    def compile(self) -> list[tuple[Rule, Loc]]:
        data = self.parse(self.text, TOML_HINT)
        if data is None:
            return []
        compiled: list[tuple[Rule, Loc]] = []
        for table, loc in self.array_of_tables(data, "rule", RULE_KEYS, shown_value):
            rule = self.rule(table, loc)
            if rule is not None:
                compiled.append((rule, loc))
        return compiled

    def rule(self, table: dict[str, Any], loc: Loc) -> Rule | None:
        before = len(self.problems)
        self.ns = Namespace(f"_r{next(self.numbers)}")
        name = table.get("name")
        if not isinstance(name, str) or not name.strip():
            where = (*loc, "name") if "name" in table else loc
            got = f", got {shown_value(name)}" if "name" in table else ""
            self.problem(where, f"a rule needs a `name`{got}", 'add name = "what this rule does"')
            name = f"rule {loc[-1]}"
        name = name.strip()
        for key in table:
            if key in RULE_KEYS:
                continue
            if key in CONDITIONS:
                hint = f"conditions go under `when`: when.{key} = …"
            elif key in ACTIONS:
                hint = f"actions go under `then`: then.{key} = …"
            else:
                hint = suggest(key, RULE_KEYS)
            self.problem((*loc, key), f"unknown key {key!r} in rule {name!r}", hint)
        enabled = table.get("enabled", True)
        if not isinstance(enabled, bool):
            self.problem(
                (*loc, "enabled"), f"`enabled` must be true or false, got {shown_value(enabled)}", "enabled = false"
            )
        description = table.get("description", "")
        if not isinstance(description, str):
            self.problem(
                (*loc, "description"), f"`description` must be text, got {shown_value(description)}", "put it in quotes"
            )
        when = table.get("when", {})
        condition: Node | None = AllOf(())
        if isinstance(when, dict):
            condition = self.conditions(when, (*loc, "when"), 0)
        else:
            self.problem(
                (*loc, "when"),
                f"`when` must be a table of conditions, got {shown_value(when)}",
                'e.g. when.subject = "x"',
            )
        if "then" not in table:
            self.problem(loc, f"rule {name!r} has no actions", 'add then = { … }, e.g. then.add_tags = "vip"')
            effects: list[Effect] = []
        elif not isinstance(table["then"], dict):
            self.problem(
                (*loc, "then"),
                f"`then` must be a table of actions, got {shown_value(table['then'])}",
                'e.g. then = { queue = "support" }',
            )
            effects = []
        else:
            effects = self.effects(table["then"], (*loc, "then"), name)
        if len(self.problems) > before or condition is None or enabled is False:
            return None
        for node in walk(condition):
            node.check = self.ns.function(node.expr, name)
        stops = any(e.action is Action.STOP for e in effects)
        line = self.line(loc) or 0
        return Rule(
            name,
            self.file,
            line,
            condition,
            tuple(effects),
            stops,
            condition.check,
            guard_of(condition),
            self.ns.constants,
        )

    # -- conditions

    def conditions(self, table: Mapping[str, Any], loc: Loc, depth: int) -> Node | None:
        if depth > MAX_DEPTH:
            self.problem(loc, f"conditions nested more than {MAX_DEPTH} deep", "flatten the all/any/not nesting")
            return None
        items: list[Node] = []
        ok = True
        for key, value in table.items():
            node = self.condition(key, value, (*loc, key), depth)
            if node is None:
                ok = False
            else:
                items.append(node)
        if not ok:
            return None
        return items[0] if len(items) == 1 else AllOf(items)

    def condition(self, key: str, value: Any, loc: Loc, depth: int) -> Node | None:
        if key in ("all", "any"):
            return self.combination(key, value, loc, depth)
        if key == "not":
            if not isinstance(value, dict):
                self.problem(
                    loc, f"`not` takes a table of conditions, got {shown_value(value)}", 'e.g. not.subject = "x"'
                )
                return None
            inner = self.conditions(value, loc, depth + 1)
            return Not(inner) if inner is not None else None
        if key in GUARDED:
            return self.one_of(key, value, loc)
        if key in ADDRESS_FIELDS:
            return self.address(key, value, loc)
        if key in TEXT_FIELDS:
            return self.text_field(key, value, loc)
        if key == "header":
            return self.headers(value, loc)
        if key == "attachment":
            return self.attachment(value, loc)
        if key == "contact":
            return self.contact(value, loc)
        if key == "weekday":
            return self.weekday(value, loc)
        if key == "event":
            return self.event(value, loc)
        if key == "time":
            return self.time_window(value, loc)
        hint = f"{key!r} is an action: put it under `then`" if key in ACTIONS else suggest(key, CONDITIONS)
        self.problem(loc, f"unknown condition {key!r}", hint)
        return None

    def combination(self, key: str, value: Any, loc: Loc, depth: int) -> Node | None:
        if isinstance(value, dict):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.problem(
                loc,
                f"`{key}` takes a list of condition tables, got {shown_value(value)}",
                f"{key} = [{{ … }}, {{ … }}]",
            )
            return None
        if key == "any" and not value:
            self.problem(loc, "an empty `any` never matches", "list at least one condition table")
            return None
        items = [self.conditions(v, (*loc, i), depth + 1) for i, v in enumerate(value)]
        if any(item is None for item in items):
            return None
        nodes = [item for item in items if item is not None]
        return AllOf(nodes) if key == "all" else AnyOf(nodes)

    def one_of(self, key: str, value: Any, loc: Loc) -> Node | None:
        items = self.strings(value, loc, f"a {key.replace('_', ' ')}")
        if items is None:
            return None
        allowed: dict[str, Iterable[str] | None] = {
            "mailbox": self.vocabulary.mailboxes,
            "mailbox_kind": [k.value for k in MailboxKind],
            "kind": [k.value for k in Kind],
            "direction": [d.value for d in Direction],
        }
        choices = allowed[key]
        if choices is not None and not self.known(items, choices, key.replace("_", " ")):
            return None
        names = [item for item, _ in items]
        values = frozenset(n.lower() for n in names)
        label = key.replace("_", " ")
        k = self.ns.const(values)
        return Leaf(
            f"(c.{key} in {k})",
            f"{label} is {quoted_list(names)}",
            1,
            because=lambda c: f"{label} is {getattr(c, key)}",
            guard=(key, values),
        )


def compile_rules(files: Sequence[tuple[str, str]], vocabulary: Vocabulary) -> RuleSet:
    """Compile `(path, text)` rule files, evaluated in sorted path order then file order.

    Raises `RulesInvalid` listing every problem in every file (each with file:line and a hint); a rule set is
    either wholly valid or not returned at all. Disabled rules (`enabled = false`) are checked but left out.
    """
    problems: list[Problem] = []
    compiled: list[Rule] = []
    first_use: dict[str, str] = {}
    numbers = itertools.count()  # gives each rule's constants a prefix of their own
    for path, text in sorted(files, key=lambda pair: pair[0]):
        compiler = _FileCompiler(path, text, vocabulary, problems, numbers)
        for rule, loc in compiler.compile():
            where = f"{path}:{rule.line}"
            if rule.name in first_use:
                compiler.problem(
                    (*loc, "name"), f"rule name {rule.name!r} is used twice", f"also at {first_use[rule.name]}"
                )
                continue
            first_use[rule.name] = where
            compiled.append(rule)
    if problems:
        raise FilesInvalid(problems)
    needs = frozenset().union(*(r.condition.needs for r in compiled)) if compiled else frozenset()
    headers = frozenset(n.removeprefix("header:") for n in needs if n.startswith("header:"))
    return RuleSet(tuple(compiled), tuple(sorted({path for path, _ in files})), needs, headers)
