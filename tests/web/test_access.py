"""Access control: tokens from the config and the database, scopes, rate limits, the cookie, the CLI and the
audit log (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select

from inboxcrm import bootstrap
from inboxcrm.adapters.db import tables as t
from inboxcrm.bootstrap import App
from inboxcrm.cli import main
from inboxcrm.config import parse_settings
from inboxcrm.core.model import Address, MailboxKind, MailboxProfile
from inboxcrm.core.ports import FetchedMessage
from inboxcrm.services.access import Access, Caller, ConfiguredToken, RateLimited, Scope, TokenExists, TokenNotFound
from inboxcrm.web.app import create_app
from inboxcrm.web.auth import COOKIE
from tests.support.clock import Clock
from tests.support.mail import mail

SUPPORT = MailboxProfile("support", MailboxKind.SUPPORT, frozenset({"support@northwind.example"}))
CONFIG_TOKEN = "secret-token"  # the admin token `make_settings` configures (no scope given: admin)
START = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def access(app: App) -> Access:
    return bootstrap.access(app, {})


@pytest.fixture
def client(app: App, access: Access) -> Iterator[TestClient]:
    app.ingest.ingest_batch(
        SUPPORT,
        "INBOX",
        1,
        [FetchedMessage(1, mail(message_id="m1@acme-corp.example", headers={"X-Mailer": "Secret Mailer 9"}))],
    )
    with TestClient(create_app(app.reads, {"ignored": "ignored"}, contacts=app.contacts, access=access)) as test:
        yield test


def _thread_id(client: TestClient) -> int:
    return int(client.get("/tickets", headers=bearer(CONFIG_TOKEN)).json()["items"][0]["thread_id"])


def _contact_id(client: TestClient) -> int:
    found = client.get("/contacts", params={"email": "carol@acme-corp.example"}, headers=bearer(CONFIG_TOKEN))
    return int(found.json()["items"][0]["id"])


def test_401_without_a_token_with_a_wrong_one_and_with_a_revoked_one(client: TestClient, access: Access) -> None:
    token = access.create("reader", Scope.READ)
    assert client.get("/contacts", headers=bearer(token)).status_code == 200
    access.revoke("reader")
    for headers in ({}, bearer("wrong"), bearer("icrm_" + "x" * 43), bearer(token), {"Authorization": "Basic eDp5"}):
        response = client.get("/contacts", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["WWW-Authenticate"] == "Bearer"
    assert client.get("/health").status_code == 200  # no token needed
    # `create_app` keeps taking value → name (admin tokens) when no Access is given; `access` wins over it
    assert client.get("/contacts", headers=bearer("ignored")).status_code == 401


def test_a_read_token_may_read_but_not_merge(client: TestClient, app: App, access: Access) -> None:
    reader, writer = access.create("reader", Scope.READ), access.create("writer", Scope.WRITE)
    with app.store.transaction() as tx:
        other = tx.ensure_contacts([Address("dup@acme-corp.example", "")], app.clock())["dup@acme-corp.example"]
    keep = _contact_id(client)
    for path in ("/contacts", f"/contacts/{keep}", f"/contacts/{keep}/timeline", "/tickets", "/segments"):
        assert client.get(path, headers=bearer(reader)).status_code == 200, path
    refused = client.post(f"/contacts/{keep}/merge", json={"other_id": other}, headers=bearer(reader))
    assert refused.status_code == 403
    assert "write" in refused.json()["detail"]
    merged = client.post(f"/contacts/{keep}/merge", json={"other_id": other}, headers=bearer(writer))
    assert merged.status_code == 200
    assert merged.json()["id"] == keep
    assert client.get(f"/contacts/{other}", headers=bearer(reader)).status_code == 404  # folded in


def test_raw_headers_are_for_admin_tokens_only(client: TestClient, access: Access) -> None:
    reader, writer = access.create("reader", Scope.READ), access.create("writer", Scope.WRITE)
    admin = access.create("boss", Scope.ADMIN)
    thread, contact = _thread_id(client), _contact_id(client)
    for token, shown in ((reader, False), (writer, False), (admin, True), (CONFIG_TOKEN, True)):
        message = client.get(f"/threads/{thread}", headers=bearer(token)).json()["messages"][0]
        entries = client.get(f"/contacts/{contact}/timeline", headers=bearer(token)).json()["items"]
        in_timeline = next(e["message"] for e in entries if e["message"])
        for seen in (message, in_timeline):
            if shown:
                assert ["X-Mailer", "Secret Mailer 9"] in seen["headers"]
                assert ["Message-ID", "<m1@acme-corp.example>"] in seen["headers"]
            else:
                assert seen["headers"] is None
                assert "Secret Mailer" not in json.dumps(seen)


def test_rate_limit_answers_429_with_retry_after(client: TestClient, access: Access) -> None:
    token = access.create("busy", Scope.READ, rate_limit=3)
    for _ in range(3):
        assert client.get("/contacts", headers=bearer(token)).status_code == 200
    refused = client.get("/contacts", headers=bearer(token))
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # a route with two scope checks (router: read, route: write) counts once: still 429, not a second hit
    assert client.post("/contacts/1/merge", json={"other_id": 2}, headers=bearer(token)).status_code == 429
    # other tokens have their own windows
    assert client.get("/contacts", headers=bearer(CONFIG_TOKEN)).status_code == 200


def test_the_window_slides(app: App) -> None:
    clock = Clock(START)
    access = Access(
        [ConfiguredToken("v", "ops", Scope.READ)], app.store, clock, rate_limit=2, monotonic=clock.monotonic
    )
    caller = access.identify("v")
    assert caller == Caller("ops", Scope.READ)
    access.admit(caller)
    clock.advance(30)
    access.admit(caller)
    with pytest.raises(RateLimited) as refused:
        access.admit(caller)
    assert refused.value.retry_after == 30  # the first request leaves the window 60s after it was made
    clock.advance(30)
    access.admit(caller)  # the first one has left the window
    with pytest.raises(RateLimited):
        access.admit(caller)


def test_tokens_are_stored_hashed_and_last_use_is_written_at_most_once_a_minute(app: App) -> None:
    clock = Clock(START)
    access = Access((), app.store, clock)
    token = access.create("ops", Scope.WRITE, rate_limit=100)
    assert token.startswith("icrm_") and len(token) >= len("icrm_") + 43  # 32 random bytes, URL-safe
    assert token.removeprefix("icrm_").replace("-", "").replace("_", "").isalnum()
    with app.engine.connect() as connection:
        rows = connection.execute(select(t.api_tokens)).all()
    assert len(rows) == 1
    assert rows[0].token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(rows[0]._asdict())
    assert token.removeprefix("icrm_") not in repr(rows[0]._asdict())

    assert access.identify(token) == Caller("ops", Scope.WRITE, 100)
    first = access.tokens()[0].last_used_at
    assert first == clock.now
    clock.advance(30)
    access.identify(token)
    assert access.tokens()[0].last_used_at == first  # not every request writes
    clock.advance(31)
    access.identify(token)
    assert access.tokens()[0].last_used_at == clock.now


def test_token_names_are_unique_and_revoking_twice_is_harmless(app: App, access: Access) -> None:
    access.create("ops", Scope.READ)
    with pytest.raises(TokenExists):
        access.create("ops", Scope.ADMIN)
    with pytest.raises(TokenExists):
        access.create("test", Scope.READ)  # configured by `make_settings`
    with pytest.raises(ValueError):
        access.create("has space", Scope.READ)
    assert access.revoke("ops") is True
    assert access.revoke("ops") is False
    with pytest.raises(TokenExists):
        access.create("ops", Scope.READ)  # revoked tokens keep their names
    with pytest.raises(TokenNotFound):
        access.revoke("nobody")
    with app.engine.connect() as connection:
        actions = connection.execute(select(t.audit_log.c.action).order_by(t.audit_log.c.id)).scalars().all()
    assert actions == ["token_created", "token_revoked"]


def test_the_cookie_is_accepted_and_the_header_wins(client: TestClient, access: Access) -> None:
    token = access.create("page", Scope.READ)
    client.cookies.set(COOKIE, token)
    assert client.get("/contacts").status_code == 200
    assert client.get("/contacts", headers=bearer("wrong")).status_code == 401  # the header wins, even wrong
    admin = client.get(f"/threads/{_thread_id(client)}", headers=bearer(CONFIG_TOKEN)).json()
    assert admin["messages"][0]["headers"] is not None  # the header's admin scope, not the cookie's read scope
    client.cookies.set(COOKIE, "wrong")
    assert client.get("/contacts").status_code == 401


def test_configured_tokens_have_scopes_and_the_default_rate_limit(tmp_path: Path, database_url: str) -> None:
    config = f"""
