"""What the outgoing mail tests (tests/core/test_outgoing_*.py) share: a draft, parsing and reading back what
`compose` wrote, and the check that it is clean on the wire."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime
from email.message import EmailMessage

from inboxcrm.core.loops import OUR_HEADER
from inboxcrm.core.model import Address
from inboxcrm.core.outgoing import Draft

WHEN = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
SENDER = Address("support@acme.example", "Acme Support")
CUSTOMER = Address("jane@customer.example", "Jane Doe")

# The header block of a plain, person-written message with no threading and no Reply-To, in order.
PLAIN_HEADERS = [
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    OUR_HEADER,
    "Content-Type",
    "Content-Transfer-Encoding",
    "MIME-Version",
]


CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


def _draft(**changes: object) -> Draft:
    fields: dict[str, object] = {
        "key": "reply:42:1",
        "kind": "reply",
        "sender": SENDER,
        "to": (CUSTOMER,),
        "subject": "Your invoice",
        "text": "Hello Jane,\n\nHere it is.\n",
    }
    fields.update(changes)
    return Draft(**fields)  # type: ignore[arg-type]


def _parse(raw: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _header_block(raw: bytes) -> bytes:
    head, separator, _ = raw.partition(b"\r\n\r\n")
    assert separator, "no blank line ends the header block"
    return head


def _header_names(raw: bytes) -> list[str]:
    """The top-level header names, in order, read from the raw bytes (continuation lines belong to the header)."""
    names = []
    for line in _header_block(raw).split(b"\r\n"):
        if line[:1] in (b" ", b"\t"):
            continue
        name, colon, _ = line.partition(b":")
        assert colon, f"a header line without a colon: {line!r}"
        names.append(name.decode("ascii"))
    return names


def _text_body(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    content = body.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")


def _assert_wire_clean(raw: bytes) -> None:
    """CRLF line endings only, 7-bit (any SMTP server takes it) and no line over RFC 5322's 998 characters."""
    assert raw.endswith(b"\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert b"\r" not in raw.replace(b"\r\n", b"")
    assert raw.isascii()
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
