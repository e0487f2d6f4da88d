"""Agents answering through the relay: which ticket an agent's mail to a signed relay address is for (or why
it is refused), agents' replies seen with the shared address in Cc, and the relayed answer the customer gets
from the shared address, threaded in their client, with the agent's own addresses replaced."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from inboxcrm.core import commands as agent_commands
from inboxcrm.core.analysis import Analysis
from inboxcrm.core.classify import Kind
from inboxcrm.core.loops import automatic_reason, is_our_mail, may_send_automatic
from inboxcrm.core.model import Address, Direction, MailboxProfile, Message, TicketStatus
from inboxcrm.core.outgoing import Draft, attachments_of, quoted, references_after, reply_subject
from inboxcrm.core.ports import NewMessage, SupportTransaction
from inboxcrm.core.reply_tokens import RelayRefused, RelayTarget, relay_in_recipients
from inboxcrm.core.tickets import Ticket
from inboxcrm.services.desk.mail import DeskMail, outbox_key
from inboxcrm.services.desk.setup import Agent, DeskMailbox, sender_of

log = logging.getLogger(__name__)


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


class Relay(DeskMail):
    """Mail between an agent and a customer that passes through the shared address."""

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
        agent = self.desk.agent_for(sender_of(message))
        if agent is None:
            return Prepared(
                role="refused",
                ignored=True,
                refusal=f"only the team's agents can answer through this address, and {sender_of(message)} is not one",
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
        sender = sender_of(row.message)
        if sender is None or (self.desk.agent_for(sender) is None and sender not in mailbox.addresses):
            return row
        return replace(row, role="observed_reply" if row.meaning.participants else "note")

    def refused(
        self, tx: SupportTransaction, mailbox: MailboxProfile, message: Message, reason: str, now: datetime
    ) -> None:
        """Tell whoever wrote to a forged or expired relay address why nothing happened (loop rules apply)."""
        desk_mailbox = self.desk.mailboxes.get(mailbox.name)
        sender = sender_of(message)
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
            key=outbox_key("refusal", message.message_id or self.desk.new_id()),
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

    # -- after they are stored ----------------------------------------------------------------------------
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
        """The agent's reply (commands left out, sign-off and signature kept) to the ticket's customer."""
        signature = row.analysis.segments.signature if row.analysis else ""
        desk_mailbox = self.desk.mailboxes.get(mailbox.name) or DeskMailbox(mailbox.name, sorted(mailbox.addresses)[0])
        last = tx.last_customer_message(ticket.thread_id)
        if last is not None and self.desk.is_ours(last.author.email):
            last = None  # a team member's forward: the customer never saw it, so nothing of it is quoted
        # the ticket's customer (their own Reply-To first), never one of our addresses
        candidates = [*(last.reply_to if last else ()), *([last.author] if last else [])]
        if ticket.contact_id is not None:
            candidates += [a for a in [tx.contact_address(ticket.contact_id)] if a is not None]
        customer = next((a for a in candidates if not self.desk.is_ours(a.email)), None)
        if customer is None:
            log.warning("ticket #%d: no customer address to relay %s's reply to", ticket.id, agent)
            return
        name = (agent.display_name or agent.name) if agent else ""
        shown = (
            f"{name} ({desk_mailbox.from_name})" if name and desk_mailbox.from_name else name or desk_mailbox.from_name
        )
        text = customer_copy(body, signature, agent.addresses if agent else (), desk_mailbox.address)
        if last is not None and last.new_text.strip():
            when = last.sent_at.astimezone(ZoneInfo(self.desk.timezone)).strftime("%a, %d %b %Y %H:%M")
            author = last.author.name or last.author.email
            text = f"{text.rstrip()}\n\nOn {when}, {author} wrote:\n{quoted(last.new_text)}\n"
        draft = Draft(
            key=outbox_key("relay", message_id),
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
            tx,
            desk_mailbox,
            draft,
            now,
            automatic=False,
            ticket=ticket,
            author=sender_of(row.message),
            source=message_id,
        )
        if mail is not None:
            # The customer's answer names our Message-ID: it must find this ticket's thread.
            tx.map_threads([(mail.message_id, ticket.thread_id)])


# A phone number: 7 or more digits, with the usual separators; a leading + or 00 and (0) allowed.
_PHONE = re.compile(r"(?:\+|\b00)?\(?\d[\d\s()./-]{5,}\d")
_PHONE_LABEL = re.compile(
    r"^[\s|·•,;:/-]*(?:(?:phone|tel|telephone|mobile|mob|cell|fax|direct|[tmfp])\.?[\s:]*)?[\s|·•,;:/-]*$",
    re.IGNORECASE,
)
_SEPARATORS = re.compile(r"(?:\s*[|·•]\s*){2,}")


def customer_copy(body: str, signature: str, addresses: Sequence[str], shared: str) -> str:
    """What the customer receives of an agent's reply: the whole reply, sign-off included, and the signature
    the splitter found below it. The agent's own addresses become the shared address everywhere; below a
    `-- ` line (the signature proper) phone numbers are dropped, and a line left with only a label such as
    "Mobile:" goes with them: the customer reaches the team through the shared address, not the agent's
    own line."""
    text = body.rstrip()
    if signature.strip():
        text = f"{text}\n\n{signature.strip()}" if text else signature.strip()
    lines = text.splitlines()
    below = next((i for i, line in enumerate(lines) if line.rstrip() == "--"), None)
    if below is not None:
        kept = lines[: below + 1]
        for line in lines[below + 1 :]:
            cleaned = _PHONE.sub(lambda m: "" if sum(c.isdigit() for c in m.group()) >= 7 else m.group(), line)
            if cleaned != line:
                if _PHONE_LABEL.fullmatch(cleaned):
                    continue
                cleaned = _SEPARATORS.sub(" | ", cleaned).strip(" |·•,;")
            kept.append(cleaned)
        lines = kept
    text = "\n".join(lines) + "\n"
    for address in addresses:
        text = re.sub(re.escape(address), shared, text, flags=re.IGNORECASE)
    return text
