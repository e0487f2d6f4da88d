"""When inboxcrm may send automatic mail (acknowledgements, notices), so two robots never talk forever.

RFC 3834 is the baseline: never answer automatic mail (Auto-Submitted, bounces, list mail, Precedence
bulk/junk/list, X-Auto-Response-Suppress), never answer no-reply addresses, mark our own automatic mail, and
recognise our own mail when it comes back. A per-sender fuse stops whatever gets past all of that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from inboxcrm.core.classify import Kind
from inboxcrm.core.model import Message

# Every message inboxcrm sends carries this header (value: the outbox key); mail that has it is ours.
OUR_HEADER = "X-InboxCRM-Outbox"

_NO_REPLY = re.compile(
    r"^(?:no[-_.]?reply\w*|no[-_.]?response|do[-_.]?not[-_.]?(?:reply|respond)|dont[-_.]?(?:reply|respond)"
    r"|mailer[-_.]?daemon|postmaster|bounces?"
    r"|notifications?|auto[-_.]?(?:reply|responder|mailer)|listserv|majordomo|owner-.*|.*-(?:owner|request|bounces))"
    r"(?:[+.-].*)?$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Fuse:
    """At most `limit` automatic mails caused by one sender within `window`."""

    limit: int = 20
    window: timedelta = timedelta(hours=2)


def is_no_reply(email: str) -> bool:
    """Addresses nobody reads replies at: noreply@, do-not-reply@, mailer-daemon@, list owners and bounces."""
    return bool(_NO_REPLY.match(email.partition("@")[0]))


def is_our_mail(message: Message) -> bool:
    """Mail inboxcrm sent itself (any installation), come back in through a mailbox we poll."""
    return message.header(OUR_HEADER) is not None


def automatic_reason(message: Message, kind: Kind) -> str | None:
    """Why `message` is machine-made mail no robot should answer, or None for mail from a person."""
    if is_our_mail(message):
        return "it is mail inboxcrm sent"
    if kind is not Kind.NORMAL:
        return f"it is {kind.value.replace('_', ' ')} mail"
    submitted = (message.header("Auto-Submitted") or "no").strip().lower()
    if not submitted.startswith("no"):
        return f"it says Auto-Submitted: {submitted}"
    precedence = (message.header("Precedence") or "").strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"it says Precedence: {precedence}"
    if message.header("List-Id") or message.header("List-Unsubscribe"):
        return "it is list or bulk mail (List-Id / List-Unsubscribe)"
    suppress = (message.header("X-Auto-Response-Suppress") or "").lower()
    if any(word in suppress for word in ("all", "autoreply", "oof")):
        return f"it asks for no automatic replies (X-Auto-Response-Suppress: {suppress})"
    return None


def may_send_automatic(
    message: Message, kind: Kind, recipient: str | None, sent_recently: int, fuse: Fuse
) -> tuple[bool, str]:
    """Whether an automatic mail may answer `message`, sent to `recipient`, given that `sent_recently`
    automatic mails were caused by that sender within the fuse window; and the reason, for the timeline."""
    if recipient is None:
        return False, "the message has no address to answer"
    reason = automatic_reason(message, kind)
    if reason is not None:
        return False, f"not answered automatically: {reason}"
    if is_no_reply(recipient):
        return False, f"not answered automatically: {recipient} is a no-reply address"
    if sent_recently >= fuse.limit:
        hours = fuse.window.total_seconds() / 3600
        return False, f"loop fuse: {sent_recently} automatic mails to {recipient} in the last {hours:g} h"
    return True, "ok"
