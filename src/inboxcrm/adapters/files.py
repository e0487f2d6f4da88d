"""Maildir and mbox mail sources: the demo mailbox and backfill imports.

They look like an IMAP folder to the ingest service: UIDVALIDITY is fixed and a message's UID is its
1-based position (mbox: file order; Maildir: delivery order, by the timestamp that starts each file name).
A Maildir is expected to grow by delivery, which appends; re-importing is harmless either way, because
content hashes stop duplicates.
"""

from __future__ import annotations

import mailbox
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

from inboxcrm.core.ports import FetchedMessage, FolderSnapshot

FILE_UIDVALIDITY = 1
K = TypeVar("K")
_LEADING_NUMBER = re.compile(r"^(\d+)")


def _maildir_order(key: str) -> tuple[int, str]:
    match = _LEADING_NUMBER.match(key)
    return (int(match.group(1)) if match else 0, key)


def _batches(
    keys: Sequence[K], read: Callable[[K], bytes], last_uid: int, batch_size: int
) -> Iterator[list[FetchedMessage]]:
    """Messages after position `last_uid` (1-based), `batch_size` at a time."""
    batch: list[FetchedMessage] = []
    for uid, key in enumerate(keys, start=1):
        if uid <= last_uid:
            continue
        try:
            raw = read(key)
        except (KeyError, FileNotFoundError):  # taken away since listing: not ours to lose
            continue
        batch.append(FetchedMessage(uid, raw))
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def is_maildir(path: Path) -> bool:
    return path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir()


class MaildirSource:
    """A Maildir folder. Messages are read, never moved or flagged."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._box = mailbox.Maildir(str(path), factory=None, create=False)

    def folder_name(self) -> str:
        return str(self.path.resolve())

    def _keys(self) -> list[str]:
        # Message names never start with "." (the Maildir spec); dotfiles such as .gitkeep are not mail.
        keys = self._box.keys()  # iterating a Mailbox yields messages, not keys
        return sorted((k for k in keys if not k.startswith(".")), key=_maildir_order)

    def count(self) -> int:
        return len(self._keys())

    def uidvalidity(self, folder: str) -> int:
        return FILE_UIDVALIDITY

    def snapshot(self, folder: str) -> FolderSnapshot:
        return FolderSnapshot(self.count(), self.count())  # UIDs are positions

    def fetch_after(self, folder: str, last_uid: int, batch_size: int) -> Iterator[list[FetchedMessage]]:
        return _batches(self._keys(), self._box.get_bytes, last_uid, batch_size)

    def after_commit(self, folder: str, uids: Sequence[int]) -> None:
        """Files are left as they are."""


class MboxSource:
    """An mbox file, read in file order."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._box = mailbox.mbox(str(path), factory=None, create=False)

    def folder_name(self) -> str:
        return str(self.path.resolve())

    def count(self) -> int:
        return len(self._box)

    def uidvalidity(self, folder: str) -> int:
        return FILE_UIDVALIDITY

    def snapshot(self, folder: str) -> FolderSnapshot:
        return FolderSnapshot(self.count(), self.count())  # UIDs are positions

    def fetch_after(self, folder: str, last_uid: int, batch_size: int) -> Iterator[list[FetchedMessage]]:
        return _batches(self._box.keys(), self._box.get_bytes, last_uid, batch_size)

    def after_commit(self, folder: str, uids: Sequence[int]) -> None:
        """The file is left as it is."""


class EmlFilesSource:
    """Loose .eml files (a folder of them, or one file), in name order."""

    def __init__(self, paths: Sequence[Path], name: str) -> None:
        self.paths = sorted(paths)
        self.name = name

    def folder_name(self) -> str:
        return self.name

    def count(self) -> int:
        return len(self.paths)

    def uidvalidity(self, folder: str) -> int:
        return FILE_UIDVALIDITY

    def snapshot(self, folder: str) -> FolderSnapshot:
        return FolderSnapshot(self.count(), self.count())  # UIDs are positions

    def fetch_after(self, folder: str, last_uid: int, batch_size: int) -> Iterator[list[FetchedMessage]]:
        return _batches(self.paths, Path.read_bytes, last_uid, batch_size)

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
