"""`#reply NAME` on the desk (see core/saved_replies.py): the saved reply rendered with the ticket's and the
contact's fields, above the agent's own text; an unknown name or a reply that fails to render becomes a
command problem, mailed back to the agent with nothing sent."""

from __future__ import annotations

import logging
from dataclasses import replace

from inboxcrm.core import saved_replies
from inboxcrm.core.commands import AgentReply
from inboxcrm.core.model import MailboxProfile
from inboxcrm.core.ports import SupportTransaction
from inboxcrm.core.tickets import Ticket
from inboxcrm.services.desk.mail import DeskMail
from inboxcrm.services.desk.setup import Agent, DeskMailbox

log = logging.getLogger(__name__)


class SavedReplies(DeskMail):
    """Saved replies, written into an agent's reply."""

    def with_saved_reply(
        self, tx: SupportTransaction, mailbox: MailboxProfile, ticket: Ticket, agent: Agent | None, reply: AgentReply
    ) -> AgentReply:
        """`reply` with the saved reply it names rendered above the agent's text, or with the problem that
        stops it (then nothing is applied or sent). A reply without `#reply` comes back as it is."""
        name = reply.saved_reply
        if name is None:
            return reply
        line = next((c.line for c in reply.commands if c.name == "reply"), 0)
        templates = self.desk.templates
        known = templates.saved_replies() if templates is not None else []
        if templates is None or name not in known:
            return replace(reply, problems=(*reply.problems, saved_replies.unknown(name, known, line)))
        desk_mailbox = self.desk.mailboxes.get(mailbox.name) or DeskMailbox(mailbox.name, sorted(mailbox.addresses)[0])
        last = tx.last_customer_message(ticket.thread_id)
        customer = None
        if ticket.contact_id is not None:
            customer = tx.contact_address(ticket.contact_id)
        if last is not None and not self.desk.is_ours(last.author.email):
            customer = last.author if customer is None or not customer.name else customer
        fields = tx.contact_field_values([ticket.contact_id]).get(ticket.contact_id, {}) if ticket.contact_id else {}
        context = saved_replies.context(
            ticket,
            customer,
            fields,
            agent.name if agent else "",
            agent.display_name if agent else "",
            {"name": desk_mailbox.name, "address": desk_mailbox.address, "from_name": desk_mailbox.from_name},
        )
        try:
            rendered = templates.render(saved_replies.template_name(name), context)
        except Exception as exc:  # a broken saved reply is reported to the agent, never half-sent
            log.error("saved reply %s failed on ticket #%d: %s", name, ticket.id, exc)
            return replace(reply, problems=(*reply.problems, saved_replies.failed(name, str(exc), line)))
        return replace(reply, body=saved_replies.compose(rendered.text, reply.body))
