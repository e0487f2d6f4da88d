"""Condition trees: each compiled condition as Python source over the message context (for speed) and as
words (for people), and the generated function that tests the rules of one selection in order.

Speed (bench/rules.py): each rule's conditions become one Python expression over a per-message context
(subject and body lower-cased once, address domains and their parent domains precomputed, only the headers
rules name), with cheap tests first so that `and` stops early. Rules are pre-selected by mailbox, mailbox kind,
kind and direction, and the expressions of the rules left are generated into one function per such selection,
built on first use. User text never becomes source code: every value the generated code uses is a constant
bound by name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from inboxcrm.core.rules.context import HELPERS, Context
from inboxcrm.core.rules.vocabulary import GUARDED

if TYPE_CHECKING:
    from inboxcrm.core.rules.model import Rule


class Node:
    """A condition. `expr` is its Python source over the context `c`; `cost` orders the tests of an `all`."""

    expr: str
    cost: int
    needs: frozenset[str]
    check: Callable[[Context], bool]

    def describe(self) -> str:
        raise NotImplementedError

    def explain(self, c: Context) -> list[str]:
        """Why this condition holds for `c` (call only when it does)."""
        raise NotImplementedError

    def children(self) -> Sequence[Node]:
        return ()


class Leaf(Node):
    def __init__(
        self,
        expr: str,
        text: str,
        cost: int,
        needs: Iterable[str] = (),
        because: Callable[[Context], str] | None = None,
        guard: tuple[str, frozenset[str]] | None = None,
    ) -> None:
        self.expr = expr
        self.text = text
        self.cost = cost
        self.needs = frozenset(needs)
        self.because = because
        self.guard = guard

    def describe(self) -> str:
        return self.text

    def explain(self, c: Context) -> list[str]:
        return [self.because(c) if self.because is not None else self.text]


class AllOf(Node):
    def __init__(self, items: Sequence[Node]) -> None:
        self.items = tuple(items)
        # Cheap tests first: `and` stops at the first false one, and most rules fail on a cheap test.
        ordered = sorted(self.items, key=lambda n: n.cost)
        self.expr = "(" + " and ".join(n.expr for n in ordered) + ")" if ordered else "True"
        self.cost = ordered[0].cost if ordered else 0
        self.needs = frozenset().union(*(n.needs for n in self.items))

    def describe(self) -> str:
        if not self.items:
            return "every message"
        return " and ".join(n.describe() for n in self.items)

    def explain(self, c: Context) -> list[str]:
        if not self.items:
            return ["every message (no conditions)"]
        return [reason for n in self.items for reason in n.explain(c)]

    def children(self) -> Sequence[Node]:
        return self.items


class AnyOf(Node):
    def __init__(self, items: Sequence[Node]) -> None:
        self.items = tuple(items)
        ordered = sorted(self.items, key=lambda n: n.cost)
        self.expr = "(" + " or ".join(n.expr for n in ordered) + ")" if ordered else "False"
        self.cost = max((n.cost for n in self.items), default=0)
        self.needs = frozenset().union(*(n.needs for n in self.items))

    def describe(self) -> str:
        return "any of (" + "; ".join(n.describe() for n in self.items) + ")"

    def explain(self, c: Context) -> list[str]:
        for n in self.items:  # the first branch as written, which is what a reader looks for
            if n.check(c):
                return n.explain(c)
        return [self.describe()]

    def children(self) -> Sequence[Node]:
        return self.items


class Not(Node):
    def __init__(self, item: Node) -> None:
        self.item = item
        self.expr = f"(not {item.expr})"
        self.cost = item.cost
        self.needs = item.needs

    def describe(self) -> str:
        return f"not ({self.item.describe()})"

    def explain(self, c: Context) -> list[str]:
        return [self.describe()]

    def children(self) -> Sequence[Node]:
        return (self.item,)


def walk(node: Node) -> Iterable[Node]:
    yield node
    for child in node.children():
        yield from walk(child)


def guard_of(node: Node) -> tuple[frozenset[str] | None, ...]:
    """The values of `GUARDED` fields a rule requires, read from its top-level conditions only."""
    found: dict[str, frozenset[str]] = {}
    tops = node.items if isinstance(node, AllOf) else (node,)
    for top in tops:
        if isinstance(top, Leaf) and top.guard is not None:
            name, values = top.guard
            found[name] = found[name] & values if name in found else values
    return tuple(found.get(name) for name in GUARDED)


class Namespace:
    """Constants the generated code refers to by name (`_r3k0`, `_r3k1` … for rule 3): values never become
    source text."""

    def __init__(self, prefix: str = "_") -> None:
        self.prefix = prefix
        self.constants: dict[str, object] = {}
        self.values: dict[str, object] = dict(HELPERS)

    def const(self, value: object) -> str:
        name = f"{self.prefix}k{len(self.constants)}"
        self.constants[name] = value
        self.values[name] = value
        return name

    def function(self, expr: str, label: str) -> Callable[[Context], bool]:
        code = compile(f"lambda c: {expr}", f"<rule {label}>", "eval")
        return cast("Callable[[Context], bool]", eval(code, self.values))


@dataclass(frozen=True, eq=False)
class Plan:
    """The rules that can match messages with one set of `GUARDED` values, and one generated function that
    tests them all in order and returns the positions of those that match (stopping after a `stop` rule).

    One function instead of one call per rule: a call costs more than most rules' first, failing, test."""

    rules: tuple[Rule, ...]
    run: Callable[[Context], list[int]]

    @classmethod
    def build(cls, rules: tuple[Rule, ...]) -> Plan:
        lines = ["def run(c):", "    hits = []"]
        namespace: dict[str, object] = dict(HELPERS)
        for index, rule in enumerate(rules):
            namespace.update(rule.constants)
            lines += [f"    if {rule.condition.expr}:", f"        hits.append({index})"]
            if rule.stops:
                lines.append("        return hits")
        lines.append("    return hits")
        exec(compile("\n".join(lines), "<rules>", "exec"), namespace)
        return cls(rules, cast("Callable[[Context], list[int]]", namespace["run"]))
