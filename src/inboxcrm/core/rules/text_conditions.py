"""Text conditions: `subject`, `body` and `header`, with contains, contains_all, contains_word, regex, equals,
starts_with, ends_with (and `exists` for headers)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from inboxcrm.core.rules.checking import RuleChecker, quoted_list, shown_value
from inboxcrm.core.rules.conditions import AllOf, Leaf, Node
from inboxcrm.core.rules.context import Context
from inboxcrm.core.rules.vocabulary import HEADER_OPERATORS, TEXT_OPERATORS
from inboxcrm.core.tomlfile import Loc, suggest


def _lower_case_safe(pattern: str) -> bool:
    """Whether a case-insensitive `pattern` may run on the lower-cased text without IGNORECASE: it has no
    capitals (\\D, \\W, [A-Z] …), no escape naming a character by code (\\x41 is "A"), and no inline flag
    switching case-insensitivity off."""
    return pattern == pattern.lower() and re.search(r"\\[xu0-7]|\(\?[a-z]*-", pattern) is None


def _word(needle: str) -> re.Pattern[str]:
    """`needle` as a whole word; the lookbehind after it (`vat(?<!\\wvat)`) keeps a literal at the start."""
    escaped = re.escape(needle)
    return re.compile(rf"{escaped}(?<!\w{escaped})(?!\w)")


class TextConditions(RuleChecker):
    """Compiles `subject`, `body` and `header`."""

    def text_field(self, key: str, value: Any, loc: Loc) -> Node | None:
        label = key
        lower, raw = f"c.{key}", f"c.{key}_raw"
        needs = ("body",) if key == "body" else ()
        cost = 4 if key == "body" else 2

        def lower_text(c: Context) -> str:
            return str(getattr(c, key))

        def raw_text(c: Context) -> str:
            return str(getattr(c, f"{key}_raw"))

        return self.text_spec(label, value, loc, lower, raw, None, needs, cost, lower_text, raw_text, TEXT_OPERATORS)

    def headers(self, value: Any, loc: Loc) -> Node | None:
        if not isinstance(value, dict) or not value:
            self.problem(
                loc, f"`header` takes a table of header names, got {shown_value(value)}", 'header."X-Priority" = "1"'
            )
            return None
        nodes: list[Node] = []
        ok = True
        for name, spec in value.items():
            header = name.strip().lower()
            k = self.ns.const(header)
            label = f"header {name}"
            lower, raw = f"c.headers.get({k}, '')", f"c.headers_raw.get({k}, '')"

            def lower_text(c: Context, header: str = header) -> str:
                return c.headers.get(header, "")

            def raw_text(c: Context, header: str = header) -> str:
                return c.headers_raw.get(header, "")

            needs = ("headers", f"header:{header}")
            node = self.text_spec(
                label, spec, (*loc, name), lower, raw, k, needs, 3, lower_text, raw_text, HEADER_OPERATORS
            )
            if node is None:
                ok = False
            else:
                nodes.append(node)
        if not ok:
            return None
        return nodes[0] if len(nodes) == 1 else AllOf(nodes)

    def text_spec(
        self,
        label: str,
        value: Any,
        loc: Loc,
        lower: str,
        raw: str,
        header: str | None,
        needs: Sequence[str],
        cost: int,
        lower_text: Callable[[Context], str],
        raw_text: Callable[[Context], str],
        operators: Sequence[str],
    ) -> Node | None:
        if isinstance(value, str | list):
            value = {"contains": value}
        if not isinstance(value, dict):
            self.problem(
                loc,
                f"`{label}` takes text, a list of texts or a table, got {shown_value(value)}",
                'e.g. { contains = "x" }',
            )
            return None
        case_sensitive = value.get("case_sensitive", False)
        if not isinstance(case_sensitive, bool):
            self.problem(
                (*loc, "case_sensitive"),
                f"`case_sensitive` must be true or false, got {shown_value(case_sensitive)}",
                "case_sensitive = true",
            )
            return None
        tests = [op for op in value if op != "case_sensitive"]
        if not tests:
            self.problem(
                loc, f"`{label}` has no test", f"use {quoted_list([op for op in operators if op != 'case_sensitive'])}"
            )
            return None
        text_expr = raw if case_sensitive else lower
        text_of = raw_text if case_sensitive else lower_text
        guard = f"{header} in c.headers and " if header is not None else ""
        leaves: list[Node] = []
        ok = True
        for op in tests:
            spec, where = value[op], (*loc, op)
            if op not in operators:
                hint = suggest(op, operators)
                if op == "exists":
                    hint = "`exists` applies to headers only"
                self.problem(where, f"unknown operator {op!r} for `{label}`", hint)
                ok = False
                continue
            if op == "exists":
                if not isinstance(spec, bool):
                    self.problem(where, f"`exists` must be true or false, got {shown_value(spec)}", "exists = false")
                    ok = False
                    continue
                leaves.append(
                    Leaf(
                        f"({header} {'in' if spec else 'not in'} c.headers)",
                        f"{label} is {'present' if spec else 'absent'}",
                        1,
                        needs,
                    )
                )
                continue
            items = self.strings(spec, where, "a pattern" if op == "regex" else "a text")
            if items is None:
                ok = False
                continue
            texts = [item for item, _ in items]
            if op == "regex":
                leaf = self.regex_leaf(
                    label, items, case_sensitive, lower, raw, guard, needs, cost, (lower_text, raw_text)
                )
                if leaf is None:
                    ok = False
                else:
                    leaves.append(leaf)
                continue
            needles = texts if case_sensitive else [t.lower() for t in texts]
            leaves.append(
                self.text_leaf(op, label, needles, header, text_expr, guard, needs, cost, text_of, case_sensitive)
            )
        if not ok:
            return None
        return leaves[0] if len(leaves) == 1 else AllOf(leaves)

    def text_leaf(
        self,
        op: str,
        label: str,
        needles: list[str],
        header: str | None,
        text_expr: str,
        guard: str,
        needs: Sequence[str],
        cost: int,
        text_of: Callable[[Context], str],
        case_sensitive: bool,
    ) -> Node:
        words = quoted_list(needles)
        if op in ("contains", "contains_all"):
            names = [self.ns.const(n) for n in needles]
            joiner = " or " if op == "contains" else " and "
            test = "(" + joiner.join(f"{n} in {text_expr}" for n in names) + ")"

            def because(c: Context) -> str:
                text = text_of(c)
                found = [n for n in needles if n in text]
                return f"{label} contains {quoted_list(found, 'and')}"

            text = f"{label} contains {words if op == 'contains' else quoted_list(needles, 'and')}"
            return Leaf(f"({guard}{test})", text, cost + len(needles) // 4, needs, because)
        if op == "contains_word":
            # Word edges as lookarounds, not \b: "c++" and "#urgent" are words to the people writing rules. The
            # text is lower-cased already (or case matters), so no IGNORECASE. One regex of alternatives has no
            # literal prefix for `re` to skip ahead with and is slow on long bodies; so `in` finds candidates at C
            # speed, and one regex per needle, starting with the needle, checks the word edges.
            patterns = [(n, _word(n)) for n in needles]
            tests = [
                f"({self.ns.const(n)} in {text_expr} and {self.ns.const(rx)}.search({text_expr}) is not None)"
                for n, rx in patterns
            ]

            def as_word(c: Context) -> str:
                text = text_of(c)
                found = [n for n, rx in patterns if n in text and rx.search(text) is not None]
                return f"{label} contains the word {quoted_list(found, 'and')}"

            expr = f"({guard}(" + " or ".join(tests) + "))"
            return Leaf(expr, f"{label} contains the word {words}", cost + 1, needs, as_word)
        flags = 0 if case_sensitive else re.IGNORECASE
        described = {"equals": "is", "starts_with": "starts with", "ends_with": "ends with"}
        shape = {"equals": "^(?:{0})$", "starts_with": "^(?:{0})", "ends_with": "(?:{0})$"}[op]
        # A header may occur several times; its values are joined by newlines, and each is tested on its own.
        multiline = re.MULTILINE if header is not None else 0
        pattern = re.compile(shape.format("|".join(re.escape(n) for n in needles)), flags | multiline)
        if header is not None:
            expr = f"({guard}{self.ns.const(pattern)}.search({text_expr}) is not None)"
        else:
            k = self.ns.const(frozenset(needles) if op == "equals" else tuple(needles))
            method = {"equals": f"{text_expr} in {k}", "starts_with": f"{text_expr}.startswith({k})"}
            expr = "(" + method.get(op, f"{text_expr}.endswith({k})") + ")"

        def matched(c: Context) -> str:
            found = pattern.search(text_of(c))
            shown = repr(found.group(0)[:40]) if found else words
            return f"{label} {described[op]} {shown}"

        return Leaf(expr, f"{label} {described[op]} {words}", cost, needs, matched)

    def regex_leaf(
        self,
        label: str,
        items: list[tuple[str, Loc]],
        case_sensitive: bool,
        lower: str,
        raw: str,
        guard: str,
        needs: Sequence[str],
        cost: int,
        texts: tuple[Callable[[Context], str], Callable[[Context], str]],
    ) -> Node | None:
        """A regex test; `lower`/`raw` are the expressions, `texts` the functions, for the lower-cased and the
        original text."""
        flags = 0 if case_sensitive else re.IGNORECASE
        compiled: list[tuple[str, re.Pattern[str], bool]] = []  # (as written, as run, runs on the lower-cased text)
        for pattern, where in items:
            try:
                rx = re.compile(pattern, flags)
            except re.error as exc:
                hint = "to match text as written use `contains`; ( ) [ ] { } . * + ? | ^ $ \\ need a backslash"
                self.problem(where, f"bad regex /{pattern}/: {exc.msg} at position {exc.pos}", hint)
                continue
            if not case_sensitive and _lower_case_safe(pattern):
                # The same matches 3-6x faster: without IGNORECASE `re` can skip ahead to a literal prefix.
                compiled.append((pattern, re.compile(pattern), True))
            else:
                compiled.append((pattern, rx, False))
        if len(compiled) != len(items):
            return None
        tests = [
            f"{self.ns.const(rx)}.search({lower if on_lower else raw}) is not None" for _, rx, on_lower in compiled
        ]
        expr = f"({guard}(" + " or ".join(tests) + "))"

        def because(c: Context) -> str:
            lower_text, raw_text = texts[0](c), texts[1](c)
            for pattern, rx, on_lower in compiled:
                found = rx.search(lower_text if on_lower else raw_text)
                if found is not None:
                    # Show the words as written; lower-casing keeps offsets unless a rare letter changes length.
                    same = not on_lower or len(lower_text) == len(raw_text)
                    shown = raw_text[found.start() : found.end()] if same else found.group(0)
                    return f"{label} matches /{pattern}/: {shown[:40]!r}"
            return f"{label} matches {self.describe_patterns(compiled)}"

        text = f"{label} matches {self.describe_patterns(compiled)}"
        return Leaf(expr, text, cost + 3, needs, because)

    @staticmethod
    def describe_patterns(compiled: Sequence[tuple[str, re.Pattern[str], bool]]) -> str:
        return " or ".join(f"/{pattern}/" for pattern, _, _ in compiled)
