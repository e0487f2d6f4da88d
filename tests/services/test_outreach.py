"""Drip campaigns on both databases: enrolment, steps on time (a clock passed in), exits, suppression,
rate limits, and what replies, bounces and unsubscribes do. The real SMTP server is in
tests/e2e/test_campaigns_smtp.py."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from inboxcrm import bootstrap
from inboxcrm.adapters.db import migrate
from inboxcrm.adapters.db import tables as t
from inboxcrm.adapters.db.statements import aware
from inboxcrm.core.model import MailboxKind, MailboxProfile
from inboxcrm.core.ports import Envelope, FetchedMessage, Outcome, SendResult
from inboxcrm.services.outbox import Dispatcher
from inboxcrm.services.outreach import Unsubscribes, tick_campaigns
from inboxcrm.web.app import create_app
from tests.conftest import make_settings
from tests.support.clock import Clock
from tests.support.desk import desk_config
from tests.support.mail import mail

SALES = MailboxProfile("sales", MailboxKind.SALES, frozenset({"sales@northwind.example"}))
CAMPAIGN = """
[[campaign]]
name = "trial-nurture"
description = "Three mails for people who asked for a trial"
from = "Northwind Sales <sales@northwind.example>"
timezone = "Europe/Berlin"
postal_address = "Northwind GmbH, Hauptstr. 1, 10115 Berlin"
trigger = "rule"
window = { days = ["mon", "tue", "wed", "thu", "fri"], start = "09:00", end = "17:00" }

[campaign.exit]
stages = ["customer"]

[[campaign.step]]
delay = "0d"
template = "campaigns/trial-1"

[[campaign.step]]
delay = "2d"
template = "campaigns/trial-2"

[[campaign.step]]
delay = "3d"
template = "campaigns/trial-3"

[[campaign]]
name = "vip"
from = "sales@northwind.example"
timezone = "UTC"
postal_address = "Northwind GmbH, Hauptstr. 1, 10115 Berlin"
trigger = { tag = "vip" }
rate_limit = 60

[[campaign.step]]
delay = "0d"
template = "campaigns/trial-1"
"""
RULES = """
[[rule]]
name = "Trial requests enrol"
when.mailbox = "sales"
when.subject.contains = "trial"
then.enrol = "trial-nurture"
"""


class Recorder:
    """A sender that accepts everything (or refuses `refuse`), remembering what it sent and when."""

    def __init__(self, clock: Clock, refuse: str = "") -> None:
        self.clock = clock
        self.refuse = refuse
        self.sent: list[tuple[datetime, Envelope]] = []

    async def send_many(self, envelopes: Sequence[Envelope]) -> list[SendResult]:
        out = []
        for envelope in envelopes:
            if self.refuse and self.refuse in envelope.recipients:
                out.append(SendResult(envelope.key, Outcome.FAILED, "550 5.1.1 no such user"))
                continue
            self.sent.append((self.clock.now, envelope))
            out.append(SendResult(envelope.key, Outcome.SENT, "250 ok"))
        return out


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 2, 9, 30, tzinfo=UTC))  # a Monday, 10:30 in Berlin


@pytest.fixture
def crm(tmp_path: Path, database_url: str, clock: Clock) -> Iterator[bootstrap.App]:
    (tmp_path / "campaigns").mkdir()
    (tmp_path / "campaigns" / "trial.toml").write_text(CAMPAIGN)
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "10.toml").write_text(RULES)
    folder = tmp_path / "templates" / "campaigns"
    folder.mkdir(parents=True)
    for n in (1, 2, 3):
        (folder / f"trial-{n}.subject.j2").write_text(f"Step {n} for {{{{ contact.first_name }}}}\n")
        (folder / f"trial-{n}.text.j2").write_text(
            f"Hello {{{{ contact.first_name }}}} at {{{{ company.name if company else 'home' }}}}, mail {n}.\n"
        )
    (folder / "trial-1.html.j2").write_text("<html><body><p>Hello {{ contact.name }}</p></body></html>\n")
    extra = (
        desk_config(secret="campaign-secret")
        + """
[campaigns]
public_url = "https://crm.northwind.example"

