"""Maildir, mbox and .eml sources: order, positions as UIDs, and discovery."""

from __future__ import annotations

import mailbox
from pathlib import Path

from inboxcrm.adapters.files import EmlFilesSource, MaildirSource, MboxSource, discover
from tests.support.mail import mail


def test_maildir_in_delivery_order_from_a_position(tmp_path: Path) -> None:
    box = mailbox.Maildir(str(tmp_path / "md"), create=True)
    for stamp, subject in ((1700000300, "third"), (1700000100, "first"), (1700000200, "second")):
        key = box.add(mail(subject=subject))
        (tmp_path / "md" / "new" / key).rename(tmp_path / "md" / "new" / f"{stamp}.{key}")
    (tmp_path / "md" / "cur" / ".gitkeep").write_text("")  # how git keeps an empty folder: not a message
    source = MaildirSource(tmp_path / "md")
    assert source.count() == 3
    batches = list(source.fetch_after("f", 0, 2))
    assert [[m.uid for m in b] for b in batches] == [[1, 2], [3]]
    assert [b"first" in m.raw for m in batches[0]] == [True, False]
    assert [m.uid for b in source.fetch_after("f", 2, 10) for m in b] == [3]


def test_mbox_keeps_file_order(tmp_path: Path) -> None:
    box = mailbox.mbox(str(tmp_path / "a.mbox"))
    for subject in ("one", "two", "three"):
        box.add(mail(subject=subject))
    box.flush()
    source = MboxSource(tmp_path / "a.mbox")
    got = [m for b in source.fetch_after("f", 1, 10) for m in b]
    assert [(m.uid, b"Subject: " + s in m.raw) for m, s in zip(got, (b"two", b"three"), strict=True)] == [
        (2, True),
        (3, True),
    ]


def test_discover_finds_every_kind_of_source(tmp_path: Path) -> None:
    (tmp_path / "a.eml").write_bytes(mail())
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.eml").write_bytes(mail())
    (tmp_path / "list.mbox").write_bytes(b"From x@y Mon Nov  2 10:00:00 2026\n" + mail())
    (tmp_path / "notes.txt").write_text("not mail")
    mailbox.Maildir(str(tmp_path / "md"), create=True).add(mail())
    kinds = sorted(type(s).__name__ for s in discover(tmp_path))
    assert kinds == ["EmlFilesSource", "EmlFilesSource", "MaildirSource", "MboxSource"]
    assert isinstance(discover(tmp_path / "a.eml")[0], EmlFilesSource)
