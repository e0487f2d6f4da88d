"""Quote headers: "On … wrote:" in many languages (possibly wrapped), Gmail's dated variants, Android's marker."""

from __future__ import annotations

import re
from collections.abc import Sequence

from inboxcrm.core.quotes.forward_block import FORWARD_RE, LABEL_RE
from inboxcrm.core.quotes.lines import (
    BLANK,
    HEADER,
    HEADER_LOOKBACK,
    LABEL_LIKE_RE,
    MAX_HEADER_LINE,
    MAX_SHORT_LINE,
    QUOTE,
    TEXT,
)

# Android/HTC write this over a reply's quoted original; it is a quote header, not a forward.
_REPLY_MARKER_RE = re.compile(r"[\s*]*-{2,}\s*Reply\s+message\s*-{2,}\s*\**\s*$", re.I)

# "wrote" in the languages quote headers come in, as phrases (a space stands for any run of white space).
# Latin-script verbs must start a word; the others may follow anything ("张三写道").
_WORD_VERBS = (
    "wrote", "writes", "said", "says", "a écrit", "a ecrit", "nous a dit", "schrieb", "schrieben Sie", "geschrieben",
    "schreef", "het volgende geschreven", "escribió", "escribio", "escreveu", "ha scritto", "skrev", "kirjoitti",
    "írta", "napisał(a)", "napisała", "napisał", "pisze", "napsal(a)", "napsal", "napísal", "написал(а)", "написала",
    "написал", "пише", "писал", "yazdı", "έγραψε", "scrise",
)  # fmt: skip
_GLUED_VERBS = ("写道", "寫道", "のメッセージ", "は書きました", "書きました", "님이작성", "님이 작성")


def _phrase(phrase: str, backwards: bool = False) -> str:
    """A verb phrase as a regular expression, or the expression of the phrase written backwards."""
    words = [word[::-1] for word in reversed(phrase.split(" "))] if backwards else phrase.split(" ")
    return r"\s+".join(re.escape(word) for word in words)


def _alternatives(phrases: tuple[str, ...], backwards: bool = False) -> str:
    """The phrases as alternatives of one regular expression (each written backwards if asked)."""
    return "|".join(_phrase(phrase, backwards) for phrase in phrases)


_VERBS = rf"(?:(?<!\w)(?:{_alternatives(_WORD_VERBS)})|{_alternatives(_GLUED_VERBS)})"
_VERB_ANY_RE = re.compile(_VERBS, re.I)
# "… wrote:" at the end of a header.
_VERB_END_RE = re.compile(_VERBS + r"\s*[:：.]?\s*-*\s*$", re.I)
# The same read from the end of the reversed text: `_VERB_END_RE.search(text)` is
# `_REVERSED_VERB_END_RE.match(text[::-1])`, one anchored attempt instead of one at every position (the
# quote-header scan asks it of nearly every line of every body).
_REVERSED_VERB_END_RE = re.compile(
    rf"\s*-*\s*[:：.]?\s*(?:(?:{_alternatives(_WORD_VERBS, True)})(?!\w)|{_alternatives(_GLUED_VERBS, True)})", re.I
)
# Verbs after which some clients put more before the colon: "schrieb am Fr., 28. Apr. 2017 um 11:53 Uhr:",
# "skrev Jeff <jeff@example.com>:", "wrote on 5/5/2016:".
_VERB_TAIL_RE = re.compile(
    r"(?<!\w)(?:schrieb|skrev|schreef|wrote|escribió|a\s+écrit)\s[^\n]{0,120}?[:：]\s*-*\s*$", re.I
)
# Gmail in some locales: "2015-10-18 0:17 GMT+03:00 Matt <m@example.com>:", "2013/7/20 sam <s@example.com>".
_DATE_EMAIL_END_RE = re.compile(r"<[^\s<>@]+@[^\s<>]+>\s*[:：]?\s*$")
_ISO_GMAIL_RE = re.compile(r"\d{4}-\d\d-\d\d \d\d?:\d\d GMT[+-]\d\d?:\d\d\s.{1,100}$")
_DATE_TOKEN_RE = re.compile(r"\d{1,4}[./\-年]\d{1,2}|\d{1,2}:\d{2}|(?<!\d)(?:19|20)\d{2}(?!\d)")
# Words a quote header opens with: "On", "Le", "Am", "El", "Il", "Op", "Den", "W dniu", "Em", "在" …
_OPENER_RE = re.compile(
    r"[\s>*-]*(?:On|At|In\s+message|Le|Am|El|Il|Op|Den|Dnia|Dňa|W\s+dniu|Em|Dne|Στις|Pada|Vào|På|В|Во|在|於)"
    r"(?=[\s,])",
    re.I,
)
# Month and weekday abbreviations a wrapped header line can end with ("Le 4 janv."), which end no sentence.
_ABBREVIATIONS = frozenset(
    {"jan", "janv", "feb", "febr", "févr", "fév", "mar", "mrt", "apr", "avr", "abr", "may", "mai", "jun", "juin",
     "jul", "juil", "aug", "ago", "août", "sep", "sept", "oct", "okt", "nov", "dec", "déc", "dic", "des", "ene",
     "mon", "tue", "wed", "thu", "fri", "sat", "sun", "mo", "di", "mi", "do", "fr", "sa", "so", "lun", "mer", "jeu",
     "ven", "sam", "dim", "nachm", "vorm"}
)  # fmt: skip


