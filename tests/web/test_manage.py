"""Changing contacts, tickets and enrolments over the API (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from inboxcrm import bootstrap
from inboxcrm.adapters.db import tables as t
from inboxcrm.core.model import MailboxKind, MailboxProfile
from inboxcrm.core.ports import FetchedMessage
from inboxcrm.services.manage import Manage
from inboxcrm.web.manage import manage_routes
from tests.conftest import make_settings
from tests.support.desk import ANA, desk_config
from tests.support.mail import mail

SUPPORT = MailboxProfile("support", MailboxKind.SUPPORT, frozenset({"support@northwind.example"}))
EXTRA = (
    desk_config(ANA, secret="s")
    + """
[sla]
timezone = "UTC"

[sla.targets]
urgent = { first_response = "1h" }

[lifecycle]
stages = ["lead", "customer"]
"""
)
CAMPAIGN = """
[[campaign]]
name = "welcome"
from = "support"
postal_address = "Northwind GmbH, Berlin"
trigger = "manual"

[[campaign.step]]
delay = "1d"
template = "welcome"
"""


@pytest.fixture
def client(tmp_path: Path, database_url: str) -> Iterator[tuple[TestClient, bootstrap.App]]:
    (tmp_path / "campaigns").mkdir()
    (tmp_path / "campaigns" / "welcome.toml").write_text(CAMPAIGN)
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "welcome.subject.j2").write_text("Welcome\n")
    (tmp_path / "templates" / "welcome.text.j2").write_text("Hello.\n")
    app = bootstrap.build(make_settings(tmp_path, database_url, EXTRA))
    app.ingest.ingest_batch(SUPPORT, "INBOX", 1, [FetchedMessage(1, mail(message_id="c1@acme-corp.example"))])
    manage = Manage(app.store, app.support, app.outreach, app.clock, app.settings.lifecycle.stages)
    web = FastAPI()
    web.include_router(manage_routes(manage, lambda scope: Depends(lambda: None), lambda request: "tester"))
    with TestClient(web) as test_client:
        yield test_client, app
    app.close()


def events(app: bootstrap.App) -> list[str]:
    with app.engine.connect() as c:
        return list(c.execute(select(t.timeline_events.c.summary).order_by(t.timeline_events.c.id)).scalars())


def test_contact_tags_and_stage(client: tuple[TestClient, bootstrap.App]) -> None:
    http, app = client
    done = http.patch("/contacts/1", json={"add_tags": ["vip", "billing"], "remove_tags": [], "stage": "customer"})
    assert done.status_code == 204
    with app.store.transaction() as tx:
        state = tx.contact_states([1])[1]
    assert state.tags == {"vip", "billing"} and state.stage == "customer"
    assert "Stage None → customer: set by tester" in events(app)
    assert http.patch("/contacts/1", json={"stage": "emperor"}).status_code == 422
    assert http.patch("/contacts/99", json={"add_tags": ["x"]}).status_code == 404
    assert http.patch("/contacts/1", json={"add_tags": ["no spaces"]}).status_code == 422
    assert http.patch("/contacts/1", json={"colour": "red"}).status_code == 422  # unknown fields are refused


def test_ticket_status_assignee_priority(client: tuple[TestClient, bootstrap.App]) -> None:
    http, app = client
    done = http.patch(
        "/tickets/1", json={"assignee": "ana", "priority": "urgent", "status": "solved", "add_tags": ["x"]}
    )
    assert done.status_code == 204
    with app.store.transaction() as tx:
        ticket = tx.ticket(1)
    assert ticket is not None
    assert (ticket.assignee, ticket.priority, ticket.status.value, ticket.tags) == ("ana", "urgent", "solved", {"x"})
    assert ticket.solved_at is not None and ticket.first_response_due is not None  # urgent has a target
    assert "Ticket #1 solved by tester" in events(app)
    assert http.patch("/tickets/1", json={"assignee": "zed"}).status_code == 422
    assert http.patch("/tickets/1", json={"status": "done"}).status_code == 422
    assert http.patch("/tickets/7", json={"status": "open"}).status_code == 404


def test_enrol_and_remove(client: tuple[TestClient, bootstrap.App]) -> None:
    http, app = client
    created = http.post("/campaigns/welcome/enrolments", json={"contact_id": 1})
    assert created.status_code == 201 and created.json()["enrolment_id"] >= 1
    assert http.post("/campaigns/welcome/enrolments", json={"contact_id": 1}).status_code == 422  # already in
    assert http.post("/campaigns/nope/enrolments", json={"contact_id": 1}).status_code == 404
    assert http.delete("/campaigns/welcome/enrolments/1").status_code == 204
    with app.engine.connect() as c:
        row = c.execute(select(t.enrolments)).one()
    assert (row.status, row.exit_reason) == ("exited", "removed by tester")
    assert http.delete("/campaigns/welcome/enrolments/1").status_code == 404


def test_contact_filters_companies_deals_and_the_sla_filter(tmp_path: Path, database_url: str) -> None:
    from inboxcrm.web.app import create_app

    app = bootstrap.build(make_settings(tmp_path, database_url, EXTRA))
    try:
        app.ingest.ingest_batch(
            SUPPORT,
            "INBOX",
            1,
            [
                FetchedMessage(1, mail(from_="Carol <carol@acme-corp.example>", message_id="a@x")),
                FetchedMessage(2, mail(from_="Dave <dave@globex.example>", subject="Other", message_id="b@x")),
            ],
        )
        with app.store.transaction() as tx:
            tx.change_tags(1, ["vip"], [])
            tx.set_stage(2, "customer")
            tx.upsert_deal(1, "Acme renewal", 5000.0, "qualified", app.clock())
        web = create_app(app.reads, {"t": "test"})
        auth = {"Authorization": "Bearer t"}
        with TestClient(web) as http:
            emails = lambda **q: [c["email"] for c in http.get("/contacts", params=q, headers=auth).json()["items"]]  # noqa: E731
            assert emails(tag="vip") == ["carol@acme-corp.example"]
            assert emails(stage="customer") == ["dave@globex.example"]
            assert emails(company="globex.example") == ["dave@globex.example"]
            assert emails(tag="vip", stage="customer") == []
            assert http.get("/contacts", params={"segment": "nope"}, headers=auth).status_code == 404
            companies = http.get("/companies", params={"q": "acme"}, headers=auth).json()["items"]
            assert [(c["domain"], c["contacts"]) for c in companies] == [("acme-corp.example", 1)]
            deals = http.get("/deals", headers=auth).json()["items"]
            assert [(d["name"], d["value"], d["company_domain"]) for d in deals] == [
                ("Acme renewal", 5000.0, "acme-corp.example")
            ]
            assert len(http.get("/tickets", params={"sla": "ok"}, headers=auth).json()["items"]) == 2
            assert http.get("/tickets", params={"sla": "breached"}, headers=auth).json()["items"] == []
    finally:
        app.close()
