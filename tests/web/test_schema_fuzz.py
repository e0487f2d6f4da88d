"""Schemathesis against our OpenAPI description: whatever a client sends that the schema allows (and much
that it does not), the API answers without a server error. Runs on SQLite and PostgreSQL, with a token of
every scope (so writes and admin routes are reached too)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from inboxcrm import bootstrap
from inboxcrm.core.model import MailboxKind, MailboxProfile
from inboxcrm.core.ports import FetchedMessage
from inboxcrm.web.app import create_app
from tests.conftest import make_settings
from tests.support.mail import mail

SUPPORT = MailboxProfile("support", MailboxKind.SUPPORT, frozenset({"support@northwind.example"}))


@pytest.fixture
def api_schema(tmp_path: Path, database_url: str) -> Iterator[schemathesis.BaseSchema]:
    app = bootstrap.build(make_settings(tmp_path, database_url, '[security]\nsecret = "fuzz"\n'))
    app.ingest.ingest_batch(
        SUPPORT,
        "INBOX",
        1,
        [FetchedMessage(1, mail(message_id="a@acme-corp.example")), FetchedMessage(2, mail(subject="Second"))],
    )
    web = create_app(app.reads, {"fuzz-token": "fuzz"}, contacts=app.contacts, features=bootstrap.features(app))
    yield schemathesis.openapi.from_asgi("/openapi.json", web, headers={"Authorization": "Bearer fuzz-token"})
    app.close()


def test_no_server_errors(api_schema: schemathesis.BaseSchema) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def no_server_error(case: schemathesis.Case) -> None:
            response = case.call(headers={"Authorization": "Bearer fuzz-token"})
            assert response.status_code < 500, (case.method, case.formatted_path, response.text[:300])

        no_server_error()
