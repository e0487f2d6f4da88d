"""One private Dovecot (`Dovecot`): its files, starting and stopping it (it keeps its port, config and mail
across restarts), and IMAP helpers to fill and read its mail; `start_dovecot` on free loopback ports, and
`dovecot_server`, the session fixture (one server per xdist worker). Servers still running when the
interpreter exits are stopped."""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from imapclient import IMAPClient

from tests.support.dovecot.config import write_config
from tests.support.dovecot.machine import HOST, DovecotError, dovecot_binary, free_port

START_TIMEOUT = 20.0
STOP_TIMEOUT = 20.0

_running: set[Dovecot] = set()


def _kill_group(pgid: int) -> None:
    """SIGKILL what is left of a stopped server's process group (only that server's processes)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


@dataclass(eq=False)
class Dovecot:
    """One private Dovecot: `start()`/`stop()` keep the same port, config and mail."""

    root: Path
    port: int
    user: str = "inboxcrm"
    password: str = field(default_factory=lambda: secrets.token_hex(12))
    host: str = HOST
    tls_port: int | None = None  # implicit TLS (imaps) here, and STARTTLS on `port`; None: plain text only
    # more users with the same password (each its own Maildir), and an RFC 7662 introspection endpoint that
    # turns on XOAUTH2/OAUTHBEARER logins (Dovecot's oauth2 passdb; GET with the token as a bearer header)
    extra_users: tuple[str, ...] = ()
    introspection_url: str | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def tls(self) -> bool:
        return self.tls_port is not None

    @property
    def ca_file(self) -> Path:
        """The server's self-signed certificate: what a client must trust (`tls_port` servers only)."""
        if not self.tls:
            raise DovecotError("this Dovecot was started without tls=True: it has no certificate")
        return self.root / "tls" / "cert.pem"

    @property
    def key_file(self) -> Path:
        return self.root / "tls" / "key.pem"

    def ssl_context(self) -> ssl.SSLContext:
        """A default (verifying) client context that trusts this server's certificate and nothing else."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    @property
    def conf_path(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def log_path(self) -> Path:
        return self.root / "dovecot.log"

    @property
    def stderr_path(self) -> Path:
        return self.root / "dovecot.stderr"

    @property
    def mail_root(self) -> Path:
        """The chroot that holds every user's home."""
        return self.root / "mailroot"

    @property
    def maildir(self) -> Path:
        return self.mail_root / self.user / "Maildir"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    # --- lifecycle -------------------------------------------------------------------------------

    def client(self, user: str | None = None) -> IMAPClient:
        """A logged-in, plain-text client (as `user`, default the main user); imaplib's debug level 5 (slow)
        is turned off."""
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=30)
        client._imap.debug = 0
        client.login(user or self.user, self.password)
        return client

    def sessions(self) -> dict[str, int]:
        """User → IMAP sessions open now, as Dovecot counts them (`doveadm who`)."""
        done = subprocess.run(
            [shutil.which("doveadm") or "/usr/bin/doveadm", "-c", str(self.conf_path), "who", "-1"],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise DovecotError(f"doveadm who failed ({done.returncode}): {done.stderr}")
        counts: dict[str, int] = {}
        for line in done.stdout.splitlines()[1:]:
            fields = line.split()
            if len(fields) >= 2 and fields[1] == "imap":
                counts[fields[0]] = counts.get(fields[0], 0) + 1
        return counts

    def kick(self, user: str | None = None) -> None:
        """Cut every IMAP session of `user` (default the main user), as a server restart would."""
        subprocess.run(
            [shutil.which("doveadm") or "/usr/bin/doveadm", "-c", str(self.conf_path), "kick", user or self.user],
            capture_output=True, text=True, timeout=30, check=True,
        )  # fmt: skip

    def start(self) -> None:
        """Start (or restart) the server on `port` with the same mail; return once it greets."""
        if self.running:
            return
        binary = dovecot_binary()
        write_config(self)
        with self.stderr_path.open("ab") as stderr:
            self.process = subprocess.Popen(
                [binary, "-c", str(self.conf_path), "-F"],
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                start_new_session=True,  # its own process group, so `stop()` can reach every child
            )
        _running.add(self)
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        last: object = None
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                code = self.process.returncode
                raise DovecotError(f"dovecot exited with {code} while starting\n{self.diagnostics()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=2.0) as sock:
                    greeting = sock.makefile("rb").readline()
                if greeting.startswith(b"* OK"):
                    if self.tls_port is not None:
                        self._check_tls_greeting()
                    return
                last = greeting
            except OSError as exc:
                last = exc
            time.sleep(0.05)
        raise DovecotError(
            f"dovecot did not greet on {self.host}:{self.port} within {START_TIMEOUT:.0f}s "
            f"(last: {last!r})\n{self.diagnostics()}"
        )

    def _check_tls_greeting(self) -> None:
        """The imaps listener greets over TLS with our certificate (the listeners open together)."""
        assert self.tls_port is not None
        try:
            with (
                socket.create_connection((self.host, self.tls_port), timeout=5.0) as raw,
                self.ssl_context().wrap_socket(raw, server_hostname=self.host) as sock,
            ):
                greeting = sock.makefile("rb").readline()
        except OSError as exc:  # ssl.SSLError is an OSError
            where = f"{self.host}:{self.tls_port}"
            raise DovecotError(f"no TLS greeting on {where}: {exc!r}\n{self.diagnostics()}") from exc
        if not greeting.startswith(b"* OK"):
            raise DovecotError(f"unexpected TLS greeting on {self.host}:{self.tls_port}: {greeting!r}")

    def stop(self) -> None:
        """Stop the server (its IMAP sessions are cut); the port, config and mail stay for `start()`."""
        process, self.process = self.process, None
        _running.discard(self)
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)
        _kill_group(process.pid)

    def diagnostics(self) -> str:
        """The server's log and stderr, for error messages."""
        parts = []
        for path in (self.log_path, self.stderr_path):
            text = path.read_text(errors="replace") if path.exists() else "(missing)"
            parts.append(f"--- {path} ---\n{text[-8000:]}")
        return "\n".join(parts)

    # --- IMAP helpers ----------------------------------------------------------------------------

    def create_folder(self, folder: str) -> None:
        with self.client() as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)

    def append(self, folder: str, raw: bytes) -> int:
        """APPEND one message (creating `folder` if needed); returns its UID."""
        return self.append_many(folder, [raw])[0]

    def append_many(self, folder: str, raws: Sequence[bytes], user: str | None = None) -> list[int]:
        """APPEND messages in order over one connection (creating `folder` if needed) to `user`'s mail
        (default the main user); returns their UIDs."""
        uids = []
        with self.client(user) as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            for raw in raws:
                response = client.append(folder, raw)
                found = re.search(rb"\[APPENDUID (\d+) (\d+)\]", response)
                if not found:
                    raise DovecotError(f"APPEND to {folder} gave no APPENDUID: {response!r}")
                uids.append(int(found.group(2)))
        return uids

    def uidvalidity(self, folder: str) -> int:
        with self.client() as client:
            return int(client.folder_status(folder, [b"UIDVALIDITY"])[b"UIDVALIDITY"])

    def uids(self, folder: str) -> list[int]:
        with self.client() as client:
            client.select_folder(folder, readonly=True)
            return sorted(client.search("ALL"))

    def flags(self, folder: str) -> dict[int, tuple[bytes, ...]]:
        """UID → flags of every message in `folder` (read with EXAMINE, so nothing changes)."""
        with self.client() as client:
            client.select_folder(folder, readonly=True)
            uids = client.search("ALL")
            return {uid: tuple(flags) for uid, flags in client.get_flags(uids).items()} if uids else {}

    def messages(self, folder: str) -> dict[int, bytes]:
        """UID → exact bytes of every message in `folder` (BODY.PEEK[], so nothing is marked \\Seen)."""
        with self.client() as client:
            client.select_folder(folder, readonly=True)
            uids = client.search("ALL")
            data = client.fetch(uids, ["BODY.PEEK[]"]) if uids else {}
            return {uid: item[b"BODY[]"] for uid, item in data.items()}

    def recreate_folder(self, folder: str) -> int:
        """Delete `folder` with its mail and create it again empty; returns the new, different UIDVALIDITY.

        Dovecot 2.3 takes new UIDVALIDITYs from a per-user counter (Maildir/dovecot-uidvalidity) that
        only goes up, so two re-creations in the same second still differ. Should a Dovecot ever hand
        back the old value (older versions used the clock's second), we wait for the next second and
        try again rather than return a folder whose renumbering a client could not notice.
        """
        with self.client() as client:
            old = int(client.folder_status(folder, [b"UIDVALIDITY"])[b"UIDVALIDITY"])
            for _ in range(3):
                client.delete_folder(folder)
                client.create_folder(folder)
                new = int(client.folder_status(folder, [b"UIDVALIDITY"])[b"UIDVALIDITY"])
                if new != old:
                    return new
                time.sleep(1.1)
        raise DovecotError(f"re-creating {folder} kept UIDVALIDITY {old}")


