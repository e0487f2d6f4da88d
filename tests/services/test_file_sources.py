"""Maildir and mbox folders polled or imported through the real ingest (SQLite and PostgreSQL): every
message is stored exactly once, whatever order the file names sort in, after deletions, moves to cur/,
same-second deliveries and rewritten mbox files."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from sqlalchemy import select

from inboxcrm.adapters.db import tables as t
from inboxcrm.adapters.files import MaildirSource, MboxSource
from inboxcrm.bootstrap import App
from inboxcrm.core.history import Backlog
from inboxcrm.core.model import MailboxKind, MailboxProfile
from inboxcrm.services.privacy import Privacy
from tests.support.mail import mail

SUPPORT = MailboxProfile("support", MailboxKind.SUPPORT, frozenset({"support@northwind.example"}))


def stored_ids(app: App) -> Counter[str]:
    with app.engine.connect() as connection:
        return Counter(connection.execute(select(t.messages.c.message_id)).scalars())


def deliver(maildir: Path, name: str) -> None:
    """What an MTA does: write to tmp/, then rename into new/ (the subject is the file's name)."""
    (maildir / "tmp" / name).write_bytes(mail(message_id=f"{name}@acme-corp.example", subject=name))
    (maildir / "tmp" / name).rename(maildir / "new" / name)


def test_every_maildir_message_is_stored_once_whatever_its_name(app: App, tmp_path: Path) -> None:
    maildir = tmp_path / "md"
    for sub in ("tmp", "new", "cur"):
        (maildir / sub).mkdir(parents=True)
    first = ["1700000095.M99999P1.mx", "1700000100.M1P1.mx", "1700000200.M1P1.mx"]
    for name in first:
        deliver(maildir, name)
    source = MaildirSource(maildir)
    result = app.ingest.sync_folder(source, SUPPORT, "maildir", 2)
    assert (result.fetched, result.stored) == (3, 3)

    later = [
        "1700000095.M100000P1.mx",  # the same second: sorts before …M99999P1
        "0900000000.M1P1.mx",  # an old message restored from a backup: sorts before everything
        "nonumber.mx",  # no leading number at all
        "1700000300.M1P1.mx",
    ]
    for name in later:
        deliver(maildir, name)
    (maildir / "new" / "1700000100.M1P1.mx").unlink()  # read and deleted in a mail client
    (maildir / "new" / "1700000200.M1P1.mx").rename(maildir / "cur" / "1700000200.M1P1.mx:2,S")  # read: cur/
    result = app.ingest.sync_folder(source, SUPPORT, "maildir", 2)
    assert (result.fetched, result.stored, result.duplicates) == (4, 4, 0)
    assert stored_ids(app) == Counter(f"{name}@acme-corp.example" for name in first + later)

    again = app.ingest.sync_folder(MaildirSource(maildir), SUPPORT, "maildir", 2)
    assert again.fetched == 0
    with app.engine.connect() as connection:
        places = connection.execute(select(t.message_locations.c.name, t.message_locations.c.uid)).all()
    assert sorted(name for name, _ in places) == sorted(first + later)
    assert sorted(uid for _, uid in places) == list(range(1, 8))  # numbered in the order they were stored


def test_an_mbox_import_resumes_after_the_file_was_rewritten(app: App, tmp_path: Path) -> None:
    messages = [mail(message_id=f"m{i}@acme-corp.example", subject=f"Order {i}") for i in range(8)]
    path = tmp_path / "archive.mbox"

    def write(*indexes: int) -> None:
        separator = b"From carol@acme-corp.example Mon Nov  2 10:00:00 2026\n"
        path.write_bytes(b"".join(separator + messages[i] + b"\n" for i in indexes))

    write(0, 1, 2, 3, 4)
    assert app.ingest.sync_folder(MboxSource(path), SUPPORT, "archive", 2).stored == 5
    write(0, 2, 3, 4, 5, 6, 7)  # a mail client compacted the file (1 deleted), then three arrived
    result = app.ingest.sync_folder(MboxSource(path), SUPPORT, "archive", 2)
    assert result.stored == 3
    assert stored_ids(app) == Counter(f"m{i}@acme-corp.example" for i in range(8))
    assert app.ingest.sync_folder(MboxSource(path), SUPPORT, "archive", 2).fetched == 0


def test_a_maildir_connected_with_history_reads_what_was_there_as_history_and_new_files_as_live(
    app: App, tmp_path: Path
) -> None:
    maildir = tmp_path / "md"
    for sub in ("tmp", "new", "cur"):
        (maildir / sub).mkdir(parents=True)
    for name in ["1700000300.M1P1.mx", "1700000100.M1P1.mx", "1700000200.M1P1.mx"]:
        deliver(maildir, name)
    first = app.ingest.sync_folder(MaildirSource(maildir), SUPPORT, "maildir", 2)
    assert (first.stored, first.history) == (3, 3)
    deliver(maildir, "0900000000.M1P1.mx")  # arrives after the connection, though it sorts first
    later = app.ingest.sync_folder(MaildirSource(maildir), SUPPORT, "maildir", 2)
    assert (later.stored, later.history) == (1, 0)


def test_a_maildir_connected_with_backlog_none_never_reads_the_old_files_later_as_live(
    app: App, tmp_path: Path
) -> None:
    maildir = tmp_path / "md"
    for sub in ("tmp", "new", "cur"):
        (maildir / sub).mkdir(parents=True)
    for name in ["1700000100.M1P1.mx", "1700000200.M1P1.mx"]:
        deliver(maildir, name)
    none = Backlog.parse("none")
    first = app.ingest.sync_folder(MaildirSource(maildir), SUPPORT, "maildir", 2, backlog=none)
    assert (first.stored, first.too_old) == (0, 2)
    deliver(maildir, "1700000300.M1P1.mx")
    later = app.ingest.sync_folder(MaildirSource(maildir), SUPPORT, "maildir", 2, backlog=none)
    assert (later.fetched, later.stored, later.history) == (1, 1, 0)  # only the new one, and it is live
    assert stored_ids(app) == Counter(["1700000300.M1P1.mx@acme-corp.example"])


def test_an_erased_contacts_maildir_messages_are_not_read_in_again(app: App, tmp_path: Path) -> None:
    maildir = tmp_path / "md"
    for sub in ("tmp", "new", "cur"):
        (maildir / sub).mkdir(parents=True)
    deliver(maildir, "1700000100.M1P1.mx")
    assert app.ingest.sync_folder(MaildirSource(maildir), SUPPORT, "maildir", 2).stored == 1
    with app.engine.connect() as connection:
        contact_id = connection.execute(select(t.contacts.c.id)).scalar_one()
    Privacy(app.store, b"secret", app.clock).erase(contact_id, "test")
    again = app.ingest.sync_folder(MaildirSource(maildir), SUPPORT, "maildir", 2)
    assert (again.fetched, again.stored) == (0, 0)
    assert stored_ids(app) == Counter()
