"""The HTTP API through httpx against the real app and database (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from inboxcrm.bootstrap import App
from inboxcrm.core.model import MailboxKind, MailboxProfile
from inboxcrm.core.ports import FetchedMessage
from inboxcrm.services.polling import MailboxHealth
from inboxcrm.web.app import create_app
from tests.support.mail import mail

SUPPORT = MailboxProfile("support", MailboxKind.SUPPORT, frozenset({"support@northwind.example"}))
AUTH = {"Authorization": "Bearer secret-token"}


@pytest.fixture
def client(app: App) -> Iterator[TestClient]:
    raws = [
        mail(
            message_id=f"m{i}@acme-corp.example", subject=f"Question {i}", date=f"Mon, 02 Nov 2026 10:{i:02d}:00 +0000"
        )
        for i in range(7)
    ]
    app.ingest.ingest_batch(SUPPORT, "INBOX", 1, [FetchedMessage(i + 1, r) for i, r in enumerate(raws)])
    health = [MailboxHealth("support", ok=False, last_error="ConnectionRefusedError: [Errno 111]", failures_in_a_row=3)]
    with TestClient(create_app(app.reads, {"secret-token": "test"}, lambda: health)) as test_client:
        yield test_client


def test_every_route_but_health_needs_a_token(client: TestClient) -> None:
    for path in ("/contacts", "/contacts/1", "/contacts/1/timeline", "/threads/1", "/tickets"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.get(path, headers=AUTH).status_code == 200


def test_health_says_which_mailbox_fails_and_why(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok" and body["status"] == "degraded"
    assert body["mailboxes"][0]["last_error"].startswith("ConnectionRefusedError")


def test_find_a_contact_and_page_through_the_timeline_newest_first(client: TestClient) -> None:
    found = client.get("/contacts", params={"email": "CAROL@acme-corp.example"}, headers=AUTH).json()
    assert [c["email"] for c in found["items"]] == ["carol@acme-corp.example"]
    contact_id = found["items"][0]["id"]
    assert client.get("/contacts", params={"q": "danv"}, headers=AUTH).json()["items"][0]["id"] == contact_id

    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = client.get(f"/contacts/{contact_id}/timeline", params=params, headers=AUTH).json()
        seen += [e["summary"] for e in page["items"] if e["kind"] == "message_in"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"Question {i}" for i in reversed(range(7))]


def test_thread_and_tickets(client: TestClient) -> None:
    tickets = client.get("/tickets", params={"status": "new"}, headers=AUTH).json()["items"]
    assert len(tickets) == 7
    assert client.get("/tickets", params={"status": "solved"}, headers=AUTH).json()["items"] == []
    assert client.get("/tickets", params={"status": "bogus"}, headers=AUTH).status_code == 422
    thread = client.get(f"/threads/{tickets[0]['thread_id']}", headers=AUTH).json()
    assert thread["ticket"]["id"] == tickets[0]["id"]
    assert "printer is on fire" in thread["messages"][0]["text"]


def test_not_found_and_bad_cursor(client: TestClient) -> None:
    assert client.get("/contacts/999999", headers=AUTH).status_code == 404
    assert client.get("/threads/999999", headers=AUTH).status_code == 404
    assert client.get("/contacts/1/timeline", params={"cursor": "!!"}, headers=AUTH).status_code == 400
    assert client.get("/contacts", params={"limit": 500}, headers=AUTH).status_code == 422


def test_openapi_and_docs_are_served_to_token_holders_only(client: TestClient) -> None:
    assert isinstance(client, httpx.Client)
    assert "/contacts/{contact_id}/timeline" in client.get("/openapi.json", headers=AUTH).json()["paths"]
    assert "swagger-ui" in client.get("/docs", headers=AUTH).text
    for path in ("/openapi.json", "/docs", "/redoc"):
        assert client.get(path).status_code in (401, 404), path
    assert client.get("/openapi.json").status_code == 401


def test_timeline_messages_say_what_kind_of_mail_they_are(app: App) -> None:
    ooo = mail(subject="Out of office", headers={"Auto-Submitted": "auto-replied"}, message_id="o@acme-corp.example")
    app.ingest.ingest_batch(SUPPORT, "INBOX", 1, [FetchedMessage(1, mail()), FetchedMessage(2, ooo)])
    entries = app.reads.timeline(1).items
    kinds = {(e.kind, e.message.kind) for e in entries if e.message is not None}
    # the event says what happened; the message says what kind of mail it is
    assert kinds == {("message_in", "normal"), ("auto_reply", "auto_reply")}
