"""Drip campaigns: enrol contacts, queue each step when it is due, and stop the moment a person answers.

Everything happens in the transaction of the decision: a due step becomes an outbox row (its final bytes,
a pre-generated Message-ID and the unique key campaign + contact + step + enrolment) in the same transaction
that advances the enrolment, so a crash neither skips a step nor sends one twice with different ids.
Suppressed addresses (unsubscribed, bounced, complained) are checked when a step is queued and again by the
dispatcher right before sending.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from inboxcrm.core.audiences import Segment
from inboxcrm.core.campaigns import Campaign, ContactNow, due_at, exit_reason, may_enrol
from inboxcrm.core.classify import Kind, diagnose
from inboxcrm.core.model import Direction
from inboxcrm.core.ports import (
    Enrolment,
    NewEvent,
    NewMail,
    NewMessage,
    OutreachTransaction,
    QueuedMail,
    Recipient,
    Renderer,
    Store,
)
from inboxcrm.core.privacy import erased_key
from inboxcrm.core.suppression import SoftBouncePolicy, Verdict, suppressed_after_soft, verdict
from inboxcrm.core.unsubscribe import read_unsubscribe_token
from inboxcrm.services.campaign_mail import StepMail

log = logging.getLogger(__name__)

_UNSUBSCRIBE_SUBJECT = re.compile(r"\bunsubscribe\s+([A-Za-z0-9_-]{20,2048})\b", re.IGNORECASE)
HOLD_AFTER_TEMPLATE_ERROR = timedelta(hours=1)


@dataclass(frozen=True)
class Marketing:
    """Campaigns as configured: compiled campaign files, templates, and what links need."""

    campaigns: Mapping[str, Campaign]
    templates: Renderer | None
    secret: bytes | None
    public_url: str
    stages: tuple[str, ...] = ()
    segments: Mapping[str, Segment] = field(default_factory=dict)
    new_id: Callable[[], str] = lambda: uuid.uuid4().hex
    soft_bounces: SoftBouncePolicy = field(default_factory=SoftBouncePolicy)


@dataclass
class TickResult:
    enrolled: int = 0
    queued: int = 0
    finished: int = 0
    exited: int = 0
    held: int = 0
    more: bool = False  # a limit was reached: there may be more to do right away

    def add(self, other: TickResult) -> None:
        self.enrolled += other.enrolled
        self.queued += other.queued
        self.finished += other.finished
        self.exited += other.exited
        self.held += other.held


class Outreach:
    """Enrolment, the campaign clock, and what mail means for enrolments (replies, bounces, unsubscribes)."""

    def __init__(self, marketing: Marketing) -> None:
        self.marketing = marketing

    # -- enrolment -------------------------------------------------------------------------------------------
    def enrol(
        self, tx: OutreachTransaction, contact_id: int, name: str, source: str, now: datetime
    ) -> tuple[int | None, str]:
        """Enrol a contact in campaign `name` (its first step due after the step's delay, inside the send
        window); (None, why not) when it may not enrol."""
        campaign = self.marketing.campaigns.get(name)
        if campaign is None:
            return None, f"no campaign named {name!r}"
        recipient = tx.recipient(contact_id, now)
        if recipient is None:
            return None, f"no contact {contact_id}"
        if recipient.suppressed or recipient.undeliverable:
            return None, f"{recipient.email} is {recipient.suppressed or 'undeliverable'}: no campaign mails it"
        if self.erased(tx, [recipient.email]):
            return None, f"contact {contact_id} has an erased address: no campaign mails it"
        allowed, why = may_enrol(campaign, tx.enrolment_statuses(contact_id, name))
        if not allowed:
            return None, why
        enrolment_id = tx.add_enrolment(contact_id, name, source, now, due_at(campaign, 1, now, None))
        return enrolment_id, why

    def erased(self, tx: OutreachTransaction, emails: Iterable[str]) -> set[str]:
        """Those of `emails` (lower-cased) that belong to an erased contact: the suppression list holds them
        only as `erased:<salted hash>` (see services/privacy.py), so they are looked up by that key."""
        if not self.marketing.secret:
            return set()  # erasure needs the secret too: without one, nothing was erased
        keys = {erased_key(email, self.marketing.secret): email.lower() for email in emails if email.strip()}
        return {keys[key] for key in tx.suppressed(keys)}

    def _enrolled_event(self, contact_id: int, name: str, source: str, at: datetime) -> NewEvent:
        return NewEvent(contact_id, at, "campaign_enrolled", f"Enrolled in campaign {name} ({source})")

    # -- what incoming mail means ----------------------------------------------------------------------------
    def after_messages(
        self,
        tx: OutreachTransaction,
        rows: Sequence[NewMessage],
        message_ids: Sequence[int],
        enrolments: Sequence[tuple[int, str]],
        now: datetime,
        history: bool = False,
    ) -> list[NewEvent]:
        """Stored messages, in the ingest transaction: rules' enrolments; a reply to a campaign mail (matched by
        In-Reply-To/References) is noted; any person's message from an enrolled contact ends enrolments that
        exit on reply; hard bounces and complaints suppress the address, soft bounces after
        `[campaigns] soft_bounce_limit` in the window (delays never count); `unsubscribe <token>` mails
        unsubscribe. History (mail that was in the mailbox already, or imported) counts as a reply only if
        it was written after the enrolment."""
        events: list[NewEvent] = []
        for contact_id, name in enrolments:
            enrolment_id, why = self.enrol(tx, contact_id, name, "rule", now)
            if enrolment_id is not None:
                events.append(self._enrolled_event(contact_id, name, "rule", now))
            else:
                log.info("rule enrolment of contact %d in %s skipped: %s", contact_id, name, why)
        repliers: dict[int, datetime] = {}
        # one query for the batch: which named messages are campaign mail at all (most replies name none)
        ours = tx.campaign_message_ids(
            i for row in rows if not row.ignored for i in [row.message.in_reply_to or "", *row.message.references]
        )
        for row in rows:
            if row.ignored:
                continue
            if row.meaning.kind is Kind.BOUNCE and row.analysis is not None:
                for bounced in row.analysis.bounce:
                    reason = bounced.reason.value if bounced.reason else "undefined"
                    found = verdict(hard=bounced.hard, counts=bounced.counts)
                    events += self._bounced(tx, bounced.email, found, reason, "message", None, row.sent_at)
            elif row.meaning.kind is Kind.FEEDBACK_REPORT and row.analysis is not None:
                for complained in row.analysis.bounce:
                    events += self._suppress(tx, complained.email, "complained", None, row.sent_at)
            if row.direction is not Direction.INBOUND or row.meaning.kind is not Kind.NORMAL:
                continue
            events += self._unsubscribe_by_mail(tx, row, now)
            if row.contact_id is None:
                continue
            # when we got it: the message that enrolled a contact (same batch, same moment) is not a reply
            repliers[row.contact_id] = row.sent_at if history else row.received_at
            named = [row.message.in_reply_to or "", *row.message.references]
            if not ours.intersection(i if i.startswith("<") else f"<{i}>" for i in named if i):
                continue
            for mail in tx.campaign_mail(named):
                if mail.contact_id == row.contact_id:
                    events.append(
                        NewEvent(
                            row.contact_id,
                            row.sent_at,
                            "campaign_replied",
                            f"Replied to campaign {mail.campaign}, step {mail.step}",
                        )
                    )
        for enrolment in tx.active_enrolments(repliers):
            campaign = self.marketing.campaigns.get(enrolment.campaign)
            if campaign is not None and campaign.exits.reply and repliers[enrolment.contact_id] > enrolment.enrolled_at:
                events += self._exit(tx, enrolment, "replied", now)
        return events

    def _unsubscribe_by_mail(self, tx: OutreachTransaction, row: NewMessage, now: datetime) -> list[NewEvent]:
        found = _UNSUBSCRIBE_SUBJECT.search(row.message.subject)
        if not found or self.marketing.secret is None:
            return []
        read = read_unsubscribe_token(found.group(1), self.marketing.secret)
        if read is None:
            return []
        email, campaign = read
        return self._suppress(tx, email, "unsubscribed", campaign, row.sent_at)

    def unsubscribe(self, tx: OutreachTransaction, token: str, now: datetime) -> tuple[str, str] | None:
        """The one-click (POST) unsubscribe: (email, campaign) when the token is ours, else None."""
        if self.marketing.secret is None:
            return None
        read = read_unsubscribe_token(token, self.marketing.secret)
        if read is None:
            return None
        email, campaign = read
        tx.add_events(self._suppress(tx, email, "unsubscribed", campaign, now))
        return read

    def _bounced(
        self,
        tx: OutreachTransaction,
        email: str,
        found: Verdict,
        reason: str,
        source: str,
        campaign: str | None,
        at: datetime,
    ) -> list[NewEvent]:
        """A bounce of `email`: suppressed now when hard; when soft, counted, and suppressed once the soft
        bounces within the policy's window reach its limit; a delay changes nothing."""
        if found is Verdict.IGNORE:
            return []
        if found is Verdict.SUPPRESS:
            return self._suppress(tx, email, "bounced", campaign, at)
        policy = self.marketing.soft_bounces
        tx.add_soft_bounce(email, at, reason, source)
        count = tx.soft_bounces_since(email, at - policy.window)
        if not suppressed_after_soft(count, policy):
            return []
        days = policy.window.total_seconds() / 86_400
        why = f"Suppressed after {count} soft bounces within {days:g} days"
        return self._suppress(tx, email, "bounced", campaign, at, why)

    def _suppress(
        self,
        tx: OutreachTransaction,
        email: str,
        reason: str,
        campaign: str | None,
        at: datetime,
        why: str | None = None,
    ) -> list[NewEvent]:
        """`email` goes on the suppression list; every active enrolment of its contact ends."""
        added = tx.suppress(email, reason, campaign, at)
        contact_id = tx.contact_ids_for([email]).get(email.lower())
        if contact_id is None:
            return []
        events = []
        if added:
            what = why or {"unsubscribed": "Unsubscribed", "bounced": "Suppressed after a hard bounce"}.get(
                reason, "Complained"
            )
            where = f" (campaign {campaign})" if campaign else ""
            events.append(
                NewEvent(contact_id, at, f"campaign_{reason}", f"{what}{where}: no campaign mails {email} again")
            )
        for enrolment in tx.active_enrolments([contact_id]):
            events += self._exit(tx, enrolment, reason, at)
        return events

    def _exit(self, tx: OutreachTransaction, enrolment: Enrolment, reason: str, at: datetime) -> list[NewEvent]:
        tx.end_enrolment(enrolment.id, "exited", reason, at)
        return [
            NewEvent(
                enrolment.contact_id,
                at,
                "campaign_exited",
                f"Left campaign {enrolment.campaign} before step {enrolment.step}: {reason}",
            )
        ]

    # -- the clock -------------------------------------------------------------------------------------------
    def tick(self, tx: OutreachTransaction, now: datetime, limit: int = 200) -> tuple[TickResult, list[NewEvent]]:
        """Enrol whom the state triggers (tag, stage, score, segment) name, then queue every step that is due."""
        result = TickResult()
        events: list[NewEvent] = []
        for campaign in self.marketing.campaigns.values():
            trigger = campaign.trigger
            if trigger.kind in ("tag", "stage", "score") and trigger.value is not None:
                candidates = tx.trigger_candidates(
                    campaign.name, trigger.kind, trigger.value, self.marketing.stages, limit
                )
            elif trigger.kind == "segment" and str(trigger.value) in self.marketing.segments:
                candidates = tx.segment_candidates(campaign.name, self.marketing.segments[str(trigger.value)], limit)
            else:
                continue
            result.more = result.more or len(candidates) >= limit
            for contact_id in candidates:
                enrolment_id, _ = self.enrol(tx, contact_id, campaign.name, trigger.kind, now)
                if enrolment_id is not None:
                    result.enrolled += 1
                    events.append(self._enrolled_event(contact_id, campaign.name, trigger.kind, now))
        due = tx.due_enrolments(now, limit)
        result.more = result.more or len(due) >= limit
        events += self._send_due(tx, due, now, result)
        return result, events

    def _send_due(
        self, tx: OutreachTransaction, due: Sequence[Enrolment], now: datetime, result: TickResult
    ) -> list[NewEvent]:
        """Queue the step each of `due` is at, with a constant number of statements for the batch: the
        contacts read at once, each step's mail written by one `StepMail`, the outbox rows queued and the
        enrolments advanced in one statement each. Exits and held steps (rare) are a statement each."""
        events: list[NewEvent] = []
        recipients = tx.recipients([(e.contact_id, e.enrolled_at) for e in due])
        erased = self.erased(tx, [r.email for r in recipients if r is not None])
        writers: dict[tuple[str, int], StepMail] = {}
        mails: list[NewMail] = []
        sent: list[tuple[int, int, datetime | None]] = []
        for enrolment, recipient in zip(due, recipients, strict=True):
            campaign = self.marketing.campaigns.get(enrolment.campaign)
            if campaign is None:
                # the campaign file was removed: nobody is mailed by a campaign that no longer exists
                result.exited += 1
                events += self._exit(tx, enrolment, "the campaign no longer exists", now)
                continue
            if recipient is None:
                continue
            reason = exit_reason(campaign, _now(recipient))
            if reason is None and recipient.undeliverable:
                reason = "bounced"
            if reason is None and recipient.email.lower() in erased:
                reason = "erased"
            if reason is not None:
                result.exited += 1
                events += self._exit(tx, enrolment, reason, now)
                continue
            if enrolment.step > len(campaign.steps):
                tx.end_enrolment(enrolment.id, "finished", None, now)
                result.finished += 1
                continue
            domain = campaign.sender.email.partition("@")[2]
            try:
                writer = writers.get((campaign.name, enrolment.step))
                if writer is None:
                    writer = writers[campaign.name, enrolment.step] = self.step_mail(campaign, enrolment.step, now)
                mails.append(writer.mail(recipient, enrolment.id, f"<{self.marketing.new_id()}@{domain}>"))
            except Exception as exc:  # a broken template must never produce a half-rendered mail, nor stop the others
                tx.hold_enrolment(enrolment.id, now + HOLD_AFTER_TEMPLATE_ERROR)
                result.held += 1
                log.error("campaign %s step %d: not sent, retrying in 1 h: %s", campaign.name, enrolment.step, exc)
                events.append(
                    NewEvent(
                        recipient.contact_id,
                        now,
                        "campaign_held",
                        f"Campaign {campaign.name} step {enrolment.step} held: {exc}"[:500],
                    )
                )
                continue
            last = enrolment.step >= len(campaign.steps)
            sent.append(
                (enrolment.id, enrolment.step + 1, None if last else due_at(campaign, enrolment.step + 1, now, None))
            )
            result.finished += last
        # the timeline shows each mail when it is sent (see services/outbox.py)
        result.queued += len(tx.queue_mail(mails))
        tx.advance_enrolments(sent, now)
        return events

    # -- composing -------------------------------------------------------------------------------------------
    def step_mail(self, campaign: Campaign, number: int, now: datetime) -> StepMail:
        """What writes step `number` of `campaign` for each contact, dated `now` (see services/campaign_mail.py).
        Raises RuntimeError without templates or a secret."""
        marketing = self.marketing
        return StepMail(campaign, number, marketing.templates, marketing.secret, marketing.public_url, now)

    # -- sending ---------------------------------------------------------------------------------------------
    def refused(self, tx: OutreachTransaction, mail: QueuedMail, detail: str, now: datetime) -> list[NewEvent]:
        """The recipient's server refused a campaign mail for good (5xx): a bounce, hard or soft by the
        reasons' table (a 550 "user unknown" suppresses at once, a 554 spam block counts as soft)."""
        found = diagnose(None, detail)
        events: list[NewEvent] = []
        for email in mail.recipients:
            outcome = verdict(hard=found.hard, counts=True)
            events += self._bounced(tx, email, outcome, found.reason.value, "smtp", mail.campaign, now)
        return events


