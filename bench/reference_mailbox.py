"""The reference mailbox of bench/reference.py: generated once per (count, seed) by
`../shared/bench/gen_mailbox.py` and cached under var/reference/, then served by a private Dovecot
(tests/support/dovecot/)."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = ROOT.parent / "shared" / "bench" / "gen_mailbox.py"


def reference_maildir(count: int, seed: int) -> Path:
    """The generated Maildir for (count, seed), made once and cached under var/reference/."""
    target = ROOT / "var" / "reference" / f"seed{seed}-{count}"
    done = target / ".complete"
    if not done.exists():
        shutil.rmtree(target, ignore_errors=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        print(f"generating the mailbox (seed {seed}, {count} messages) into {target} …", flush=True)
        subprocess.run(
            [sys.executable, str(GENERATOR), str(target), "--count", str(count), "--seed", str(seed)], check=True
        )
        done.write_text("ok\n")
    return target


def serve(maildir: Path, work: Path, empty: bool = False) -> object:
    """A private Dovecot whose INBOX holds the Maildir's messages (hard links when possible); `empty`: none
    yet (`deliver` puts them there later)."""
    from tests.support.dovecot import start_dovecot

    server = start_dovecot(work / "dovecot")
    for sub in ("cur", "new", "tmp"):
        (server.maildir / sub).mkdir(parents=True, exist_ok=True)
    _give_to_dovecot(server.maildir)
    if not empty:
        deliver(server, maildir)
    return server


def _give_to_dovecot(inbox: Path) -> None:
    if os.geteuid() == 0:  # the test Dovecot runs as nobody
        nobody = pwd.getpwnam("nobody")
        for path in [inbox, *inbox.rglob("*")]:
            os.chown(path, nobody.pw_uid, nobody.pw_gid)


def deliver(server: object, maildir: Path) -> None:
    """The Maildir's messages into the server's INBOX, indexed by Dovecot before anything is timed."""
    inbox = server.maildir
    for file in sorted((maildir / "cur").iterdir()):
        try:
            os.link(file, inbox / "cur" / file.name)
        except OSError:
            shutil.copy2(file, inbox / "cur" / file.name)
    _give_to_dovecot(inbox)
    with server.client() as client:
        client.select_folder("INBOX", readonly=True)
