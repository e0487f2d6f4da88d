"""Customer data on both databases: export everything about a contact (JSON and the exact raw bytes), erase a
contact leaving only a salted hash on the suppression list, the audit log, the API routes and the CLI."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from inboxcrm import bootstrap
from inboxcrm.adapters.db import migrate
from inboxcrm.adapters.db import tables as t
from inboxcrm.cli.contacts import erase_contact, export_contact, privacy_service
from inboxcrm.core.model import MailboxKind, MailboxProfile
from inboxcrm.core.ports import Envelope, FetchedMessage, NewMail, Outcome, SendResult
from inboxcrm.core.privacy import erased_key
from inboxcrm.services.contacts import ContactNotFound
from inboxcrm.services.outbox import Dispatcher
from inboxcrm.services.outreach import tick_campaigns
from inboxcrm.services.privacy import ErasureNeedsSecret, Privacy
from inboxcrm.web.data import data_routes
from tests.conftest import make_settings
from tests.support.desk import ANA, BEN, desk_config
from tests.support.mail import mail

SUPPORT = MailboxProfile("support", MailboxKind.SUPPORT, frozenset({"support@northwind.example"}))
SALES = MailboxProfile("sales", MailboxKind.SALES, frozenset({"sales@northwind.example"}))
SECRET = "privacy-secret"
CAROL = "carol@acme-corp.example"
ALIAS = "carol.d@gmail.example"
DAVE = "dave@initech.example"
EXTRA = (
    desk_config(ANA, BEN, secret=SECRET)
    + """
[campaigns]
public_url = "https://crm.northwind.example"
"""
)
CAMPAIGN = """
[[campaign]]
name = "trial-nurture"
from = "Northwind Sales <sales@northwind.example>"
timezone = "UTC"
postal_address = "Northwind GmbH, Hauptstr. 1, 10115 Berlin"
trigger = "rule"

[campaign.exit]
ticket = false  # Carol has support tickets open and still gets her trial mail

[[campaign.step]]
delay = "0d"
template = "campaigns/trial-1"

