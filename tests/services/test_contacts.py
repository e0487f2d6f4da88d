"""Merging two records of one person, on SQLite and PostgreSQL; aliases keep filing mail to the merge."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from inboxcrm.bootstrap import App
from inboxcrm.cli import main
from inboxcrm.core.model import MailboxKind, MailboxProfile
from inboxcrm.core.ports import FetchedMessage
from inboxcrm.services.contacts import ContactNotFound
from inboxcrm.web.app import create_app
from tests.support.mail import mail

SALES = MailboxProfile("sales", MailboxKind.SALES, frozenset({"sales@northwind.example"}))


def ingest(app: App, *raws: bytes, first_uid: int = 1) -> None:
    app.ingest.ingest_batch(SALES, "INBOX", 1, [FetchedMessage(first_uid + i, r) for i, r in enumerate(raws)])


def contact_id(app: App, email: str) -> int:
    return app.reads.contacts(email=email).items[0].id


def test_merge_moves_the_timeline_and_keeps_the_alias(app: App) -> None:
    ingest(
        app,
        mail(from_="Carol <carol@acme-corp.example>", message_id="1@x"),
        mail(from_="carol.danvers@gmail.com", message_id="2@x", subject="From home"),
    )
    work, home = contact_id(app, "carol@acme-corp.example"), contact_id(app, "carol.danvers@gmail.com")
    app.contacts.merge(work, home)

    assert [c.email for c in app.reads.contacts().items] == ["carol@acme-corp.example"]
    kinds = [e.kind for e in app.reads.timeline(work).items]
    assert kinds.count("message_in") == 2 and kinds[0] == "contacts_merged"
    assert app.contacts.resolve("Carol.Danvers@gmail.com") == work

    # new mail from the merged-away address is filed under the surviving contact
    ingest(app, mail(from_="carol.danvers@gmail.com", message_id="3@x", subject="Again"), first_uid=3)
    assert [c.email for c in app.reads.contacts().items] == ["carol@acme-corp.example"]
    assert "Again" in [e.summary for e in app.reads.timeline(work).items]


def test_merge_errors(app: App) -> None:
    ingest(app, mail(message_id="1@x"))
    only = contact_id(app, "carol@acme-corp.example")
    with pytest.raises(ValueError, match="into itself"):
        app.contacts.merge(only, only)
    with pytest.raises(ContactNotFound):
        app.contacts.merge(only, 999_999)
    with pytest.raises(ContactNotFound):
        app.contacts.resolve("nobody@nowhere.example")


def test_merge_through_the_api_and_the_cli(app: App) -> None:
    ingest(
        app,
        mail(from_="a@acme-corp.example", message_id="1@x"),
        mail(from_="b@acme-corp.example", message_id="2@x"),
        mail(from_="c@acme-corp.example", message_id="3@x"),
    )
    a, b = contact_id(app, "a@acme-corp.example"), contact_id(app, "b@acme-corp.example")
    client = TestClient(create_app(app.reads, {"t": "test"}, contacts=app.contacts))
    auth = {"Authorization": "Bearer t"}
    assert client.post(f"/contacts/{a}/merge", json={"other_id": b}).status_code == 401
    response = client.post(f"/contacts/{a}/merge", json={"other_id": b}, headers=auth)
    assert response.status_code == 200 and response.json()["email"] == "a@acme-corp.example"
    assert client.post(f"/contacts/{a}/merge", json={"other_id": b}, headers=auth).status_code == 404

    config = str(app.settings.base_dir) + "/inboxcrm.toml"
    result = CliRunner().invoke(
        main, ["--config", config, "contacts", "merge", "a@acme-corp.example", "c@acme-corp.example"]
    )
    assert result.exit_code == 0, result.output
    assert [c.email for c in app.reads.contacts().items] == ["a@acme-corp.example"]
    result = CliRunner().invoke(
        main, ["--config", config, "contacts", "merge", "a@acme-corp.example", "nobody@x.example"]
    )
    assert result.exit_code == 1 and "no contact with the address" in result.output
