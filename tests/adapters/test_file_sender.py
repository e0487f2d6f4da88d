"""FileSender: each envelope written to `<key>.eml` on disk, atomically, with the exact bytes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from inboxcrm.adapters.smtp import FileSender, Outcome, Sender
from tests.adapters.smtp_support import FAIL_ON_LEAKS, envelope, message, outcomes, send

pytestmark = FAIL_ON_LEAKS


def test_file_sender_writes_the_exact_bytes(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    sender: Sender = FileSender(outbox)
    raws = [message(0), b"Subject: x\r\n\r\n.dot\r\nZo\xc3\xab\r\n"]
    results = send(sender, envelope("m1", raws[0]), envelope("m2", raws[1]))

    assert outcomes(results) == [Outcome.SENT, Outcome.SENT]
    assert (outbox / "m1.eml").read_bytes() == raws[0]
    assert (outbox / "m2.eml").read_bytes() == raws[1]
    assert sorted(os.listdir(outbox)) == ["m1.eml", "m2.eml"]  # no temporary files left behind


def test_file_sender_replaces_the_same_key(tmp_path: Path) -> None:
    sender = FileSender(tmp_path)
    send(sender, envelope("m1", b"first\r\n"))
    [result] = send(sender, envelope("m1", b"second\r\n"))

    assert result.outcome is Outcome.SENT
    assert (tmp_path / "m1.eml").read_bytes() == b"second\r\n"
    assert os.listdir(tmp_path) == ["m1.eml"]


def test_file_sender_never_leaves_half_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sender = FileSender(tmp_path)
    send(sender, envelope("m1", b"first\r\n"))

    def full_disk(source: str, target: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)  # (the one FileSender uses: for this test only)
    [result] = send(sender, envelope("m1", b"second, never complete\r\n"))

    assert result.outcome is Outcome.RETRY
    assert "No space left on device" in result.detail
    assert (tmp_path / "m1.eml").read_bytes() == b"first\r\n"
    assert os.listdir(tmp_path) == ["m1.eml"]


def test_file_sender_refuses_keys_that_are_not_file_names(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    results = send(FileSender(outbox), envelope("../escape"), envelope(".hidden"), envelope("ok-1"))

    assert outcomes(results) == [Outcome.FAILED, Outcome.FAILED, Outcome.SENT]
    assert os.listdir(outbox) == ["ok-1.eml"]
    assert sorted(os.listdir(tmp_path)) == ["outbox"]
