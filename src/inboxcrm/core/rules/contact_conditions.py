"""Contact conditions: tags, score, lifecycle stage and company of the contact a message is filed under."""

from __future__ import annotations

from typing import Any

from inboxcrm.core.rules.checking import RuleChecker, quoted_list, shown_value
from inboxcrm.core.rules.conditions import AllOf, Leaf, Node
from inboxcrm.core.rules.context import Context
from inboxcrm.core.rules.vocabulary import CONTACT_OPERATORS
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
            else:
                self.problem(where, f"unknown operator {op!r} for `contact`", suggest(op, CONTACT_OPERATORS))
                ok = False
        if not ok:
            return None
        return leaves[0] if len(leaves) == 1 else AllOf(leaves)
