"""Parsing in worker processes gives exactly what parsing in the daemon gives."""

from __future__ import annotations

from inboxcrm.core.reading import read_many
from inboxcrm.services.reading import Reader
from tests.support.mail import mail


def test_pool_and_inline_readings_are_identical() -> None:
    raws = [mail(message_id=f"p{i}@x.example", subject=f"Ticket {i}") for i in range(9)] + [b"\x00junk"]
    reader = Reader(workers=2, min_batch=1)
    try:
        pooled = reader.submit(raws)()
        assert reader._pool is not None  # the pool really ran
    finally:
        reader.close()
    assert pooled == read_many(raws)
    assert [r.problem is not None for r in pooled] == [False] * 9 + [True]


def test_small_batches_stay_in_process() -> None:
    reader = Reader(workers=2, min_batch=64)
    assert [r.message.subject for r in reader.submit([mail(subject="one")])() if r.message] == ["one"]
    assert reader._pool is None
