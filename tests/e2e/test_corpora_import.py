"""Every mbox and .eml file in ../shared/corpora imports without a crash, and nothing is lost."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from inboxcrm.adapters.db import tables as t
from inboxcrm.adapters.files import discover
from inboxcrm.bootstrap import App
from inboxcrm.core.fingerprint import content_hash
from inboxcrm.core.model import MailboxKind, MailboxProfile
from inboxcrm.services.ingest import IngestResult

SUPPORT = MailboxProfile("support", MailboxKind.SUPPORT, frozenset({"support@northwind.example"}))


def import_all(app: App, corpora: Path) -> tuple[IngestResult, set[str]]:
    total = IngestResult()
    hashes: set[str] = set()
    for source in discover(corpora):
        for batch in source.fetch_named(source.folder_name(), source.names(source.folder_name()), 10_000):
            hashes.update(content_hash(m.raw) for m in batch)
        total.add(app.ingest.sync_folder(source, SUPPORT, source.folder_name(), 200))
    return total, hashes


def test_every_corpus_message_is_stored_or_quarantined(app: App, corpora: Path) -> None:
    first, distinct = import_all(app, corpora)
    print(
        f"\ncorpora import ({app.engine.dialect.name}): {first.fetched} messages read, {first.stored} stored, "
        f"{first.duplicates} identical copies linked, {first.quarantined} quarantined"
    )
    assert first.fetched > 500
    assert first.fetched == first.stored + first.duplicates + first.quarantined
    # only byte-for-byte identical content (less delivery headers) is folded together
    assert first.stored + first.quarantined == len(distinct)
    with app.engine.connect() as connection:
        raws = connection.execute(select(func.count()).select_from(t.raw_messages)).scalar_one()
        held = connection.execute(select(func.count()).select_from(t.quarantine)).scalar_one()
    assert raws == len(distinct)
    assert held == first.quarantined
    assert first.quarantined <= 5, first.errors  # only files that are not mail at all

    again, _ = import_all(app, corpora)
    assert (again.fetched, again.stored) == (0, 0)