def _now(recipient: Recipient) -> ContactNow:
    return ContactNow(
        tags=recipient.tags,
        stage=recipient.stage,
        score=recipient.score,
        replied_since_enrolment=recipient.replied_since_enrolment,
        open_ticket=recipient.open_ticket,
        unsubscribed=recipient.suppressed == "unsubscribed",
        bounced=recipient.suppressed == "bounced",
        complained=recipient.suppressed == "complained",
    )


def tick_campaigns(store: Store, outreach: Outreach, now: datetime, limit: int = 200, rounds: int = 100) -> TickResult:
    """One run of the campaign clock: chunks of `limit` enrolments, each in its own short transaction, until
    nothing more is due (at most `rounds` chunks, so one tick never runs for ever)."""
    total = TickResult()
    for _ in range(rounds):
        with store.transaction() as tx:
            result, events = outreach.tick(tx, now, limit)
            tx.add_events(events)
        total.add(result)
        if not result.more:
            break
    return total


class Unsubscribes:
    """The unsubscribe link's two halves: `read` (no side effects: link scanners follow links) and `confirm`."""

    def __init__(self, store: Store, outreach: Outreach, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._outreach = outreach
        self._clock = clock

    def read(self, token: str) -> tuple[str, str] | None:
        secret = self._outreach.marketing.secret
        return read_unsubscribe_token(token, secret) if secret is not None else None

    def confirm(self, token: str) -> tuple[str, str] | None:
        with self._store.transaction() as tx:
            return self._outreach.unsubscribe(tx, token, self._clock())
