"""A TOML file we check: its data or why it is not TOML, the line of every key, problems with file:line.

Pure: callers pass the text and the file's name in. Config, rules, campaigns and segments read their files
through here, so every problem reads the same way: `file:line: key: message (hint)`, and "did you mean"
comes from one place (`suggest`).
"""

from __future__ import annotations

import bisect
import contextlib
import difflib
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# A key's place in the data: table names, keys and array indexes, e.g. ("rule", 0, "when", "subject").
Loc = tuple[str | int, ...]

SYNTAX_HINT = "check quotes, brackets and commas on that line"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a file. `line` is None only when even the line is unknown (an unreadable file);
    `key` is the dotted key it is about, when the message does not name it."""

    file: str
    line: int | None
    message: str
    hint: str = ""
    key: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        about = f"{self.key}: " if self.key else ""
        return f"{where}: {about}{self.message}" + (f" ({self.hint})" if self.hint else "")


class FilesInvalid(Exception):
    """The files cannot be used; `problems` lists every problem in every file."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


# ---------------------------------------------------------------------------------------------------------
# Reading


def parse(text: str, file: str, hint: str = SYNTAX_HINT) -> dict[str, Any] | Problem:
    """The data in TOML `text`, or the `Problem` saying why it is not TOML, on the line to look at: the
    line of the bracket of an array or inline table left open, or of the quote of a string left open."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message, line = _syntax_error(text, str(exc))
        return Problem(file, line, f"not valid TOML: {message}", hint)


_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_AT_END = "(at end of document)"


def _syntax_error(text: str, message: str) -> tuple[str, int | None]:
    """tomllib's message without its position, and the line to report."""
    found = _POSITION.search(message)
    if found is not None:
        line, column = int(found.group(1)), int(found.group(2))
        message = message[: found.start()]
        starts = _line_starts(text)
        offset = starts[line - 1] + column - 1 if line <= len(starts) else len(text)
        opener = {"Unclosed array": "[", "Unclosed inline table": "{"}.get(message)
        if opener is None:
            return message, line
        brackets = [at for char, at in _open_brackets(text, offset) if char == opener]
        return message, (_line_at(text, brackets[-1]) if brackets else line)
    if message.endswith(_AT_END):
        # the reader ran out of text: the bracket or string left open, or else the last line
        message = message.removesuffix(_AT_END).strip()
        opened = _open_brackets(text, len(text))
        return message, (_line_at(text, opened[-1][1]) if opened else (len(text.splitlines()) or None))
    return message, None


def _line_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in re.finditer("\n", text)]


