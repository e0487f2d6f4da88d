"""What one line of a body is (blank, text, `>` quote, header, "-- ", rule line); the buckets lines go to.

Shared by the quote-header, signature and forward finders; pure.
"""

from __future__ import annotations

import re

# Line kinds.
BLANK, TEXT, QUOTE, HEADER, DELIM, DECOR = range(6)
# Buckets a line can be put in: the parts of `BodyParts` (UNSET until a rule claims the line).
UNSET, NEW, QUOTED, SIG, FWD = range(-1, 4)

# Invisible characters that clients sprinkle into headers (Windows Mail puts LRMs inside dates).
INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u202a\u202b\u202c\u202d\u202e"))

# Lines longer than this are prose, never a header, a footer or a signature line; the caps also bound
# the work every regular expression below can do on hostile input.
MAX_HEADER_LINE = 400
MAX_SHORT_LINE = 120
HEADER_LOOKBACK = 5

# ">" quoting, and Supercite's "Name>" (a short word right before ">", then a space or the line end).
QUOTE_RE = re.compile(r">|[^\W\d_][\w.-]{0,15}>(?:\s|$)")
# Rule lines people and clients draw: "-----", "_____", "***", "ᐧ" (a Gmail extension's marker) …
_DECOR_CHARS = "-_=~*#+ᐧ—–"
DECOR_RE = re.compile(f"[{re.escape(_DECOR_CHARS)}]+")
URL_RE = re.compile(r"(?:https?://|www\.)\S", re.I)
# "Author: …", "Date: …": a mail-header-like line, which is never part of an "On … wrote:" header.
LABEL_LIKE_RE = re.compile(r"[^\W\d][\w-]{1,23}[ \t]?:\s")


def line_kind(c: str) -> int:
    """The kind of a stripped line."""
    if not c:
        return BLANK
    if c[0] == ">" or (">" in c[:18] and QUOTE_RE.match(c)):
        return QUOTE
    if c == "--":
        return DELIM
    if c[0] in _DECOR_CHARS and DECOR_RE.fullmatch(c):  # most lines are text: one look at the first character
        return DECOR
    return TEXT
