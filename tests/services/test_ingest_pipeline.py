"""Batches go through a pipeline (fetch k+1 ‖ parse k ‖ store k-1 on a writer thread), on SQLite and
PostgreSQL. What must hold whatever the overlap: the source hears of a batch only after its commit, in
order, on the thread that owns its connection; a failure stops the sync and a new sync goes on from there,
nothing lost and nothing stored twice."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

import pytest
from sqlalchemy import func, select

from inboxcrm.adapters.db import tables as t
from inboxcrm.bootstrap import App
from inboxcrm.core.model import MailboxKind, MailboxProfile
from inboxcrm.core.ports import FetchedMessage
from tests.support.mail import mail

SUPPORT = MailboxProfile("support", MailboxKind.SUPPORT, frozenset({"support@northwind.example"}))


class Folder:
    """A folder of seven messages that checks, when told a batch is safe, that it is committed."""

    def __init__(self, app: App, fail_on_call: int | None = None) -> None:
        self.app = app
        self.raws = [mail(subject=f"Question {n}", message_id=f"q{n}@acme-corp.example") for n in range(1, 8)]
        self.told: list[list[int]] = []
        self.threads: set[int] = set()
        self.fail_on_call = fail_on_call

    def uidvalidity(self, folder: str) -> int:
        return 7

    def fetch_after(self, folder: str, last_uid: int, batch_size: int) -> Iterator[list[FetchedMessage]]:
        found = [FetchedMessage(uid, raw) for uid, raw in enumerate(self.raws, start=1) if uid > last_uid]
        for start in range(0, len(found), batch_size):
            yield found[start : start + batch_size]

    def after_commit(self, folder: str, uids: Sequence[int]) -> None:
        self.threads.add(threading.get_ident())
        if len(self.told) + 1 == self.fail_on_call:
            raise ConnectionError("the server went away")
        with self.app.engine.connect() as connection:  # another connection sees only what is committed
            placed = connection.execute(
                select(func.count()).select_from(t.message_locations).where(t.message_locations.c.uid.in_(uids))
            ).scalar_one()
        assert placed == len(uids), f"told of {list(uids)} before their commit"
        self.told.append(list(uids))


def stored_subjects(app: App) -> list[str]:
    with app.engine.connect() as connection:
        return sorted(connection.execute(select(t.messages.c.subject)).scalars())


def test_the_source_hears_of_each_batch_after_its_commit_in_order_on_the_callers_thread(app: App) -> None:
    folder = Folder(app)
    progress: list[int] = []
    result = app.ingest.sync_folder(folder, SUPPORT, "INBOX", 2, progress.append, history=True)
    assert (result.fetched, result.stored, result.duplicates) == (7, 7, 0)
    assert folder.told == [[1, 2], [3, 4], [5, 6], [7]]
    assert folder.threads == {threading.get_ident()}
    assert progress == [0, 2, 4, 6, 7]  # also only after each commit
    assert stored_subjects(app) == [f"Question {n}" for n in range(1, 8)]


def test_a_failure_stops_the_sync_and_the_next_one_goes_on_from_there(app: App) -> None:
    folder = Folder(app, fail_on_call=2)
    with pytest.raises(ConnectionError):
        app.ingest.sync_folder(folder, SUPPORT, "INBOX", 2, history=True)
    assert folder.told == [[1, 2]]  # nothing after the failure is told; batch [3, 4] is committed
    folder.fail_on_call = None
    again = app.ingest.sync_folder(folder, SUPPORT, "INBOX", 2, history=True)
    assert folder.told == [[1, 2], [5, 6], [7]]
    assert (again.stored, again.duplicates) == (3, 0)
    assert stored_subjects(app) == [f"Question {n}" for n in range(1, 8)]  # once each, none lost
