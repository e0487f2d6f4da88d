"""`/metrics`: what Prometheus scrapes, read from the database and the pollers' health."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from inboxcrm.bootstrap import App
from inboxcrm.core.model import MailboxKind, MailboxProfile
from inboxcrm.core.ports import FetchedMessage
from inboxcrm.services.polling import MailboxHealth
from inboxcrm.web.metrics import metrics_routes
from tests.support.mail import mail

SUPPORT = MailboxProfile("support", MailboxKind.SUPPORT, frozenset({"support@northwind.example"}))
NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def test_metrics_count_what_is_stored_and_how_far_behind_each_mailbox_is(app: App) -> None:
    app.ingest.ingest_batch(
        SUPPORT, "INBOX", 1, [FetchedMessage(1, mail()), FetchedMessage(2, b"no headers at all\r\n")]
    )
    health = [
        MailboxHealth("support", ok=True, last_success=NOW - timedelta(seconds=42)),
        MailboxHealth("sales", ok=False, last_success=None, last_error="connection refused", failures_in_a_row=3),
    ]
    web = FastAPI()
    web.include_router(
        metrics_routes(app.reads, lambda scope: Depends(lambda: None), lambda: health, lambda: 2, lambda: NOW)
    )
    with TestClient(web) as client:
        response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }
    assert samples[("inboxcrm_messages_ingested_total", ())] == 1
    assert samples[("inboxcrm_quarantined", ())] == 1
    assert samples[("inboxcrm_mailbox_lag_seconds", (("mailbox", "support"),))] == 42
    assert samples[("inboxcrm_mailbox_up", (("mailbox", "sales"),))] == 0
    assert samples[("inboxcrm_rule_errors", ())] == 2
    assert ("inboxcrm_outbox_depth", ()) in samples
