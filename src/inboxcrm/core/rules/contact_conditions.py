"""Contact conditions: tags, score, lifecycle stage and company of the contact a message is filed under."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from inboxcrm.core.fields import FieldDef, canonical, typed
from inboxcrm.core.rules.checking import RuleChecker, quoted_list, shown_value
from inboxcrm.core.rules.conditions import AllOf, Leaf, Node
from inboxcrm.core.rules.context import Context
from inboxcrm.core.rules.vocabulary import CONTACT_OPERATORS, FIELD_OPERATORS
from inboxcrm.core.tomlfile import Loc, suggest


class ContactConditions(RuleChecker):
    """Compiles `contact`."""

    def contact(self, value: Any, loc: Loc) -> Node | None:
        if not isinstance(value, dict) or not value:
            self.problem(loc, f"`contact` takes a table, got {shown_value(value)}", 'e.g. contact.has_tag = "vip"')
            return None
        leaves: list[Node] = []
        ok = True
        for op, spec in value.items():
            where = (*loc, op)
            if op in ("has_tag", "lacks_tag"):
                items = self.strings(spec, where, "a tag")
                if items is None:
                    ok = False
                    continue
                tags = [i for i, _ in items]
                k = self.ns.const(frozenset(tags))
                if op == "has_tag":

                    def has(c: Context, tags: list[str] = tags) -> str:
                        return f"contact has tag {quoted_list([t for t in tags if t in c.tags], 'and')}"

                    expr = f"(c.has_contact and not {k}.isdisjoint(c.tags))"
                    leaves.append(Leaf(expr, f"contact has tag {quoted_list(tags)}", 1, ("contact",), has))
                else:
                    expr = f"(c.has_contact and {k}.isdisjoint(c.tags))"
                    leaves.append(Leaf(expr, f"contact has no tag {quoted_list(tags)}", 1, ("contact",)))
            elif op in ("score_at_least", "score_at_most"):
                if isinstance(spec, bool) or not isinstance(spec, int | float):
                    self.problem(where, f"`{op}` must be a number, got {shown_value(spec)}", f"e.g. {op} = 50")
                    ok = False
                    continue
                k = self.ns.const(float(spec))
                sign = ">=" if op == "score_at_least" else "<="
                text = f"contact score {'≥' if op == 'score_at_least' else '≤'} {spec:g}"

                def scored(c: Context, text: str = text) -> str:
                    return f"{text} (it is {c.score:g})"

                leaves.append(Leaf(f"(c.has_contact and c.score {sign} {k})", text, 1, ("contact",), scored))
            elif op == "stage":
                items = self.strings(spec, where, "a stage")
                if items is None or not self.known(items, self.vocabulary.stages, "stage"):
                    ok = False
                    continue
                stages = [i for i, _ in items]
                k = self.ns.const(frozenset(stages) | frozenset(s.lower() for s in stages))
                leaves.append(
                    Leaf(
                        f"(c.has_contact and c.stage in {k})",
                        f"contact stage is {quoted_list(stages)}",
                        1,
                        ("contact",),
                        lambda c: f"contact stage is {c.stage}",
                    )
                )
            elif op == "company":
                if isinstance(spec, bool):
                    expr = "(c.has_contact and c.company_domain != '')"
                    if not spec:
                        expr = "(c.has_contact and c.company_domain == '')"
                    text = "contact has a company" if spec else "contact has no company"
                    because = (lambda c: f"contact's company is {c.company_domain}") if spec else None
                    leaves.append(Leaf(expr, text, 1, ("contact",), because))
                    continue
                items = self.strings(spec, where, "a company domain")
                if items is None:
                    ok = False
                    continue
                domains = [i.lower() for i, _ in items]
                k = self.ns.const(frozenset(domains))
                leaves.append(
                    Leaf(
                        f"(not {k}.isdisjoint(c.company_suffixes))",
                        f"contact's company is {quoted_list(domains)}",
                        1,
                        ("contact",),
                        lambda c: f"contact's company is {c.company_domain}",
                    )
                )
            elif op == "field":
                found = self.field_conditions(spec, where)
                if found is None:
                    ok = False
                    continue
                leaves += found
            else:
                self.problem(where, f"unknown operator {op!r} for `contact`", suggest(op, CONTACT_OPERATORS))
                ok = False
        if not ok:
            return None
        return leaves[0] if len(leaves) == 1 else AllOf(leaves)

    def field_conditions(self, value: Any, loc: Loc) -> list[Node] | None:
        """`contact.field.<name> = value | [values] | { at_least, at_most, exists }`, per declared field."""
        declared = {f.name: f for f in self.vocabulary.fields}
        if not isinstance(value, dict) or not value:
            self.problem(
                loc, f"`field` takes a table of fields, got {shown_value(value)}", 'contact.field.plan = "pro"'
            )
            return None
        leaves: list[Node] = []
        ok = True
        for name, spec in value.items():
            where = (*loc, name)
            field = declared.get(name)
            if field is None:
                self.problem(where, f"unknown field {name!r}", suggest(name, declared, "field"))
                ok = False
                continue
            key = self.ns.const(name)
            ops = spec if isinstance(spec, dict) else {"equals": spec}
            for op, wanted in ops.items():
                leaf = self._field_leaf(field, key, op, wanted, (*where, op) if isinstance(spec, dict) else where)
                if leaf is None:
                    ok = False
                else:
                    leaves.append(leaf)
        return leaves if ok else None

    def _field_leaf(self, field: FieldDef, key: str, op: str, wanted: Any, loc: Loc) -> Node | None:
        label = f"contact's {field.name}"
        value = f"c.fields.get({key})"
        if op == "exists":
            if not isinstance(wanted, bool):
                self.problem(loc, "`exists` takes true or false", "exists = true")
                return None
            expr = f"(c.has_contact and ({value} is not None) == {wanted})"
            return Leaf(expr, f"{label} is {'set' if wanted else 'not set'}", 1, ("contact",))
        if op in ("at_least", "at_most"):
            if field.type not in ("number", "date"):
                self.problem(loc, f"`{op}` compares numbers and dates; {field.name} is {field.type}")
                return None
            try:
                bound = canonical(field, wanted)
            except ValueError as exc:
                self.problem(loc, str(exc))
                return None
            k = self.ns.const(typed(field, bound) if bound is not None else None)
            sign = ">=" if op == "at_least" else "<="
            expr = f"(c.has_contact and {value} is not None and {value} {sign} {k})"
            text = f"{label} {'≥' if sign == '>=' else '≤'} {bound}"
            return Leaf(expr, text, 1, ("contact",), _field_because(field.name, text))
        if op != "equals":
            self.problem(loc, f"unknown operator {op!r} for a field", suggest(op, FIELD_OPERATORS))
            return None
        values = wanted if isinstance(wanted, list) else [wanted]
        if not values:
            self.problem(loc, "an empty list matches nothing", "give at least one value")
            return None
        found: list[str | float | bool] = []
        for item in values:
            try:
                stored = canonical(field, item)
            except ValueError as exc:
                self.problem(loc, f"{field.name}: {exc}")
                return None
            if stored is not None:
                found.append(typed(field, stored.lower() if field.type == "text" else stored))
        k = self.ns.const(frozenset(found))
        getter = f"{value}.lower()" if field.type == "text" else value
        expr = f"(c.has_contact and {value} is not None and {getter} in {k})"
        shown = quoted_list([str(v) for v in found])
        return Leaf(expr, f"{label} is {shown}", 1, ("contact",), _field_because(field.name))


def _field_because(name: str, text: str | None = None) -> Callable[[Context], str]:
    def because(c: Context) -> str:
        value = c.fields.get(name)
        return f"{text} (it is {value})" if text else f"contact's {name} is {value}"

    return because
