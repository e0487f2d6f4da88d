"""Who really wrote a forwarded message.

When a team member forwards a customer's mail to a shared address, the conversation is the customer's.
We look, in order, at: an attached message (message/rfc822); Resent-From / Resent-Sender; then the
forward block that Gmail, Outlook (desktop and web, localized), Apple Mail and Thunderbird write into the
body, taking the From line *inside* that block, never the first address anywhere in the body.
"""

from __future__ import annotations

import email
import re
from dataclasses import dataclass
from email.message import Message as StdMessage
from email.policy import compat32

from inboxcrm.core.model import Address, Message
from inboxcrm.core.parsing import decode_header_value, parse_addresses


@dataclass(frozen=True, slots=True)
class Forward:
    """`original_from` wrote the message that `forwarded_by` passed on. `confidence` is 0..1."""

    original_from: Address
    forwarded_by: Address | None
    confidence: float
    source: str
    original_subject: str = ""
    original_message_id: str | None = None


# Markers that open a forwarded block, by client: each is a pattern for the start of a line (the straightforward
# form is `re.compile("^" + pattern, flags | re.M)`) and a text it cannot match without (no letters: a letter
# could match another one when case is ignored, as "ſ" matches "s").
_MARKER_PATTERNS: tuple[tuple[str, str, re.RegexFlag, str], ...] = (
    # Gmail writes "Forwarded message" in lower case; Thunderbird capitalises "Message".
    ("gmail", r"-{5,}\s*Forwarded message\s*-{5,}\s*$", re.NOFLAG, "-----"),
    (
        "thunderbird",
        r"-{5,}\s*(?:Forwarded Message|Message transféré|Weitergeleitete Nachricht|"
        r"Messaggio inoltrato|Mensaje reenviado|Doorgestuurd bericht|Vidarebefordrat "
        r"meddelande)\s*-{5,}\s*$",
        re.I,
        "-----",
    ),
    (
        "apple",
        r"(?:Begin forwarded message|Début du message réexpédié|Anfang der weitergeleiteten "
        r"(?:Nachricht|E-Mail)|Inizio messaggio inoltrato|Comienzo del mensaje reenviado|"
        r"Begin doorgestuurd bericht|Vidarebefordrat brev)\s*:\s*$",
        re.I,
        ":",
    ),
    (
        "outlook",
        r"\s*-{3,}\s*(?:Original Message|Ursprüngliche Nachricht|Message d'origine|"
        r"Messaggio originale|Mensaje original|Oorspronkelijk bericht|Originalmeddelande|"
        r"Oprindelig meddelelse|Opprinnelig melding)\s*-{3,}\s*$",
        re.I,
        "---",
    ),
    ("outlook", r"_{20,}\s*$", re.NOFLAG, "_" * 20),  # Outlook web: a rule line, then the header block
    # Outlook desktop with no separator: a From: line directly followed by a Sent: line.
    (
        "outlook",
        r"\s*\*?(?:From|Von|De|Da|Van|Från|Fra|Od)\s*:.*\n\s*\*?(?:Sent|Gesendet|Envoyé|"
        r"Inviato|Enviado|Verzonden|Skickat|Sendt|Wysłano)\s*:",
        re.I,
        ":",
    ),
)
# Each marker after a "\n", searched in "\n" + text: a match at k starts at k in the text, as `^` would there.
# The engine jumps from "\n" to "\n" instead of trying `^` at every character, and a text without the marker's
# needed part is not searched at all (issue 18).
_MARKERS: tuple[tuple[str, str, re.Pattern[str]], ...] = tuple(
    (client, needed, re.compile(r"\n(?:" + pattern + ")", flags | re.M))
    for client, pattern, flags, needed in _MARKER_PATTERNS
)
# "From:" in the languages Outlook and the others localize it to.
_FROM_LABEL = re.compile(
    r"^\s*\*?(?:From|Von|De|Da|Van|Från|Fra|Od|От|Lähettäjä|Feladó|Kimden)\s*:\*?\s*(.+)$", re.I | re.M
)
_SUBJECT_LABEL = re.compile(
    r"^\s*\*?(?:Subject|Betreff|Objet|Oggetto|Asunto|Onderwerp|Ämne|Emne|Temat|Тема|"
    r"Assunto)\s*:\*?\s*(.+)$",
    re.I | re.M,
)
_MAILTO = re.compile(r"\[mailto:([^\]\s]+)\]", re.I)
_BARE_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
# A forward's header block is short; a From: further down is part of the forwarded text, not its header.
_HEADER_WINDOW = 12


