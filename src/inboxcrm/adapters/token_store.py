"""Where `inboxcrm auth` keeps what a mailbox needs to get access tokens later: a refresh token in a file.

The file is JSON, written whole or not at all (temporary file, fsync, rename) with mode 0600 in a folder
of mode 0700, like an SSH key: only the user the daemon runs as can read it. A file that others can read
is refused, as ssh refuses such a key. A provider that hands out a new refresh token with each refresh
(Microsoft does) has it written back here, so the daemon keeps working after the old one expires.
"""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from inboxcrm.adapters.whole_files import write_whole
from inboxcrm.core.alerts import TokenRefused


def save(path: Path, refresh_token: str, **about: str) -> None:
    """Store `refresh_token` (and what it is for) at `path`, readable by this user only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    body = {"refresh_token": refresh_token, "saved_at": datetime.now(UTC).isoformat(), **about}
    write_whole(path, json.dumps(body, indent=2).encode("utf-8"), mode=0o600)


def load(path: Path) -> dict[str, Any]:
    """What `save` stored; raises TokenRefused when there is none, or when others may read it."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise TokenRefused(f"no token at {path}: run `inboxcrm auth` for this mailbox once to sign in") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise TokenRefused(f"{path} can be read by other users (mode {stat.S_IMODE(mode):o}): chmod 600 it")
    try:
        body: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TokenRefused(f"cannot read the token at {path}: {exc}") from None
    if not isinstance(body.get("refresh_token"), str):
        raise TokenRefused(f"{path} holds no refresh_token: run `inboxcrm auth` again")
    return body
