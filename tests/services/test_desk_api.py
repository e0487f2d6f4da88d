"""What the API shows of a ticket worked by mail, on both databases: its tags, its SLA state and its notes."""

from __future__ import annotations

from datetime import UTC, datetime

from inboxcrm import bootstrap
from inboxcrm.services.desk import tick_tickets
from tests.services.desk_support import Clock, agent_reply, clock, customer_mail, desk, ingest, relay_of

__all__ = ["clock", "desk"]  # the fixtures


def test_the_api_shows_ticket_tags_sla_and_notes(desk: bootstrap.App, clock: Clock) -> None:
    from fastapi.testclient import TestClient

    from inboxcrm.web.app import create_app

    ingest(desk, customer_mail())
    ingest(desk, agent_reply(relay_of(desk), "#tag billing\n#note\nEnterprise plan."))
    clock.now = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
    tick_tickets(desk.store, desk.support, clock.now)
    with TestClient(create_app(desk.reads, {"t": "test"}, list)) as client:
        auth = {"Authorization": "Bearer t"}
        (ticket,) = client.get("/tickets", params={"queue": "support"}, headers=auth).json()["items"]
        assert ticket["tags"] == ["billing"]
        assert ticket["sla"]["state"] == "breached"
        assert ticket["sla"]["first_response_breached_at"].startswith("2026-11-02T14:00")
        assert client.get("/tickets", params={"assignee": "ben"}, headers=auth).json()["items"] == []
        thread = client.get("/threads/1", headers=auth).json()
        assert [m["role"] for m in thread["messages"]] == [None, "note"]
        timeline = client.get("/contacts/1/timeline", headers=auth).json()["items"]
        kinds = [e["kind"] for e in timeline]
        assert "note" in kinds and "ticket_sla_breached" in kinds and "ticket_tags" in kinds
