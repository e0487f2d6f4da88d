"""Maildir, mbox and .eml sources: stable names, mbox splitting and unescaping, and discovery."""

from __future__ import annotations

import mailbox
from pathlib import Path

from inboxcrm.adapters.files import EmlFilesSource, MaildirSource, MboxSource, discover
from tests.support.mail import mail


def test_maildir_names_are_the_unique_names_in_delivery_order(tmp_path: Path) -> None:
    box = mailbox.Maildir(str(tmp_path / "md"), create=True)
    for stamp, subject in ((1700000300, "third"), (1700000100, "first"), (1700000200, "second")):
        key = box.add(mail(subject=subject))
        (tmp_path / "md" / "new" / key).rename(tmp_path / "md" / "new" / f"{stamp}.{key}")
    (tmp_path / "md" / "cur" / ".gitkeep").write_text("")  # how git keeps an empty folder: not a message
    first = next(p for p in (tmp_path / "md" / "new").iterdir() if p.name.startswith("1700000100"))
    first.rename(tmp_path / "md" / "cur" / f"{first.name}:2,S")  # read in a mail client: flags, moved to cur/
    source = MaildirSource(tmp_path / "md")
    names = source.names("f")
    assert [n.split(".")[0] for n in names] == ["1700000100", "1700000200", "1700000300"]
    assert names[0] == first.name  # the flags are not part of the name
    batches = list(source.fetch_named("f", names, 2))
    assert [[m.name for m in b] for b in batches] == [names[:2], names[2:]]
    assert [b"first" in m.raw for m in batches[0]] == [True, False]


def test_a_maildir_file_gone_since_listing_is_left_out(tmp_path: Path) -> None:
    box = mailbox.Maildir(str(tmp_path / "md"), create=True)
    keys = [box.add(mail(subject=s)) for s in ("one", "two")]
    source = MaildirSource(tmp_path / "md")
    names = source.names("f")
    (tmp_path / "md" / "new" / keys[0]).unlink()
    assert [m.name for b in source.fetch_named("f", names, 10) for m in b] == [keys[1]]


def test_a_maildir_file_read_in_a_mail_client_since_listing_is_still_read(tmp_path: Path) -> None:
    box = mailbox.Maildir(str(tmp_path / "md"), create=True)
    keys = [box.add(mail(subject=s)) for s in ("one", "two")]
    source = MaildirSource(tmp_path / "md")
    names = source.names("f")
    # a mail client opens the first one meanwhile: flags added, moved from new/ to cur/
    (tmp_path / "md" / "new" / keys[0]).rename(tmp_path / "md" / "cur" / f"{keys[0]}:2,S")
    read = [m for b in source.fetch_named("f", names, 10) for m in b]
    assert [m.name for m in read] == names and b"one" in read[names.index(keys[0])].raw


def _mbox(path: Path, *messages: bytes) -> None:
    path.write_bytes(b"".join(b"From carol@acme-corp.example Mon Nov  2 10:00:00 2026\n" + m + b"\n" for m in messages))


def test_mbox_body_lines_starting_with_from_do_not_split_a_message(tmp_path: Path) -> None:
    letter = mail(body="Dear team,\n\nFrom the desk of Carol:\nall fine.\n\nFrom here on, we use mboxo.\n")
    second = mail(subject="second")
    _mbox(tmp_path / "a.mbox", letter, second)
    source = MboxSource(tmp_path / "a.mbox")
    assert [m.raw for b in source.fetch_named("f", source.names("f"), 10) for m in b] == [letter, second]


def test_mboxrd_quoted_from_lines_lose_one_quote(tmp_path: Path) -> None:
    original = mail(body="Hi,\n\nFrom now on: yes.\n>From a quote.\n")
    escaped = original.replace(b"\r\nFrom now", b"\r\n>From now").replace(b"\r\n>From a", b"\r\n>>From a")
    _mbox(tmp_path / "rd.mbox", escaped)
    source = MboxSource(tmp_path / "rd.mbox")
    [[message]] = list(source.fetch_named("f", source.names("f"), 10))
    assert message.raw == original


def test_mbox_names_follow_offsets_and_content(tmp_path: Path) -> None:
    one, two, three = (mail(subject=s, message_id=f"{s}@x.example") for s in ("one", "two", "three"))
    _mbox(tmp_path / "a.mbox", one, two, three)
    before = MboxSource(tmp_path / "a.mbox").names("f")
    _mbox(tmp_path / "a.mbox", one, three)  # a mail client compacted the file: "two" was deleted
    after = MboxSource(tmp_path / "a.mbox").names("f")
    assert after[0] == before[0] and after[1] not in before  # "three" moved: named afresh, read again
    assert len(set(before)) == 3


def test_a_mbox_in_stdlib_format_reads_like_the_stdlib(tmp_path: Path) -> None:
    box = mailbox.mbox(str(tmp_path / "a.mbox"))
    for subject in ("one", "two", "three"):
        box.add(mail(subject=subject))
    box.flush()
    source = MboxSource(tmp_path / "a.mbox")
    got = [m.raw for b in source.fetch_named("f", source.names("f"), 10) for m in b]
    assert got == [mailbox.mbox(str(tmp_path / "a.mbox")).get_bytes(key) for key in range(3)]


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
    assert discover(tmp_path / "a.eml")[0].names("f") == ["a.eml"]
