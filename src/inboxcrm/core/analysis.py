"""Everything the core reads out of one message beyond its headers: what kind of mail it is, which
words are new, and who really wrote it. Pure, per message, so it runs wherever parsing runs."""

from __future__ import annotations

from dataclasses import dataclass

from inboxcrm.core.classify import BouncedRecipient, Classification, Kind, classify
from inboxcrm.core.forwards import Forward, find_forward
from inboxcrm.core.model import Message
from inboxcrm.core.parsing import MAX_HTML_CHARS
from inboxcrm.core.quotes import BodyParts, split_html, split_text
from inboxcrm.core.rules.context import body_words


@dataclass(frozen=True, slots=True)
class Analysis:
    kind: Kind
    bounce: tuple[BouncedRecipient, ...]
    kind_reasons: tuple[str, ...]
    body: BodyParts
    forward: Forward | None
    # The distinct words rules' body conditions read (core/rules/context.py `body_words`), made here because
    # this runs in the parsing processes; None: made by the rules on first use.
    words: str | None = None

    @property
    def automatic(self) -> bool:
        """Mail no person wrote: it never counts as a customer reply, reopens or opens a ticket."""
        return self.kind in (Kind.AUTO_REPLY, Kind.BOUNCE, Kind.FEEDBACK_REPORT)


def analyse(message: Message, raw: bytes) -> Analysis:
    """Classify `message`, split its body and find a forward's original author. Never raises on bad mail:
    a step that fails leaves its default (normal mail, the whole text as new text, no forward)."""
    try:
        kind: Classification = classify(message, raw)
    except Exception as exc:  # a classifier bug must not cost us the message
        kind = Classification(Kind.NORMAL, (), (f"classifier error: {type(exc).__name__}: {exc}",))
    try:
        body = (
            split_text(message.text)
            if message.text.strip() or not message.html
            else split_html(message.html[:MAX_HTML_CHARS])  # the part parsing read as text, no more
        )
    except Exception:
        body = BodyParts(message.text.strip(), "", "", "")
    forward = None
    if kind.kind not in (Kind.BOUNCE, Kind.FEEDBACK_REPORT):
        try:
            forward = find_forward(message, raw)
        except Exception:
            forward = None
    words = body_words(message, body.new_text)
    return Analysis(kind.kind, kind.bounce, kind.reasons, body, forward, words)
