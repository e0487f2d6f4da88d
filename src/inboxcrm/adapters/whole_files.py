"""Files written whole or not at all: a temporary dot file beside the target, fsynced, renamed over it, and
the folder fsynced so the rename survives a crash too. Used by the file outbox and the token store."""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)


def write_whole(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write `data` to `path` so that a reader (or a crash) sees the old file or the new one, never a part.
    `mode` (e.g. 0o600) is set before anything is written. The temporary file is a dot file ending in .tmp,
    so nothing that reads the folder takes it for the real thing."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if mode is not None:
            os.fchmod(handle, mode)
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:  # some platforms cannot open a directory; the file itself is already synced
        return
    try:
        os.fsync(handle)
    except OSError:
        log.debug("fsync of %s failed", directory, exc_info=True)
    finally:
        os.close(handle)
