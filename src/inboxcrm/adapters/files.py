"""Maildir, mbox and .eml mail sources: the demo mailbox and backfill imports.

Every message has a stable name, and the ingest reads each one whose name it has not stored yet (see
`core.ports.NamedMailSource`), so nothing is skipped whatever order names sort in:
- Maildir: the message's unique name, the part of the file name before `:2,` (flags and the move from
  new/ to cur/ change the rest, never that);
- mbox: the offset of its `From ` line plus a hash of its bytes (see adapters/mbox.py): a rewritten file
  is named afresh, and content hashes stop duplicates;
- .eml files: the file name.
"""

from __future__ import annotations

import mailbox
import os
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from inboxcrm.adapters import mbox
from inboxcrm.core.ports import FetchedMessage, FolderSnapshot

FILE_UIDVALIDITY = 1
_LEADING_NUMBER = re.compile(r"^(\d+)")


def _maildir_order(key: str) -> tuple[int, str]:
    # Delivery order, roughly (names start with the delivery time); it only decides what is read first.
    match = _LEADING_NUMBER.match(key)
    return (int(match.group(1)) if match else 0, key)


def _batches(names: Sequence[str], read: Callable[[str], bytes], batch_size: int) -> Iterator[list[FetchedMessage]]:
    """The messages called `names`, `batch_size` at a time (the ingest numbers them)."""
    batch: list[FetchedMessage] = []
    for name in names:
        try:
            raw = read(name)
        except (KeyError, FileNotFoundError):  # taken away since listing: not ours to lose
            continue
        batch.append(FetchedMessage(0, raw, name))
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def _snapshot(count: int) -> FolderSnapshot:
    # The ingest numbers the names it has not stored yet after the folder's cursor, from 1 on a first
    # connection: the `count` messages there now get UIDs up to `count` (history), later ones above it.
    return FolderSnapshot(count, count)


def is_maildir(path: Path) -> bool:
    return path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir()


class MaildirSource:
    """A Maildir folder. Messages are read, never moved or flagged."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.exists():  # as the stdlib's Maildir: a folder without new/ or cur/ fails when listed
            raise mailbox.NoSuchMailboxError(str(path))
        # unique name → (new/ or cur/, the rest of the file name). The few distinct pairs are shared, so a
        # listing of 100,000 messages costs a dictionary, not 100,000 more paths (the stdlib's Maildir keeps
        # a path per message).
        self._files: dict[str, tuple[str, str]] = {}

    def _list(self) -> None:
        files: dict[str, tuple[str, str]] = {}
        shared: dict[tuple[str, str], tuple[str, str]] = {}
        for sub in ("new", "cur"):  # a name in both (moved while listing) is taken from cur/, as the stdlib does
            with os.scandir(self.path / sub) as entries:
                for entry in entries:
                    if entry.is_dir():
                        continue
                    name, colon, info = entry.name.partition(":")
                    where = (sub, colon + info)
                    files[name] = shared.setdefault(where, where)
        self._files = files

    def _read(self, name: str) -> bytes:
        for attempt in (1, 2):
            where = self._files.get(name)
            if where is not None:
                try:
                    return (self.path / where[0] / (name + where[1])).read_bytes()
                except FileNotFoundError:
                    pass
            if attempt == 1:
                self._list()  # moved to cur/ or flagged since the listing: look again, once
        raise KeyError(name)

    def folder_name(self) -> str:
        return str(self.path.resolve())

    def names(self, folder: str = "") -> list[str]:
        # The unique names (the part before ":"), in new/ and cur/ alike. Message names never start with "."
        # (the Maildir spec); dotfiles such as .gitkeep are not mail.
        self._list()
        return sorted((k for k in self._files if not k.startswith(".")), key=_maildir_order)

    def count(self) -> int:
        return len(self.names())

    def uidvalidity(self, folder: str) -> int:
        return FILE_UIDVALIDITY

    def snapshot(self, folder: str) -> FolderSnapshot:
        return _snapshot(len(self.names(folder)))

    def fetch_named(self, folder: str, names: Sequence[str], batch_size: int) -> Iterator[list[FetchedMessage]]:
        return _batches(names, self._read, batch_size)

    def after_commit(self, folder: str, uids: Sequence[int]) -> None:
        """Files are left as they are."""


class MboxSource:
    """An mbox file, read in file order."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries: dict[str, mbox.MboxEntry] = {}

    def folder_name(self) -> str:
        return str(self.path.resolve())

    def names(self, folder: str = "") -> list[str]:
        entries = mbox.scan(self.path)
        self._entries = {entry.name: entry for entry in entries}
        return [entry.name for entry in entries]

    def count(self) -> int:
        return len(self.names())

    def uidvalidity(self, folder: str) -> int:
        return FILE_UIDVALIDITY

    def snapshot(self, folder: str) -> FolderSnapshot:
        return _snapshot(len(self.names(folder)))

    def fetch_named(self, folder: str, names: Sequence[str], batch_size: int) -> Iterator[list[FetchedMessage]]:
        if any(name not in self._entries for name in names):
            self.names()
        wanted = [self._entries[name] for name in names if name in self._entries]
        batch: list[FetchedMessage] = []
        for entry, raw in mbox.read(self.path, wanted):
            batch.append(FetchedMessage(0, raw, entry.name))
            if len(batch) >= batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def after_commit(self, folder: str, uids: Sequence[int]) -> None:
        """The file is left as it is."""