def start_dovecot(
    base_dir: Path, tls: bool = False, extra_users: Sequence[str] = (), introspection_url: str | None = None
) -> Dovecot:
    """Configure and start a private Dovecot under `base_dir` on a free loopback port.

    With `tls`, the server has a self-signed certificate (`ca_file`), offers STARTTLS on `port` and
    implicit TLS on a second free port, `tls_port`; plain-text logins on `port` stay allowed, so the
    helpers (`client()`, `append()` …) work the same. Without it nothing changes: plain text, no STARTTLS.
    A port taken by someone else between choosing and binding it is retried with other ports.
    """
    last: DovecotError | None = None
    for _ in range(3):
        port = free_port()
        tls_port = None
        while tls and tls_port in (None, port):
            tls_port = free_port()
        server = Dovecot(
            root=Path(base_dir),
            port=port,
            tls_port=tls_port,
            extra_users=tuple(extra_users),
            introspection_url=introspection_url,
        )
        try:
            server.start()
        except DovecotError as exc:
            if "in use" not in str(exc):
                raise
            last = exc
            continue
        return server
    assert last is not None
    raise last


@atexit.register
def _stop_all() -> None:
    """Do not leave servers behind when a run ends without reaching its fixture teardown."""
    for server in list(_running):
        server.stop()


@pytest.fixture(scope="session")
def dovecot_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dovecot]:
    """A private Dovecot for this test session (one per xdist worker), stopped at the end."""
    server = start_dovecot(tmp_path_factory.mktemp("dovecot"))
    try:
        yield server
    finally:
        server.stop()
