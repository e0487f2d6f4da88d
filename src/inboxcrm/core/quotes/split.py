"""Split a message body into what the sender wrote, the quoted reply, the signature and a forwarded block.

Pure: plain strings in, a `BodyParts` value out; no I/O. Works line by line with compiled, anchored,
bounded regular expressions, so a 2 MB body costs time linear in its size.

How a body is read (plain text; HTML is first turned into tagged lines, see `split_html`):

1. A forwarded block starts at the first top-level forward marker ("---------- Forwarded message",
   "Begin forwarded message:", "-----Original Message-----" and their translations) or Outlook header
   block ("From:/Sent:/To:/Subject:", localized), and runs to the end. Outlook writes the same block
   for replies and forwards, so in text we cannot tell them apart: both count as `forwarded`.
2. Quote headers ("On … wrote:" in many languages, possibly wrapped over several lines) and `>` lines
   (also Supercite `Name>`) are the quoted parts.
3. Top-posting (the sender's text comes first, then a quote header): everything from the header on is
   quoted when no `>` line follows it (the client quoted without markers), or when the quote is followed
   only by trailing text (the quoted mail's footer). A "-- " signature below the quote is the sender's.
4. Otherwise the sender answered between quoted lines (an interleaved or bottom-posted reply): the
   quoted lines between the sender's answers stay in `new_text`, because an answer without its question
   is unreadable; quote headers and the leading and trailing quote blocks go to `quoted`. A body made of
   nothing but `>` lines, with no header, is what the sender sent: it is `new_text`.
5. The signature is one block: from a "-- " delimiter, a mobile footer ("Sent from my iPhone" …), a
   rule line followed by a few short lines, or, when none of those exists, a closer with a name
   ("Best regards,\\nAna") or a trailing block of contact lines (e-mail, phone, URL).

Nothing is thrown away: every non-blank input line lands in exactly one of the four parts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from inboxcrm.core.quotes.forward_block import forward_start, header_block_end
from inboxcrm.core.quotes.headers import quote_headers
from inboxcrm.core.quotes.html import HtmlLines
from inboxcrm.core.quotes.lines import (
    BLANK,
    DELIM,
    FWD,
    HEADER,
    INVISIBLE,
    NEW,
    QUOTE,
    QUOTED,
    SIG,
    TEXT,
    UNSET,
    line_kind,
)
from inboxcrm.core.quotes.signatures import explicit_signature_lines, find_signature


@dataclass(frozen=True, slots=True)
class BodyParts:
    """The parts of one message body; each is stripped text, empty when absent.

    `new_text`: what the sender wrote in this message (with the quoted lines they answered in between,
    for interleaved replies). `quoted`: earlier message(s) quoted, including the quote header line.
    `signature`: the sender's signature block. `forwarded`: a forwarded message from its header on.
    """

    new_text: str
    quoted: str
    signature: str
    forwarded: str


def split_text(text: str) -> BodyParts:
    """Split a plain-text body. Never raises; every non-blank line of `text` lands in exactly one part."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _split(text.split("\n"))


def split_html(html: str) -> BodyParts:
    """Split an HTML body into plain-text parts, using the markers mail clients leave in HTML.

    Blockquotes (Gmail `gmail_quote`, Apple `type=cite`, Thunderbird after `moz-cite-prefix`) are quoted;
    Outlook's `divRplyFwdMsg` / `OutlookMessageHeader` / `OLK_SRC_BODY_SECTION`, Hotmail's `stopSpelling`
    rule and Yahoo's `yahoo_quoted` start the quoted or forwarded tail; `gmail_signature` / `moz-signature`
    mark the signature. The rest is read as text, exactly as `split_text` would. Never raises.
    """
    reader = HtmlLines()
    try:
        reader.feed(html)
        reader.close()
    except Exception:  # html.parser is lenient; this guards the odd assertion on broken declarations
        return split_text(re.sub(r"<[^>]{0,2000}>", " ", html))
    reader.flush()
    return _split(reader.lines, reader.hints, reader.cut)


# --- the line engine -------------------------------------------------------------------------------


def _split(lines: list[str], hints: Sequence[str] | None = None, cut: int | None = None) -> BodyParts:
    kind, buckets = _buckets(lines, hints, cut)
    return _collect(lines, kind, buckets)


def _buckets(lines: list[str], hints: Sequence[str] | None, cut: int | None) -> tuple[list[int], list[int]]:
    """The kind of every line and the part it goes to."""
    n = len(lines)
    # (An ASCII line holds none of the INVISIBLE characters: it is not copied through `translate`.)
    clean = [line.strip() if line.isascii() else line.translate(INVISIBLE).strip() for line in lines]
    kind = [line_kind(c) for c in clean]
    if hints is not None:
        for i, hint in enumerate(hints):
            if hint == "q" and kind[i] != BLANK:
                kind[i] = QUOTE

    fwd_start, tail_bucket = forward_start(clean, kind, cut)
    if tail_bucket == FWD and fwd_start < n and not any(kind[i] == TEXT for i in range(fwd_start)):
        return _forward_only(lines, clean, kind, fwd_start, hints)
    headers = quote_headers(clean, kind, fwd_start, hints)
    for start, end in headers:
        for i in range(start, end + 1):
            if kind[i] != BLANK:
                kind[i] = HEADER
    explicit = explicit_signature_lines(kind, hints)

    buckets = [UNSET] * n
    for i in range(fwd_start, n):
        buckets[i] = tail_bucket
    region_end = fwd_start
    bottom_signature = False

    top = _top_post_cut(kind, headers, fwd_start, explicit)
    if top is not None:
        cut_at, quoted_end, sig_from = top
        for i in range(cut_at, quoted_end):
            buckets[i] = QUOTED
        if sig_from is not None:
            bottom_signature = True
            for i in range(sig_from, fwd_start):
                buckets[i] = SIG
        region_end = cut_at

    if not bottom_signature:
        found = find_signature(clean, kind, region_end, explicit)
        if found is not None:
            for i in range(*found):
                buckets[i] = SIG

    _assign_region(kind, buckets, region_end)
    return kind, buckets


