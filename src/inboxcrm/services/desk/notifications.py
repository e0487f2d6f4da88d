"""Telling the agents: a notification per new ticket and customer reply (to the assignee, else the queue's
agents), with a signed relay address to answer through; and a notice when a customer's server refused an
agent's reply."""

from __future__ import annotations

from datetime import datetime

from inboxcrm.core import commands as agent_commands
from inboxcrm.core.model import Address
from inboxcrm.core.outgoing import Draft
from inboxcrm.core.ports import NewMessage, SupportTransaction
from inboxcrm.core.reply_tokens import relay_address
from inboxcrm.core.tickets import Ticket
from inboxcrm.services.desk.mail import DeskMail, outbox_key


class Notifications(DeskMail):
    """Mail from the desk to its agents."""

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
        # the ticket's customer: for a team member's forward, the original author
        customer = (row.meaning.contact or row.message.from_) if row is not None else None
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
            *(
                [f"Forwarded by: {row.meaning.forwarded_by.email}"]
                if row is not None and row.meaning.forwarded_by is not None
                else []
            ),
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
                key=outbox_key(
                    "notify", ticket.id, message_id if message_id is not None else now.isoformat(), agent.name
                ),
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
            key=outbox_key("failed", mail_key),
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
