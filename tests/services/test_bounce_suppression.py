"""Suppression follows the bounce's reason: hard at once, soft after `soft_bounce_limit` in the window, a
delay never. On both databases, through the ingest and the dispatcher as the daemon runs them."""

# ruff: noqa: F811 — `clock` and `crm` are test_outreach's fixtures, imported to be shared, then requested by name.
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from inboxcrm import bootstrap
from inboxcrm.adapters.db import tables as t
from inboxcrm.core.ports import Envelope, Outcome, SendResult
from inboxcrm.core.suppression import SoftBouncePolicy
from inboxcrm.web.app import create_app
from tests.conftest import make_settings
from tests.services.test_outreach import (  # noqa: F401
    Clock,
    Recorder,
    clock,
    crm,
    enrolments,
    ingest,
    run,
    timeline,
    trial_request,
)

LAURA = "laura@twinpeaks.example"


class Refuser(Recorder):
    """Accepts everything except mail to `refuse`, which its server refuses for good with `answer`."""

    def __init__(self, clock: Clock, refuse: str, answer: str) -> None:
        super().__init__(clock, refuse)
        self.answer = answer

    async def send_many(self, envelopes: Sequence[Envelope]) -> list[SendResult]:
        results = await super().send_many(envelopes)
        return [SendResult(r.key, r.outcome, self.answer) if r.outcome is Outcome.FAILED else r for r in results]


def with_policy(app: bootstrap.App, policy: SoftBouncePolicy) -> None:
    """The app's campaigns with another soft-bounce policy (what `[campaigns] soft_bounce_*` configure)."""
    app.outreach.marketing = replace(app.outreach.marketing, soft_bounces=policy)


_n = iter(range(1, 1000))


def dsn(at: datetime, action: str, status: str, diagnostic: str, subject: str) -> bytes:
    """A Postfix-style DSN about Laura, dated `at`."""
    n = next(_n)
    return f"""Return-Path: <>
From: MAILER-DAEMON@mx1.northwind.example (Mail Delivery System)
To: sales@northwind.example
Subject: {subject}
Date: {format_datetime(at)}
Message-ID: <dsn-{n}@mx1.northwind.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B{n}"

--B{n}
Content-Type: text/plain

The mail system

<{LAURA}>: {diagnostic}

--B{n}
Content-Type: message/delivery-status

Reporting-MTA: dns; mx1.northwind.example

Final-Recipient: rfc822; {LAURA}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; {diagnostic}

--B{n}--
""".encode()


def mailbox_full(at: datetime) -> bytes:
    return dsn(at, "failed", "5.2.2", "552 5.2.2 Mailbox full", "Undelivered Mail Returned to Sender")


def delayed(at: datetime) -> bytes:
    return dsn(at, "delayed", "4.4.1", "connect to mx.twinpeaks.example: Connection timed out", "Delayed Mail")


def suppressed(app: bootstrap.App) -> dict[str, str]:
    with app.store.transaction() as tx:
        return tx.suppressed([LAURA])


def soft_bounces(app: bootstrap.App) -> int:
    with app.engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(t.soft_bounces)).scalar_one())


def enrolled(app: bootstrap.App, clock: Clock) -> Recorder:
    ingest(app, trial_request())
    sender = Recorder(clock)
    run(app, clock, sender)
    assert len(sender.sent) == 1
    return sender


def test_a_hard_bounce_suppresses_at_once(crm: bootstrap.App, clock: Clock) -> None:
    enrolled(crm, clock)
    ingest(crm, dsn(clock.now, "failed", "5.1.1", "550 5.1.1 User unknown", "Undelivered Mail Returned to Sender"))
    assert suppressed(crm) == {LAURA: "bounced"}
    assert enrolments(crm)[0].exit_reason == "bounced"
    assert soft_bounces(crm) == 0
    assert any("bounced (hard, user unknown, 5.1.1)" in summary for _, summary in timeline(crm))


