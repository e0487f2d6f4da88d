"""Threads stored by the ingest group notmuch's threading corpus exactly as JWZ's trees do."""

from __future__ import annotations

from pathlib import Path

from inboxcrm.adapters.files import EmlFilesSource
from inboxcrm.bootstrap import App
from inboxcrm.core.jwz import thread, walk
from inboxcrm.core.model import MailboxKind, MailboxProfile
from inboxcrm.core.parsing import parse_message
from inboxcrm.core.ports import FetchedMessage

LIST = MailboxProfile("lists", MailboxKind.OTHER, frozenset())


def expected_groups(raws: list[bytes]) -> set[frozenset[str]]:
    messages = [parse_message(raw) for raw in raws]
    groups = set()
    for root in thread(messages):
        ids = {node.message_id for _, node in walk([root]) if node.present}
        groups.add(frozenset(ids))
    return groups


def test_stored_threads_are_the_jwz_groups(app: App, corpora: Path) -> None:
    base = corpora / "notmuch-corpora" / "test" / "corpora" / "threading"
    raws = [p.read_bytes() for p in sorted(base.rglob("*")) if p.is_file()]
    assert len(raws) >= 10
    # one message at a time, in file order: the worst case for incremental threading
    for uid, raw in enumerate(raws, start=1):
        app.ingest.ingest_batch(LIST, "threading", 1, [FetchedMessage(uid, raw)])
    stored = {frozenset(ids) for _, _, ids in app.reads.all_threads()}
    assert stored == expected_groups(raws)
    print(f"\nnotmuch threading corpus: {len(stored)} stored threads = {len(expected_groups(raws))} JWZ trees")


def test_broken_and_duplicate_corpora_thread_without_errors(app: App, corpora: Path) -> None:
    base = corpora / "notmuch-corpora" / "test" / "corpora"
    for name in ("broken", "duplicate"):
        files = [p for p in (base / name).rglob("*") if p.is_file()]
        source = EmlFilesSource(files, str(base / name))
        result = app.ingest.sync_folder(source, LIST, source.folder_name(), 50)
        assert result.fetched == len(files) == result.stored + result.duplicates + result.quarantined
