"""Telling the agents: a notification per new ticket and customer reply (to the assignee, else the queue's
agents), with a signed relay address to answer through; and a notice when a customer's server refused an
agent's reply."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from inboxcrm.core import commands as agent_commands
from inboxcrm.core.model import Address
from inboxcrm.core.outgoing import Draft
from inboxcrm.core.ports import NewMail, NewMessage, SupportTransaction
from inboxcrm.core.reply_tokens import relay_address
from inboxcrm.core.tickets import Ticket
from inboxcrm.services.desk.mail import DeskMail, outbox_key


@dataclass(frozen=True, slots=True)
class Notice:
    """Something agents are told about a ticket: a customer's message (`row`), or none (a clock)."""

    ticket: Ticket
    row: NewMessage | None
    message_id: int | None
    what: str


class Notices:
    """A batch's notifications, kept per ticket until the batch is done (`Notifications.send_notices`): a
    customer who writes three times in a row is one notification per agent, not three."""

    def __init__(self) -> None:
        self.by_ticket: dict[int, list[Notice]] = {}

    def add(self, notice: Notice) -> None:
        self.by_ticket.setdefault(notice.ticket.id, []).append(notice)


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
        notices: Notices | None = None,
    ) -> None:
        """Tell the ticket's agents now, or with the batch's other notices when `notices` is given."""
        notice = Notice(ticket, row, message_id, what)
        if notices is not None:
            notices.add(notice)
        else:
            self._queue_all(tx, self._notifications(tx, [notice], now))

    def send_notices(self, tx: SupportTransaction, notices: Notices, now: datetime) -> None:
        """The batch's notifications: one per ticket and agent (with every message the ticket got), queued
        with one statement."""
        mails = [mail for batch in notices.by_ticket.values() for mail in self._notifications(tx, batch, now)]
        self._queue_all(tx, mails)
        notices.by_ticket.clear()

    def _notifications(self, tx: SupportTransaction, notices: Sequence[Notice], now: datetime) -> list[NewMail]:
        """One notification per agent watching the ticket, about `notices` (in order; the ticket as the last
        one left it)."""
        last = notices[-1]
        ticket = last.ticket
        desk_mailbox = self.desk.mailboxes.get(ticket.mailbox)
        if desk_mailbox is None or not self.desk.agents:
            return []
        blocks = [self._block(tx, ticket, n) for n in notices]
        customer, who = blocks[-1][0], blocks[-1][1]
        what = last.what if len(notices) == 1 else f"{notices[0].what} and {len(notices) - 1} more"
        status = (
            f"Status: {ticket.status.value} · priority {ticket.priority} · queue {ticket.queue or ticket.mailbox}"
            f" · {'assigned to ' + ticket.assignee if ticket.assignee else 'unassigned'}"
        )
        lines = [f"{what} — ticket {ticket.token} {ticket.subject}"]
        if len(blocks) == 1:
            (_, _, sender, text) = blocks[0]
            lines += [*sender, status, "", *text]
        else:
            lines.append(status)
            for _, _, sender, text in blocks:
                lines += ["", *sender, "", *text]
        lines += ["", "-- "]
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
        about = last.message_id if last.message_id is not None else now.isoformat()
        mails = []
        for agent in self.desk.watchers(ticket):
            draft = Draft(
                key=outbox_key("notify", ticket.id, about, agent.name),
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
            mails.append(self._mail(desk_mailbox, draft, now, automatic=True, ticket=ticket))
        return mails

    def _block(
        self, tx: SupportTransaction, ticket: Ticket, notice: Notice
    ) -> tuple[Address | None, str, list[str], list[str]]:
        """Who the customer is (and as written for people), the lines saying who wrote, and what they wrote."""
        row = notice.row
        # the ticket's customer: for a team member's forward, the original author
        customer = (row.meaning.contact or row.message.from_) if row is not None else None
        if customer is None and ticket.contact_id is not None:
            customer = tx.contact_address(ticket.contact_id)
        who = (
            f"{customer.name} <{customer.email}>"
            if customer and customer.name
            else (customer.email if customer else "the customer")
        )
        text = (row.analysis.body.new_text if row and row.analysis else None) or (row.message.text if row else "")
        forwarded = row.meaning.forwarded_by if row is not None else None
        sender = [f"From: {who}", *([f"Forwarded by: {forwarded.email}"] if forwarded is not None else [])]
        return customer, who, sender, [text.strip() or "(no text)"]

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
