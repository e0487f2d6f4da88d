"""Customer satisfaction on the desk: "How did we do?" when a ticket is solved (below the agent's reply that
solves it, or in a short mail of its own), and what a rating does (the ticket, the contact's timeline, and a
mail to the assignee when it is bad). Live only: history never asks anyone anything."""

from __future__ import annotations

import logging
from datetime import datetime

from inboxcrm.core.loops import is_no_reply
from inboxcrm.core.model import Address, TicketStatus
from inboxcrm.core.outgoing import Draft, references_after, reply_subject
from inboxcrm.core.ports import NewEvent, SupportTransaction
from inboxcrm.core.satisfaction import Rating, survey_skip_reason, survey_text
from inboxcrm.core.tickets import Ticket
from inboxcrm.services.desk.mail import DeskMail, outbox_key

log = logging.getLogger(__name__)


class Satisfaction(DeskMail):
    """The survey and its answers."""

    def survey(
        self, tx: SupportTransaction, before: Ticket, after: Ticket, relayed: bool, now: datetime
    ) -> tuple[str, list[NewEvent]]:
        """On a live change that solves `before` (now `after`): the survey text to put below the agent's
        relayed reply ("" when there is none, or when it went out in a short mail of its own, queued here),
        and the timeline events. Call it after the reply is queued, so that the customer gets the answer first.
        Asked once per ticket; never to auto-replies, lists, no-reply or unsubscribed addresses."""
        desk_mailbox = self.desk.mailboxes.get(after.mailbox)
        if (
            desk_mailbox is None
            or desk_mailbox.survey == "off"
            or self.desk.secret is None
            or after.status is not TicketStatus.SOLVED
            or before.status in (TicketStatus.SOLVED, TicketStatus.CLOSED)
        ):
            return "", []
        last = tx.last_customer_message(after.thread_id)
        candidates = [*(last.reply_to if last else ()), *([last.author] if last else [])]
        if after.contact_id is not None:
            candidates += [a for a in [tx.contact_address(after.contact_id)] if a is not None]
        customer = next((a for a in candidates if not self.desk.is_ours(a.email)), None)
        email = customer.email if customer else None
        facts = tx.survey_facts(after.id, email)
        why = survey_skip_reason(facts, email, email is not None and is_no_reply(email))
        if why is None and email is not None:
            sent = tx.automatic_mail_count(email, now - self.desk.fuse.window)
            why = "the loop fuse is blown" if sent >= self.desk.fuse.limit else None
        if why is not None:
            if facts.already_asked or facts.from_history:
                return "", []
            return "", self._said(after, now, f"Ticket #{after.id}: no satisfaction survey ({why})")
        assert customer is not None and self.desk.secret is not None
        text = survey_text(self.desk.public_url, after.id, self.desk.secret)
        tx.survey_asked(after.id, now)
        asked = self._said(after, now, f"Ticket #{after.id}: asked the customer how we did", "csat_asked")
        if relayed and desk_mailbox.survey == "reply":
            return text, asked
        draft = Draft(
            key=outbox_key("survey", after.id),
            kind="survey",
            sender=Address(desk_mailbox.address, desk_mailbox.from_name),
            to=(customer,),
            subject=reply_subject(last.subject if last else after.subject, after.token),
            text=f"Your request {after.token} is solved.\n\n{text}\nIf anything is still open, just reply.\n",
            reply_to=self._customer_reply_to(desk_mailbox, after),
            in_reply_to=last.message_id if last else None,
            references=references_after(last.message_id, last.references) if last else (),
            automatic="auto-generated",
        )
        self._queue(tx, desk_mailbox, draft, now, automatic=True, cause=email, ticket=after)
        return "", asked

    def survey_below_reply(self, before: Ticket, after: Ticket, relayed: bool) -> bool:
        """Whether the survey of this change goes below the agent's relayed reply (else in a mail of its own,
        queued after the reply)."""
        desk_mailbox = self.desk.mailboxes.get(after.mailbox)
        return (
            relayed
            and desk_mailbox is not None
            and desk_mailbox.survey == "reply"
            and after.status is TicketStatus.SOLVED
            and before.status not in (TicketStatus.SOLVED, TicketStatus.CLOSED)
        )

    def rated(
        self, tx: SupportTransaction, ticket: Ticket, rating: Rating, comment: str | None, now: datetime
    ) -> list[NewEvent]:
        """A customer's answer: kept on the ticket and its customer's timeline; a bad one is mailed to the
        assignee (else the queue's agents). Answering again changes the rating (the assignee hears of a bad
        one once)."""
        previous = tx.rating_of(ticket.id)
        if previous is None or not tx.record_rating(ticket, rating.value, comment, now):
            return []
        said = f"Ticket #{ticket.id} rated {rating.value} by the customer" + (f": {comment}" if comment else "")
        events = self._said(ticket, now, said[:500], "csat_rated")
        if rating is Rating.BAD and previous[0] != Rating.BAD.value:
            self._tell_bad(tx, ticket, comment, now)
        return events

    def _tell_bad(self, tx: SupportTransaction, ticket: Ticket, comment: str | None, now: datetime) -> None:
        desk_mailbox = self.desk.mailboxes.get(ticket.mailbox)
        if desk_mailbox is None:
            return
        customer = tx.contact_address(ticket.contact_id) if ticket.contact_id is not None else None
        who = customer.email if customer else "The customer"
        domain = desk_mailbox.address.partition("@")[2]
        text = (
            f"{who} rated ticket {ticket.token} {ticket.subject!r} as bad.\n\n"
            + (f"Their comment:\n\n{comment}\n\n" if comment else "They left no comment.\n\n")
            + "Reply to the ticket's last notification to answer them.\n"
        )
        for agent in self.desk.watchers(ticket):
            draft = Draft(
                key=outbox_key("csat-bad", ticket.id, agent.name, now.isoformat()),
                kind="csat_bad",
                sender=Address(desk_mailbox.address, desk_mailbox.from_name),
                to=(Address(agent.address, agent.display_name),),
                subject=f"{ticket.token} Rated bad: {ticket.subject}",
                text=text,
                references=(f"<ticket-{ticket.id}@{domain}>",),  # threads with the ticket's notifications
                automatic="auto-generated",
            )
            self._queue(tx, desk_mailbox, draft, now, automatic=True, ticket=ticket)

    def _said(self, ticket: Ticket, at: datetime, summary: str, kind: str = "csat_skipped") -> list[NewEvent]:
        if ticket.contact_id is None:
            return []
        return [NewEvent(ticket.contact_id, at, kind, summary, ticket_id=ticket.id)]
