"""Erasing a contact, on both databases: every trace of her addresses goes, only a salted hash stays on the
suppression list; other customers' messages and threads stay; an erased address is never mailed by a campaign
again; no erasure without a secret."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from inboxcrm import bootstrap
from inboxcrm.adapters.db import tables as t
from inboxcrm.core.ports import NewMail
from inboxcrm.core.privacy import erased_key
from inboxcrm.services.contacts import ContactNotFound
from inboxcrm.services.outbox import Dispatcher
from inboxcrm.services.outreach import tick_campaigns
from inboxcrm.services.privacy import ErasureNeedsSecret, Privacy
from tests.services.privacy_support import (
    ALIAS,
    CAROL,
    DAVE,
    SALES,
    SECRET,
    SUPPORT,
    Clock,
    Recorder,
    World,
    clock,
    contact_id,
    crm,
    ingest,
    mentions,
    privacy,
    rows,
    settings_path,
    without_time,
    world,
)
from tests.support.mail import mail

__all__ = ["clock", "crm", "settings_path", "world"]  # the fixtures


def test_erasure_removes_every_trace_of_the_address_and_keeps_the_other_customer(
    crm: bootstrap.App, world: World, clock: Clock
) -> None:
    before = mentions(crm, CAROL, ALIAS)
    # the scan does see her where she is stored
    assert {"contacts.email", "contact_aliases.email", "messages.from_email", "raw_messages.raw"} <= set(before)
    assert {"outbox.raw", "outbox.recipients", "suppressions.email"} <= set(before)
    dave_before = privacy(crm).export(world.dave, "ops")

    counts = privacy(crm).erase(world.carol, "ops")

    assert mentions(crm, CAROL, ALIAS) == []
    assert counts["contacts"] == 1 and counts["aliases"] == 1 and counts["tags"] == 1
    assert counts["messages"] == 4 and counts["raw_messages"] == 4 and counts["threads"] == 3
    assert counts["tickets"] == 2 and counts["enrolments"] == 1 and counts["suppressions"] == 1
    assert counts["deals"] == 1  # her own; the company's deal stays, unlinked
    assert counts["outbox"] >= 3 and counts["timeline_events"] >= 5 and counts["erased_keys"] == 2
    assert [d.name for d in rows(crm, t.deals)] == ["Trial"] and rows(crm, t.deals)[0].contact_id is None
    with crm.engine.connect() as c:
        assert c.execute(select(t.companies.c.domain)).scalars().all().count("acme-corp.example") == 1
    # both addresses stay suppressed, by salted hash only
    suppressions = {s.email: s.reason for s in rows(crm, t.suppressions)}
    assert suppressions == {erased_key(CAROL, SECRET.encode()): "erased", erased_key(ALIAS, SECRET.encode()): "erased"}
    assert erased_key(f" <{CAROL.upper()}> ", SECRET.encode()) == erased_key(CAROL, SECRET.encode())
    assert erased_key(CAROL, b"another secret") not in suppressions
    # Dave is exactly as he was
    dave_after = privacy(crm).export(world.dave, "ops")
    assert without_time(dave_after.data) == without_time(dave_before.data)
    assert (
        dave_after.files == dave_before.files == [(f"{dave_before.data['messages'][0]['id']}.eml", world.dave_raws[0])]
    )
    # the audit row: who, what, about which id; counts and hashes, never the address
    erase = [a for a in rows(crm, t.audit_log) if a.action == "erase"]
    assert [(a.actor, a.subject) for a in erase] == [("ops", f"contact:{world.carol}")]
    assert erase[0].detail["counts"] == counts
    assert sorted(erase[0].detail["suppressed"]) == sorted(suppressions)
    # the contact is gone for good
    with pytest.raises(ContactNotFound):
        privacy(crm).erase(world.carol, "ops")
    with pytest.raises(ContactNotFound):
        privacy(crm).export(world.carol, "ops")


def test_messages_of_others_that_mention_the_contact_stay(crm: bootstrap.App, world: World) -> None:
    ingest(
        crm,
        SUPPORT,
        mail(from_=f"Dave <{DAVE}>", cc=f"Carol <{CAROL}>", message_id="d2@initech.example", subject="Us both"),
    )
    privacy(crm).erase(world.carol, "ops")
    assert set(mentions(crm, CAROL)) == {"messages.cc", "messages.headers", "raw_messages.raw"}
    assert len(privacy(crm).export(world.dave, "ops").files) == 2


def test_a_thread_with_someone_elses_messages_stays(crm: bootstrap.App, world: World) -> None:
    # Dave answers in Carol's thread (he names her message): the thread keeps his message
    ingest(
        crm,
        SUPPORT,
        mail(
            from_=f"Dave <{DAVE}>",
            message_id="d3@initech.example",
            in_reply_to="c1@acme-corp.example",
            subject="Re: Printer on fire",
            body="Same here.\n",
        ),
    )
    with crm.engine.connect() as c:
        thread_id = c.execute(
            select(t.messages.c.thread_id).where(t.messages.c.message_id == "d3@initech.example")
        ).scalar_one()
    counts = privacy(crm).erase(world.carol, "ops")
    assert counts["threads"] == 2
    with crm.engine.connect() as c:
        assert c.execute(select(t.threads.c.id).where(t.threads.c.id == thread_id)).first() is not None


def test_an_erased_address_is_never_mailed_by_a_campaign_again(crm: bootstrap.App, world: World, clock: Clock) -> None:
    privacy(crm).erase(world.carol, "ops")
    with crm.store.transaction() as tx:
        assert crm.outreach.erased(tx, [CAROL.upper(), ALIAS, DAVE]) == {CAROL, ALIAS}
    # she writes again: a new contact, but the rule's enrolment is refused
    clock.now += timedelta(days=1)
    again = mail(from_=f"Carol <{CAROL}>", to="sales@northwind.example", message_id="t9@acme-corp.example",
                 subject="Trial again")  # fmt: skip
    ingest(crm, SALES, again)
    new_id = contact_id(crm, CAROL)
    assert new_id != world.carol
    assert [e for e in rows(crm, t.enrolments) if e.contact_id == new_id] == []
    with crm.store.transaction() as tx:
        assert crm.outreach.enrol(tx, new_id, "trial-nurture", "cli", clock.now)[0] is None
        # an enrolment that got in anyway (a race with the erasure) ends before its step is queued …
        enrolment = tx.add_enrolment(new_id, "trial-nurture", "api", clock.now, clock.now)
        # … and a campaign mail queued anyway is cancelled by the dispatcher
        tx.queue_mail(
            [
                NewMail(
                    key="campaign-late",
                    kind="campaign",
                    message_id="<late@northwind.example>",
                    sender="sales@northwind.example",
                    recipients=(CAROL,),
                    raw=b"Subject: late\r\n\r\nhello\r\n",
                    automatic=False,
                    at=clock.now,
                    contact_id=new_id,
                    campaign="trial-nurture",
                    step=1,
                )
            ]
        )
    tick_campaigns(crm.store, crm.outreach, clock.now)
    (row,) = [e for e in rows(crm, t.enrolments) if e.id == enrolment]
    assert (row.status, row.exit_reason) == ("exited", "erased")
    sender = Recorder()
    result = Dispatcher(crm.store, sender, clock, crm.support, outreach=crm.outreach).drain()
    assert result.cancelled == 1
    assert [e for e in sender.sent if e.key.startswith("campaign")] == []


def test_erasing_without_a_secret_is_refused_and_changes_nothing(crm: bootstrap.App, world: World) -> None:
    with pytest.raises(ErasureNeedsSecret):
        Privacy(crm.store, None, crm.clock).erase(world.carol, "ops")
    assert contact_id(crm, CAROL) == world.carol
    with pytest.raises(ValueError):
        erased_key(CAROL, b"")
