"""Small builders for test messages: realistic headers, exact bytes."""

from __future__ import annotations

import itertools

_counter = itertools.count(1)


def mail(
    *,
    from_: str = "Carol Danvers <carol@acme-corp.example>",
    to: str = "support@northwind.example",
    subject: str = "Printer on fire",
    body: str = "Hello,\n\nour printer is on fire again.\n\nCarol\n",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    date: str | None = "Mon, 02 Nov 2026 10:00:00 +0000",
    cc: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """One RFC 5322 message as bytes (CRLF line ends, as IMAP servers hand them over)."""
    mid = message_id or f"test-{next(_counter)}@acme-corp.example"
    lines = [f"From: {from_}", f"To: {to}", f"Subject: {subject}", f"Message-ID: <{mid}>"]
    if date:
        lines.append(f"Date: {date}")
    if cc:
        lines.append(f"Cc: {cc}")
    if in_reply_to:
        lines.append(f"In-Reply-To: <{in_reply_to}>")
    if references:
        lines.append(f"References: {references}")
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"]
    return ("\r\n".join(lines) + "\r\n\r\n" + body.replace("\n", "\r\n")).encode("utf-8")
