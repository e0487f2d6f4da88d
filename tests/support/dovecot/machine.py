"""What a private Dovecot needs from this machine: the `dovecot` binary (`dovecot-imapd` is installed with
apt-get when it is missing) and a free TCP port on the loopback address; `DovecotError` when it cannot be
had."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess

HOST = "127.0.0.1"


class DovecotError(RuntimeError):
    """The private Dovecot could not be installed, configured or started."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def dovecot_binary() -> str:
    """Path of the `dovecot` binary, installing `dovecot-imapd` with apt-get when it is missing."""
    found = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/local/sbin:/sbin")
    if found:
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", "dovecot-imapd"]
    outputs: list[str] = []
    for commands in ([install], [["apt-get", "update"], install]):
        ok = True
        for command in commands:
            try:
                done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, check=False)
            except (OSError, subprocess.TimeoutExpired) as exc:
                outputs.append(f"$ {' '.join(command)}\n{exc}")
                ok = False
                break
            outputs.append(f"$ {' '.join(command)} (exit {done.returncode})\n{done.stdout}\n{done.stderr}")
            if done.returncode != 0:
                ok = False
                break
        found = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/local/sbin:/sbin")
        if ok and found:
            return found
    raise DovecotError("dovecot is not installed and `apt-get install dovecot-imapd` failed:\n" + "\n".join(outputs))
