"""Reading mbox files: where each message starts and ends, and its bytes as they were before mboxing.

A message starts at a `From ` line that looks like an mbox separator — `From <sender> <date>` with a month,
a time and a year, as mboxo, mboxrd, Thunderbird and Gmail write them — so a body line such as "From the
desk of …" that an mboxo writer left unescaped does not split a message in two (the file's first line is
always a separator). Lines quoted as `>From ` (mboxo and mboxrd) lose one `>` when read: mboxrd's `>>From `
becomes `>From `. The blank line before the next separator belongs to the file, not the message.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_SEPARATOR = re.compile(
    rb"From \S+ +(?:.*? )?(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) .*\d{1,2}:\d{2}.*\d{4}", re.IGNORECASE
)
_QUOTED_FROM = re.compile(rb"^>(>*From )", re.MULTILINE)
_BLANK = (b"\n", b"\r\n")


@dataclass(frozen=True, slots=True)
class MboxEntry:
    """One message of an mbox file: `name` is the offset of its `From ` line and a hash of its bytes."""

    name: str
    start: int  # first byte after the `From ` line
    end: int  # one past the last byte of the message
    digest: str


def _name(offset: int, digest: str) -> str:
    return f"{offset}.{digest[:16]}"


def scan(path: Path) -> list[MboxEntry]:
    """Every message of the mbox file at `path`, in file order (one pass, nothing held but the index)."""
    entries: list[MboxEntry] = []
    position = 0
    from_at = start = -1
    digest = hashlib.sha256()
    pending = b""  # a blank line: the message's own, unless a separator follows it

    def close(end: int) -> None:
        text = digest.hexdigest()
        entries.append(MboxEntry(_name(from_at, text), start, end, text))

    with path.open("rb") as handle:
        for line in handle:
            if line.startswith(b"From ") and (position == 0 or _SEPARATOR.match(line)):
                if from_at >= 0:
                    close(position - len(pending))
                from_at, start, digest, pending = position, position + len(line), hashlib.sha256(), b""
            elif from_at >= 0:
                if pending:
                    digest.update(pending)
                    pending = b""
                if line in _BLANK:
                    pending = line
                else:
                    digest.update(line)
            position += len(line)
    if from_at >= 0:
        close(position - len(pending))
    return entries


def unescape(data: bytes) -> bytes:
    """The message as it was before it went into the mbox: one `>` less on every `>From ` line."""
    return _QUOTED_FROM.sub(rb"\1", data) if b">From " in data else data


def read(path: Path, entries: list[MboxEntry]) -> Iterator[tuple[MboxEntry, bytes]]:
    """The bytes of each entry, unescaped; an entry whose bytes changed since the scan is left out (the
    file was rewritten: the next scan names its messages again)."""
    with path.open("rb") as handle:
        for entry in entries:
            handle.seek(entry.start)
            data = handle.read(entry.end - entry.start)
            if hashlib.sha256(data).hexdigest() == entry.digest:
                yield entry, unescape(data)
