"""The collision guard on the desk (rules in core/collisions.py): an agent's relayed reply that another answer
(or the customer's newer message) crossed is held and the agent told; `#send` sends it anyway; held replies
nobody sends are dropped by the clock; an observed reply (Cc) that crossed another answer is recorded."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from inboxcrm.core import commands as agent_commands
from inboxcrm.core.collisions import (
    DROPPED,
    HELD,
    SENT,
    Crossing,
    HeldReply,
    answered_since,
    notice_text,
    observed_collision,
)
from inboxcrm.core.model import Address, MailboxProfile
from inboxcrm.core.outgoing import Draft, quoted, references_after, reply_subject
from inboxcrm.core.ports import NewEvent, NewMessage, SupportTransaction
from inboxcrm.core.reply_tokens import relay_address
from inboxcrm.core.tickets import Change, Ticket, agent_replied
from inboxcrm.services.desk.mail import days, outbox_key
from inboxcrm.services.desk.relay import Relay
from inboxcrm.services.desk.setup import Agent, DeskMailbox, sender_of

log = logging.getLogger(__name__)


class Holding(Relay):
    """Holding, sending and dropping replies that crossed another answer."""

    def _crossings(
        self, tx: SupportTransaction, ticket: Ticket, since: datetime, addresses: Sequence[str]
    ) -> list[Crossing]:
        found = []
        for crossing in tx.crossings_since(ticket.id, ticket.thread_id, since, addresses):
            if crossing.kind == "answer":
                agent = self.desk.agent_for(crossing.who)
                who = (agent.display_name or agent.name) if agent else crossing.who
                text = agent_commands.read_commands(
                    crossing.text,
                    sender=agent.name if agent else crossing.who,
                    agents=[a.name for a in self.desk.agents],
                    priorities=self.desk.priorities,
                    now=crossing.at,
                    timezone=self.desk.timezone,
                ).body
                found.append(Crossing("answer", who, crossing.at, text))
            else:
                found.append(crossing)
        return found

    def guard(
        self,
        tx: SupportTransaction,
        mailbox: MailboxProfile,
        row: NewMessage,
        message_id: int,
        ticket: Ticket,
        agent: Agent | None,
        text: str,
        applied: Sequence[Change],
        now: datetime,
    ) -> list[NewEvent] | None:
        """Hold the agent's relayed reply (customer's copy `text`) if something crossed it since the agent was
        last told about the ticket: the agent gets a notice with what happened and how to send it anyway.
        Returns the timeline events of the hold, or None when the reply may go out."""
        sender = sender_of(row.message)
        if agent is None or sender is None:
            return None
        notices = tx.desk_notices(ticket.id)
        since = answered_since(row.message.in_reply_to, row.message.references, notices, agent.addresses)
        if since is None:
            return None
        crossings = self._crossings(tx, ticket, since, agent.addresses)
        if not crossings:
            return None
        desk_mailbox = self.desk.mailboxes.get(mailbox.name) or DeskMailbox(mailbox.name, sorted(mailbox.addresses)[0])
        drop_at = now + self.desk.drop_held_after
        first = min(crossings, key=lambda c: c.at)
        headline = "the customer wrote again" if first.kind == "customer" else f"{first.who} answered first"
        domain = desk_mailbox.address.partition("@")[2]
        reply_to: tuple[str, ...] = ()
        if self.desk.secret is not None:
            expires = now.date() + self.desk.relay_valid_for
            reply_to = (relay_address(desk_mailbox.address, ticket.id, False, expires, self.desk.secret),)
        draft = Draft(
            key=outbox_key("held", message_id),
            kind="held_notice",
            sender=Address(desk_mailbox.address, desk_mailbox.from_name),
            to=(Address(agent.address, agent.display_name),),
            subject=f"{ticket.token} Not sent, {headline}: {ticket.subject}",
            text=notice_text(
                ticket.token,
                ticket.subject,
                crossings,
                text,
                drop_at,
                self.desk.timezone,
                [c.summary for c in applied],
            ),
            reply_to=reply_to,
            in_reply_to=row.message.message_id,
            references=(
                f"<ticket-{ticket.id}@{domain}>",
                *references_after(row.message.message_id, row.message.references),
            ),
            automatic="auto-generated",
        )
        mail = self._queue(tx, desk_mailbox, draft, now, automatic=True, ticket=ticket)
        tx.hold_reply(
            HeldReply(
                id=0,
                ticket_id=ticket.id,
                message_id=message_id,
                raw_id=row.raw_id,
                agent=agent.name,
                author=sender,
                mailbox=mailbox.name,
                body=text,
                notice_message_id=mail.message_id if mail else None,
                held_at=now,
                drop_at=drop_at,
            )
        )
        log.info("ticket #%d: a reply by %s held (%s)", ticket.id, agent.name, headline)
        if ticket.contact_id is None:
            return []
        return [
            NewEvent(
                ticket.contact_id,
                row.sent_at,
                "ticket_reply_held",
                f"Reply by {agent.name} held, not sent ({headline}): {' '.join(text.split())}"[:500],
                message_id=message_id,
                ticket_id=ticket.id,
            )
        ]

    def release(
        self,
        tx: SupportTransaction,
        mailbox: MailboxProfile,
        row: NewMessage,
        ticket: Ticket,
        agent: Agent | None,
        now: datetime,
    ) -> tuple[Ticket, list[Change], list[NewEvent]]:
        """`#send`: the agent's held reply goes to the customer after all (or the agent hears why not)."""
        sender = sender_of(row.message)
        if sender is None:
            return ticket, [], []
        answering = [m for m in [row.message.in_reply_to, *row.message.references] if m]
        held = tx.held_reply(ticket.id, answering, sender)
        if held is None or held.status != HELD or not tx.resolve_held(held.id, SENT, now):
            if held is None:
                why = f"you have no held reply on ticket {ticket.token}"
            elif held.status == DROPPED and held.resolved_at is not None:
                when = f"{held.resolved_at:%Y-%m-%d %H:%M} UTC"
                why = f"your held reply was dropped on {when}: send it again as a new reply"
            else:
                why = "your held reply was sent already"
            self._tell_sender(tx, mailbox, row, ticket, "nothing to send", f"Nothing was sent: {why}.\n", now)
            return ticket, [], []
        self._send_relay(tx, mailbox, held.raw_id, held.author, held.message_id, ticket, agent, held.body, now)
        by = agent.name if agent else sender
        updated, changes = agent_replied(ticket, now)
        changes.append(Change("reply_sent", f"Held reply by {by} sent anyway (#send)"))
        events = []
        if ticket.contact_id is not None:
            events.append(
                NewEvent(
                    ticket.contact_id,
                    now,
                    "message_out",
                    f"{by} replied: {' '.join(held.body.split())}"[:500],
                    message_id=held.message_id,
                    ticket_id=ticket.id,
                )
            )
        return updated, changes, events

    def observed_crossed(self, tx: SupportTransaction, row: NewMessage, ticket: Ticket) -> list[NewEvent]:
        """An agent's reply that reached the customer directly (Cc) after another agent's answer: it cannot be
        held, so the collision goes on the timeline (and into the reports)."""
        sender = sender_of(row.message)
        agent = self.desk.agent_for(sender)
        if sender is None or ticket.contact_id is None:
            return []
        addresses = agent.addresses if agent else (sender,)
        since = answered_since(row.message.in_reply_to, row.message.references, tx.desk_notices(ticket.id), addresses)
        if since is None:
            last = tx.last_customer_message(ticket.thread_id)
            since = last.sent_at if last is not None else ticket.created_at
        answers = [c for c in self._crossings(tx, ticket, since, addresses) if c.kind == "answer"]
        if not answers:
            return []
        who = agent.name if agent else sender
        return [
            NewEvent(
                ticket.contact_id,
                row.sent_at,
                "ticket_collision",
                observed_collision(who, answers)[:500],
                ticket_id=ticket.id,
            )
        ]

    def drop_held(self, tx: SupportTransaction, now: datetime, limit: int = 200) -> int:
        """Drop held replies nobody sent in time (they stay on the timeline). Returns how many."""
        dropped = 0
        for held in tx.held_replies_due(now, limit):
            if not tx.resolve_held(held.id, DROPPED, now):
                continue
            dropped += 1
            ticket = tx.ticket(held.ticket_id)
            if ticket is not None:
                waited = days(held.drop_at - held.held_at)
                change = Change("reply_dropped", f"Held reply by {held.agent} dropped unsent after {waited}")
                tx.add_events(self._events(ticket, [change], now))
        return dropped

    def _tell_sender(
        self,
        tx: SupportTransaction,
        mailbox: MailboxProfile,
        row: NewMessage,
        ticket: Ticket,
        what: str,
        text: str,
        now: datetime,
    ) -> None:
        desk_mailbox = self.desk.mailboxes.get(mailbox.name) or DeskMailbox(mailbox.name, sorted(mailbox.addresses)[0])
        sender = sender_of(row.message)
        if sender is None:
            return
        draft = Draft(
            key=outbox_key("held-report", row.message.message_id or self.desk.new_id()),
            kind="command_report",
            sender=Address(desk_mailbox.address, desk_mailbox.from_name),
            to=(Address(sender),),
            subject=reply_subject(row.message.subject) + f" ({what})",
            text=text + "\n" + quoted(row.message.text[:5000]),
            in_reply_to=row.message.message_id,
            references=references_after(row.message.message_id, row.message.references),
            automatic="auto-replied",
        )
        self._queue(tx, desk_mailbox, draft, now, automatic=True, cause=sender, ticket=ticket)
