"""A private Dovecot IMAP server on a loopback port, for the test suite and the benchmarks.

`start_dovecot(base_dir)` writes a minimal dovecot.conf under `base_dir` (its own base_dir, state_dir,
log file, passwd-file and Maildir), runs `dovecot -F` as a child process and waits until it greets.
Every pytest-xdist worker gets its own server on its own free port, so nothing is shared with the
system instance or with other workers. That server is plain text only (no STARTTLS); with
`start_dovecot(base_dir, tls=True)` it also has a self-signed certificate for 127.0.0.1/localhost
(`ca_file`, the file a client must trust), offers STARTTLS on `port` and implicit TLS on `tls_port`.
A missing `dovecot` binary is installed with apt-get; if that fails, the error says why. Nothing here
ever skips.

Dovecot as root (what the test machines run as) needs three things that a stock config does not say:
- mail processes never run as uid 0 ("Mail access not allowed for root", whatever first_valid_uid
  says), so mail is accessed as `nobody`;
- login processes must not run as root either ("This process must not be run as root"), so they run
  as `dovenull` (created by the Debian package), chrooted into base_dir/login as usual;
- pytest's temp dirs are 0700 root, which `nobody` cannot traverse, so each user's home is reached
  through a chroot (`home = <mailroot>/./<user>`, `valid_chroot_dirs = <mailroot>`): the chroot is
  entered while still root, and everything below it belongs to `nobody`.
"""

from __future__ import annotations

import atexit
import contextlib
import email.utils
import os
import pwd
import random
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest
from imapclient import IMAPClient

START_TIMEOUT = 20.0
STOP_TIMEOUT = 20.0
HOST = "127.0.0.1"
# Unix sockets live under base_dir; their paths must stay well below the 108-byte sun_path limit.
_MAX_RUN_DIR = 60

_running: set[Dovecot] = set()


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


def _kill_group(pgid: int) -> None:
    """SIGKILL what is left of a stopped server's process group (only that server's processes)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


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

    def _run_dir(self) -> Path:
        run = self.root / "run"
        if len(str(run)) <= _MAX_RUN_DIR:
            return run
        link = self.root / "run-dir"  # remembers the short directory across restarts
        if link.is_symlink():
            return Path(os.readlink(link))
        short = Path(tempfile.mkdtemp(prefix="dovecot-"))
        link.symlink_to(short)
        return short

    def _make_certificate(self) -> None:
        """A self-signed certificate for 127.0.0.1 and localhost, made once (a restart keeps it).

        The `openssl` CLI, since the `cryptography` package is not a dependency. The extensions are
        the ones Python 3.13's stricter default context (VERIFY_X509_STRICT) also wants.
        """
        if self.ca_file.exists() and self.key_file.exists():
            return
        openssl = shutil.which("openssl")
        if openssl is None:
            raise DovecotError("tls=True needs the `openssl` command to make a certificate; it is not installed")
        self.ca_file.parent.mkdir(parents=True, exist_ok=True)
        command = [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", str(self.key_file), "-out", str(self.ca_file), "-days", "30", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-addext", "keyUsage=critical,digitalSignature,keyCertSign",
            "-addext", "extendedKeyUsage=serverAuth",
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            raise DovecotError(f"openssl could not make a certificate (exit {done.returncode}):\n{done.stderr}")
        self.key_file.chmod(0o600)

    def _tls_config(self) -> tuple[str, str]:
        """(global settings, imaps listener settings) for the config: TLS on, or off as before."""
        if not self.tls:
            return "ssl = no\n", "    port = 0\n"
        self._make_certificate()
        settings = f"""ssl = yes
ssl_cert = <{self.ca_file}
ssl_key = <{self.key_file}
"""
        listener = f"""    address = {self.host}
    port = {self.tls_port}
    ssl = yes
"""
        return settings, listener

    def _write_config(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        ssl_settings, imaps_listener = self._tls_config()
        run_dir = self._run_dir()
        run_dir.mkdir(parents=True, exist_ok=True)
        (self.root / "state").mkdir(exist_ok=True)
        users = (self.user, *self.extra_users)
        (self.root / "passwd").write_text("".join(f"{user}:{{PLAIN}}{self.password}\n" for user in users))
        homes = [self.mail_root / user for user in users]
        for home in homes:
            home.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            self.mail_root.chmod(0o755)
            nobody = pwd.getpwnam("nobody")
            for home in homes:
                os.chown(home, nobody.pw_uid, nobody.pw_gid)
                home.chmod(0o700)
            login_user = "dovenull" if _user_exists("dovenull") else "nobody"
            privileges = f"""
# Dovecot refuses uid 0 for mail and for login processes; see the module docstring.
first_valid_uid = 1
first_valid_gid = 1
mail_uid = {nobody.pw_uid}
mail_gid = {nobody.pw_gid}
default_internal_user = root
default_internal_group = root
default_login_user = {login_user}
valid_chroot_dirs = {self.mail_root}
"""
            userdb_home = f"{self.mail_root}/./%u"
            login_chroot = ""
        else:  # a "rootless" Dovecot: everything runs as us, and nothing can chroot
            me = pwd.getpwuid(os.geteuid())
            privileges = f"""
