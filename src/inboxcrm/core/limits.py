"""Bounds on what one message may cost to read, applied to the raw bytes before the expensive steps.

Hostile mail must not stall the daemon: a megabyte header, a hundred thousand MIME parts or parts nested a
thousand deep. `bound` cuts what the parser will see (the stored raw bytes are never changed), so parsing,
classifying and finding forwards stay linear in a bounded input; each cut is reported as a defect.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import islice, pairwise

DEFAULT_MAX_MESSAGE_BYTES = 50_000_000  # a message larger than this is kept raw and quarantined, not read
MAX_HEADER_BLOCK = 256_000  # a header block up to this size is read as it is
MAX_FIELD_BYTES = 64_000  # beyond MAX_HEADER_BLOCK each field is cut to this (a Cc of ~1,500 addresses)
MAX_KEPT_HEADERS = 256_000  # and read as they are up to this much; after it only essential fields
MAX_ESSENTIAL = 100  # essential fields read after MAX_KEPT_HEADERS
MAX_BOUNDARY_LINES = 2_000  # lines that may be MIME boundaries (each opens a part)
MAX_CONTAINERS = 200  # multipart and message parts: bounds the nesting, so parsing never runs out of stack
PART_KEEP = 4_000_000  # of each part (between two boundaries) the parser reads at most this much
BODY_KEEP = 12_000_000  # and of all parts together this much; after it, TAIL_KEEP of each further part
TAIL_KEEP = 4_096
SKIM_FROM = 8_192  # a base64 attachment's body longer than this is counted, not parsed (see _skim)
# What stands for the rest of a part that was not read (parsing takes it out again, and counts it).
NOT_READ = re.compile(r"\n?\[inboxcrm: (\d+) more bytes not read, (\d+) of them not white space\]\s*$")
_NOT_READ = b"[inboxcrm: %d more bytes not read, %d of them not white space]"

# A line starting with two dashes and then neither a dash nor a space: a boundary, not a rule or "-- ".
_BOUNDARY_LINE = re.compile(rb"\n-{2,}[^-\s]")
_CONTAINER = re.compile(rb"\n(?i:content-type):[ \t\r\n]*(?i:multipart|message)/")
_FIELD_START = re.compile(rb"\n(?=[^ \t])")
_ESSENTIAL = (
    b"from to cc reply-to subject date message-id in-reply-to references mime-version content-type "
    b"content-transfer-encoding content-disposition auto-submitted precedence list-id"
).split()
_BOUNDARY_PARAM = re.compile(rb'boundary[ \t]*=[ \t]*(?:"([^"\r\n]+)"|([^\s;"]+))', re.IGNORECASE)
_BASE64 = re.compile(rb"(?:^|\n)content-transfer-encoding:[ \t]*base64", re.IGNORECASE)
_CONTENT_TYPE = re.compile(rb"(?:^|\n)content-type:[ \t\r\n]*([\w.+-]+)/([\w.+-]+)", re.IGNORECASE)
_READ_TYPES = (b"text", b"message", b"multipart")  # parts whose body something reads
_SPACES = (b"\n", b"\r", b" ", b"\t")
_ESSENTIAL_FIELD = re.compile(rb"\n(?:" + b"|".join(_ESSENTIAL) + rb")[ \t]*:[^\n]*(?:\n[ \t][^\n]*)*", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Bounded:
    """What the parser reads: `raw`, or a prefix/trimmed copy of it, and why it was cut."""

    raw: bytes
    defects: tuple[str, ...] = ()


def header_end(raw: bytes) -> tuple[int, int] | None:
    """Where the header block ends: (start, end) of the first blank line, as `re.search(rb"\r?\n\r?\n")`
    finds it, but at memchr speed (that regex tries every byte: 0.4 s on a 10 MB header).

    The first line's ending says which blank line to look for first; the other is looked for only before
    it (in CRLF mail a search for "\n\n" would read every byte of the attachments, issue 18)."""
    line_end = raw.find(b"\n")
    likely, other = (b"\n\r\n", b"\n\n") if line_end > 0 and raw[line_end - 1] == 0x0D else (b"\n\n", b"\n\r\n")
    at = raw.find(likely)
    # Both start with "\n" and differ in the next byte, so the other one, if first, ends before `at + len(other)`.
    earlier = raw.find(other, 0, at + len(other) - 1) if at >= 0 else raw.find(other)
    first = earlier if earlier >= 0 else at
    if first < 0:
        return None
    start = first - 1 if first > 0 and raw[first - 1] == 0x0D else first
    return start, first + (2 if raw[first + 1] == 0x0A else 3)


def too_large(raw: bytes, max_bytes: int) -> str | None:
    """The quarantine reason for a message over `max_bytes`, or None."""
    if len(raw) <= max_bytes:
        return None
    return (
        f"message of {len(raw):,} bytes is larger than the limit of {max_bytes:,} ([ingest] max_message_bytes): "
        "kept raw, not read"
    )


def bound(raw: bytes, skim: bool = True) -> Bounded:
    """`raw` cut to what parsing may cost: a huge header block trimmed field by field, and the body read up to
    the MAX_BOUNDARY_LINES-th boundary or the MAX_CONTAINERS-th multipart/message part. With `skim`, the
    body of a large base64 attachment is left out too (its size is still counted; nothing reads its bytes):
    the parser reads such a body line by line, which was ~40% of reading a shared mailbox (issue 18)."""
    defects: list[str] = []
    end = header_end(raw)
    head_end = end[0] if end else len(raw)
    if head_end > MAX_HEADER_BLOCK:
        head, reason = _trim_header(raw[:head_end])
        defects.append(reason)
        raw = head + raw[head_end:]
        head_end = len(head)
    cut = len(raw)
    boundaries = [match.start() for match in islice(_BOUNDARY_LINE.finditer(raw, head_end), MAX_BOUNDARY_LINES + 1)]
    if len(boundaries) > MAX_BOUNDARY_LINES:
        cut = boundaries.pop()
        defects.append(f"more than {MAX_BOUNDARY_LINES} MIME boundaries: read up to byte {cut:,}")
    container = next(islice(_CONTAINER.finditer(raw, 0, cut), MAX_CONTAINERS, None), None)
    if container is not None:
        cut = container.start()
        boundaries = [at for at in boundaries if at < cut]
        defects.append(f"more than {MAX_CONTAINERS} nested or attached parts: read up to byte {cut:,}")
    if cut - head_end > PART_KEEP or (skim and boundaries and cut - head_end > SKIM_FROM):
        declared = _declared(raw[:head_end]) if skim else None
        raw, trimmed = _trim_parts(raw, head_end, boundaries, cut, declared)
        if trimmed:
            defects.append(f"{trimmed} part(s) longer than the parser reads: their first bytes were read")
        return Bounded(raw, tuple(defects))
    return Bounded(raw[: cut + 1] if cut < len(raw) else raw, tuple(defects))


def _trim_parts(
    raw: bytes, head_end: int, boundaries: list[int], cut: int, declared: set[bytes] | None
) -> tuple[bytes, int]:
    """Each stretch between two boundaries cut to PART_KEEP (all of them together to BODY_KEEP), at a line
    end, with a NOT_READ line saying how much was left out (the parser counts attachment sizes with it).
    With the `declared` boundaries, a large base64 attachment is skimmed (not counted as trimmed)."""
    edges = [head_end, *boundaries, cut]
    out = [raw[:head_end]]
    budget, trimmed = BODY_KEEP, 0
    for start, end in pairwise(edges):
        skimmed = _skim(raw, start, end, declared) if declared is not None else None
        if skimmed is not None:
            out.append(skimmed)
            budget -= len(skimmed)
            continue
        keep = max(TAIL_KEEP, min(PART_KEEP, budget))
        if end - start <= keep:
            out.append(raw[start:end])
            budget -= end - start
            continue
        stop = raw.rfind(b"\n", start, start + keep) + 1 or start + keep
        visible = end - stop - sum(raw.count(space, stop, end) for space in _SPACES)
        out.append(raw[start:stop] + _NOT_READ % (end - stop, visible) + b"\r\n")
        budget -= stop - start
        trimmed += 1
    return b"".join(out) + (b"\n" if cut < len(raw) else b""), trimmed


def _declared(head: bytes) -> set[bytes]:
    """The MIME boundaries a header block declares."""
    return {quoted or bare for quoted, bare in _BOUNDARY_PARAM.findall(head)}


def _skim(raw: bytes, start: int, end: int, declared: set[bytes]) -> bytes | None:
    """The part between `start` (its boundary line) and `end`, with its base64 body left out but its last
    line and a NOT_READ line (so its decoded size is still exact, padding included); or None when this is
    not a part of a declared boundary with a long base64 body of a kind nothing reads (text, messages,
    multiparts and Outlook's winmail.dat are read). Boundaries its header declares join `declared`."""
    line_end = raw.find(b"\n", start + 1, end)
    if line_end < 0 or raw[start + 3 : line_end].rstrip() not in declared:  # after "\n--"; a closing line ends "--"
        return None
    blank = raw.find(b"\n\n", line_end, min(end, line_end + MAX_FIELD_BYTES))
    blank_crlf = raw.find(b"\n\r\n", line_end, blank if blank >= 0 else min(end, line_end + MAX_FIELD_BYTES))
    body = blank_crlf + 3 if blank_crlf >= 0 else blank + 2 if blank >= 0 else -1
    if body < 0:
        return None
    head = raw[line_end:body]
    if b"oundary" in head:
        declared |= _declared(head)
    kind = _CONTENT_TYPE.search(head)
    if (
        end - body < SKIM_FROM
        or kind is None
        or kind.group(1).lower() in _READ_TYPES
        or kind.group(2).lower() == b"ms-tnef"
        or b"winmail.dat" in head.lower()
        or not _BASE64.search(head)
    ):
        return None
    last = end
    while last > body and raw[last - 1] in b"\r\n":
        last -= 1
    last_line = raw.rfind(b"\n", body, last) + 1 or body
    visible = last_line - body - sum(raw.count(space, body, last_line) for space in _SPACES)
    return raw[start:body] + raw[last_line:last] + b"\r\n" + _NOT_READ % (last_line - body, visible) + b"\r\n"


def _trim_header(head: bytes) -> tuple[bytes, str]:
    """The fields of the first MAX_KEPT_HEADERS bytes and up to MAX_ESSENTIAL essential fields after them
    (From, Subject, Content-Type …), each cut to MAX_FIELD_BYTES (an address list at its last comma)."""
    limit = head.rfind(b"\n", 0, MAX_KEPT_HEADERS) + 1 or head.find(b"\n") + 1 or len(head)
    starts = [0, *(match.end() for match in _FIELD_START.finditer(head, 0, limit))]
    fields = [head[begin:end] for begin, end in zip(starts, [*starts[1:], limit], strict=True)]
    later = [match.group(0)[1:] for match in islice(_ESSENTIAL_FIELD.finditer(head, limit - 1), MAX_ESSENTIAL)]
    kept: list[bytes] = []
    cut = 0
    for field in fields + later:
        short = field
        if len(field) > MAX_FIELD_BYTES:
            short = field[:MAX_FIELD_BYTES]
            colon, comma = short.find(b":"), short.rfind(b",")
            short = short[:comma] if comma > colon > 0 else short
            cut += 1
        kept.append(short.rstrip(b"\r\n") + b"\r\n")
    reason = f"header block of {len(head):,} bytes: {cut} field(s) cut to {MAX_FIELD_BYTES:,} bytes"
    if limit < len(head):
        reason += f", only essential fields read after the first {MAX_KEPT_HEADERS:,} bytes"
    return b"".join(kept).rstrip(b"\r\n"), reason
