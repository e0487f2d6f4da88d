"""What rules read from a long text once per message, so that each of many tests on it costs little.

A body is scanned once into its distinct words (maximal runs of regex word characters, `\\w+`). Then:
- a `contains_word` test of a needle made of word characters only is a set lookup: such a needle is a whole
  word of the text exactly when it is one of those runs;
- a `contains` test of such a needle looks in the distinct words joined by spaces (`vocabulary`), a text a
  fraction as long with the same answer: a needle without non-word characters never spans two runs; a needle
  with others ("book a demo") is looked for in the text only once its longest word is in the vocabulary;
- a regex is tried only if the text holds one of the literals every match of it must contain
  (`required_literals`), which `in` finds at C speed; and one that starts with `\\b` or a group of
  alternatives is run as patterns that start with plain text (`literal_first`), which `re` skips ahead to
  instead of trying the pattern at every position.
Each is exact: the same messages match as when every test reads the whole text.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from typing import Any

_WORD_RUN = re.compile(r"\w+")
# Every ASCII byte that is not a word character becomes a space (bytes from 128 up, the rest of UTF-8
# sequences, are kept): a table lookup per byte, several times faster than `re` or `str.translate`.
_GAPS = bytes(i if i >= 128 or chr(i).isalnum() or chr(i) == "_" else 32 for i in range(256))

# The parser `re` itself uses (public as sre_parse until 3.11, which deprecated that name). Only read here, and
# any surprise in it means "no literals known", so a change in a later Python costs speed, never a match.
_parser: Any = importlib.import_module("re._parser")

# More alternatives than this and scanning for each costs more than letting the regex look.
MAX_LITERALS = 8


def is_word(text: str) -> bool:
    """Whether `text` is made of word characters only (as `\\w` in a regex: letters, digits, `_`)."""
    return _WORD_RUN.fullmatch(text) is not None


def longest_word(needle: str) -> str | None:
    """The longest run of word characters in `needle` (3 or more of them), else None. Where `needle` is in a
    text, that run is inside one of the text's words: a cheap first test on the vocabulary."""
    runs = _WORD_RUN.findall(needle)
    best = max(runs, key=len, default="")
    return best if len(best) >= 3 else None


def word_runs(text: str) -> frozenset[str]:
    """The distinct maximal runs of word characters (`\\w+`) in `text`."""
    spaced = text.encode("utf-8", "surrogatepass").translate(_GAPS).decode("utf-8", "surrogatepass")
    pieces = frozenset(spaced.split())
    if text.isascii():
        return pieces
    # A piece may still hold non-ASCII non-word characters (… « — 。): `re` cuts those few. `str.isalnum` and
    # `\w` agree on every character but "_", which `re` then handles.
    odd = [piece for piece in pieces if not piece.isalnum()]
    if not odd:
        return pieces
    return pieces.difference(odd).union(*(_WORD_RUN.findall(piece) for piece in odd))


def vocabulary(words: Iterable[str]) -> str:
    """The words joined by spaces: a word-character needle is in it exactly when it is in the text they came
    from."""
    return " ".join(words)


def required_literals(pattern: str, flags: int = 0) -> tuple[str, ...] | None:
    """Texts of which every match of `pattern` (compiled with `flags`) contains at least one, or None when no
    short such list is known (a case-insensitive pattern, say). `(?:invoice|refund)\\s+\\d+` gives
    ("invoice", "refund"); `\\b\\d{2,}\\b.{0,30}\\b(units|kits)\\b` gives ("units", "kits")."""
    try:
        parsed = _parser.parse(pattern, flags)
        if parsed.state.flags & re.IGNORECASE:
            return None
        return _best(_candidates(parsed))
    except Exception:  # an unexpected shape of the parser's output: no prefilter, the regex alone decides
        return None


