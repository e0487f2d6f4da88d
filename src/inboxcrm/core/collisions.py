"""Collision guard: two agents answering the same customer.

When an agent's relayed reply arrives, the desk looks at what happened on the ticket since the notification
that agent answered: another agent's answer the customer received, or a newer message from the customer. If
anything did, the reply is held (not sent) and the agent is told what crossed it; `#send` sends it anyway,
and a held reply nobody sends is dropped after a while (it stays on the timeline). Replies the desk only
observes (the shared address in Cc) have already reached the customer: the collision is recorded instead.

Pure: the notices, crossings and times are read by the caller and passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

HELD, SENT, DROPPED = "held", "sent", "dropped"


@dataclass(frozen=True, slots=True)
class Notice:
    """A mail the desk sent an agent about a ticket (a notification, or a held reply's notice): what an
    agent's reply can be an answer to."""

    message_id: str
    at: datetime
    recipients: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Crossing:
    """Something that happened on a ticket after an agent was told about it: `kind` is "answer" (another
    agent's reply the customer received) or "customer" (the customer wrote again)."""

    kind: str
    who: str
    at: datetime
    text: str


@dataclass(frozen=True, slots=True)
class HeldReply:
    """An agent's reply the desk did not send because something crossed it. `body` is what the customer
    would receive (commands removed, a saved reply rendered); `notice_message_id` is the desk's mail telling
    the agent, which `#send` answers."""

    id: int
    ticket_id: int
    message_id: int
    raw_id: int
    agent: str
    author: str
    mailbox: str
    body: str
    notice_message_id: str | None
    held_at: datetime
    drop_at: datetime
    status: str = HELD
    resolved_at: datetime | None = None


def answered_since(
    in_reply_to: str | None, references: Sequence[str], notices: Iterable[Notice], agent_addresses: Sequence[str]
) -> datetime | None:
    """When the agent was last told about the ticket before writing this reply: the newest notice the reply
    names (In-Reply-To, References), else the newest one sent to the agent; None when the agent was never
    told (then nothing is held: there is no moment to compare with)."""
    named = {m.strip().strip("<>") for m in [in_reply_to or "", *references] if m and m.strip()}
    known = list(notices)
    answered = [n.at for n in known if n.message_id.strip("<>") in named]
    if answered:
        return max(answered)
    mine = {a.lower() for a in agent_addresses}
    sent_to_agent = [n.at for n in known if mine & {r.lower() for r in n.recipients}]
    return max(sent_to_agent) if sent_to_agent else None


def _when(at: datetime, timezone: str) -> str:
    return at.astimezone(ZoneInfo(timezone)).strftime("%a %d %b %H:%M")


def _quoted(text: str, limit: int = 3000) -> str:
    cut = text.strip()[:limit]
    return "\n".join(f"> {line}" if line else ">" for line in cut.splitlines()) or "> (no text)"


def what_crossed(crossings: Sequence[Crossing], timezone: str) -> str:
    """Plain text of what happened in between, oldest first: who answered and what they wrote, or the
    customer's newer message."""
    parts = []
    for crossing in sorted(crossings, key=lambda c: c.at):
        if crossing.kind == "customer":
            head = f"{crossing.who} (the customer) wrote again on {_when(crossing.at, timezone)}:"
        else:
            head = f"{crossing.who} answered the customer on {_when(crossing.at, timezone)}:"
        parts.append(f"{head}\n{_quoted(crossing.text)}")
    return "\n\n".join(parts)


def notice_text(
    token: str,
    subject: str,
    crossings: Sequence[Crossing],
    body: str,
    drop_at: datetime,
    timezone: str,
    applied: Sequence[str] = (),
) -> str:
    """The mail telling an agent their reply was held: what crossed it, the two ways on, and their reply."""
    lines = [
        f"Your reply on ticket {token} {subject} was not sent to the customer: the ticket changed after you "
        "were told about it.",
        "",
        what_crossed(crossings, timezone),
        "",
        "Two ways on:",
        "  - reply to this mail with #send alone to send your reply anyway;",
        f"  - do nothing, and it is dropped on {_when(drop_at, timezone)} (it stays on the ticket's timeline).",
        "Or reply to this mail with a new answer: it goes out as usual.",
    ]
    if applied:
        lines += ["", "The commands in your reply were applied:", *(f"  {a}" for a in applied)]
    lines += ["", "Your reply, as the customer would receive it:", _quoted(body, 10000), ""]
    return "\n".join(lines)


def observed_collision(agent: str, crossings: Sequence[Crossing]) -> str:
    """The timeline's line for a reply that reached the customer directly (Cc) after someone else's answer:
    it could not be held."""
    others = sorted({c.who for c in crossings if c.kind == "answer"})
    newer = any(c.kind == "customer" for c in crossings)
    what = []
    if others:
        what.append(f"after {', '.join(others)} had answered")
    if newer:
        what.append("after the customer had written again")
    return f"Collision: {agent} answered the customer directly (Cc) {' and '.join(what)}; the customer got both"
