"""The support desk agents run from their own mail client: notifications, relayed replies, notes, commands,
acknowledgements, and the ticket clocks (auto-close, snooze, SLA).

Everything here runs inside the ingest transaction of the message that caused it (or the tick's own
transaction): a mail to send is an outbox row with its final bytes, committed with the decision, so a crash
neither loses it nor sends a different one.
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from inboxcrm.core import commands as agent_commands
from inboxcrm.core.analysis import Analysis
from inboxcrm.core.classify import Kind
from inboxcrm.core.loops import Fuse, automatic_reason, is_our_mail, may_send_automatic
from inboxcrm.core.model import Address, Direction, MailboxProfile, Message, TicketStatus
from inboxcrm.core.outgoing import Draft, attachments_of, compose, quoted, references_after, reply_subject
from inboxcrm.core.ports import NewEvent, NewMail, NewMessage, Renderer, Store, SupportTransaction
from inboxcrm.core.reply_tokens import RelayRefused, RelayTarget, relay_address, relay_in_recipients, reply_address
from inboxcrm.core.sla import BusinessHours, Due, Target, due
from inboxcrm.core.tickets import (
    Change,
    Order,
    Ticket,
    agent_replied,
    apply_orders,
    closes_now,
    customer_replied,
    new_breaches,
    wakes_now,
    with_breaches,
    with_status,
)

log = logging.getLogger(__name__)

# Kinds of mail in the outbox that a customer receives (the rest go to agents).
CUSTOMER_MAIL = frozenset({"relay", "ack", "auto_reply"})


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


@dataclass(frozen=True)
class Desk:
    """How the support desk is set up (from the config)."""

    agents: tuple[Agent, ...]
    mailboxes: Mapping[str, DeskMailbox]
    secret: bytes | None
    templates: Renderer | None = None
    relay_valid_for: timedelta = timedelta(days=90)
    close_after: timedelta = timedelta(days=4)
    fuse: Fuse = field(default_factory=Fuse)
    targets: Mapping[str, Target] = field(default_factory=dict)
    business_hours: BusinessHours | None = None
    timezone: str = "UTC"
    priorities: tuple[str, ...] = ("low", "normal", "high", "urgent")
    new_id: Callable[[], str] = lambda: uuid.uuid4().hex

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


@dataclass(frozen=True, slots=True)
class Prepared:
    """What the desk made of one message before it is stored: where it goes and what it is."""

    role: str | None = None
    thread_id: int | None = None
    contact_id: int | None = None
    ignored: bool = False
    ticket: Ticket | None = None
    agent: Agent | None = None
    note: bool = False
    refusal: str | None = None
    reply: agent_commands.AgentReply | None = None


def _sender(message: Message) -> str | None:
    return message.from_.email if message.from_ else None


class Support:
    """The desk's reactions to stored mail, and its periodic clock."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    # -- before the messages are stored -------------------------------------------------------------------
    def prepare(
        self,
        tx: SupportTransaction,
        mailbox: MailboxProfile,
        items: Sequence[tuple[Message, Analysis | None]],
        now: datetime,
    ) -> list[Prepared | None]:
        """Our own mail coming back, and agents' mail to a relay address: which ticket it is for, or why not."""
        out: list[Prepared | None] = []
        for message, analysis in items:
            if is_our_mail(message):
                out.append(Prepared(role="echo", ignored=True))
                continue
            found = None
            if self.desk.secret is not None:
                recipients = [a.email for a in message.to + message.cc]
                found = relay_in_recipients(recipients, mailbox.addresses, self.desk.secret, now.date())
            if found is None:
                out.append(None)
            elif isinstance(found, RelayRefused):
                out.append(Prepared(role="refused", ignored=True, refusal=found.reason))
            else:
                out.append(self._relay(tx, message, analysis, found, now))
        return out

    def read_reply(
        self, message: Message, analysis: Analysis | None, by: str, now: datetime
    ) -> agent_commands.AgentReply:
        """The commands at the top of an agent's newly written text (quotes of the notification left out)."""
        text = (analysis.segments.new_text if analysis else None) or message.text
        return agent_commands.read_commands(
            text,
            sender=by,
            agents=[a.name for a in self.desk.agents],
            priorities=self.desk.priorities,
            now=now,
            timezone=self.desk.timezone,
        )

    def _relay(
        self, tx: SupportTransaction, message: Message, analysis: Analysis | None, target: RelayTarget, now: datetime
    ) -> Prepared:
        if automatic_reason(message, analysis.kind if analysis else Kind.NORMAL) is not None:
            # an agent's out-of-office answering a notification must never reach the customer; nor is it told
            return Prepared(role="refused", ignored=True)
        agent = self.desk.agent_for(_sender(message))
        if agent is None:
            return Prepared(
                role="refused",
                ignored=True,
                refusal=f"only the team's agents can answer through this address, and {_sender(message)} is not one",
            )
        ticket = tx.ticket(target.ticket_id)
        if ticket is None:
            return Prepared(role="refused", ignored=True, refusal=f"ticket #{target.ticket_id} no longer exists")
        reply = self.read_reply(message, analysis, agent.name, now)
        if reply.problems:
            role = "command_problem"
        elif target.note or reply.is_note:
            role = "note"
        elif not reply.body.strip():
            role = "commands"
        else:
            role = "agent_reply"
        return Prepared(
            role=role,
            thread_id=ticket.thread_id,
            contact_id=ticket.contact_id,
            ticket=ticket,
            agent=agent,
            note=target.note,
            reply=reply,
        )

    def observe(
        self, mailbox: MailboxProfile, row: NewMessage, ticket_ids: Mapping[int, tuple[int, TicketStatus]]
    ) -> NewMessage:
        """An agent (or the shared address itself) writing on a ticket's thread outside the relay: a reply the
        customer got directly (the shared address in Cc or Bcc), or an internal message to the team."""
        if row.role is not None or row.direction is not Direction.OUTBOUND or row.thread_id not in ticket_ids:
            return row
        sender = _sender(row.message)
        if sender is None or (self.desk.agent_for(sender) is None and sender not in mailbox.addresses):
            return row
        return replace(row, role="observed_reply" if row.meaning.participants else "note")

    # -- after they are stored ----------------------------------------------------------------------------
    def opened(
        self,
        tx: SupportTransaction,
        mailbox: MailboxProfile,
        row: NewMessage,
        message_id: int,
        ticket_id: int,
        now: datetime,
    ) -> list[NewEvent]:
        """A customer's message opened a ticket: acknowledge it (when the mailbox has a template) and tell the
        agents who work it."""
        ticket = tx.ticket(ticket_id)
        if ticket is None:
            return []
        events: list[NewEvent] = []
        desk_mailbox = self.desk.mailboxes.get(mailbox.name)
        if desk_mailbox is not None and desk_mailbox.acknowledge:
            events += self._automatic_reply(tx, desk_mailbox, row, ticket, desk_mailbox.acknowledge, "ack", now)
        self._notify(tx, ticket, row, message_id, "New ticket", now)
        return events

    def customer_wrote(
        self, tx: SupportTransaction, row: NewMessage, message_id: int, ticket_id: int, now: datetime
    ) -> list[NewEvent]:
        """A customer answered on a ticket: it opens again if it was pending or solved; its agents hear of it."""
        ticket = tx.ticket(ticket_id)
        if ticket is None:
            return []
        updated, changes = customer_replied(ticket, row.sent_at)
        if updated != ticket:
            tx.save_ticket(updated, now)
        if updated.status is not TicketStatus.CLOSED:
            self._notify(tx, updated, row, message_id, "Customer replied", now)
        return self._events(updated, changes, row.sent_at)

    def rule_replies(
        self, tx: SupportTransaction, mailbox: MailboxProfile, row: NewMessage, templates: Sequence[str], now: datetime
    ) -> list[NewEvent]:
        """Automatic replies a rule asked for (`auto_reply = "template"`), under the same loop protection."""
        desk_mailbox = self.desk.mailboxes.get(mailbox.name)
        if desk_mailbox is None:
            return []
        events: list[NewEvent] = []
        for name in templates:
            events += self._automatic_reply(tx, desk_mailbox, row, None, name, "auto_reply", now)
        return events

    def agent_wrote(
        self,
        tx: SupportTransaction,
        mailbox: MailboxProfile,
        row: NewMessage,
        message_id: int,
        ticket_id: int,
        prepared: Prepared | None,
        now: datetime,
    ) -> list[NewEvent]:
        """An agent's reply, note or commands on a ticket (through the relay, or observed): commands are applied,
        a relayed reply goes to the customer from the shared address, a note stays inside."""
        ticket = tx.ticket(ticket_id)
        sender = _sender(row.message)
        if ticket is None or sender is None:
            return []
        agent = (prepared.agent if prepared else None) or self.desk.agent_for(sender)
        by = agent.name if agent else sender
        reply = prepared.reply if prepared and prepared.reply else self.read_reply(row.message, row.analysis, by, now)
        if reply.problems:
            # Nothing is applied and nothing reaches the customer until the agent sends a clean reply.
            self._report_problems(tx, mailbox, row, message_id, ticket, reply, now)
            return self._events(ticket, [Change("commands_refused", f"Commands from {by} not applied")], row.sent_at)
        orders = [Order(c.name, c.values, c.until) for c in reply.commands]
        updated, changes = apply_orders(
            ticket, orders, by, row.sent_at, lambda p: self.desk.due_for(p, ticket.created_at)
        )
        events: list[NewEvent] = []
        relayed = row.role == "agent_reply"
        if relayed:
            self._relay_to_customer(tx, mailbox, row, message_id, updated, agent, reply.body, now)
        if relayed or row.role == "observed_reply":
            updated, answered = agent_replied(updated, row.sent_at)
            changes = answered + changes
            contact_id = updated.contact_id
            if row.role == "agent_reply" and contact_id is not None:
                events.append(
                    NewEvent(
                        contact_id,
                        row.sent_at,
                        "message_out",
                        f"{by} replied: {' '.join(reply.body.split())}"[:500],
                        message_id=message_id,
                        ticket_id=ticket.id,
                    )
                )
        elif (reply.is_note or row.role == "note") and ticket.contact_id is not None:
            events.append(
                NewEvent(
                    ticket.contact_id,
                    row.sent_at,
                    "note",
                    f"Note by {by}: {' '.join(reply.body.split())}"[:500],
                    message_id=message_id,
                    ticket_id=ticket.id,
                )
            )
        updated, late = self.sla_on_save(updated, row.sent_at)
        changes += late
        if updated != ticket:
            tx.save_ticket(updated, now)
        return events + self._events(updated, changes, row.sent_at)

    def refused(
        self, tx: SupportTransaction, mailbox: MailboxProfile, message: Message, reason: str, now: datetime
    ) -> None:
        """Tell whoever wrote to a forged or expired relay address why nothing happened (loop rules apply)."""
        desk_mailbox = self.desk.mailboxes.get(mailbox.name)
        sender = _sender(message)
        if desk_mailbox is None or sender is None:
            return
        allowed, why = may_send_automatic(
            message, Kind.NORMAL, sender, tx.automatic_mail_count(sender, now - self.desk.fuse.window), self.desk.fuse
        )
        if not allowed:
            log.info("mailbox %s: relay refused for %s (%s); %s", mailbox.name, sender, reason, why)
            return
        text = (
            f'Your message "{message.subject}" was not delivered to anyone: {reason}.\n\n'
            "Nothing was sent to the customer and the ticket is unchanged.\n"
        )
        draft = Draft(
            key=_key("refusal", message.message_id or self.desk.new_id()),
            kind="refusal",
            sender=Address(desk_mailbox.address, desk_mailbox.from_name),
            to=(Address(sender),),
            subject=reply_subject(message.subject) + " (not delivered)",
            text=text + "\n" + quoted(message.text[:5000]),
            in_reply_to=message.message_id,
            references=references_after(message.message_id, message.references),
            automatic="auto-replied",
        )
        self._queue(tx, desk_mailbox, draft, now, automatic=True, cause=sender)

    # -- the clock ------------------------------------------------------------------------------------------
    def tick(self, tx: SupportTransaction, now: datetime, limit: int = 200) -> int:
        """Close solved tickets whose time is up, wake snoozed ones, and record SLA breaches. Returns how many
        tickets changed."""
        changed = 0
        for ticket in tx.tickets_needing_attention(now, now - self.desk.close_after, limit):
            updated, changes = ticket, []
            if closes_now(updated, now, self.desk.close_after):
                updated = with_status(updated, TicketStatus.CLOSED, now)
                changes.append(
                    Change("status", f"Ticket #{ticket.id} closed (solved {self._days(self.desk.close_after)} ago)")
                )
            if wakes_now(updated, now):
                updated = with_status(updated, TicketStatus.OPEN, now)
                changes.append(Change("status", f"Ticket #{ticket.id} open again: its snooze ended"))
                self._notify(tx, updated, None, None, "Snooze ended", now)
            found = new_breaches(updated, now)
            if found:
                updated = with_breaches(updated, found)
                changes += [
                    Change(
                        "sla_breached",
                        f"Ticket #{ticket.id}: {b.kind.replace('_', ' ')} target missed "
                        f"(due {b.due:%Y-%m-%d %H:%M} UTC)",
                    )
                    for b in found
                ]
            if updated != ticket:
                tx.save_ticket(updated, now)
                tx.add_events(self._events(updated, changes, now))
                changed += 1
        return changed

    def sla_on_save(self, ticket: Ticket, at: datetime) -> tuple[Ticket, list[Change]]:
        """Breaches that happened the moment something was recorded late (a late first response)."""
        found = new_breaches(ticket, at)
        if not found:
            return ticket, []
        return with_breaches(ticket, found), [
            Change("sla_breached", f"Ticket #{ticket.id}: {b.kind.replace('_', ' ')} target missed") for b in found
        ]

    # -- mail ----------------------------------------------------------------------------------------------
    def _relay_to_customer(
        self,
        tx: SupportTransaction,
        mailbox: MailboxProfile,
        row: NewMessage,
        message_id: int,
        ticket: Ticket,
        agent: Agent | None,
        body: str,
        now: datetime,
    ) -> None:
        desk_mailbox = self.desk.mailboxes.get(mailbox.name) or DeskMailbox(mailbox.name, sorted(mailbox.addresses)[0])
        last = tx.last_customer_message(ticket.thread_id)
        customer = (last.reply_to[0] if last and last.reply_to else None) or (last.author if last else None)
        if customer is None and ticket.contact_id is not None:
            customer = tx.contact_address(ticket.contact_id)
        if customer is None:
            log.warning("ticket #%d: no customer address to relay %s's reply to", ticket.id, agent)
            return
        name = (agent.display_name or agent.name) if agent else ""
        shown = (
            f"{name} ({desk_mailbox.from_name})" if name and desk_mailbox.from_name else name or desk_mailbox.from_name
        )
        text = _scrub(body, agent.addresses if agent else (), desk_mailbox.address)
        if last is not None and last.new_text.strip():
            when = last.sent_at.astimezone(ZoneInfo(self.desk.timezone)).strftime("%a, %d %b %Y %H:%M")
            author = last.author.name or last.author.email
            text = f"{text.rstrip()}\n\nOn {when}, {author} wrote:\n{quoted(last.new_text)}\n"
        draft = Draft(
            key=_key("relay", message_id),
            kind="relay",
            sender=Address(desk_mailbox.address, shown),
            to=(customer,),
            subject=reply_subject(last.subject if last else ticket.subject, ticket.token),
            text=text,
            reply_to=self._customer_reply_to(desk_mailbox, ticket),
            in_reply_to=last.message_id if last else None,
            references=references_after(last.message_id, last.references) if last else (),
            attachments=attachments_of(tx.raw_message(row.raw_id) or b""),
        )
        mail = self._queue(
            tx, desk_mailbox, draft, now, automatic=False, ticket=ticket, author=_sender(row.message), source=message_id
        )
        if mail is not None:
            # The customer's answer names our Message-ID: it must find this ticket's thread.
            tx.map_threads([(mail.message_id, ticket.thread_id)])

    def _customer_reply_to(self, desk_mailbox: DeskMailbox, ticket: Ticket) -> tuple[str, ...]:
        if self.desk.secret is None:
            return ()
        return (reply_address(desk_mailbox.address, ticket.thread_id, self.desk.secret),)

    def _automatic_reply(
        self,
        tx: SupportTransaction,
        desk_mailbox: DeskMailbox,
        row: NewMessage,
        ticket: Ticket | None,
        template: str,
        kind: str,
        now: datetime,
    ) -> list[NewEvent]:
        message = row.message
        # To the sender only, never to a Reply-To: anyone can name a victim there (issue 17).
        reply_to = message.from_
        recipient = reply_to.email if reply_to else None
        sent = tx.automatic_mail_count(recipient, now - self.desk.fuse.window) if recipient else 0
        allowed, why = may_send_automatic(message, row.meaning.kind, recipient, sent, self.desk.fuse)
        contact_id = row.contact_id
        if not allowed or reply_to is None or recipient is None:
            log.info("mailbox %s: no %s for %s: %s", desk_mailbox.name, kind, recipient, why)
            return [NewEvent(contact_id, row.sent_at, "automatic_mail_held", why[:500])] if contact_id else []
        if self.desk.templates is None:
            return []
        context = _template_context(desk_mailbox, reply_to, ticket, message)
        try:
            rendered = self.desk.templates.render(template, context)
        except Exception as exc:  # a broken template must never stop mail from being stored
            log.error("mailbox %s: template %s failed, nothing sent: %s", desk_mailbox.name, template, exc)
            return (
                [NewEvent(contact_id, row.sent_at, "automatic_mail_held", f"template {template} failed: {exc}"[:500])]
                if contact_id
                else []
            )
        subject = rendered.subject
        if ticket is not None and ticket.token not in subject:
            subject = f"{subject} {ticket.token}"
        key = (
            _key("ack", ticket.id)
            if kind == "ack" and ticket
            else _key(kind, message.message_id or self.desk.new_id(), template)
        )
        draft = Draft(
            key=key,
            kind=kind,
            sender=Address(desk_mailbox.address, desk_mailbox.from_name),
            to=(reply_to,),
            subject=subject,
            text=rendered.text,
            html=rendered.html,
            reply_to=self._customer_reply_to(desk_mailbox, ticket) if ticket else (),
            in_reply_to=message.message_id,
            references=references_after(message.message_id, message.references),
            automatic="auto-replied",
        )
        mail = self._queue(
            tx, desk_mailbox, draft, now, automatic=True, cause=recipient, ticket=ticket, contact_id=contact_id
        )
        if mail is not None and ticket is not None:
            tx.map_threads([(mail.message_id, ticket.thread_id)])
        return []

    def _notify(
        self,
        tx: SupportTransaction,
        ticket: Ticket,
        row: NewMessage | None,
        message_id: int | None,
        what: str,
        now: datetime,
    ) -> None:
        desk_mailbox = self.desk.mailboxes.get(ticket.mailbox)
        if desk_mailbox is None or not self.desk.agents:
            return
        customer = row.message.from_ if row is not None else None
        if customer is None and ticket.contact_id is not None:
            customer = tx.contact_address(ticket.contact_id)
        who = (
            f"{customer.name} <{customer.email}>"
            if customer and customer.name
            else (customer.email if customer else "the customer")
        )
        text = (row.analysis.segments.new_text if row and row.analysis else None) or (row.message.text if row else "")
        lines = [
            f"{what} — ticket {ticket.token} {ticket.subject}",
            f"From: {who}",
            f"Status: {ticket.status.value} · priority {ticket.priority} · queue {ticket.queue or ticket.mailbox}"
            f" · {'assigned to ' + ticket.assignee if ticket.assignee else 'unassigned'}",
            "",
            text.strip() or "(no text)",
            "",
            "-- ",
        ]
        reply_to: tuple[str, ...] = ()
        if self.desk.secret is not None:
            expires = now.date() + self.desk.relay_valid_for
            note = relay_address(desk_mailbox.address, ticket.id, True, expires, self.desk.secret)
            reply_to = (relay_address(desk_mailbox.address, ticket.id, False, expires, self.desk.secret),)
            lines += [
                f"Reply to this mail to answer {who}: your reply goes out from {desk_mailbox.address}, "
                "and your own address is never shown.",
                f"Write to {note} (or start your reply with #note) for an internal note the customer never sees.",
            ]
        else:
            lines.append(f"Answer the customer directly with {desk_mailbox.address} in Cc.")
        lines += ["Commands, each on its own line at the top of your reply:", agent_commands.COMMANDS]
        domain = desk_mailbox.address.partition("@")[2]
        for agent in self.desk.watchers(ticket):
            draft = Draft(
                key=_key("notify", ticket.id, message_id if message_id is not None else now.isoformat(), agent.name),
                kind="notification",
                sender=Address(
                    desk_mailbox.address,
                    f"{customer.name or customer.email} via {desk_mailbox.from_name or desk_mailbox.name}"
                    if customer
                    else desk_mailbox.from_name,
                ),
                to=(Address(agent.address, agent.display_name),),
                subject=f"{ticket.token} {what}: {ticket.subject}",
                text="\n".join(lines) + "\n",
                reply_to=reply_to,
                # one stable id per ticket, so an agent's mail client threads every notification of a ticket
                references=(f"<ticket-{ticket.id}@{domain}>",),
                automatic="auto-generated",
            )
            # no `cause`: the fuse counts mail that goes back to a sender, and this goes to the team
            self._queue(tx, desk_mailbox, draft, now, automatic=True, ticket=ticket)

    def _report_problems(
        self,
        tx: SupportTransaction,
        mailbox: MailboxProfile,
        row: NewMessage,
        message_id: int,
        ticket: Ticket,
        reply: agent_commands.AgentReply,
        now: datetime,
    ) -> None:
        desk_mailbox = self.desk.mailboxes.get(mailbox.name) or DeskMailbox(mailbox.name, sorted(mailbox.addresses)[0])
        sender = _sender(row.message)
        if sender is None:
            return
        text = (
            f"Nothing was sent to the customer and ticket {ticket.token} is unchanged:\n\n"
            f"{agent_commands.describe(reply.problems)}\n\nFix the commands and send your reply again.\n"
        )
        draft = Draft(
            key=_key("commands", message_id),
            kind="command_report",
            sender=Address(desk_mailbox.address, desk_mailbox.from_name),
            to=(Address(sender),),
            subject=reply_subject(row.message.subject) + " (not sent: command problem)",
            text=text + "\n" + quoted(row.message.text[:10000]),
            in_reply_to=row.message.message_id,
            references=references_after(row.message.message_id, row.message.references),
            automatic="auto-replied",
        )
        self._queue(tx, desk_mailbox, draft, now, automatic=True, cause=sender, ticket=ticket)

    def delivery_failed(
        self,
        tx: SupportTransaction,
        mail_key: str,
        author: str,
        mailbox: str | None,
        ticket_id: int | None,
        detail: str,
        now: datetime,
    ) -> None:
        """Tell the agent whose reply the customer's server refused (5xx)."""
        desk_mailbox = self.desk.mailboxes.get(mailbox or "")
        if desk_mailbox is None:
            return
        token = f"[#{ticket_id}] " if ticket_id else ""
        draft = Draft(
            key=_key("failed", mail_key),
            kind="delivery_failed",
            sender=Address(desk_mailbox.address, desk_mailbox.from_name),
            to=(Address(author),),
            subject=f"{token}Your reply could not be delivered",
            text=f"The customer's mail server refused your reply on ticket {token.strip() or '(none)'}:\n\n"
            f"  {detail}\n\nCheck the address, or reach the customer another way.\n",
            automatic="auto-generated",
        )
        ticket = tx.ticket(ticket_id) if ticket_id else None
        self._queue(tx, desk_mailbox, draft, now, automatic=True, cause=None, ticket=ticket)

    def _queue(
        self,
        tx: SupportTransaction,
        desk_mailbox: DeskMailbox,
        draft: Draft,
        now: datetime,
        *,
        automatic: bool,
        cause: str | None = None,
        ticket: Ticket | None = None,
        contact_id: int | None = None,
        author: str | None = None,
        source: int | None = None,
    ) -> NewMail | None:
        domain = desk_mailbox.address.partition("@")[2]
        message_id = f"<{self.desk.new_id()}@{domain}>"
        mail = NewMail(
            key=draft.key,
            kind=draft.kind,
            message_id=message_id,
            sender=desk_mailbox.address,
            recipients=tuple(a.email for a in draft.to),
            raw=compose(draft, message_id, now),
            automatic=automatic,
            at=now,
            mailbox=desk_mailbox.name,
            cause=cause,
            ticket_id=ticket.id if ticket else None,
            contact_id=contact_id if contact_id is not None else (ticket.contact_id if ticket else None),
            author=author,
            source_message_id=source,
        )
        # the key makes deciding twice (a retried batch, two daemons) queue the mail once
        return mail if tx.queue_mail([mail]) else None

    def events_for(self, ticket: Ticket, changes: Sequence[Change], at: datetime) -> list[NewEvent]:
        """Timeline events for changes to `ticket` (on its customer's timeline)."""
        return self._events(ticket, changes, at)

    def _events(self, ticket: Ticket, changes: Sequence[Change], at: datetime) -> list[NewEvent]:
        if ticket.contact_id is None:
            return []
        return [
            NewEvent(ticket.contact_id, at, f"ticket_{c.kind}", c.summary[:500], ticket_id=ticket.id) for c in changes
        ]

    @staticmethod
    def _days(span: timedelta) -> str:
        days = span.total_seconds() / 86400
        return f"{days:g} day{'s' if days != 1 else ''}"