# A plain literal in regex source: no character that means anything to `re` (nor `#`, for verbose patterns).
_PLAIN = r"[^\\()\[\]{}.*+?|^$#]+"
# `\b`, then a group of plain alternatives or one plain literal, then the rest of the pattern.
_LEADING = re.compile(rf"(?P<edge>\\b)?(?:\((?:\?:)?(?P<alternatives>{_PLAIN}(?:\|{_PLAIN})*)\)|(?P<literal>{_PLAIN}))")
# In the rest, what reads group numbers (a back reference, a conditional) or sets flags: left as written.
_NUMBERED = re.compile(r"\\[1-9]|\(\?P=|\(\?\(|\(\?[a-zA-Z]+\)")


def literal_first(pattern: str) -> tuple[str, ...] | None:
    """Patterns that start with plain text and that, together, match where `pattern` matches (compiled without
    flags), or None when `pattern` has no such rewriting. `re` finds a plain-text start at C speed and tries the
    pattern there only; a leading `\\b` or group of alternatives makes it try the pattern at every position,
    several times slower. `\\b(?:invoice|refund)\\s+\\d+` becomes `invoice(?<!\\winvoice)\\s+\\d+` and
    `refund(?<!\\wrefund)\\s+\\d+`: the same edge, tested after the text."""
    found = _LEADING.match(pattern)
    if found is None or (found["edge"] is None and found["literal"] is not None):
        return None  # no leading group or edge: `re` already skips ahead
    rest = pattern[found.end() :]
    if _NUMBERED.search(rest) or rest[:1] in ("*", "+", "?", "{"):
        return None  # a quantified group (or the literal's last letter) cannot be split
    alternatives = (found["alternatives"] or found["literal"]).split("|")
    if not all(alternatives):
        return None
    rewritten = []
    for text in alternatives:
        escaped = re.escape(text)
        edge = ""
        if found["edge"]:  # \b before `text`: the character before it is (not) a word character
            edge = rf"(?<!\w{escaped})" if is_word(text[0]) else rf"(?<=\w{escaped})"
        rewritten.append(f"(?:{escaped}){edge}{rest}")
    try:
        if not all(_starts_plain(_parser.parse(source)) for source in rewritten):
            return None  # the rest has an `|` of its own: nothing gained
    except Exception:  # not a pattern after all: leave it as written
        return None
    return tuple(rewritten)


def _starts_plain(items: Iterable[tuple[Any, Any]]) -> bool:
    """Whether the parsed pattern `items` starts with a literal character (`re` then skips ahead to it)."""
    for op, av in items:
        if op.name == "SUBPATTERN" and not av[1] & re.IGNORECASE:
            return _starts_plain(av[3])
        return bool(op.name == "LITERAL")
    return False


def _candidates(items: Iterable[tuple[Any, Any]]) -> list[tuple[str, ...]]:
    """Lists of alternatives, each list required by the sequence `items` (one of its texts is in every match)."""
    found: list[tuple[str, ...]] = []
    run: list[str] = []
    for op, av in items:
        name = op.name
        if name == "LITERAL":
            run.append(chr(av))
            continue
        if run:
            found.append(("".join(run),))
            run = []
        if name == "SUBPATTERN":
            _group, add_flags, _del_flags, inner = av
            if not add_flags & re.IGNORECASE:
                found.extend(_candidates(inner))
        elif name == "ATOMIC_GROUP":
            found.extend(_candidates(av))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and av[0] >= 1:
            found.extend(_candidates(av[2]))
        elif name == "BRANCH":
            alternatives: list[str] = []
            for branch in av[1]:
                best = _best(_candidates(branch))
                if best is None:
                    break
                alternatives.extend(best)
            else:
                found.append(tuple(dict.fromkeys(alternatives)))
    if run:
        found.append(("".join(run),))
    return found


def _best(candidates: list[tuple[str, ...]]) -> tuple[str, ...] | None:
    """The most selective list: its shortest text the longest, then the fewest texts."""
    usable = [c for c in candidates if 0 < len(c) <= MAX_LITERALS]
    if not usable:
        return None
    return max(usable, key=lambda c: (min(len(t) for t in c), -len(c)))