def _line_at(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _open_brackets(text: str, end: int) -> list[tuple[str, int]]:
    """The brackets ([ and {) still open at `end`, outermost first, each with its offset, and any string left
    open (its quote); comments are skipped. Meant for text that is valid TOML up to `end`."""
    stack: list[tuple[str, int]] = []
    pos = 0
    while pos < end:
        char = text[pos]
        if char == "#":
            newline = text.find("\n", pos)
            pos = len(text) if newline < 0 else newline
        elif char in "\"'":
            start, pos = pos, _string_end(text, pos)
            if not _closed(text, start, pos):
                stack.append((char, start))
        else:
            if char in "[{":
                stack.append((char, pos))
            elif char in "]}" and stack:
                stack.pop()
            pos += 1
    return stack


def _closed(text: str, start: int, end: int) -> bool:
    """Whether the string from `start` to `end` (as `_string_end` found it) has its closing quote."""
    quotes = 3 if text.startswith(text[start] * 3, start) else 1
    return end - start >= 2 * quotes and text[end - 1] == text[start]


def _string_end(text: str, pos: int) -> int:
    """The offset after the string starting at `pos` (basic or literal, one line or three quotes); a string
    left open ends at the end of its line (one-line strings) or of the text."""
    quote = text[pos]
    if text.startswith(quote * 3, pos):
        i = pos + 3
        while i < len(text):
            if quote == '"' and text[i] == "\\":
                i += 2
                continue
            if text.startswith(quote * 3, i):
                run = 3  # up to two quotes may end the content: """a"""" is 'a"'
                while run < 5 and i + run < len(text) and text[i + run] == quote:
                    run += 1
                return i + run
            i += 1
        return len(text)
    i = pos + 1
    while i < len(text) and text[i] not in (quote, "\n"):
        i += 2 if quote == '"' and text[i] == "\\" else 1
    return i + 1 if i < len(text) and text[i] == quote else i


# ---------------------------------------------------------------------------------------------------------
# Where each key is written (tomllib reports no positions)


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR = re.compile(r"[^,\]}\r\n#]+")


class _LineScanner:
    """Map each key path, array item and table of a *valid* TOML text to its line, e.g.
    ("rule", 0, "when", "any", 1, "subject") → 14. Inline tables and multi-line arrays included."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.newlines = [m.start() for m in re.finditer("\n", text)]
        self.lines: dict[Loc, int] = {}
        self.arrays: dict[Loc, int] = {}

    def line(self) -> int:
        return bisect.bisect_left(self.newlines, self.pos) + 1

    def scan(self) -> None:
        table: Loc = ()
        text = self.text
        while True:
            self.skip(newlines=True)
            if self.pos >= len(text):
                return
            line = self.line()
            if text.startswith("[[", self.pos):
                self.pos += 2
                keys = self.key()
                self.expect("]]")
                base = (*self.resolve(keys[:-1]), keys[-1])
                index = self.arrays.get(base, 0)
                self.arrays[base] = index + 1
                table = (*base, index)
                self.lines.setdefault(table, line)
            elif text[self.pos] == "[":
                self.pos += 1
                table = self.resolve(self.key())
                self.expect("]")
                self.lines.setdefault(table, line)
            else:
                self.pair(table, line)

    def resolve(self, keys: Sequence[str]) -> Loc:
        """A header's path, with the current index of each array of tables it passes through."""
        path: Loc = ()
        for key in keys:
            path = (*path, key)
            if path in self.arrays:
                path = (*path, self.arrays[path] - 1)
        return path

    def pair(self, table: Loc, line: int) -> None:
        keys = self.key()
        self.expect("=")
        for end in range(1, len(keys) + 1):
            self.lines.setdefault((*table, *keys[:end]), line)
        self.value((*table, *keys))

    def value(self, path: Loc) -> None:
        self.skip(newlines=False)
        self.lines.setdefault(path, self.line())
        text = self.text
        char = text[self.pos]
        if char == "{":
            self.pos += 1
            while True:
                self.skip(newlines=True)
                if text[self.pos] == "}":
                    self.pos += 1
                    return
                self.pair(path, self.line())
                self.skip(newlines=True)
                if text[self.pos] == ",":
                    self.pos += 1
        elif char == "[":
            self.pos += 1
            index = 0
            while True:
                self.skip(newlines=True)
                if text[self.pos] == "]":
                    self.pos += 1
                    return
                self.value((*path, index))
                index += 1
                self.skip(newlines=True)
                if text[self.pos] == ",":
                    self.pos += 1
        elif char in "\"'":
            self.pos = _string_end(text, self.pos)
        else:
            found = _SCALAR.match(text, self.pos)
            if found is None:
                raise ValueError(f"unexpected {char!r}")
            self.pos = found.end()

    def key(self) -> tuple[str, ...]:
        parts: list[str] = []
        while True:
            self.skip(newlines=False)
            start = self.pos
            if self.text[start] in "\"'":
                self.pos = _string_end(self.text, start)
                quoted = self.text[start : self.pos]
                parts.append(tomllib.loads(f"k = {quoted}")["k"] if "\\" in quoted else quoted[1:-1])
            else:
                found = _BARE_KEY.match(self.text, start)
                if found is None:
                    raise ValueError("no key")
                parts.append(found.group())
                self.pos = found.end()
            self.skip(newlines=False)
            if self.pos < len(self.text) and self.text[self.pos] == ".":
                self.pos += 1
                continue
            return tuple(parts)

    def expect(self, token: str) -> None:
        self.skip(newlines=False)
        if not self.text.startswith(token, self.pos):
            raise ValueError(f"expected {token}")
        self.pos += len(token)

    def skip(self, *, newlines: bool) -> None:
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in " \t" or (newlines and char in "\r\n"):
                self.pos += 1
            elif char == "#" and newlines:
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            else:
                return


def key_lines(text: str) -> dict[Loc, int]:
    """The line of every key path, table and array item in TOML `text` (best effort: a path it cannot place
    is left out)."""
    scanner = _LineScanner(text)
    # The locator only refines line numbers; if it trips on something, problems keep their coarser lines.
    with contextlib.suppress(Exception):
        scanner.scan()
    return scanner.lines


def line_of(lines: Mapping[Loc, int], loc: Loc) -> int | None:
    """The line of `loc`, or of the nearest enclosing key that has one (a key's value may have none)."""
    for end in range(len(loc), 0, -1):
        found = lines.get(loc[:end])
        if found is not None:
            return found
    return None


class Checker:
    """Checks one TOML file: problems go to a list shared over files, each on the line of its key."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems
        self.lines: dict[Loc, int] = {}

    def parse(self, text: str, hint: str = SYNTAX_HINT) -> dict[str, Any] | None:
        """The data in `text`, or None once the reason it is not TOML is reported."""
        found = parse(text, self.file, hint)
        if isinstance(found, Problem):
            self.problems.append(found)
            return None
        self.lines = key_lines(text)
        return found

    def line(self, loc: Loc) -> int | None:
        return line_of(self.lines, loc)

    def problem(self, loc: Loc, message: str, hint: str = "") -> None:
        self.problems.append(Problem(self.file, self.line(loc), message, hint))

    def array_of_tables(
        self, data: Mapping[str, Any], name: str, keys: Iterable[str], shown: Callable[[object], str] = repr
    ) -> list[tuple[dict[str, Any], Loc]]:
        """The `[[name]]` tables of a file that holds nothing else, each with its place; anything else at the
        top is reported (`keys`, the keys a table takes, get a hint of their own), and so is a `[name]`."""
        inner = frozenset(keys)
        for key in data:
            if key != name:
                hint = f"start each {name} with a [[{name}]] line" if key in inner else suggest(key, (name,))
                self.problem((key,), f"unknown key {key!r} at the top of the file", hint)
        tables = data.get(name, [])
        if isinstance(tables, dict):
            self.problem(
                (name,), f"`[{name}]` is a single table", f"write [[{name}]] (double brackets) for each {name}"
            )
            return []
        if not isinstance(tables, list):
            message = f"`{name}` must be a list of tables, got {shown(tables)}"
            self.problem((name,), message, f"start each {name} with [[{name}]]")
            return []
        found: list[tuple[dict[str, Any], Loc]] = []
        for index, table in enumerate(tables):
            loc: Loc = (name, index)
            if isinstance(table, dict):
                found.append((table, loc))
            else:
                self.problem(loc, f"a {name} must be a table, got {shown(table)}", f"write each {name} as [[{name}]]")
        return found


# ---------------------------------------------------------------------------------------------------------
# Did you mean


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice `word` was probably meant to be (also one differing only in case), or None."""
    options = sorted(set(choices))
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not close:
        close = [o for o in options if o.lower() == word.lower()][:1]
    return close[0] if close else None


def suggest(word: str, choices: Iterable[str], what: str = "", *, in_order: bool = False) -> str:
    """A hint for an unknown name: the closest choice, or the choices (sorted, or as given with `in_order`,
    e.g. stages in lifecycle order), or that there are no `what`s."""
    given = list(dict.fromkeys(choices))
    close = closest(word, given)
    if close is not None:
        return f"did you mean {close!r}?"
    if not given:
        return f"no {what}s are defined" if what else ""
    options = given if in_order else sorted(given)
    shown = ", ".join(options[:12]) + (", …" if len(options) > 12 else "")
    return f"expected one of: {shown}"
