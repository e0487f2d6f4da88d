"""Webhooks out, against a receiver run by the test (a real HTTP server on loopback): every listed event is
delivered exactly once per delivery id, with a valid signature, after the receiver was down for five minutes
in the middle (the retry clock is moved, nobody waits), and a dead endpoint never holds up ingest."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from inboxcrm import bootstrap
from inboxcrm.adapters.db import migrate
from inboxcrm.core.business import business_event
from inboxcrm.core.model import MailboxKind, MailboxProfile
from inboxcrm.core.ports import FetchedMessage
from inboxcrm.core.webhooks import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, verify
from inboxcrm.services.manage import TicketChange
from tests.conftest import make_settings
from tests.support.clock import Clock
from tests.support.mail import mail

SUPPORT = MailboxProfile("support", MailboxKind.SUPPORT, frozenset({"support@northwind.example"}))
SECRET = "whsec-test-1"


class Receiver:
    """A webhook receiver: records every request (with the test clock's time), answers 200, or is down."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.requests: list[dict[str, Any]] = []
        self.port = 0
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                payload = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": payload, "at": receiver.clock()})
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    clock = Clock(datetime(2026, 11, 2, 10, 0, tzinfo=UTC))
    found = Receiver(clock)
    found.start()
    yield found
    found.stop()


def _app(tmp_path: Path, database_url: str, receiver: Receiver, events: str) -> bootstrap.App:
    extra = f"""
[[webhooks]]
name = "shop"
url = "http://127.0.0.1:{receiver.port}/hooks"
events = {events}
secret = "{SECRET}"
timeout = "2s"
"""
    app = bootstrap.build(make_settings(tmp_path, database_url, extra), clock=receiver.clock)
    migrate.upgrade(app.engine)
    return app


def _drain(app: bootstrap.App, clock: Clock, rounds: int = 30) -> None:
    for _ in range(rounds):
        done = app.webhooks.dispatch(clock())
        if not (done.sent or done.retried or done.waiting):
            return
        clock.now += timedelta(minutes=5)


def test_every_event_once_per_id_with_valid_signatures_after_the_receiver_was_down(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> None:
    listed = '["contact.created", "message.received", "ticket.opened", "ticket.solved", "contact.stage_changed", ' \
        '"contact.updated", "event.recorded", "contact.merged"]'  # fmt: skip
    app = _app(tmp_path, database_url, receiver, listed)
    clock = receiver.clock
    try:
        features = bootstrap.features(app)
        assert features.manage is not None
        app.ingest.ingest_batch(SUPPORT, "INBOX", 1, [FetchedMessage(1, mail(message_id="w1@acme.example"))])
        assert app.webhooks.dispatch(clock()).sent == 3  # contact.created, message.received, ticket.opened

        receiver.stop()  # down for five minutes; meanwhile things happen (and nothing waits for the receiver)
        clock.now += timedelta(minutes=1)
        contact = app.contacts.resolve("carol@acme-corp.example")
        other = app.record.record_event(
            "carol.d@gmail.example", business_event("order", clock(), "49.90", "EUR", "A-1"), "api", "test"
        )
        features.manage.update_contact(contact, "ops", (), (), "customer")
        ticket = app.reads.tickets().items[0].id
        features.manage.update_ticket(ticket, "ops", TicketChange(status="solved"))
        app.record.edit(contact, "ops", name="Carol D.")
        app.contacts.merge(contact, other.contact_id)
        result = app.ingest.ingest_batch(SUPPORT, "INBOX", 1, [FetchedMessage(2, mail(message_id="w2@acme.example"))])
        assert result.stored == 1
        for _ in range(3):
            done = app.webhooks.dispatch(clock())
            assert done.sent == 0 and done.retried == 1  # one try per round; the rest wait for the next
            clock.now += timedelta(minutes=2)

        receiver.start()  # back after five minutes, on the same port
        _drain(app, clock)
        assert app.webhooks.dispatch(clock()).sent == 0
    finally:
        app.close()

    secret = SECRET.encode()
    ids = [r["headers"][DELIVERY_HEADER] for r in receiver.requests]
    assert len(ids) == len(set(ids)), "a delivery id arrived twice"
    for request in receiver.requests:
        assert verify(secret, request["headers"][SIGNATURE_HEADER], request["body"], request["at"])
        assert not verify(b"another secret", request["headers"][SIGNATURE_HEADER], request["body"], request["at"])
        payload = json.loads(request["body"])
        assert payload["id"] == request["headers"][DELIVERY_HEADER]
        assert payload["event"] == request["headers"][EVENT_HEADER]
    events = sorted(json.loads(r["body"])["event"] for r in receiver.requests)
    assert events == sorted(
        [
            "contact.created",
            "message.received",
            "ticket.opened",
            "contact.created",  # the address the order came from
            "event.recorded",
            "contact.stage_changed",
            "ticket.solved",
            "contact.updated",
            "contact.merged",
            "message.received",  # the second mail, stored while the receiver was down: a new ticket
            "ticket.opened",
        ]
    )
    order = next(json.loads(r["body"]) for r in receiver.requests if json.loads(r["body"])["event"] == "event.recorded")
    assert order["data"]["contact"]["email"] == "carol.d@gmail.example"
    assert "49.90 EUR" in order["data"]["summary"]


def test_a_replayed_or_tampered_request_fails_the_signature() -> None:
    from inboxcrm.core.webhooks import signature

    now = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    header = signature(b"k", int(now.timestamp()), b'{"a":1}')
    assert verify(b"k", header, b'{"a":1}', now)
    assert not verify(b"k", header, b'{"a":2}', now)
    assert not verify(b"k", header, b'{"a":1}', now + timedelta(minutes=6))


def test_a_delivery_that_never_gets_through_fails_after_give_up(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> None:
    app = _app(tmp_path, database_url, receiver, '["*"]')
    clock = receiver.clock
    try:
        receiver.stop()
        app.ingest.ingest_batch(SUPPORT, "INBOX", 1, [FetchedMessage(1, mail(message_id="g1@acme.example"))])
        clock.now += timedelta(days=4)
        failed = 0
        for _ in range(10):
            failed += app.webhooks.dispatch(clock()).failed
        assert failed == 3  # contact.created, message.received, ticket.opened: each given up, once
        from inboxcrm.adapters.db.record_reads import SqlRecordReads

        rows = SqlRecordReads(app.engine).deliveries("failed", 10)
        assert len(rows) == 3 and all(r["last_error"] for r in rows)
    finally:
        receiver.start()
        app.close()