[database]
url = "{database_url}"

[api]
rate_limit = 2
tokens = [
  {{ name = "old", value = "old-token" }},
  {{ name = "viewer", value_env = "VIEWER_TOKEN", scope = "read" }},
]
"""
    settings = parse_settings(config, str(tmp_path / "inboxcrm.toml"), {"VIEWER_TOKEN": "viewer-token"})
    built = bootstrap.build(settings)
    try:
        access = bootstrap.access(built, {"VIEWER_TOKEN": "viewer-token"})
        with TestClient(create_app(built.reads, access=access)) as client:
            refused = client.post("/contacts/1/merge", json={"other_id": 2}, headers=bearer("viewer-token"))
            assert refused.status_code == 403
            assert refused.json()["detail"] == "this needs a token with the write scope (this one has read)"
            # 2 a minute: the refused merge counted as one
            assert client.get("/contacts", headers=bearer("viewer-token")).status_code == 200
            assert client.get("/contacts", headers=bearer("viewer-token")).status_code == 429
            # admin by default: past the scope check (no contact service here: 503)
            old = client.post("/contacts/1/merge", json={"other_id": 2}, headers=bearer("old-token"))
            assert old.status_code == 503
    finally:
        built.close()


def test_tokens_through_the_cli_with_audit_rows(app: App, tmp_path: Path) -> None:
    config = str(tmp_path / "inboxcrm.toml")  # written by `make_settings` for the `app` fixture
    runner = CliRunner()

    created = runner.invoke(
        main, ["--config", config, "tokens", "create", "ci", "--scope", "read", "--rate-limit", "5"]
    )
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    assert token.startswith("icrm_")
    assert "only this once" in created.stderr
    assert bootstrap.access(app, {}).identify(token) == Caller("ci", Scope.READ, 5)

    again = runner.invoke(main, ["--config", config, "tokens", "create", "ci", "--scope", "admin"])
    assert again.exit_code == 1 and "exists already" in again.stderr
    clash = runner.invoke(main, ["--config", config, "tokens", "create", "test", "--scope", "read"])
    assert clash.exit_code == 1 and "config" in clash.stderr
    bad = runner.invoke(main, ["--config", config, "tokens", "create", "x", "--scope", "root"])
    assert bad.exit_code == 2

    listed = runner.invoke(main, ["--config", config, "tokens", "list"])
    assert listed.exit_code == 0, listed.output
    assert "ci" in listed.stdout and "read" in listed.stdout and "active" in listed.stdout
    assert token not in listed.stdout and token.removeprefix("icrm_") not in listed.stdout
    assert "in the config: test (admin)" in listed.stdout

    revoked = runner.invoke(main, ["--config", config, "tokens", "revoke", "ci"])
    assert revoked.exit_code == 0 and "revoked token 'ci'" in revoked.stdout
    assert bootstrap.access(app, {}).identify(token) is None
    missing = runner.invoke(main, ["--config", config, "tokens", "revoke", "nobody"])
    assert missing.exit_code == 1

    rows = [
        json.loads(line)
        for line in runner.invoke(main, ["--config", config, "tokens", "list", "--json"]).stdout.splitlines()
    ]
    assert [(r["name"], r["scope"], r["rate_limit"], r["revoked_at"] is not None) for r in rows] == [
        ("ci", "read", 5, True)
    ]
    assert set(rows[0]) == {"name", "scope", "rate_limit", "created_at", "last_used_at", "revoked_at"}

    with app.engine.connect() as connection:
        audit = connection.execute(select(t.audit_log).order_by(t.audit_log.c.id)).all()
    assert [(r.actor, r.action, r.subject) for r in audit] == [
        ("cli", "token_created", "token:ci"),
        ("cli", "token_revoked", "token:ci"),
    ]
    assert audit[0].detail == {"scope": "read", "rate_limit": 5}
    assert token not in json.dumps([r.detail for r in audit])
