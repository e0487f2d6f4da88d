"""How the support desk is set up (from the config): its agents, the shared mailboxes it answers from, SLA
targets and loop protection. Pure data; every module of the desk reads it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from inboxcrm.core.agent_mail import AgentMailPolicy, DkimResult
from inboxcrm.core.loops import Fuse
from inboxcrm.core.model import Message, Team
from inboxcrm.core.ports import Renderer
from inboxcrm.core.reply_tokens import base_address
from inboxcrm.core.sla import BusinessHours, Due, Target, due
from inboxcrm.core.tickets import Ticket

# Kinds of mail in the outbox that a customer receives (the rest go to agents).
CUSTOMER_MAIL = frozenset({"relay", "ack", "auto_reply", "survey"})


@dataclass(frozen=True, slots=True)
class Agent:
    name: str
    addresses: tuple[str, ...]
    queues: tuple[str, ...] = ()
    display_name: str = ""

    @property
    def address(self) -> str:
        return self.addresses[0]


@dataclass(frozen=True, slots=True)
class DeskMailbox:
    """A shared mailbox as the desk sends from it."""

    name: str
    address: str
    from_name: str = ""
    acknowledge: str | None = None
    # "How did we do?" when a ticket is solved: "off", "reply" (below the solving reply) or "mail" (a mail of its own)
    survey: str = "off"
    echo: str = "known"  # when automatic answers may repeat the message's words: known | always | never


@dataclass(frozen=True)
class Desk:
    """How the support desk is set up (from the config)."""

    agents: tuple[Agent, ...]
    mailboxes: Mapping[str, DeskMailbox]
    secret: bytes | None
    templates: Renderer | None = None
    relay_valid_for: timedelta = timedelta(days=90)
    close_after: timedelta = timedelta(days=4)
    drop_held_after: timedelta = timedelta(days=1)  # a held reply nobody sends (#send) is dropped then
    fuse: Fuse = field(default_factory=Fuse)
    targets: Mapping[str, Target] = field(default_factory=dict)
    business_hours: BusinessHours | None = None
    timezone: str = "UTC"
    priorities: tuple[str, ...] = ("low", "normal", "high", "urgent")
    new_id: Callable[[], str] = lambda: uuid.uuid4().hex
    team: Team = field(default_factory=Team)
    # where the survey's links point (the API's public address)
    public_url: str = "http://127.0.0.1:8000"
    # what makes mail from an agent's address theirs (services/desk/trust.py), and the DKIM check it may use
    agent_mail: AgentMailPolicy = field(default_factory=AgentMailPolicy)
    verify_dkim: Callable[[bytes], Sequence[DkimResult]] | None = None

    def is_ours(self, email: str) -> bool:
        """A shared address (plus addresses too), an agent or a team member: never a customer to mail."""
        base = base_address(email)
        return (
            self.team.includes(email)
            or self.team.includes(base)
            or any(base == m.address for m in self.mailboxes.values())
            or self.agent_for(email) is not None
        )

    def agent_for(self, email: str | None) -> Agent | None:
        for agent in self.agents:
            if email is not None and email in agent.addresses:
                return agent
        return None

    def agent_named(self, name: str | None) -> Agent | None:
        return next((a for a in self.agents if a.name == name), None)

    def due_for(self, priority: str, opened_at: datetime) -> Due:
        return due(opened_at, self.targets.get(priority), self.business_hours)

    def watchers(self, ticket: Ticket) -> tuple[Agent, ...]:
        """Who hears about a ticket: its assignee, else the agents of its queue, else every agent."""
        assignee = self.agent_named(ticket.assignee)
        if assignee is not None:
            return (assignee,)
        queue = tuple(a for a in self.agents if ticket.queue in a.queues)
        return queue or self.agents


def sender_of(message: Message) -> str | None:
    """The address a message is from, if it has one."""
    return message.from_.email if message.from_ else None