class EmlFilesSource:
    """Loose .eml files (a folder of them, or one file), in name order."""

    def __init__(self, paths: Sequence[Path], name: str) -> None:
        self.paths = {path.name: path for path in sorted(paths)}
        self.name = name

    def folder_name(self) -> str:
        return self.name

    def names(self, folder: str = "") -> list[str]:
        return list(self.paths)

    def count(self) -> int:
        return len(self.paths)

    def uidvalidity(self, folder: str) -> int:
        return FILE_UIDVALIDITY

    def snapshot(self, folder: str) -> FolderSnapshot:
        return _snapshot(len(self.names(folder)))

    def fetch_named(self, folder: str, names: Sequence[str], batch_size: int) -> Iterator[list[FetchedMessage]]:
        return _batches(names, lambda name: self.paths[name].read_bytes(), batch_size)

    def after_commit(self, folder: str, uids: Sequence[int]) -> None:
        """Files are left as they are."""


FileSource = MaildirSource | MboxSource | EmlFilesSource


def _looks_like_mbox(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(5) == b"From "
    except OSError:
        return False


def discover(path: Path) -> list[FileSource]:
    """Every source under `path`: Maildirs, mbox files (by their leading "From " line) and .eml files.

    A single file is an .eml message when it ends in .eml, otherwise an mbox file.
    """
    if is_maildir(path):
        return [MaildirSource(path)]
    if path.is_file():
        if path.suffix.lower() == ".eml":
            return [EmlFilesSource([path], str(path.resolve()))]
        return [MboxSource(path)]
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such Maildir, mbox file, .eml file or folder")
    sources: list[FileSource] = []
    emls: list[Path] = []
    for child in sorted(path.iterdir()):
        if child.is_dir():
            sources.extend(discover(child))
        elif child.suffix.lower() == ".eml":
            emls.append(child)
        elif _looks_like_mbox(child):
            sources.append(MboxSource(child))
    if emls:
        sources.insert(0, EmlFilesSource(emls, str(path.resolve())))
    return sources


def read_rule_files(directory: Path) -> list[tuple[str, str]]:
    """(path, text) of every `*.toml` under `directory`, in name order; an absent folder has no rules."""
    if not directory.is_dir():
        return []
    return [(str(p), p.read_text(encoding="utf-8")) for p in sorted(directory.glob("*.toml")) if p.is_file()]
