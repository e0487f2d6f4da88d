"""A customer's mail on a support mailbox: it opens a ticket (acknowledged when the mailbox has a template,
and the agents are told) or, on an existing ticket, opens it again; rules' automatic replies. Automatic
mail is sent only under the loop rules of core/loops.py."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from datetime import datetime
from typing import Any

from inboxcrm.core.loops import may_send_automatic
from inboxcrm.core.model import Address, MailboxProfile, Message, TicketStatus
from inboxcrm.core.outgoing import Draft, references_after
from inboxcrm.core.ports import NewEvent, NewMessage, SupportTransaction
from inboxcrm.core.tickets import Ticket, customer_replied
from inboxcrm.services.desk.mail import outbox_key
from inboxcrm.services.desk.notifications import Notices, Notifications
from inboxcrm.services.desk.setup import DeskMailbox

log = logging.getLogger(__name__)


class Opening(Notifications):
    """What a customer's message does to the desk."""

    def opened(
        self,
        tx: SupportTransaction,
        mailbox: MailboxProfile,
        row: NewMessage,
        message_id: int,
        ticket_id: int,
        now: datetime,
        known: Mapping[int, Ticket] | None = None,
        notices: Notices | None = None,
    ) -> list[NewEvent]:
        """A customer's message opened a ticket: acknowledge it (when the mailbox has a template) and tell the
        agents who work it (with the batch's `notices`, when given). `known`: tickets as they are now, read by
        the caller already."""
        ticket = (known or {}).get(ticket_id) or tx.ticket(ticket_id)
        if ticket is None:
            return []
        events: list[NewEvent] = []
        desk_mailbox = self.desk.mailboxes.get(mailbox.name)
        if desk_mailbox is not None and desk_mailbox.acknowledge:
            events += self._automatic_reply(tx, desk_mailbox, row, ticket, desk_mailbox.acknowledge, "ack", now)
        self._notify(tx, ticket, row, message_id, "New ticket", now, notices)
        return events

    def customer_wrote(
        self,
        tx: SupportTransaction,
        row: NewMessage,
        message_id: int,
        ticket_id: int,
        now: datetime,
        known: MutableMapping[int, Ticket] | None = None,
        notices: Notices | None = None,
    ) -> list[NewEvent]:
        """A customer answered on a ticket: it opens again if it was pending or solved; its agents hear of it
        (with the batch's `notices`, when given). `known`: tickets as they are now, read by the caller
        already; kept up to date here."""
        ticket = (known or {}).get(ticket_id) or tx.ticket(ticket_id)
        if ticket is None:
            return []
        updated, changes = customer_replied(ticket, row.sent_at)
        if updated != ticket:
            tx.save_ticket(updated, now)
        if known is not None:
            known[ticket_id] = updated
        if updated.status is not TicketStatus.CLOSED:
            self._notify(tx, updated, row, message_id, "Customer replied", now, notices)
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
        reply_to = self._customer(row)
        recipient = reply_to.email if reply_to else None
        forwarded = row.meaning.forwarded_by is not None
        sent = tx.automatic_mail_count(recipient, now - self.desk.fuse.window) if recipient else 0
        allowed, why = may_send_automatic(message, row.meaning.kind, recipient, sent, self.desk.fuse)
        contact_id = row.contact_id
        if not allowed or reply_to is None or recipient is None:
            log.info("mailbox %s: no %s for %s: %s", desk_mailbox.name, kind, recipient, why)
            return [NewEvent(contact_id, row.sent_at, "automatic_mail_held", why[:500])] if contact_id else []
        if self.desk.templates is None:
            return []
        echo = _may_echo(desk_mailbox.echo, lambda: _known(tx, row, reply_to, now))
        context = _template_context(desk_mailbox, reply_to, ticket, message, echo)
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
            outbox_key("ack", ticket.id)
            if kind == "ack" and ticket
            else outbox_key(kind, message.message_id or self.desk.new_id(), template)
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
            # the customer never saw a team member's forward: nothing of it to thread under
            in_reply_to=None if forwarded else message.message_id,
            references=() if forwarded else references_after(message.message_id, message.references),
            automatic="auto-replied",
        )
        mail = self._queue(
            tx, desk_mailbox, draft, now, automatic=True, cause=recipient, ticket=ticket, contact_id=contact_id
        )
        if mail is not None and ticket is not None:
            tx.map_threads([(mail.message_id, ticket.thread_id)])
        return []

    def _customer(self, row: NewMessage) -> Address | None:
        """Whom an automatic answer to `row` goes to: the sender (From) — for a team member's forward, the
        original author — never a Reply-To, which anyone can set to a victim's address (issue 17); never one
        of our addresses."""
        message = row.message
        customer = message.from_ if row.meaning.forwarded_by is None else row.meaning.contact
        if customer is None or self.desk.is_ours(customer.email):
            return None
        return customer


def _may_echo(echo: str, known: Callable[[], bool]) -> bool:
    """Whether an automatic answer may repeat the words of the message it answers (`echo` as configured)."""
    if echo == "always":
        return True
    return echo != "never" and known()


def _known(tx: SupportTransaction, row: NewMessage, recipient: Address, now: datetime) -> bool:
    """The recipient is the contact the message is filed under, with mail stored before this fetch: someone
    we are in touch with, not an address a stranger typed in (From is not authenticated)."""
    contact = row.meaning.contact
    if row.contact_id is None or contact is None or contact.email != recipient.email:
        return False
    return tx.wrote_before(row.contact_id, now)


def _template_context(
    desk_mailbox: DeskMailbox, person: Address, ticket: Ticket | None, message: Message, echo: bool = True
) -> dict[str, Any]:
    """What an automatic answer's templates see. Without `echo`, nothing the sender wrote (the subject, their
    display name) is in it: a stranger's first message must not make us mail their words to whoever they
    named in From (empty strings, so templates render either way)."""
    name = person.name if echo else ""
    first = name.split()[0] if name.split() else ""
    return {
        "contact": {"email": person.email, "name": name, "first_name": first},
        "ticket": {
            "id": ticket.id,
            "token": ticket.token,
            "subject": ticket.subject if echo else "",
            "queue": ticket.queue,
            "priority": ticket.priority,
        }
        if ticket
        else None,
        "mailbox": {"name": desk_mailbox.name, "address": desk_mailbox.address, "from_name": desk_mailbox.from_name},
        "message": {"subject": message.subject if echo else ""},
    }


# What an acknowledgement template is rendered with, as `inboxcrm check` tries it.
SAMPLE_CONTEXT: dict[str, Any] = {
    "contact": {"email": "ada@example.org", "name": "Ada Lovelace", "first_name": "Ada"},
    "ticket": {"id": 42, "token": "[#42]", "subject": "Invoice question", "queue": "support", "priority": "normal"},
    "mailbox": {"name": "support", "address": "support@example.com", "from_name": "Example Support"},
    "message": {"subject": "Invoice question"},
}