[[campaign.step]]
delay = "2d"
template = "campaigns/trial-1"
"""
RULES = """
[[rule]]
name = "Trial requests"
when.subject.contains_word = "trial"
[rule.then]
enrol = "trial-nurture"
add_tags = "trial"
score = { points = 10, reason = "asked for a trial" }
deal = { name = "Trial", stage = "qualified" }
"""


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class Recorder:
    """A sender that accepts everything and remembers it."""

    def __init__(self) -> None:
        self.sent: list[Envelope] = []

    async def send_many(self, envelopes: Sequence[Envelope]) -> list[SendResult]:
        self.sent += envelopes
        return [SendResult(e.key, Outcome.SENT, "250 ok") for e in envelopes]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings_path(tmp_path: Path, database_url: str) -> Path:
    (tmp_path / "campaigns").mkdir()
    (tmp_path / "campaigns" / "trial.toml").write_text(CAMPAIGN)
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "10.toml").write_text(RULES)
    support = tmp_path / "templates" / "support"
    support.mkdir(parents=True)
    (support / "ack.subject.j2").write_text("We got your message: {{ ticket.subject }}\n")
    (support / "ack.text.j2").write_text("Hello {{ contact.first_name }}, your request is {{ ticket.token }}.\n")
    campaigns = tmp_path / "templates" / "campaigns"
    campaigns.mkdir(parents=True)
    (campaigns / "trial-1.subject.j2").write_text("Your trial, {{ contact.first_name }}\n")
    (campaigns / "trial-1.text.j2").write_text("Hello {{ contact.first_name }} ({{ contact.email }}).\n")
    make_settings(tmp_path, database_url, EXTRA, support_extra='acknowledge = "support/ack"')
    return tmp_path / "inboxcrm.toml"


def build(tmp_path: Path, database_url: str, clock: Clock) -> bootstrap.App:
    settings = make_settings(tmp_path, database_url, EXTRA, support_extra='acknowledge = "support/ack"')
    return bootstrap.build(settings, clock=clock)


@pytest.fixture
def crm(settings_path: Path, database_url: str, clock: Clock) -> Iterator[bootstrap.App]:
    app = build(settings_path.parent, database_url, clock)
    migrate.upgrade(app.engine)
    yield app
    app.close()


_uid = iter(range(1, 1_000_000))


def ingest(app: bootstrap.App, profile: MailboxProfile, *raws: bytes) -> None:
    app.ingest.ingest_batch(profile, "INBOX", 1, [FetchedMessage(next(_uid), r) for r in raws])


def contact_id(app: bootstrap.App, email: str) -> int:
    with app.store.transaction() as tx:
        found = tx.contact_id_for(email)
    assert found is not None, email
    return found


class World:
    """Carol (with a merged alias) has support tickets, a trial enrolment with a sent campaign mail, tags, a
    score, deals and an unsubscribe; Dave has a ticket of his own and must not be touched."""

    def __init__(self, app: bootstrap.App, clock: Clock) -> None:
        self.carol_raws = [
            mail(from_=f"Carol Danvers <{CAROL}>", message_id="c1@acme-corp.example", subject="Printer on fire"),
            mail(
                from_=f"Carol Danvers <{CAROL}>",
                message_id="c2@acme-corp.example",
                in_reply_to="c1@acme-corp.example",
                subject="Re: Printer on fire",
                body="Still burning.\n",
                date="Mon, 02 Nov 2026 10:30:00 +0000",
            ),
        ]
        trial = mail(
            from_=f"Carol Danvers <{CAROL}>",
            to="sales@northwind.example",
            message_id="t1@acme-corp.example",
            subject="A free trial please",
        )
        alias = mail(from_=f"Carol D <{ALIAS}>", message_id="g1@gmail.example", subject="Invoice question")
        self.dave_raws = [mail(from_=f"Dave <{DAVE}>", message_id="d1@initech.example", subject="Login broken")]
        ingest(app, SUPPORT, *self.carol_raws)
        ingest(app, SALES, trial)
        ingest(app, SUPPORT, alias)
        ingest(app, SUPPORT, *self.dave_raws)
        self.carol_raws += [trial, alias]
        self.carol = contact_id(app, CAROL)
        self.dave = contact_id(app, DAVE)
        app.contacts.merge(self.carol, contact_id(app, ALIAS))
        tick_campaigns(app.store, app.outreach, clock.now)
        self.sender = Recorder()
        Dispatcher(app.store, self.sender, clock, app.support, outreach=app.outreach).drain()
        with app.engine.begin() as c:
            # a deal of her own (no company): the rules only open company deals for company addresses
            c.execute(
                insert(t.deals).values(
                    contact_id=self.carol,
                    name="Consulting",
                    stage="qualified",
                    created_at=clock.now,
                    updated_at=clock.now,
                )
            )
        with app.store.transaction() as tx:
            tx.suppress(CAROL, "unsubscribed", "trial-nurture", clock.now)


@pytest.fixture
def world(crm: bootstrap.App, clock: Clock) -> World:
    return World(crm, clock)


def mentions(app: bootstrap.App, *needles: str) -> list[str]:
    """Every (table.column) whose value contains one of `needles`: text, JSON and bytes columns alike."""
    found = []
    with app.engine.connect() as c:
        for table in t.metadata.sorted_tables:
            for row in c.execute(select(table)):
                for column, value in row._mapping.items():
                    if value is None:
                        continue
                    if isinstance(value, bytes | memoryview):
                        text = bytes(value).decode("utf-8", "replace")
                    elif isinstance(value, dict | list):
                        text = json.dumps(value, ensure_ascii=False)
                    else:
                        text = str(value)
                    found += [f"{table.name}.{column}" for n in needles if n.lower() in text.lower()]
    return sorted(set(found))


def rows(app: bootstrap.App, table: Any) -> list[Any]:
    with app.engine.connect() as c:
        return list(c.execute(select(table)))


def without_time(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "exported_at"}


def privacy(app: bootstrap.App) -> Privacy:
    return privacy_service(app)


# -- export --------------------------------------------------------------------------------------------------


def test_an_export_holds_everything_about_the_contact_and_the_exact_raw_bytes(crm: bootstrap.App, world: World) -> None:
    export = privacy(crm).export(world.carol, "ops")
    data = export.data
    assert json.loads(json.dumps(data)) == data  # plain JSON values only
    assert (data["format"], data["version"]) == ("inboxcrm-contact-export", 1)
    assert data["contact"]["email"] == CAROL and data["contact"]["name"] == "Carol Danvers"
    assert [a["email"] for a in data["aliases"]] == [ALIAS]
    assert data["company"]["domain"] == "acme-corp.example"
    assert data["tags"] == ["trial"]
    assert "asked for a trial" in [s["reason"] for s in data["score_history"]]
    kinds = {e["kind"] for e in data["timeline"]}
    assert {"campaign_enrolled", "mail_sent", "contacts_merged"} <= kinds
    assert len(data["tickets"]) == 2 and all(isinstance(tk["tags"], list) for tk in data["tickets"])
    assert sorted(d["name"] for d in data["deals"]) == ["Consulting", "Trial"]
    assert [(e["campaign"], e["step"]) for e in data["enrolments"]] == [("trial-nurture", 2)]
    assert [(s["email"], s["reason"]) for s in data["suppressions"]] == [(CAROL, "unsubscribed")]
    kinds = {o["kind"] for o in data["outbox"]}
    assert {"ack", "campaign"} <= kinds
    assert all("raw" not in o for o in data["outbox"])
    campaign_mail = next(o for o in data["outbox"] if o["kind"] == "campaign")
    assert campaign_mail["recipients"] == [CAROL] and campaign_mail["status"] == "sent"
    # every message she wrote, with its parsed fields, and its raw bytes byte for byte
    messages = data["messages"]
    assert sorted(m["message_id"] for m in messages) == sorted(
        i for i in ("c1@acme-corp.example", "c2@acme-corp.example", "t1@acme-corp.example", "g1@gmail.example")
    )
    assert {m["relation"] for m in messages} == {"contact"}
    assert "Still burning." in next(m["text"] for m in messages if m["subject"] == "Re: Printer on fire")
    files = dict(export.files)
    assert [m["file"] for m in messages] == [f"messages/{name}" for name, _ in export.files]
    assert sorted(files.values()) == sorted(world.carol_raws)
    assert sorted(files) == sorted(f"{m['id']}.eml" for m in messages)
    # the export is in the audit log, with counts only
    (audit,) = rows(crm, t.audit_log)
    assert (audit.actor, audit.action, audit.subject) == ("ops", "export", f"contact:{world.carol}")
    assert audit.detail["files"] == 4 and audit.detail["counts"]["messages"] == 4
    assert CAROL not in json.dumps(audit.detail)


def test_messages_where_the_contact_is_only_a_participant_are_exported_too(crm: bootstrap.App, world: World) -> None:
    ingest(
        crm,
        SUPPORT,
        mail(from_=f"Dave <{DAVE}>", cc=f"Carol <{CAROL.upper()}>", message_id="d2@initech.example", subject="Us both"),
        # a longer address that contains hers is not her
        mail(from_=f"Eve <x{CAROL}>", message_id="e1@acme-corp.example", subject="Not Carol"),
    )
    export = privacy(crm).export(world.carol, "ops")
    cc = [m for m in export.data["messages"] if m["relation"] == "participant"]
    assert [m["message_id"] for m in cc] == ["d2@initech.example"]
    assert len(export.files) == 5
    assert "Not Carol" not in [m["subject"] for m in export.data["messages"]]


def test_exporting_an_unknown_contact_fails_and_audits_nothing(crm: bootstrap.App) -> None:
    with pytest.raises(ContactNotFound):
        privacy(crm).export(999, "ops")
    assert rows(crm, t.audit_log) == []


# -- erasure -------------------------------------------------------------------------------------------------


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


# -- API -----------------------------------------------------------------------------------------------------


def api(app: bootstrap.App, **kw: Any) -> TestClient:
    web = FastAPI()
    web.include_router(data_routes(privacy(app), require=lambda s: Depends(lambda: None), **kw))
    return TestClient(web)


def test_the_api_exports_a_zip_and_erases(crm: bootstrap.App, world: World) -> None:
    with api(crm, actor=lambda request: "token-ops") as client:
        response = client.get(f"/contacts/{world.carol}/export")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/zip"
        assert response.headers["content-disposition"] == f'attachment; filename="contact-{world.carol}.zip"'
        assert response.headers["cache-control"] == "no-store"
        archive = zipfile.ZipFile(io.BytesIO(response.content))
        names = archive.namelist()
        assert names[0] == "contact.json" and len(names) == 5
        document = json.loads(archive.read("contact.json"))
        assert document["contact"]["email"] == CAROL
        raws = sorted(archive.read(m["file"]) for m in document["messages"])
        assert raws == sorted(world.carol_raws)

        assert client.get("/contacts/999/export").status_code == 404
        assert client.delete("/contacts/999").status_code == 404

        erased = client.delete(f"/contacts/{world.carol}")
        assert erased.status_code == 200
        body = erased.json()
        assert body["contact_id"] == world.carol and body["deleted"]["messages"] == 4
        assert client.get(f"/contacts/{world.carol}/export").status_code == 404
        assert client.delete(f"/contacts/{world.carol}").status_code == 404
    assert [(a.actor, a.action) for a in rows(crm, t.audit_log)] == [("token-ops", "export"), ("token-ops", "erase")]
    assert mentions(crm, CAROL, ALIAS) == []


def test_the_api_names_the_caller_api_by_default_and_needs_the_admin_scope(crm: bootstrap.App, world: World) -> None:
    asked: list[object] = []

    def require(scope: object) -> object:
        asked.append(scope)
        return Depends(lambda: None)

    web = FastAPI()
    web.include_router(data_routes(privacy(crm), require=require))
    with TestClient(web) as client:
        assert client.get(f"/contacts/{world.carol}/export").status_code == 200
    assert [str(s) for s in asked] == ["admin"] or [getattr(s, "name", s) for s in asked] == ["ADMIN"]
    assert [a.actor for a in rows(crm, t.audit_log)] == ["api"]


# -- CLI -----------------------------------------------------------------------------------------------------


def cli(settings_path: Path, database_url: str, clock: Clock) -> click.Group:
    """A `contacts` group with the two commands, as cli/contacts.py registers them, on a fresh app per command."""

    def build_app(_ctx: click.Context) -> bootstrap.App:
        return build(settings_path.parent, database_url, clock)

    group = click.Group("contacts")
    group.add_command(export_contact(build_app))
    group.add_command(erase_contact(build_app))
    return group


def test_the_cli_exports_to_a_folder_and_erases_after_asking(
    crm: bootstrap.App, world: World, settings_path: Path, database_url: str, clock: Clock, tmp_path: Path
) -> None:
    contacts = cli(settings_path, database_url, clock)
    runner = CliRunner()
    out = tmp_path / "export"
    done = runner.invoke(contacts, ["export", CAROL.upper(), "--out", str(out)])
    assert done.exit_code == 0, done.output
    document = json.loads((out / "contact.json").read_text())
    assert document["contact"]["id"] == world.carol
    written = sorted(p.read_bytes() for p in (out / "messages").glob("*.eml"))
    assert written == sorted(world.carol_raws)
    # never into a folder that holds something already
    again = runner.invoke(contacts, ["export", str(world.carol), "--out", str(out)])
    assert again.exit_code != 0 and "not empty" in again.output
    assert runner.invoke(contacts, ["export", "nobody@nowhere.example", "--out", str(tmp_path / "x")]).exit_code == 1

    # without --yes it asks; "no" changes nothing
    refused = runner.invoke(contacts, ["erase", CAROL], input="n\n")
    assert refused.exit_code != 0 and "cannot be undone" in refused.output
    assert contact_id(crm, CAROL) == world.carol
    confirmed = runner.invoke(contacts, ["erase", str(world.carol)], input="y\n")
    assert confirmed.exit_code == 0, confirmed.output
    assert f"erased contact #{world.carol}" in confirmed.output
    assert mentions(crm, CAROL, ALIAS) == []
    assert [(a.actor, a.action) for a in rows(crm, t.audit_log)] == [("cli", "export"), ("cli", "erase")]
    assert runner.invoke(contacts, ["erase", CAROL, "--yes"]).exit_code == 1  # gone


def test_the_cli_erases_with_yes_without_asking(
    crm: bootstrap.App, world: World, settings_path: Path, database_url: str, clock: Clock
) -> None:
    done = CliRunner().invoke(cli(settings_path, database_url, clock), ["erase", ALIAS, "--yes"])
    assert done.exit_code == 0, done.output
    assert "Erase contact" not in done.output
    assert mentions(crm, CAROL, ALIAS) == []
