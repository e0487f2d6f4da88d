"""Address conditions: `from`, `to`, `cc` and `recipients` as addresses, domains (and their subdomains) or
free mail."""

from __future__ import annotations

from typing import Any

from inboxcrm.core.rules.checking import RuleChecker, first_glob, glob_regex, quoted_list, shown_value
from inboxcrm.core.rules.conditions import AllOf, AnyOf, Leaf, Node
from inboxcrm.core.rules.context import Context, suffixes
from inboxcrm.core.rules.vocabulary import ADDRESS_OPERATORS, GLOB_CHARS
from inboxcrm.core.tomlfile import Loc, suggest


class AddressConditions(RuleChecker):
    """Compiles `from`, `to`, `cc` and `recipients`."""

    def address(self, key: str, value: Any, loc: Loc) -> Node | None:
        if isinstance(value, str | list):
            items = self.strings(value, loc, "an address or domain")
            if items is None:
                return None
            addresses = [(i, w) for i, w in items if "@" in i]
            domains = [(i, w) for i, w in items if "@" not in i]
            nodes = []
            if addresses:
                nodes.append(self.address_leaf(key, addresses))
            if domains:
                nodes.append(self.domain_leaf(key, domains))
            return nodes[0] if len(nodes) == 1 else AnyOf(nodes)
        if not isinstance(value, dict):
            self.problem(
                loc,
                f"`{key}` takes an address, a domain or a table, got {shown_value(value)}",
                f'e.g. {key} = "acme.com" or {key}.address = "carol@acme.com"',
            )
            return None
        if not value:
            self.problem(loc, f"`{key}` has no test", f"use {quoted_list(ADDRESS_OPERATORS)}")
            return None
        leaves: list[Node] = []
        ok = True
        for op, spec in value.items():
            where = (*loc, op)
            if op == "address":
                items = self.strings(spec, where, "an address")
                bad = [(i, w) for i, w in items or [] if "@" not in i]
                for item, w in bad:
                    self.problem(w, f"{item!r} is not an address", f'to match a whole domain use domain = "{item}"')
                if items is None or bad:
                    ok = False
                else:
                    leaves.append(self.address_leaf(key, items))
            elif op == "domain":
                items = self.strings(spec, where, "a domain")
                bad = [(i, w) for i, w in items or [] if "@" in i]
                for item, w in bad:
                    self.problem(w, f"{item!r} is an address, not a domain", f'use address = "{item}"')
                if items is None or bad:
                    ok = False
                else:
                    leaves.append(self.domain_leaf(key, items))
            elif op == "free_mail":
                if key != "from":
                    self.problem(where, "`free_mail` applies to `from` only", "write from.free_mail = true")
                    ok = False
                elif not isinstance(spec, bool):
                    self.problem(
                        where, f"`free_mail` must be true or false, got {shown_value(spec)}", "free_mail = true"
                    )
                    ok = False
                else:
                    leaves.append(self.free_mail_leaf(spec))
            else:
                self.problem(where, f"unknown operator {op!r} for `{key}`", suggest(op, ADDRESS_OPERATORS))
                ok = False
        if not ok:
            return None
        return leaves[0] if len(leaves) == 1 else AllOf(leaves)

    def address_leaf(self, key: str, items: list[tuple[str, Loc]]) -> Node:
        patterns = [i.lower() for i, _ in items]
        exact = [p for p in patterns if GLOB_CHARS.isdisjoint(p)]
        globs = [p for p in patterns if not GLOB_CHARS.isdisjoint(p)]
        single = key == "from"
        field_name = "from_email" if single else key
        tests: list[str] = []
        if exact:
            k = self.ns.const(frozenset(exact))
            tests.append(f"(c.from_email in {k})" if single else f"(not {k}.isdisjoint(c.{key}))")
        if globs:
            k = self.ns.const(glob_regex(globs))
            tests.append(f"({k}.match(c.from_email) is not None)" if single else f"_any_match({k}, c.{key})")

        def because(c: Context) -> str:
            values: tuple[str, ...] = (c.from_email,) if single else getattr(c, field_name)
            for value in values:
                if value in exact:
                    return f"{key} is {value}" if single else f"{key} includes {value}"
            hit = first_glob(globs, values)
            return f"{key} {hit[0]} matches {hit[1]}" if hit else f"{key} is {quoted_list(patterns)}"

        expr = tests[0] if len(tests) == 1 else "(" + " or ".join(tests) + ")"
        needs = () if single else (key,)
        return Leaf(expr, f"{key} is {quoted_list(patterns)}", 2, needs, because)

    def domain_leaf(self, key: str, items: list[tuple[str, Loc]]) -> Node:
        patterns = [i.lower().lstrip("@").rstrip(".") for i, _ in items]
        exact = [p for p in patterns if GLOB_CHARS.isdisjoint(p)]
        globs = [p for p in patterns if not GLOB_CHARS.isdisjoint(p)]
        prefix = "from" if key == "from" else key
        tests: list[str] = []
        if exact:
            k = self.ns.const(frozenset(exact))
            tests.append(f"(not {k}.isdisjoint(c.{prefix}_suffixes))")
        if globs:
            k = self.ns.const(glob_regex(globs))
            if key == "from":
                tests.append(f"({k}.match(c.from_domain) is not None)")
            else:
                tests.append(f"_any_match({k}, c.{key}_domains)")

        def because(c: Context) -> str:
            domains: tuple[str, ...] = (c.from_domain,) if key == "from" else getattr(c, f"{key}_domains")
            for domain in domains:
                for suffix in suffixes(domain):
                    if suffix in exact:
                        return (
                            f"{key} domain is {domain}"
                            if suffix == domain
                            else f"{key} domain {domain} is under {suffix}"
                        )
            hit = first_glob(globs, domains)
            return f"{key} domain {hit[0]} matches {hit[1]}" if hit else f"{key} domain is {quoted_list(patterns)}"

        expr = tests[0] if len(tests) == 1 else "(" + " or ".join(tests) + ")"
        needs = () if key == "from" else (key,)
        return Leaf(expr, f"{key} domain is {quoted_list(patterns)}", 2, needs, because)

    def free_mail_leaf(self, wanted: bool) -> Node:
        if wanted:
            return Leaf(
                "(c.from_domain in _FREE)",
                "from a free-mail provider",
                1,
                because=lambda c: f"from {c.from_domain}, a free-mail provider",
            )
        return Leaf(
            "(c.from_domain != '' and c.from_domain not in _FREE)",
            "from a company domain (not free mail)",
            1,
            because=lambda c: f"from {c.from_domain}, not a free-mail provider",
        )