def test_the_api_shows_the_reason_on_the_contacts_timeline(crm: bootstrap.App, clock: Clock) -> None:
    enrolled(crm, clock)
    ingest(crm, mailbox_full(clock.now))
    with crm.engine.connect() as c:
        contact_id = c.execute(select(t.contacts.c.id).where(t.contacts.c.email == LAURA)).scalar_one()
    with TestClient(create_app(crm.reads, {"t": "test"})) as client:
        page = client.get(f"/contacts/{contact_id}/timeline", headers={"Authorization": "Bearer t"}).json()
    bounce = next(item for item in page["items"] if item["kind"] == "bounce")
    assert bounce["summary"].startswith(f"Mail to {LAURA} bounced (soft, mailbox full, 5.2.2)")
    (recipient,) = bounce["message"]["bounce"]
    assert (recipient["email"], recipient["reason"], recipient["hard"]) == (LAURA, "mailbox_full", False)


def test_soft_bounces_suppress_only_once_the_limit_is_reached_within_the_window(
    crm: bootstrap.App, clock: Clock
) -> None:
    sender = enrolled(crm, clock)
    ingest(crm, mailbox_full(clock.now), mailbox_full(clock.now + timedelta(days=1)))
    assert suppressed(crm) == {}
    assert enrolments(crm)[0].status == "active"
    clock.now += timedelta(days=2)
    run(crm, clock, sender)
    assert len(sender.sent) == 2  # the drip goes on after two soft bounces

    ingest(crm, mailbox_full(clock.now))
    assert suppressed(crm) == {LAURA: "bounced"}
    assert enrolments(crm)[0].exit_reason == "bounced"
    assert ("campaign_bounced", f"Suppressed after 3 soft bounces within 30 days: no campaign mails {LAURA} again") in (
        timeline(crm)
    )


def test_soft_bounces_spread_wider_than_the_window_do_not_suppress(crm: bootstrap.App, clock: Clock) -> None:
    enrolled(crm, clock)
    start = clock.now
    ingest(crm, mailbox_full(start), mailbox_full(start + timedelta(days=20)))
    clock.now = start + timedelta(days=40)
    ingest(crm, mailbox_full(clock.now))  # the first one is 40 days old: two in the last 30 days
    assert soft_bounces(crm) == 3
    assert suppressed(crm) == {}


def test_delay_warnings_never_count(crm: bootstrap.App, clock: Clock) -> None:
    enrolled(crm, clock)
    ingest(crm, *(delayed(clock.now + timedelta(hours=4 * i)) for i in range(5)))
    assert soft_bounces(crm) == 0
    assert suppressed(crm) == {}
    assert enrolments(crm)[0].status == "active"
    assert any("is delayed (4.4.1); the server keeps trying" in summary for _, summary in timeline(crm))


def test_a_refusal_for_policy_is_a_soft_bounce_and_counts(crm: bootstrap.App, clock: Clock) -> None:
    ingest(crm, trial_request())
    run(crm, clock, Refuser(clock, LAURA, "554 5.7.1 Message rejected as spam by Content Filtering"))
    assert suppressed(crm) == {}
    assert soft_bounces(crm) == 1


def test_a_limit_of_zero_never_suppresses_for_soft_bounces(crm: bootstrap.App, clock: Clock) -> None:
    with_policy(crm, SoftBouncePolicy(limit=0, window=timedelta(days=7)))
    enrolled(crm, clock)
    ingest(crm, *(mailbox_full(clock.now + timedelta(hours=i)) for i in range(5)))
    assert soft_bounces(crm) == 5
    assert suppressed(crm) == {}


def test_the_policy_comes_from_the_campaigns_settings(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path, database_url, '[campaigns]\nsoft_bounce_limit = 0\nsoft_bounce_window = "7d"')
    assert (settings.campaigns.soft_bounce_limit, settings.campaigns.soft_bounce_window) == (0, 7 * 86_400.0)
    app = bootstrap.build(settings)
    try:
        assert app.outreach.marketing.soft_bounces == SoftBouncePolicy(0, timedelta(days=7))
    finally:
        app.close()
