"""Saved replies: answers a team writes once (`templates/replies/NAME.j2`) and agents send with
`#reply NAME` at the top of a reply, alone or above their own text.

The customer receives the rendered saved reply, then whatever the agent wrote (and the agent's signature,
added by the relay). Rendered with the ticket's and the contact's fields (custom fields included), the agent
and the mailbox. Pure: the caller reads the fields and renders.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from inboxcrm.core.commands import CommandProblem
from inboxcrm.core.model import Address
from inboxcrm.core.tickets import Ticket
from inboxcrm.core.tomlfile import closest, suggest

FOLDER = "replies"
"""The templates subfolder saved replies live in: `#reply NAME` renders template `replies/NAME`."""


def template_name(name: str) -> str:
    """The template a saved reply's name stands for."""
    return f"{FOLDER}/{name}"


def unknown(name: str, known: Sequence[str], line: int) -> CommandProblem:
    """The problem mailed back for `#reply NAME` when there is no such saved reply: the closest names."""
    if not known:
        hint = f"there are no saved replies yet: write one as templates/{FOLDER}/NAME.j2"
    else:
        close = closest(name, known)
        nearby = [close] if close else []
        nearby += [n for n in known if n != close and (name in n or n in name)]
        hint = f"did you mean {', '.join(nearby[:3])}?" if nearby else suggest(name, known)
    return CommandProblem(line, f"#reply {name}", f"no saved reply named {name!r}: {hint}")


def failed(name: str, why: str, line: int) -> CommandProblem:
    """The problem mailed back when a saved reply does not render (a field it names is missing, say)."""
    return CommandProblem(line, f"#reply {name}", f"the saved reply {name!r} could not be written: {why}")


def compose(rendered: str, own_text: str) -> str:
    """What the customer receives: the saved reply, then the agent's own text (when there is any)."""
    saved = rendered.strip("\n")
    own = own_text.strip("\n")
    return f"{saved}\n\n{own}\n" if own.strip() else f"{saved}\n"


def context(
    ticket: Ticket,
    customer: Address | None,
    fields: Mapping[str, str],
    agent_name: str,
    agent_display_name: str,
    mailbox: Mapping[str, str],
) -> dict[str, Any]:
    """What a saved reply is rendered with: `ticket`, `contact` (with `fields`, the custom fields), `agent`
    and `mailbox`."""
    name = customer.name if customer else ""
    return {
        "ticket": {
            "id": ticket.id,
            "token": ticket.token,
            "subject": ticket.subject,
            "status": ticket.status.value,
            "priority": ticket.priority,
            "queue": ticket.queue or ticket.mailbox,
            "assignee": ticket.assignee or "",
            "tags": sorted(ticket.tags),
        },
        "contact": {
            "email": customer.email if customer else "",
            "name": name,
            "first_name": name.split()[0] if name.split() else "",
            "fields": dict(fields),
        },
        "agent": {"name": agent_name, "display_name": agent_display_name or agent_name},
        "mailbox": dict(mailbox),
    }


SAMPLE: dict[str, Any] = {
    "ticket": {
        "id": 42,
        "token": "[#42]",
        "subject": "Charged twice",
        "status": "open",
        "priority": "normal",
        "queue": "support",
        "assignee": "ana",
        "tags": ["billing"],
    },
    "contact": {
        "email": "ada@example.org",
        "name": "Ada Lovelace",
        "first_name": "Ada",
        "fields": {"plan": "pro", "order_id": "A-1042"},
    },
    "agent": {"name": "ana", "display_name": "Ana Alves"},
    "mailbox": {"name": "support", "address": "support@example.com", "from_name": "Example Support"},
}
"""What `inboxcrm check` renders every saved reply with (a field missing here is an error there)."""