[lifecycle]
stages = ["lead", "customer"]
"""
    )
    app = bootstrap.build(make_settings(tmp_path, database_url, extra), clock=clock)
    migrate.upgrade(app.engine)
    yield app
    app.close()


_uid = iter(range(1, 1_000_000))


def ingest(app: bootstrap.App, *raws: bytes) -> None:
    app.ingest.ingest_batch(SALES, "INBOX", 1, [FetchedMessage(next(_uid), r) for r in raws])


def trial_request(**kw: str) -> bytes:
    kw.setdefault("from_", "Laura Palmer <laura@twinpeaks.example>")
    kw.setdefault("to", "sales@northwind.example")
    kw.setdefault("subject", "Free trial please")
    kw.setdefault("message_id", "t1@twinpeaks.example")
    return mail(**kw)  # type: ignore[arg-type]


def run(app: bootstrap.App, clock: Clock, sender: Recorder) -> None:
    tick_campaigns(app.store, app.outreach, clock.now)
    Dispatcher(app.store, sender, clock, app.support, outreach=app.outreach).drain()


def parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def enrolments(app: bootstrap.App) -> list[t.Row]:  # type: ignore[name-defined]
    with app.engine.connect() as c:
        return list(c.execute(select(t.enrolments).order_by(t.enrolments.c.id)))


def timeline(app: bootstrap.App) -> list[tuple[str, str]]:
    with app.engine.connect() as c:
        rows = c.execute(select(t.timeline_events.c.kind, t.timeline_events.c.summary).order_by(t.timeline_events.c.id))
        return [(r.kind, r.summary) for r in rows]


def test_a_rule_enrols_and_each_step_goes_out_on_time_inside_the_window(crm: bootstrap.App, clock: Clock) -> None:
    ingest(crm, trial_request())
    (enrolment,) = enrolments(crm)
    assert (enrolment.campaign, enrolment.source, enrolment.status) == ("trial-nurture", "rule", "active")
    sender = Recorder(clock)
    run(crm, clock, sender)
    assert [e.key for _, e in sender.sent] == [f"campaign-trial-nurture-1-1-{enrolment.id}"]
    first = parsed(sender.sent[0][1].raw)
    assert first["Subject"] == "Step 1 for Laura" and first["From"].addresses[0].addr_spec == "sales@northwind.example"
    assert first["Precedence"] == "bulk"
    # step 2 is due 2 days later, Wednesday 10:30 Berlin: not a minute earlier
    clock.now += timedelta(days=2) - timedelta(minutes=1)
    run(crm, clock, sender)
    assert len(sender.sent) == 1
    clock.now += timedelta(minutes=1)
    run(crm, clock, sender)
    assert len(sender.sent) == 2
    # step 3: 3 days after step 2 is Saturday: it waits for Monday 09:00 Berlin (08:00 UTC)
    clock.now += timedelta(days=3)
    run(crm, clock, sender)
    assert len(sender.sent) == 2
    clock.now = datetime(2026, 11, 9, 8, 0, tzinfo=UTC)
    run(crm, clock, sender)
    assert len(sender.sent) == 3
    assert enrolments(crm)[0].status == "finished"
    assert [k for k, _ in timeline(crm)].count("mail_sent") == 3


def test_every_campaign_mail_carries_one_click_unsubscribe_and_the_footer(crm: bootstrap.App, clock: Clock) -> None:
    ingest(crm, trial_request())
    sender = Recorder(clock)
    run(crm, clock, sender)
    message = parsed(sender.sent[0][1].raw)
    unsubscribe = str(message["List-Unsubscribe"])
    assert unsubscribe.startswith("<https://crm.northwind.example/unsubscribe/")
    assert "<mailto:sales@northwind.example?subject=unsubscribe%20" in unsubscribe
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    assert "Unsubscribe: https://crm.northwind.example/unsubscribe/" in text.get_content()
    assert "Northwind GmbH, Hauptstr. 1, 10115 Berlin" in text.get_content()
    assert "Unsubscribe</a>" in html.get_content()


def test_a_reply_stops_the_drip_and_lands_on_the_timeline(crm: bootstrap.App, clock: Clock) -> None:
    ingest(crm, trial_request())
    sender = Recorder(clock)
    run(crm, clock, sender)
    first_id = parsed(sender.sent[0][1].raw)["Message-ID"]
    clock.now += timedelta(hours=3)
    ingest(
        crm,
        trial_request(
            subject="Re: Step 1 for Laura",
            message_id="t2@twinpeaks.example",
            in_reply_to=first_id.strip("<>"),
            body="Sounds good, can we talk tomorrow?\n",
            date=None,  # type: ignore[arg-type]
        ),
    )
    assert enrolments(crm)[0].status == "exited" and enrolments(crm)[0].exit_reason == "replied"
    assert ("campaign_replied", "Replied to campaign trial-nurture, step 1") in timeline(crm)
    clock.now += timedelta(days=10)
    run(crm, clock, sender)
    assert len(sender.sent) == 1


def test_unsubscribing_by_link_stops_every_campaign_and_is_checked_at_send_time(
    crm: bootstrap.App, clock: Clock
) -> None:
    ingest(crm, trial_request())
    sender = Recorder(clock)
    run(crm, clock, sender)
    link = str(parsed(sender.sent[0][1].raw)["List-Unsubscribe"]).split(">")[0].strip("<")
    path = link.removeprefix("https://crm.northwind.example")
    # the next step is queued … and the contact unsubscribes before it is sent
    clock.now += timedelta(days=2)
    tick_campaigns(crm.store, crm.outreach, clock.now)
    with TestClient(create_app(crm.reads, {}, unsubscribes=Unsubscribes(crm.store, crm.outreach, clock))) as client:
        page = client.get(path)
        assert page.status_code == 200 and "laura@twinpeaks.example" in page.text and "<form" in page.text
        assert enrolments(crm)[0].status == "active"  # a GET (a link scanner) changes nothing
        done = client.post(path, data={"List-Unsubscribe": "One-Click"})
        assert done.status_code == 200 and "unsubscribed" in done.text
        assert client.post(path[:-3] + "abc").status_code == 404
    Dispatcher(crm.store, sender, clock, crm.support, outreach=crm.outreach).drain()
    assert len(sender.sent) == 1
    with crm.engine.connect() as c:
        statuses = list(c.execute(select(t.outbox.c.status).where(t.outbox.c.campaign.is_not(None))).scalars())
    assert sorted(statuses) == ["cancelled", "sent"]
    assert enrolments(crm)[0].exit_reason == "unsubscribed"
    # enrolling again is refused: no campaign mails an unsubscribed address
    with crm.store.transaction() as tx:
        assert crm.outreach.enrol(tx, 1, "vip", "cli", clock.now)[0] is None


def test_unsubscribing_by_mail(crm: bootstrap.App, clock: Clock) -> None:
    ingest(crm, trial_request())
    sender = Recorder(clock)
    run(crm, clock, sender)
    mailto = str(parsed(sender.sent[0][1].raw)["List-Unsubscribe"]).split("<mailto:")[1].rstrip(">")
    subject = mailto.split("?subject=")[1].replace("%20", " ")
    ingest(crm, trial_request(subject=subject, message_id="u1@twinpeaks.example", body="\n"))
    assert enrolments(crm)[0].exit_reason == "unsubscribed"


def test_a_refused_campaign_mail_suppresses_the_address(crm: bootstrap.App, clock: Clock) -> None:
    ingest(crm, trial_request())
    sender = Recorder(clock, refuse="laura@twinpeaks.example")
    run(crm, clock, sender)
    assert enrolments(crm)[0].exit_reason == "bounced"
    with crm.engine.connect() as c:
        assert c.execute(select(t.suppressions.c.reason)).scalar() == "bounced"


def test_an_open_ticket_or_a_stage_ends_the_enrolment_before_the_next_step(crm: bootstrap.App, clock: Clock) -> None:
    ingest(crm, trial_request())
    sender = Recorder(clock)
    run(crm, clock, sender)
    with crm.store.transaction() as tx:
        tx.set_stage(1, "customer")
    clock.now += timedelta(days=2)
    run(crm, clock, sender)
    assert len(sender.sent) == 1
    assert enrolments(crm)[0].exit_reason == "stage customer"


def test_a_tag_trigger_enrols_once_and_the_campaign_rate_limit_holds(crm: bootstrap.App, clock: Clock) -> None:
    ingest(
        crm,
        *[
            trial_request(from_=f"p{n}@lead{n}.example", subject="Hello", message_id=f"h{n}@x.example")
            for n in range(200)
        ],
    )
    with crm.store.transaction() as tx:
        for contact_id in range(1, 201):
            tx.change_tags(contact_id, ["vip"], [])
    tick_campaigns(crm.store, crm.outreach, clock.now)
    tick_campaigns(crm.store, crm.outreach, clock.now)
    assert len([e for e in enrolments(crm) if e.campaign == "vip"]) == 200  # once each, whatever the ticks
    sender = Recorder(clock)
    dispatch = Dispatcher(crm.store, sender, clock, crm.support, batch_size=500, outreach=crm.outreach)
    start = clock.now
    for _ in range(36):  # three minutes of 5-second rounds
        dispatch.dispatch()
        clock.now += timedelta(seconds=5)
    per_minute = [
        sum(1 for at, _ in sender.sent if start + timedelta(minutes=m) <= at < start + timedelta(minutes=m + 1))
        for m in range(3)
    ]
    assert all(57 <= n <= 63 for n in per_minute), per_minute  # rate_limit = 60 per minute, within ±5%


def test_contact_data_cannot_inject_headers(crm: bootstrap.App, clock: Clock) -> None:
    # a display name that decodes to "Laura\r\nBcc: victim@evil.example", used in the To header and the subject
    hostile = "=?utf-8?q?Laura=0D=0ABcc=3A_victim=40evil.example?= <laura@twinpeaks.example>"
    ingest(crm, trial_request(from_=hostile))
    sender = Recorder(clock)
    run(crm, clock, sender)
    raw = sender.sent[0][1].raw
    header_block = raw.split(b"\r\n\r\n", 1)[0]
    names = [line.split(b":", 1)[0] for line in header_block.split(b"\r\n") if line and not line[:1].isspace()]
    assert b"Bcc" not in names
    assert len(names) == len(set(names))  # and no header twice
    assert parsed(raw)["Bcc"] is None
    assert sender.sent[0][1].recipients == ("laura@twinpeaks.example",)


def test_the_command_line_previews_enrols_and_lists_figures(crm: bootstrap.App, clock: Clock) -> None:
    from click.testing import CliRunner

    from inboxcrm.cli import main

    ingest(crm, trial_request())
    config = str(Path(crm.settings.base_dir) / "inboxcrm.toml")
    runner = CliRunner()
    preview = runner.invoke(
        main,
        [
            "--config",
            config,
            "campaigns",
            "preview",
            "trial-nurture",
            "--step",
            "2",
            "--contact",
            "laura@twinpeaks.example",
        ],
    )
    assert preview.exit_code == 0, preview.output
    assert (
        "Subject: Step 2 for Laura" in preview.output
        and "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in preview.output
    )
    assert len(enrolments(crm)) == 1  # a preview stores nothing
    missing = runner.invoke(main, ["--config", config, "campaigns", "preview", "nope", "--contact", "x@y.example"])
    assert missing.exit_code == 2 and "no campaign 'nope'" in missing.stderr
    enrolled = runner.invoke(main, ["--config", config, "campaigns", "enrol", "vip", "laura@twinpeaks.example"])
    assert enrolled.exit_code == 0 and "enrolled in vip" in enrolled.output
    again = runner.invoke(main, ["--config", config, "campaigns", "enrol", "vip", "laura@twinpeaks.example"])
    assert again.exit_code == 1 and "already enrolled" in again.stderr
    run(crm, clock, Recorder(clock))
    listed = runner.invoke(main, ["--config", config, "campaigns", "list"])
    assert "trial-nurture: 3 step(s), trigger rule" in listed.output
    assert "step 1: sent 1, replied 0" in listed.output
    with TestClient(create_app(crm.reads, {"t": "test"})) as client:
        report = client.get("/reports/campaigns", headers={"Authorization": "Bearer t"}).json()
    assert report["trial-nurture"]["enrolled"] == 1 and report["trial-nurture"]["steps"][0]["sent"] == 1
    assert report["vip"]["enrolled"] == 1


ARF = b"""From: Mailbox Provider <fbl@provider.example>\r
To: sales@northwind.example\r
Subject: FW: Your trial\r
Message-ID: <arf1@provider.example>\r
Date: Mon, 02 Nov 2026 12:00:00 +0000\r
MIME-Version: 1.0\r
Content-Type: multipart/report; report-type=feedback-report; boundary="B"\r
\r
--B\r
Content-Type: text/plain\r
\r
This is an abuse report.\r
--B\r
Content-Type: message/feedback-report\r
\r
Feedback-Type: abuse\r
User-Agent: provider/1.0\r
Version: 1\r
Original-Rcpt-To: laura@twinpeaks.example\r
\r
--B\r
Content-Type: message/rfc822\r
\r
From: sales@northwind.example\r
To: laura@twinpeaks.example\r
Subject: Step 1 for Laura\r
\r
Hello.\r
--B--\r
"""


def test_a_complaint_suppresses_the_address_and_ends_the_drip(crm: bootstrap.App, clock: Clock) -> None:
    ingest(crm, trial_request())
    sender = Recorder(clock)
    run(crm, clock, sender)
    ingest(crm, ARF)
    assert enrolments(crm)[0].exit_reason == "complained"
    with crm.store.transaction() as tx:
        assert tx.suppressed(["laura@twinpeaks.example"]) == {"laura@twinpeaks.example": "complained"}
    clock.now += timedelta(days=5)
    run(crm, clock, sender)
    assert len(sender.sent) == 1


def test_a_batch_of_due_steps_is_queued_together_and_one_broken_mail_holds_only_its_step(
    crm: bootstrap.App, clock: Clock
) -> None:
    folder = Path(crm.settings.base_dir) / "templates" / "campaigns"
    (folder / "trial-1.text.j2").write_text("Hello {{ contact.name.split()[1] }}\n")  # fails without a last name
    assert crm.templates.load() == []  # as the daemon reloads an edited template
    people = ["Laura Palmer <laura@twinpeaks.example>", "Cooper <cooper@fbi.example>", "Zoë Ångström <zoe@x.example>"]
    for n, person in enumerate(people):
        ingest(crm, trial_request(from_=person, message_id=f"t{n}@x.example"))
    result = tick_campaigns(crm.store, crm.outreach, clock.now)
    assert (result.queued, result.held) == (2, 1)
    with crm.engine.connect() as c:
        rows = list(c.execute(select(t.outbox).order_by(t.outbox.c.id)))
    messages = [parsed(row.raw) for row in rows]
    assert [m["To"].addresses[0].display_name for m in messages] == ["Laura Palmer", "Zoë Ångström"]
    assert [str(m["Message-ID"]) for m in messages] == [row.message_id for row in rows]
    assert len({row.message_id for row in rows}) == 2 and [m["Subject"] for m in messages][1] == "Step 1 for Zoë"
    laura, cooper, zoe = enrolments(crm)
    assert (laura.step, zoe.step, cooper.step) == (2, 2, 1) and laura.last_sent_at is not None
    assert aware(laura.next_due_at) == clock.now + timedelta(days=2)  # Wednesday 10:30 Berlin
    assert aware(cooper.next_due_at) == clock.now + timedelta(hours=1)  # held for an hour
    assert any(k == "campaign_held" and "trial-1.text.j2:1" in s for k, s in timeline(crm))


def test_what_a_step_reads_about_contacts_is_read_for_the_whole_batch(crm: bootstrap.App, clock: Clock) -> None:
    ingest(crm, trial_request())
    ingest(crm, trial_request(from_="Cooper <cooper@fbi.example>", message_id="c1@x.example"))
    hour = timedelta(hours=1)
    with crm.store.transaction() as tx:
        tx.change_tags(1, ["vip", "trial"], [])
        laura_before, laura_after, nobody, cooper = tx.recipients(
            [(1, clock.now - hour), (1, clock.now + hour), (99, clock.now), (2, clock.now)]
        )
        single = tx.recipient(1, clock.now - hour)
    assert nobody is None and laura_before is not None and laura_after is not None and cooper is not None
    assert laura_before.replied_since_enrolment and not laura_after.replied_since_enrolment
    assert laura_before == single and laura_before.tags == frozenset({"vip", "trial"})
    assert (laura_before.email, laura_before.name, cooper.email, cooper.tags) == (
        "laura@twinpeaks.example",
        "Laura Palmer",
        "cooper@fbi.example",
        frozenset(),
    )
