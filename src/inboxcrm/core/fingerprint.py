"""Content fingerprints: the same message delivered twice hashes the same."""

from __future__ import annotations

import hashlib
import re

from inboxcrm.core.limits import header_end

# Headers that a delivery adds on its way to one mailbox; two copies of one message differ only here.
_TRACE_HEADERS = frozenset(
    {
        b"received",
        b"return-path",
        b"delivered-to",
        b"x-original-to",
        b"x-delivered-to",
        b"envelope-to",
        b"x-envelope-to",
        b"x-uid",
        b"status",
        b"x-status",
        b"x-keywords",
        b"x-mozilla-status",
        b"x-mozilla-status2",
        b"content-length",
        b"lines",
        b"x-spam-status",
        b"x-spam-score",
        b"x-spam-level",
        b"x-spam-checker-version",
        b"authentication-results",
        b"arc-seal",
        b"arc-message-signature",
        b"arc-authentication-results",
        b"received-spf",
        b"x-received",
    }
)
_WHITE = rb"[ \t\r\x0b\x0c]"  # what bytes.strip() removes from a header name (\n is the line end)
# A trace header line and its continuation lines, each after its "\n"; the name as
# `line.split(b":")[0].strip().lower()` reads it. (Anchored on "\n", not "^": the engine jumps to each.)
_TRACE_FIELD = re.compile(
    rb"\n(?:[\r\x0b\x0c]" + _WHITE + rb"*)?(?:" + b"|".join(re.escape(name) for name in sorted(_TRACE_HEADERS)) + rb")"
    + _WHITE + rb"*(?::[^\n]*)?(?=\n)(?:\n[ \t][^\n]*(?=\n))*",
    re.IGNORECASE,
)  # fmt: skip
_CHUNK = 1 << 20


def content_hash(raw: bytes) -> str:
    """SHA-256 of `raw` without its delivery trace headers and with line endings normalised.

    Linear and without a full copy of the body (a header of millions of lines or a body of 50 MB costs
    what reading it once costs); the value is the one stored hashes were computed with."""
    end = header_end(raw)
    head, body_start = (raw[: end[0]], end[1]) if end else (raw, len(raw))
    kept = _TRACE_FIELD.sub(b"", b"\n" + head.replace(b"\r\n", b"\n") + b"\n")
    digest = hashlib.sha256(kept[1:-1])
    digest.update(b"\n\n")
    view = memoryview(raw)
    start = body_start
    while start < len(raw):
        stop = min(start + _CHUNK, len(raw))
        while stop < len(raw) and raw[stop - 1] == 0x0D:  # keep every CRLF in one chunk
            stop += 1
        # Without a "\r" (memchr finds none) the piece is hashed as it is, not copied and searched (issue 18).
        has_cr = raw.find(b"\r", start, stop) >= 0
        digest.update(bytes(view[start:stop]).replace(b"\r\n", b"\n") if has_cr else view[start:stop])
        start = stop
    return digest.hexdigest()
