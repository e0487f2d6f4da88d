"""Text conditions: `subject`, `body` and `header`, with contains, contains_all, contains_word, regex, equals,
starts_with, ends_with (and `exists` for headers).

The body can be long (a mailing-list post, a commit diff) and 200 rules may test it, so body tests read the
words found in it once per message (`text_index`, `context.words`/`vocab`) where that gives the same
answer, and a regex runs only where the literals it needs are present. Subjects and headers are short and are
read as they are."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from inboxcrm.core.rules.checking import RuleChecker, quoted_list, shown_value
from inboxcrm.core.rules.conditions import AllOf, Leaf, Node
from inboxcrm.core.rules.context import Context, vocab, words
from inboxcrm.core.rules.text_index import is_word, literal_first, longest_word, required_literals
from inboxcrm.core.rules.vocabulary import HEADER_OPERATORS, TEXT_OPERATORS
from inboxcrm.core.tomlfile import Loc, suggest

# A test as generated code and the same test as a function (for explanations).
Test = tuple[str, Callable[[Context], bool]]
# The body's words and vocabulary in generated code: found on first use (`context.words`).
WORDS = "(c.body_words if c.body_words is not None else _words(c))"
VOCAB = "(c.body_vocab if c.body_vocab is not None else _vocab(c))"


def _lower_case_safe(pattern: str) -> bool:
    """Whether a case-insensitive `pattern` may run on the lower-cased text without IGNORECASE: it has no
    capitals (\\D, \\W, [A-Z] …), no escape naming a character by code (\\x41 is "A"), and no inline flag
    switching case-insensitivity off."""
    return pattern == pattern.lower() and re.search(r"\\[xu0-7]|\(\?[a-z]*-", pattern) is None


def _word(needle: str) -> re.Pattern[str]:
    """`needle` as a whole word; the lookbehind after it (`vat(?<!\\wvat)`) keeps a literal at the start."""
    escaped = re.escape(needle)
    return re.compile(rf"{escaped}(?<!\w{escaped})(?!\w)")


@dataclass(frozen=True)
class TextField:
    """A text that conditions test: its name for people, how generated code (`lower`, `raw`: expressions over the
    context `c`) and explanations (`lower_text`, `raw_text`) read it lower-cased and as written, what it needs
    digested, its cost, and its operators. `header` is the constant naming a header (its tests fail when the
    header is absent); `indexed`: the text is the body, whose words `context.words` and `context.vocab` give."""

    label: str
    lower: str
    raw: str
    lower_text: Callable[[Context], str]
    raw_text: Callable[[Context], str]
    needs: tuple[str, ...]
    cost: int
    operators: Sequence[str]
    header: str | None = None
    indexed: bool = False


class TextConditions(RuleChecker):
    """Compiles `subject`, `body` and `header`."""

    def text_field(self, key: str, value: Any, loc: Loc) -> Node | None:
        def lower_text(c: Context) -> str:
            return str(getattr(c, key))

        def raw_text(c: Context) -> str:
            return str(getattr(c, f"{key}_raw"))

        body = key == "body"
        field = TextField(
            key,
            f"c.{key}",
            f"c.{key}_raw",
            lower_text,
            raw_text,
            ("body",) if body else (),
            4 if body else 2,
            TEXT_OPERATORS,
            indexed=body,
        )
        return self.text_spec(field, value, loc)

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

            def lower_text(c: Context, header: str = header) -> str:
                return c.headers.get(header, "")

            def raw_text(c: Context, header: str = header) -> str:
                return c.headers_raw.get(header, "")

            field = TextField(
                f"header {name}",
                f"c.headers.get({k}, '')",
                f"c.headers_raw.get({k}, '')",
                lower_text,
                raw_text,
                ("headers", f"header:{header}"),
                3,
                HEADER_OPERATORS,
                header=k,
            )
            node = self.text_spec(field, spec, (*loc, name))
            if node is None:
                ok = False
            else:
                nodes.append(node)
        if not ok:
            return None
        return nodes[0] if len(nodes) == 1 else AllOf(nodes)

    def text_spec(self, field: TextField, value: Any, loc: Loc) -> Node | None:
        label, operators = field.label, field.operators
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
                        f"({field.header} {'in' if spec else 'not in'} c.headers)",
                        f"{label} is {'present' if spec else 'absent'}",
                        1,
                        field.needs,
                    )
                )
                continue
            items = self.strings(spec, where, "a pattern" if op == "regex" else "a text")
            if items is None:
                ok = False
                continue
            if op == "regex":
                leaf = self.regex_leaf(field, items, case_sensitive)
                if leaf is None:
                    ok = False
                else:
                    leaves.append(leaf)
                continue
            texts = [item for item, _ in items]
            needles = texts if case_sensitive else [t.lower() for t in texts]
            leaves.append(self.text_leaf(op, field, needles, case_sensitive))
        if not ok:
            return None
        return leaves[0] if len(leaves) == 1 else AllOf(leaves)

    def contains(self, field: TextField, needle: str, case_sensitive: bool) -> Test:
        """`needle in text`; on the body's lower-cased text a word-character needle is looked for in its
        distinct words (`vocab`), which hold it exactly when the text does."""
        k = self.ns.const(needle)
        indexed = field.indexed and not case_sensitive
        if indexed and is_word(needle):
            return f"{k} in {VOCAB}", lambda c: needle in vocab(c)
        text_expr, text_of = (field.raw, field.raw_text) if case_sensitive else (field.lower, field.lower_text)
        piece = longest_word(needle) if indexed else None
        if piece is not None:
            return self.first_in_vocab(piece, f"{k} in {text_expr}", lambda c: needle in text_of(c))
        return f"{k} in {text_expr}", lambda c: needle in text_of(c)

    def first_in_vocab(self, piece: str, expr: str, test: Callable[[Context], bool]) -> Test:
        """`expr` (and `test`), tried only where the body's vocabulary holds `piece`, a word of the needle."""
        p = self.ns.const(piece)
        return f"({p} in {VOCAB} and {expr})", lambda c: piece in vocab(c) and test(c)

    def whole_word(self, field: TextField, needle: str, case_sensitive: bool) -> Test:
        """`needle` as a whole word; on the body's lower-cased text a word-character needle is a whole word
        exactly when it is one of the text's words (`words`)."""
        k = self.ns.const(needle)
        indexed = field.indexed and not case_sensitive
        if indexed and is_word(needle):
            return f"{k} in {WORDS}", lambda c: needle in words(c)
        # Word edges as lookarounds, not \b: "c++" and "#urgent" are words to the people writing rules. The
        # text is lower-cased already (or case matters), so no IGNORECASE. `in` finds candidates at C speed;
        # the regex, starting with the needle, checks the word edges.
        text_expr, text_of = (field.raw, field.raw_text) if case_sensitive else (field.lower, field.lower_text)
        rx = _word(needle)
        r = self.ns.const(rx)

        def found(c: Context) -> bool:
            text = text_of(c)
            return needle in text and rx.search(text) is not None

        expr = f"({k} in {text_expr} and {r}.search({text_expr}) is not None)"
        piece = longest_word(needle) if indexed else None
        return self.first_in_vocab(piece, expr, found) if piece is not None else (expr, found)

    def text_leaf(self, op: str, field: TextField, needles: list[str], case_sensitive: bool) -> Node:
        label = field.label
        text_expr = field.raw if case_sensitive else field.lower
        text_of = field.raw_text if case_sensitive else field.lower_text
        guard = f"{field.header} in c.headers and " if field.header is not None else ""
        words = quoted_list(needles)
        if op in ("contains", "contains_all", "contains_word"):
            make = self.whole_word if op == "contains_word" else self.contains
            tests = [make(field, n, case_sensitive) for n in needles]
            joiner = " and " if op == "contains_all" else " or "
            expr = f"({guard}(" + joiner.join(e for e, _ in tests) + "))"
            the = "the word " if op == "contains_word" else ""

            def because(c: Context) -> str:
                found = [n for n, (_, has) in zip(needles, tests, strict=True) if has(c)]
                return f"{label} contains {the}{quoted_list(found, 'and')}"

            shown = quoted_list(needles, "and") if op == "contains_all" else words
            cost = field.cost + (1 if op == "contains_word" else len(needles) // 4)
            return Leaf(expr, f"{label} contains {the}{shown}", cost, field.needs, because)
        flags = 0 if case_sensitive else re.IGNORECASE
        described = {"equals": "is", "starts_with": "starts with", "ends_with": "ends with"}
        shape = {"equals": "^(?:{0})$", "starts_with": "^(?:{0})", "ends_with": "(?:{0})$"}[op]
        # A header may occur several times; its values are joined by newlines, and each is tested on its own.
        multiline = re.MULTILINE if field.header is not None else 0
        pattern = re.compile(shape.format("|".join(re.escape(n) for n in needles)), flags | multiline)
        if field.header is not None:
            expr = f"({guard}{self.ns.const(pattern)}.search({text_expr}) is not None)"
        else:
            k = self.ns.const(frozenset(needles) if op == "equals" else tuple(needles))
            method = {"equals": f"{text_expr} in {k}", "starts_with": f"{text_expr}.startswith({k})"}
            expr = "(" + method.get(op, f"{text_expr}.endswith({k})") + ")"

        def matched(c: Context) -> str:
            found = pattern.search(text_of(c))
            shown = repr(found.group(0)[:40]) if found else words
            return f"{label} {described[op]} {shown}"

        return Leaf(expr, f"{label} {described[op]} {words}", field.cost, field.needs, matched)

    def regex_leaf(self, field: TextField, items: list[tuple[str, Loc]], case_sensitive: bool) -> Node | None:
        """A regex test: any of the patterns matches. Each runs only where the text holds one of the literals
        every match of it contains (`required_literals`), if it has such a short list."""
        flags = 0 if case_sensitive else re.IGNORECASE
        compiled: list[tuple[str, re.Pattern[str], bool, Test]] = []  # as written, as run, on lower-cased text
        for pattern, where in items:
            try:
                rx = re.compile(pattern, flags)
            except re.error as exc:
                hint = "to match text as written use `contains`; ( ) [ ] { } . * + ? | ^ $ \\ need a backslash"
                self.problem(where, f"bad regex /{pattern}/: {exc.msg} at position {exc.pos}", hint)
                continue
            on_lower = not case_sensitive and _lower_case_safe(pattern)
            if on_lower:
                # The same matches 3-6x faster: without IGNORECASE `re` can skip ahead to a literal prefix.
                rx = re.compile(pattern)
            compiled.append((pattern, rx, on_lower, self.search(field, rx, on_lower)))
        if len(compiled) != len(items):
            return None
        guard = f"{field.header} in c.headers and " if field.header is not None else ""
        expr = f"({guard}(" + " or ".join(test for _, _, _, (test, _) in compiled) + "))"

        def because(c: Context) -> str:
            lower_text, raw_text = field.lower_text(c), field.raw_text(c)
            for pattern, rx, on_lower, (_, may_match) in compiled:
                found = rx.search(lower_text if on_lower else raw_text) if may_match(c) else None
                if found is not None:
                    # Show the words as written; lower-casing keeps offsets unless a rare letter changes length.
                    same = not on_lower or len(lower_text) == len(raw_text)
                    shown = raw_text[found.start() : found.end()] if same else found.group(0)
                    return f"{field.label} matches /{pattern}/: {shown[:40]!r}"
            return f"{field.label} matches {self.describe_patterns(compiled)}"

        text = f"{field.label} matches {self.describe_patterns(compiled)}"
        return Leaf(expr, text, field.cost + 3, field.needs, because)

    def search(self, field: TextField, rx: re.Pattern[str], on_lower: bool) -> Test:
        """`rx` searched in the text (the lower-cased one if `on_lower`), written so that `re` skips ahead
        (`literal_first`), and only once the literals it needs are found in the text: the cheap `in` spares
        most texts the regex. The function only tells whether searching is worth it (explanations search with
        `rx` itself, for the match to show)."""
        text_expr = field.lower if on_lower else field.raw
        flagless = rx.flags & re.IGNORECASE == 0
        rewritten = literal_first(rx.pattern) if flagless else None
        searches = [self.ns.const(re.compile(p)) for p in rewritten] if rewritten else [self.ns.const(rx)]
        search = " or ".join(f"{r}.search({text_expr}) is not None" for r in searches)
        literals = required_literals(rx.pattern, rx.flags)  # None for a case-insensitive regex
        if not literals:
            return f"({search})", lambda c: True
        prefilter = [self.contains(field, literal, not on_lower) for literal in literals]
        expr = "((" + " or ".join(e for e, _ in prefilter) + f") and ({search}))"

        def may_match(c: Context) -> bool:
            return any(has(c) for _, has in prefilter)

        return expr, may_match

    @staticmethod
    def describe_patterns(compiled: Sequence[tuple[str, Any, Any, Any]]) -> str:
        return " or ".join(f"/{pattern}/" for pattern, _, _, _ in compiled)