_PLAIN = re.compile(r"[A-Za-z0-9_.+=-]{1,60}")


def _key(kind: str, *parts: object) -> str:
    """An outbox key: what the mail is and what it is about, usable as a file name (parts that are not
    plain, such as Message-IDs, are replaced by a digest: the key stays unique, short and safe)."""
    plain = [str(p) if _PLAIN.fullmatch(str(p)) else hashlib.sha256(str(p).encode()).hexdigest()[:24] for p in parts]
    return "-".join([kind, *plain])


def _scrub(text: str, addresses: Sequence[str], shared: str) -> str:
    """The agent's own addresses never reach the customer, not even in a signature."""
    for address in addresses:
        text = text.replace(address, shared)
    return text


def _template_context(
    desk_mailbox: DeskMailbox, person: Address, ticket: Ticket | None, message: Message
) -> dict[str, Any]:
    first = person.name.split()[0] if person.name.split() else ""
    return {
        "contact": {"email": person.email, "name": person.name, "first_name": first},
        "ticket": {
            "id": ticket.id,
            "token": ticket.token,
            "subject": ticket.subject,
            "queue": ticket.queue,
            "priority": ticket.priority,
        }
        if ticket
        else None,
        "mailbox": {"name": desk_mailbox.name, "address": desk_mailbox.address, "from_name": desk_mailbox.from_name},
        "message": {"subject": message.subject},
    }


def tick_tickets(store: Store, support: Support, now: datetime) -> int:
    """One run of the desk's clock in its own transaction (see `Support.tick`)."""
    with store.transaction() as tx:
        return support.tick(tx, now)


# What an acknowledgement template is rendered with, as `inboxcrm check` tries it.
SAMPLE_CONTEXT: dict[str, Any] = {
    "contact": {"email": "ada@example.org", "name": "Ada Lovelace", "first_name": "Ada"},
    "ticket": {"id": 42, "token": "[#42]", "subject": "Invoice question", "queue": "support", "priority": "normal"},
    "mailbox": {"name": "support", "address": "support@example.com", "from_name": "Example Support"},
    "message": {"subject": "Invoice question"},
}