def quote_headers(clean: list[str], kind: list[int], limit: int, hints: Sequence[str] | None) -> list[tuple[int, int]]:
    """(first, last) line of every top-level quote header before `limit`, in order."""
    found: list[tuple[int, int]] = []
    has_verb: dict[int, bool] = {}

    def verb_near(j: int) -> bool:
        # The verb of a wrapped header is on its last line or a few lines above ("schrieb am …\num 11:53 Uhr:").
        for k in range(j, max(-1, j - HEADER_LOOKBACK - 1), -1):
            if k not in has_verb:
                has_verb[k] = len(clean[k]) <= MAX_HEADER_LINE and _VERB_ANY_RE.search(clean[k]) is not None
            if has_verb[k]:
                return True
        return False

    last_end = -1
    j = 0
    while j < limit:
        c = clean[j]
        if hints is not None and hints[j] == "h" and c:
            end = j
            while end + 1 < limit and hints[end + 1] == "h":
                end += 1
            found.append((j, end))
            last_end = j = end
            j += 1
            continue
        if c and len(c) <= MAX_HEADER_LINE and _may_end_header(c):
            start = None
            if verb_near(j) or _DATE_EMAIL_END_RE.search(c) or _ISO_GMAIL_RE.match(c) or _REPLY_MARKER_RE.match(c):
                start = _header_start(clean, kind, j, last_end)
            if start is None and kind[j] == TEXT and _is_attribution(clean, kind, j, limit):
                start = j
            if start is not None:
                j = _wrapped_verb_end(clean, j, limit)
                found.append((start, j))
                last_end = j
        j += 1
    return found


def _wrapped_verb_end(clean: list[str], j: int, limit: int) -> int:
    """Extend a header over the wrapped "wrote:" fragment below it ("…<a@example.com>\\n> wrote:")."""
    for k in range(j + 1, min(j + 3, limit)):
        fragment = clean[k].lstrip("> ")
        if not fragment:
            continue
        if len(fragment) <= 40 and _VERB_END_RE.match(fragment) is not None:
            return k
        break
    return j


def _may_end_header(c: str) -> bool:
    """Whether line `c` may be the last line of a quote header (the scan asks this of every line)."""
    return (
        c[-1] in ":：>-"
        or _REVERSED_VERB_END_RE.match(c[-48:][::-1]) is not None
        or (c[0].isdigit() and _ISO_GMAIL_RE.match(c) is not None)
    )


def _header_start(clean: list[str], kind: list[int], j: int, floor: int) -> int | None:
    """The first line of a quote header ending on line `j`, or None.

    Headers wrap: we try windows of up to six lines ending at `j`. A window opening with an attribution
    word ("On", "Le", "Am" …) wins at its smallest; otherwise the largest window whose every line carries
    a date or an address is taken, so a wrapped "02.04.2012 14:20 Bob <\\nbob@example.com> написал:" stays whole.
    """
    if kind[j] != QUOTE and _REPLY_MARKER_RE.match(clean[j]):
        return j
    if kind[j] == QUOTE and _qualifies(clean[j].lstrip("> ")):
        return None  # a quoted header ("> On … wrote:") belongs to the quote, not to the line above it
    best_weak: int | None = None
    weak_chain = True
    blank_inside = False
    parts: list[str] = []  # the window's lines, last first
    for i in range(j, max(floor, j - HEADER_LOOKBACK - 1), -1):
        c = clean[i]
        if not c:
            if i == j:
                return None
            blank_inside = True
            continue
        if i < j and (kind[i] in (QUOTE, HEADER) or len(c) > 2 * MAX_SHORT_LINE or _ends_sentence(c)):
            break
        if kind[i] == QUOTE:
            # Only the closing fragment of a wrapped header may be quoted ("> wrote:"); it never opens one.
            parts.append(c.lstrip("> "))
            continue
        if LABEL_RE.match(c) or LABEL_LIKE_RE.match(c) or FORWARD_RE.match(c):
            break
        parts.append(c)
        if _qualifies(" ".join(reversed(parts))):
            if _OPENER_RE.match(c):
                return i
            if weak_chain and not blank_inside and _weak_start(c):
                best_weak = i
        if i != j and not _weak_start(c):
            weak_chain = False
    return best_weak


def _qualifies(joined: str) -> bool:
    if len(joined) > MAX_HEADER_LINE or not ("@" in joined or any(map(str.isdigit, joined))):
        return False
    return bool(
        _REVERSED_VERB_END_RE.match(joined[::-1])
        or _VERB_TAIL_RE.search(joined)
        or (_DATE_EMAIL_END_RE.search(joined) and _DATE_TOKEN_RE.search(joined))
        or _ISO_GMAIL_RE.match(joined)
        or _REPLY_MARKER_RE.match(joined)
    )


def _weak_start(c: str) -> bool:
    return "@" in c or _DATE_TOKEN_RE.search(c) is not None


def _ends_sentence(c: str) -> bool:
    last = c[-1]
    if last in "!?。！？":
        return True
    if last != ".":
        return False
    word = c[:-1].rsplit(None, 1)[-1] if c[:-1].strip() else ""
    word = word.strip("(\"'").lower()
    return len(word) > 1 and word.isalpha() and word not in _ABBREVIATIONS


def _is_attribution(clean: list[str], kind: list[int], j: int, limit: int) -> bool:
    """A short dated line ending in ':' right before a quote: an attribution in a language we do not list."""
    c = clean[j]
    if c[-1] not in ":：" or len(c) > 200 or not _DATE_TOKEN_RE.search(c):
        return False
    k = j + 1
    while k < limit and kind[k] == BLANK:
        k += 1
    return k < limit and kind[k] == QUOTE