def _forward_only(
    lines: list[str], clean: list[str], kind: list[int], start: int, hints: Sequence[str] | None
) -> tuple[list[int], list[int]]:
    """A message that is nothing but a forward: the forwarded message is what the sender sent us.

    Its marker line and header block ("From:", "Date:", "Subject:" …) stay in `forwarded`; the forwarded
    body is read like any body (its own quotes and signature apart) and its new text is the new text.
    """
    body = header_block_end(clean, kind, start)
    inner_kind, inner = _buckets(lines[body:], hints[body:] if hints is not None else None, None)
    buckets = [FWD] * body + inner
    return kind[:body] + inner_kind, buckets


def _top_post_cut(
    kind: list[int], headers: list[tuple[int, int]], limit: int, explicit: list[int]
) -> tuple[int, int, int | None] | None:
    """For a top-posted reply: (cut, quoted_end, bottom_signature_start) — else None.

    Top-posted means the sender's text comes first and the first quote structure is a header. Then the
    rest is quoted when no `>` line follows the header (the client quoted without markers), or when the
    quote is followed only by trailing text (the quoted mail's own footer) — not when the sender answered
    between quoted lines. A "-- " signature after the quote is the sender's (some clients sign below).
    """
    if not headers:
        return None
    first_structure = next((i for i in range(limit) if kind[i] in (QUOTE, HEADER)), None)
    start, end = headers[0]
    if first_structure != start or not any(kind[i] == TEXT for i in range(start)):
        return None
    first_quote = next((i for i in range(end + 1, limit) if kind[i] == QUOTE), None)
    if first_quote is None:
        return start, len(kind), None
    sig_from = next((i for i in explicit if first_quote < i < limit), None)
    stop = sig_from if sig_from is not None else limit
    seen_text = False
    for i in range(first_quote, stop):
        if kind[i] == TEXT:
            seen_text = True
        elif kind[i] == QUOTE and seen_text:
            return None  # interleaved: the sender answered between quoted lines
    return start, stop, sig_from


def _assign_region(kind: list[int], buckets: list[int], limit: int) -> None:
    """Put the lines before `limit` that no rule claimed into new text or quoted; blank lines follow a neighbour.

    Quoted lines between the sender's lines of text are what that text answers (an inline reply): they
    stay in the new text, still marked as quotes. So do quoted lines before the first text when no quote
    header introduces them ("> Ship Tuesday?\n\nYes."): the sender quoted the piece they answer. Under a
    header ("On … wrote:") they are the whole earlier message, answered below it: quoted, as are quote
    headers and quoted lines after the last text. A body of nothing but `>` lines and no header is the
    excerpt the sender chose to send: new text.
    """
    texts = [i for i in range(limit) if buckets[i] == UNSET and kind[i] in (TEXT, DELIM)]
    first, last = (texts[0], texts[-1]) if texts else (limit, -1)
    introduced = any(kind[i] == HEADER for i in range(first))
    only_quotes = not texts and not any(kind[i] == HEADER for i in range(limit))
    for i in range(limit):
        if buckets[i] != UNSET:
            continue
        k = kind[i]
        if k in (TEXT, DELIM):
            buckets[i] = NEW
        elif k == HEADER:
            buckets[i] = QUOTED
        elif k == QUOTE:
            answered = i < last and (i > first or not introduced)
            buckets[i] = NEW if answered or only_quotes else QUOTED
    previous = UNSET
    pending: list[int] = []
    for i in range(len(kind)):
        if buckets[i] == UNSET:
            if previous == UNSET:
                pending.append(i)
            else:
                buckets[i] = previous
        else:
            previous = buckets[i]
            for p in pending:
                buckets[p] = previous
            pending.clear()
    for p in pending:
        buckets[p] = NEW


_MARKED = re.compile(r"\s*(?:>|[^\W\d_][\w.-]{0,15}>)")


def _collect(lines: list[str], kind: list[int], buckets: list[int]) -> BodyParts:
    parts: dict[int, list[str]] = {NEW: [], QUOTED: [], SIG: [], FWD: []}
    last_index: dict[int, int] = {}
    for i, line in enumerate(lines):
        which = buckets[i]
        part = parts[which]
        if which in last_index and last_index[which] != i - 1 and kind[i] != BLANK:
            part.append("")  # keep pieces that were apart in the message apart in the part
        if which == NEW and kind[i] == QUOTE and not _MARKED.match(line):
            part.append(f"> {line.strip()}")  # a quote answered in HTML (a blockquote): marked in the text
        else:
            part.append(line)
        last_index[which] = i
    return BodyParts(
        new_text="\n".join(parts[NEW]).strip(),
        quoted="\n".join(parts[QUOTED]).strip(),
        signature="\n".join(parts[SIG]).strip(),
        forwarded="\n".join(parts[FWD]).strip(),
    )
