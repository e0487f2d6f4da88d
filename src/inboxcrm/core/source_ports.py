"""What the services need from a mail source (an IMAP folder, a Maildir, an mbox file, .eml files), as
Protocols the adapters satisfy structurally; `core.ports` re-exports them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class FetchedMessage:
    """One message as a source hands it over: its UID in the folder and its exact bytes. File sources
    name it instead (`name`: a Maildir unique name, an mbox offset and hash, a file name); the ingest then
    numbers it."""

    uid: int
    raw: bytes
    name: str | None = None


@dataclass(frozen=True, slots=True)
class FolderSnapshot:
    """A folder as it is now: how many messages it holds and the highest UID among them (an upper bound such
    as UIDNEXT - 1 is fine: no message can later get a UID at or below it)."""

    messages: int
    last_uid: int


class MailSource(Protocol):
    """A folder of messages addressed by (UIDVALIDITY, UID), such as an IMAP folder or a Maildir."""

    def uidvalidity(self, folder: str) -> int: ...
    def snapshot(self, folder: str) -> FolderSnapshot: ...
    def fetch_after(self, folder: str, last_uid: int, batch_size: int) -> Iterator[list[FetchedMessage]]: ...
    def after_commit(self, folder: str, uids: Sequence[int]) -> None: ...


@runtime_checkable
class NamedMailSource(Protocol):
    """A folder whose messages have stable names instead of increasing UIDs (Maildir, mbox, .eml files).

    Every message whose name is not stored yet is read, whatever order the names sort in: a file that
    sorts before others, a deleted one or two delivered in the same second never shift anything.
    """

    def uidvalidity(self, folder: str) -> int: ...
    def snapshot(self, folder: str) -> FolderSnapshot: ...
    def names(self, folder: str) -> list[str]: ...
    def fetch_named(self, folder: str, names: Sequence[str], batch_size: int) -> Iterator[list[FetchedMessage]]: ...
    def after_commit(self, folder: str, uids: Sequence[int]) -> None: ...
