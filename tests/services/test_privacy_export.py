"""Exporting everything about a contact, on both databases: the JSON document, the exact raw bytes of every
message she wrote or took part in, and the audit row."""

from __future__ import annotations

import json

import pytest

from inboxcrm import bootstrap
from inboxcrm.adapters.db import tables as t
from inboxcrm.services.contacts import ContactNotFound
from tests.services.privacy_support import (
    ALIAS,
    CAROL,
    DAVE,
    SUPPORT,
    World,
    clock,
    crm,
    ingest,
    privacy,
    rows,
    settings_path,
    world,
)
from tests.support.mail import mail

__all__ = ["clock", "crm", "settings_path", "world"]  # the fixtures


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
