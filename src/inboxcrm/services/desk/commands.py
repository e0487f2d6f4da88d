"""An agent's reply, note or commands on a ticket (through the relay, or observed with the shared address in
Cc): commands are applied, a relayed reply goes to the customer, a note stays inside, and a command problem
is reported back to the agent with nothing applied or sent."""

from __future__ import annotations

from datetime import datetime

from inboxcrm.core import commands as agent_commands
from inboxcrm.core.model import Address, MailboxProfile
from inboxcrm.core.outgoing import Draft, quoted, references_after, reply_subject
from inboxcrm.core.ports import NewEvent, NewMessage, SupportTransaction
from inboxcrm.core.tickets import Change, Order, Ticket, agent_replied, apply_orders
from inboxcrm.services.desk.clocks import Clocks
from inboxcrm.services.desk.mail import outbox_key
from inboxcrm.services.desk.relay import Prepared, Relay
from inboxcrm.services.desk.setup import DeskMailbox, sender_of


class Commands(Relay, Clocks):
    """What an agent's mail on a ticket does."""

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
        sender = sender_of(row.message)
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
        sender = sender_of(row.message)
        if sender is None:
            return
        text = (
            f"Nothing was sent to the customer and ticket {ticket.token} is unchanged:\n\n"
            f"{agent_commands.describe(reply.problems)}\n\nFix the commands and send your reply again.\n"
        )
        draft = Draft(
            key=outbox_key("commands", message_id),
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
