"""Hostile mail through the real ingest (SQLite and PostgreSQL): an oversized message is kept raw and
quarantined with the reason, and read once the limit is raised."""

from __future__ import annotations

from pathlib import Path

from inboxcrm import bootstrap
from inboxcrm.core.model import MailboxKind, MailboxProfile
from inboxcrm.core.ports import FetchedMessage
from tests.conftest import make_settings
from tests.support.mail import mail

SUPPORT = MailboxProfile("support", MailboxKind.SUPPORT, frozenset({"support@northwind.example"}))


def test_a_message_over_the_size_limit_is_kept_raw_and_quarantined(tmp_path: Path, database_url: str) -> None:
    small = bootstrap.build(make_settings(tmp_path, database_url, extra="[ingest]\nmax_message_bytes = 100_000\n"))
    big = mail(subject="Our logs", body="log line\n" * 20_000)
    try:
        result = small.ingest.ingest_batch(SUPPORT, "INBOX", 1, [FetchedMessage(1, big), FetchedMessage(2, mail())])
        assert (result.stored, result.quarantined) == (1, 1)
        [held] = small.quarantine.list()
        assert held.raw == big  # kept exactly
        assert f"message of {len(big):,} bytes is larger than the limit of 100,000" in held.error
        assert small.quarantine.retry().recovered == 0  # still over this daemon's limit
    finally:
        small.close()
    raised = bootstrap.build(make_settings(tmp_path, database_url, extra="[ingest]\nmax_message_bytes = 1_000_000\n"))
    try:
        assert raised.quarantine.retry().recovered == 1
        assert [t.subject for t in raised.reads.tickets().items if t.subject == "Our logs"] == ["Our logs"]
    finally:
        raised.close()