def _from_line(value: str) -> Address | None:
    """Parse the value of a forwarded block's From line: `Name <a@b>`, `Name [mailto:a@b]`, `a@b`."""
    value = value.strip()
    mailto = _MAILTO.search(value)
    if mailto:
        name = _MAILTO.sub("", value).strip().strip('"')
        value = f'"{name}" <{mailto.group(1)}>'
    # Gmail writes "Name <a@b>" with the angle brackets sometimes escaped as &lt; &gt; in text parts.
    value = value.replace("&lt;", "<").replace("&gt;", ">").replace("*", "")
    found = parse_addresses([value])
    if found:
        return found[0]
    bare = _BARE_EMAIL.search(value)
    return parse_addresses([bare.group(0)])[0] if bare else None


def _block_header(text: str, start: int) -> tuple[Address | None, str]:
    lines = text[start:].splitlines()[:_HEADER_WINDOW]
    head = "\n".join(line.lstrip("> ") for line in lines)
    sender = None
    found = _FROM_LABEL.search(head)
    if found:
        sender = _from_line(found.group(1))
    subject = _SUBJECT_LABEL.search(head)
    return sender, subject.group(1).strip() if subject else ""


def _first_marker(text: str) -> tuple[int, str] | None:
    """Where the first forward marker of `text` starts and which client wrote it (on a tie, the marker
    listed first in _MARKER_PATTERNS), or None."""
    lined = "\n" + text
    best: tuple[int, str] | None = None
    for client, needed, marker in _MARKERS:
        found = marker.search(lined) if needed in text else None
        if found and (best is None or found.start() < best[0]):
            best = (found.start(), client)
    return best


def _attached(raw: bytes) -> StdMessage | None:
    try:
        std = email.message_from_bytes(raw, policy=compat32)
    except Exception:
        return None
    for part in std.walk():
        if part.get_content_type() == "message/rfc822":
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], StdMessage):
                return payload[0]
    return None


def find_forward(message: Message, raw: bytes) -> Forward | None:
    """The original author of a forwarded `message`, or None when it is not a forward.

    Whether a forward moves the conversation to the original author is the caller's decision (only
    forwards by team members do).
    """
    forwarder = message.from_
    if any(a.content_type == "message/rfc822" for a in message.attachments):
        inner = _attached(raw)
        if inner is not None:
            senders = parse_addresses(inner.get_all("From", []))
            if senders:
                ids = re.findall(r"<([^<>\s]+)>", str(inner.get("Message-ID", "")))
                return Forward(
                    senders[0],
                    forwarder,
                    0.95,
                    "attached message",
                    decode_header_value(inner.get("Subject")),
                    ids[0] if ids else None,
                )
    resent = message.header("Resent-From") or message.header("Resent-Sender")
    if resent and message.from_ is not None:
        resenders = parse_addresses([resent])
        if resenders and resenders[0].email != message.from_.email:
            return Forward(message.from_, resenders[0], 0.9, "Resent-From")
    text = message.text
    best = _first_marker(text)
    if best is not None:
        original, subject = _block_header(text, best[0])
        if original is not None and (forwarder is None or original.email != forwarder.email):
            confidence = 0.85 if "@" in original.email else 0.5
            return Forward(original, forwarder, confidence, best[1], subject)
    return None