first_valid_uid = {me.pw_uid}
first_valid_gid = {me.pw_gid}
mail_uid = {me.pw_uid}
mail_gid = {me.pw_gid}
default_internal_user = {me.pw_name}
default_internal_group = {me.pw_gid}
default_login_user = {me.pw_name}
"""
            userdb_home = f"{self.mail_root}/%u"
            login_chroot = "  chroot =\n"
        self.conf_path.write_text(f"""# Written by tests/support/dovecot.py: a private, throwaway IMAP server.
base_dir = {run_dir}
state_dir = {self.root / "state"}
instance_name = inboxcrm-test-{self.port}
protocols = imap
listen = {self.host}
{ssl_settings}disable_plaintext_auth = no
auth_mechanisms = plain login{" xoauth2 oauthbearer" if self.introspection_url else ""}
auth_failure_delay = 0
auth_verbose = yes
log_path = {self.log_path}
mail_location = maildir:~/Maildir
mail_fsync = never
mail_max_userip_connections = 1000
{privileges}
passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u {self.root / "passwd"}
}}
{self._oauth2_passdb()}userdb {{
  driver = static
  args = home={userdb_home}
}}
# A failed login slows down the next logins from the same IP (the "auth penalty": 2 s, 4 s … 15 s), so
# one wrong-password test would slow every later test on this server. Closing the socket turns it off
# (login_trusted_networks = 127.0.0.1/32, which the docs say skips it, did not, on 2.3.19).
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
{login_chroot}  inet_listener imap {{
    address = {self.host}
    port = {self.port}
  }}
  inet_listener imaps {{
{imaps_listener}  }}
}}
""")

    def _oauth2_passdb(self) -> str:
        """Dovecot's oauth2 passdb asking `introspection_url` about each token, or nothing.

        `introspection_mode = auth` (GET with the token as a bearer header): 2.3.19's `post` mode panics
        (an assertion in http-client-request.c) on the first login, and so does any %variable in the URL.
        The answer's `username` must be the login name."""
        if not self.introspection_url:
            return ""
        conf = self.root / "dovecot-oauth2.conf.ext"
        conf.write_text(f"""introspection_mode = auth
introspection_url = {self.introspection_url}
username_attribute = username
active_attribute = active
active_value = true
""")
        return f"""passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {conf}
}}
"""

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
        self._write_config()
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


# --- realistic test mail ----------------------------------------------------------------------------

_PEOPLE = [
    ("Carol Danvers", "acme-corp.example"),
    ("Bruce Wayne", "wayne-enterprises.example"),
    ("Zoë Løvås", "fjord-shipping.example"),
    ("Hiro Tanaka", "tanaka-robotics.example"),
    ("Amélie Poulain", "cafe-deux-moulins.example"),
    ("Olu Adeyemi", "lagos-logistics.example"),
    ("Marta Kowalska", "baltic-bakery.example"),
    ("Diego Ramírez", "andes-outdoor.example"),
]
_TOPICS = [
    "Invoice {n} is missing a PO number",
    "Cannot log in after the password reset",
    "Quote request: {n} seats for next quarter",
    "Delivery {n} arrived damaged",
    "Question about the API rate limits",
    "Renewal of contract {n}",
    "Feature request: export to CSV",
    "Urgent: production outage since {n}:00",
]
_LINES = [
    "Could you have a look at this when you get a chance?",
    "We tried again this morning and got the same result.",
    "I attached nothing, but I can send screenshots if that helps.",
    "Our finance team needs this sorted before the end of the month.",
    "Thanks for the quick answer last time — much appreciated.",
    "Is there a workaround we can use in the meantime?",
]


def _author(seed: int, n: int) -> tuple[str, str]:
    return random.Random(f"author:{seed}:{n}").choice(_PEOPLE)


def _message_id(seed: int, n: int) -> str:
    _, domain = _author(seed, n)
    return f"<s{seed}.m{n}.{random.Random(f'id:{seed}:{n}').getrandbits(32):08x}@{domain}>"


def sample_messages(count: int, seed: int = 0, start: int = 0, to: str = "support@northwind.example") -> list[bytes]:
    """`count` distinct, realistic messages (CRLF line ends, unique Message-IDs), the same for the same
    arguments: numbers `start` … `start + count - 1` of the sequence for `seed`, so a later call with a
    higher `start` never collides with an earlier one. About one in four is multipart with an HTML
    part, about one in five replies to an earlier message of the same call."""
    out = []
    first_date = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    for n in range(start, start + count):
        rng = random.Random(f"body:{seed}:{n}")
        name, domain = _author(seed, n)
        local = name.split()[0].lower().replace("ë", "e").replace("é", "e")
        message = EmailMessage(policy=SMTP)
        message["From"] = email.utils.formataddr((name, f"{local}@{domain}"))
        message["To"] = to
        subject = rng.choice(_TOPICS).format(n=1000 + n)
        message["Date"] = email.utils.format_datetime(first_date + timedelta(minutes=7 * n))
        message["Message-ID"] = _message_id(seed, n)
        if n > start and rng.random() < 0.2:
            parent = _message_id(seed, rng.randrange(start, n))
            subject = f"Re: {subject}"
            message["In-Reply-To"] = parent
            message["References"] = parent
        message["Subject"] = subject
        body = "Hello team,\n\n" + "\n".join(rng.sample(_LINES, 3)) + f"\n\nBest regards,\n{name}\n"
        message.set_content(body)
        if rng.random() < 0.25:
            html = "".join(f"<p>{part}</p>" for part in body.split("\n\n"))
            message.add_alternative(f"<html><body>{html}</body></html>", subtype="html")
        out.append(message.as_bytes())
    return out
