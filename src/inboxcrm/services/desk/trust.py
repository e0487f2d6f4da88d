"""The gate in front of everything an agent's mail does: mail from an agent's (or the shared) address is
authenticated as `[security] agent_mail` says (core/agent_mail.py) before its commands are applied, its
reply relayed or counted as the first response. Mail that fails is kept and shown on the ticket, marked,
and never obeyed.

Who is told: the agent whose address it carries, by mail from the shared address, when the mail asked for
something that did not happen (a reply through the relay, a note, commands). If they wrote it, they learn
their reply never reached the customer; if they did not, they learn someone wrote in their name. The
forger is never answered: every address in a forged mail (Reply-To, envelope) is theirs to choose, and the
agent's address is the only one we know is real. A plain reply in Cc without commands is only recorded
(the customer already has it): in relay-only mode that is every Cc reply, and a mail for each would be
noise."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from inboxcrm.core import commands as agent_commands
from inboxcrm.core.agent_mail import DkimResult, Verdict, verdict
from inboxcrm.core.classify import Kind
from inboxcrm.core.loops import may_send_automatic
from inboxcrm.core.model import Address, MailboxProfile, TicketStatus
from inboxcrm.core.outgoing import Draft, quoted, references_after, reply_subject
from inboxcrm.core.ports import NewEvent, NewMessage, SupportTransaction
from inboxcrm.core.tickets import Change
from inboxcrm.services.desk.mail import DeskMail, outbox_key
from inboxcrm.services.desk.relay import Prepared
from inboxcrm.services.desk.setup import sender_of

log = logging.getLogger(__name__)

# What the desk does with mail from an agent; all of it must be authenticated first.
AGENT_ROLES = frozenset({"agent_reply", "observed_reply", "note", "commands", "command_problem"})
# The role of agent mail that failed: stored and shown, never obeyed.
UNVERIFIED = "unverified"

VerifyDkim = Callable[[bytes], Sequence[DkimResult]]


class Trust(DeskMail):
    """Whether an agent's mail is theirs, and what happens when it is not."""

    def authenticate(
        self,
        tx: SupportTransaction,
        mailbox: MailboxProfile,
        rows: Sequence[NewMessage],
        prepared: Sequence[Prepared | None],
        on_ticket: Mapping[int, tuple[int, TicketStatus]],
        live: bool,
        now: datetime,
    ) -> list[NewMessage]:
        """`rows` as the desk may use them: agent mail that is not authenticated gets the role `unverified`
        (stored, shown, never obeyed), an event on its ticket saying why and, live, the agent is told."""
        out = []
        for row, ready in zip(rows, prepared, strict=True):
            found = self.check(tx, row, ready)
            if found is None or found.trusted:
                out.append(row)
                continue
            log.warning(
                "mailbox %s: mail from %s (%s) not authenticated, not obeyed: %s",
                row.mailbox,
                sender_of(row.message),
                row.message.message_id,
                found.reason,
            )
            kept = replace(row, role=UNVERIFIED)
            ticket_id = on_ticket[row.thread_id][0] if row.thread_id in on_ticket else None
            tx.add_events(self._unverified(tx, mailbox, kept, ticket_id, found.reason, ready, live, now))
            out.append(kept)
        return out

    def check(self, tx: SupportTransaction, row: NewMessage, prepared: Prepared | None) -> Verdict | None:
        """Whether `row` is its sender's, when it is agent mail (None when it is not: nothing to check)."""
        sender = sender_of(row.message)
        if row.role not in AGENT_ROLES or sender is None:
            return None
        policy = self.desk.agent_mail
        dkim: Sequence[DkimResult] | None = None
        if policy.checks_dkim and self.desk.verify_dkim is not None:
            raw = tx.raw_message(row.raw_id)
            dkim = self.desk.verify_dkim(raw) if raw is not None else ()
        via_relay = prepared is not None and prepared.ticket is not None
        return verdict(policy, sender, row.message.headers, dkim, via_relay)

    def _unverified(
        self,
        tx: SupportTransaction,
        mailbox: MailboxProfile,
        row: NewMessage,
        ticket_id: int | None,
        reason: str,
        prepared: Prepared | None,
        live: bool,
        now: datetime,
    ) -> list[NewEvent]:
        ticket = prepared.ticket if prepared is not None else None
        if ticket is None and ticket_id is not None:
            ticket = tx.ticket(ticket_id)
        sender = sender_of(row.message) or ""
        agent = self.desk.agent_for(sender)
        via_relay = prepared is not None and prepared.ticket is not None
        if live and ticket is not None and agent is not None and (via_relay or self._has_commands(row)):
            self._tell_agent(tx, mailbox, row, agent.address, ticket.token, reason, now)
        if ticket is None:
            return []
        summary = f"Mail from {sender} not authenticated, nothing applied or sent: {reason}"
        return self._events(ticket, [Change("agent_mail_unverified", summary)], row.sent_at)

    def _has_commands(self, row: NewMessage) -> bool:
        text = (row.analysis.body.new_text if row.analysis else None) or row.message.text
        reply = agent_commands.read_commands(
            text,
            sender=sender_of(row.message) or "",
            agents=[a.name for a in self.desk.agents],
            priorities=self.desk.priorities,
            now=row.sent_at,
            timezone=self.desk.timezone,
        )
        return bool(reply.commands or reply.problems or reply.is_note)

    def _tell_agent(
        self,
        tx: SupportTransaction,
        mailbox: MailboxProfile,
        row: NewMessage,
        agent_address: str,
        token: str,
        reason: str,
        now: datetime,
    ) -> None:
        desk_mailbox = self.desk.mailboxes.get(mailbox.name)
        if desk_mailbox is None:
            return
        message = row.message
        sent = tx.automatic_mail_count(agent_address, now - self.desk.fuse.window)
        allowed, why = may_send_automatic(message, Kind.NORMAL, agent_address, sent, self.desk.fuse)
        if not allowed:
            log.info("mailbox %s: %s not told of unauthenticated mail: %s", mailbox.name, agent_address, why)
            return
        text = (
            f"A message from your address on ticket {token} could not be authenticated, so nothing in it was\n"
            f"applied and nothing was sent to the customer: {reason}.\n\n"
            "If you wrote it, your mail is not signed the way this desk checks it (ask whoever runs inboxcrm).\n"
            "If you did not, someone wrote it in your name; it is kept on the ticket, marked as not authenticated.\n"
        )
        draft = Draft(
            key=outbox_key("unverified", message.message_id or self.desk.new_id()),
            kind="unverified",
            sender=Address(desk_mailbox.address, desk_mailbox.from_name),
            to=(Address(agent_address),),
            subject=reply_subject(message.subject) + " (not authenticated)",
            text=text + "\n" + quoted(message.text[:5000]),
            in_reply_to=message.message_id,
            references=references_after(message.message_id, message.references),
            automatic="auto-replied",
        )
        self._queue(tx, desk_mailbox, draft, now, automatic=True, cause=agent_address)
