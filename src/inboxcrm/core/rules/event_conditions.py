"""Business event conditions: `event = "order"`, a list of kinds, or { kind, amount_at_least, amount_at_most,
currency }. A rule that names `event` runs on business events only (see `evaluate_event`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from inboxcrm.core.rules.checking import RuleChecker, quoted_list, shown_value
from inboxcrm.core.rules.conditions import AllOf, Leaf, Node
from inboxcrm.core.rules.context import Context
from inboxcrm.core.rules.vocabulary import EVENT_OPERATORS
from inboxcrm.core.tomlfile import Loc, suggest


class EventConditions(RuleChecker):
    """Compiles `event`."""

    def event(self, value: Any, loc: Loc) -> Node | None:
        if isinstance(value, str | list):
            value = {"kind": value}
        if not isinstance(value, dict) or not value:
            self.problem(loc, f"`event` takes a kind or a table, got {shown_value(value)}", 'e.g. event = "order"')
            return None
        leaves: list[Node] = []
        ok = True
        for op, spec in value.items():
            where = (*loc, op)
            if op == "kind":
                items = self.strings(spec, where, "an event kind")
                if items is None:
                    ok = False
                    continue
                kinds = [i.lower() for i, _ in items]
                k = self.ns.const(frozenset(kinds))
                leaves.append(Leaf(f"(c.event in {k})", f"event is {quoted_list(kinds)}", 1, ("event",), _kind_because))
            elif op in ("amount_at_least", "amount_at_most"):
                if isinstance(spec, bool) or not isinstance(spec, int | float):
                    self.problem(where, f"`{op}` must be a number, got {shown_value(spec)}", f"e.g. {op} = 100")
                    ok = False
                    continue
                k = self.ns.const(float(spec))
                sign = ">=" if op == "amount_at_least" else "<="
                text = f"amount {'≥' if sign == '>=' else '≤'} {spec:g}"
                expr = f"(c.event_amount is not None and c.event_amount {sign} {k})"
                leaves.append(Leaf(expr, text, 1, ("event",), _amount_because(text)))
            elif op == "currency":
                items = self.strings(spec, where, "a currency")
                if items is None:
                    ok = False
                    continue
                codes = [i.upper() for i, _ in items]
                k = self.ns.const(frozenset(codes))
                leaves.append(Leaf(f"(c.event_currency in {k})", f"currency is {quoted_list(codes)}", 1, ("event",)))
            else:
                self.problem(where, f"unknown operator {op!r} for `event`", suggest(op, EVENT_OPERATORS))
                ok = False
        if not ok:
            return None
        return leaves[0] if len(leaves) == 1 else AllOf(leaves)


def _amount_because(text: str) -> Callable[[Context], str]:
    def because(c: Context) -> str:
        return f"{text} (it is {c.event_amount:g})"

    return because


def _kind_because(c: Context) -> str:
    return f"event is {c.event}"
