"""A real SMTP server (aiosmtpd) on a loopback port, for tests that send mail.

`SmtpServer` runs aiosmtpd's `Controller` in its own thread with its own event loop, so async tests,
synchronous tests and code that calls `asyncio.run` in a worker thread can all talk to it. It can do
STARTTLS or implicit TLS with a self-signed certificate for 127.0.0.1/localhost (made with the `openssl`
CLI, like tests/support/dovecot/config.py; `ssl_context()` trusts it), and AUTH (PLAIN, LOGIN) for one user.

What it saw is recorded: `received` (accepted messages, exact DATA bytes), `dropped` (messages whose
DATA it took in but never answered), `mail_from_seen` (every MAIL FROM, refused or not) and
`connections`. Tests script it with `fail_next(stage, reply)`, `drop_next(stage)`, `drop_after_data()`
and `stall_after_data()`. A 421 reply closes the connection, as RFC 5321 says. Nothing here ever skips.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
from base64 import b64decode
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeVar

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword, Session
from aiosmtpd.smtp import Envelope as SmtpEnvelope

HOST = "127.0.0.1"
SERVER_NAME = "smtp.inboxcrm.test"
START_ATTEMPTS = 3

Stage = Literal["MAIL", "RCPT", "DATA"]
TlsMode = Literal["none", "starttls", "implicit"]
STAGES: tuple[Stage, ...] = ("MAIL", "RCPT", "DATA")
T = TypeVar("T")


class SmtpServerError(RuntimeError):
    """The test SMTP server could not be configured or started."""


@dataclass(frozen=True, slots=True)
class Received:
    """One message as the server took it in: the envelope and the exact bytes of DATA (dot-unstuffed)."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    mail_options: tuple[str, ...]  # MAIL FROM parameters as sent, upper-cased: "SIZE=123", "BODY=8BITMIME"
    tls: bool  # whether the session was encrypted (STARTTLS or implicit TLS)
    login: str | None  # the AUTH user, if the client logged in


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """(certificate, key): self-signed for 127.0.0.1 and localhost, made once per directory.

    The extensions are the ones Python 3.13's stricter default context (VERIFY_X509_STRICT) also wants.
    """
    cert, key = directory / "cert.pem", directory / "key.pem"
    if cert.exists() and key.exists():
        return cert, key
    openssl = shutil.which("openssl")
    if openssl is None:
        raise SmtpServerError("TLS needs the `openssl` command to make a certificate; it is not installed")
    directory.mkdir(parents=True, exist_ok=True)
    command = [
        openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", str(key), "-out", str(cert), "-days", "30", "-subj", "/CN=localhost",
        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        "-addext", "keyUsage=critical,digitalSignature,keyCertSign",
        "-addext", "extendedKeyUsage=serverAuth",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise SmtpServerError(f"openssl could not make a certificate (exit {done.returncode}):\n{done.stderr}")
    key.chmod(0o600)
    return cert, key


class _Controller(Controller):
    """aiosmtpd's threaded controller, counting the connections it accepts."""

    def __init__(self, owner: SmtpServer, **kwargs: Any) -> None:
        super().__init__(_OAuth2Handler(owner) if owner.token_check else _Handler(owner), **kwargs)
        self.owner = owner

    def factory(self) -> SMTP:
        with self.owner.lock:  # called once per accepted connection, before the greeting is sent
            self.owner.connections += 1
        smtp: SMTP = super().factory()  # type: ignore[no-untyped-call]
        return smtp


class _Handler:
    """aiosmtpd hooks (it calls every `handle_*` method): record, or obey the test's script."""

    def __init__(self, owner: SmtpServer) -> None:
        self.owner = owner

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: SmtpEnvelope, address: str, mail_options: list[str]
    ) -> str:
        self.owner._record(self.owner.mail_from_seen, address)
        if self.owner._take("drop", "MAIL"):
            await _hang_up(server)
        reply = self.owner._take_reply("MAIL")
        if reply is not None:
            return _reply_and_maybe_close(server, reply)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: SmtpEnvelope, address: str, rcpt_options: list[str]
    ) -> str:
        if self.owner._take("drop", "RCPT"):
            await _hang_up(server)
        reply = self.owner._take_reply("RCPT")
        if reply is not None:
            return _reply_and_maybe_close(server, reply)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: SmtpEnvelope) -> str:
        content = envelope.original_content
        assert isinstance(content, bytes), "decode_data must stay off: the exact bytes are the point"
        transport = server.transport
        auth = session.auth_data
        message = Received(
            mail_from=str(envelope.mail_from),
            rcpt_tos=tuple(envelope.rcpt_tos),
            raw=content,
            mail_options=tuple(envelope.mail_options),
            tls=transport is not None and transport.get_extra_info("ssl_object") is not None,
            login=auth.login.decode() if isinstance(auth, LoginPassword) else None,
        )
        if self.owner._take("drop", "DATA"):
            self.owner._record(self.owner.dropped, message)
            await _hang_up(server)
        if self.owner._take("stall", "DATA"):
            self.owner._record(self.owner.dropped, message)
            await _until_disconnected()
        reply = self.owner._take_reply("DATA")
        if reply is not None:
            return _reply_and_maybe_close(server, reply)
        number = self.owner._record(self.owner.received, message)
        return f"250 2.0.0 Ok: queued as {number:05d}"


class _OAuth2Handler(_Handler):
    """The handler, plus SASL XOAUTH2 (aiosmtpd offers every `auth_<MECHANISM>` method of its handler)."""

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        assert self.owner.token_check is not None
        try:
            fields = dict(part.split("=", 1) for part in b64decode(args[1]).decode().split("\x01") if "=" in part)
            user, token = fields["user"], fields["auth"].removeprefix("Bearer ")
        except (IndexError, KeyError, ValueError):
            await server.push("501 5.5.2 Can't decode the XOAUTH2 response")
            return AuthResult(success=False, handled=True)
        ok = await asyncio.to_thread(self.owner.token_check, user, token)
        return AuthResult(success=ok, handled=False, auth_data=LoginPassword(user.encode(), b"") if ok else None)


async def _until_disconnected() -> None:
    """Never returns: aiosmtpd cancels the session when its connection is lost (or the server stops)."""
    await asyncio.get_running_loop().create_future()


async def _hang_up(server: SMTP) -> None:
    """Close the connection without answering the command at hand."""
    if server.transport is not None:
        server.transport.close()
    await _until_disconnected()


def _reply_and_maybe_close(server: SMTP, reply: str) -> str:
    if reply.startswith("421") and server.transport is not None:
        # The reply is written as soon as the hook returns, before the loop runs this: it goes out first.
        asyncio.get_running_loop().call_soon(server.transport.close)
    return reply


class SmtpServer:
    """One aiosmtpd on 127.0.0.1 in its own thread: `start()`/`stop()`, or use it as a context manager.

    `tls`: "none" (plain text only, no STARTTLS), "starttls" (offered, not required) or "implicit".
    With `auth`, AUTH PLAIN/LOGIN is offered (over TLS only, unless `tls` is "none") and required for
    MAIL; `user`/`password` log in. With `token_check(user, access_token) -> bool` as well, AUTH XOAUTH2 is
    the only mechanism offered, and a login counts when `token_check` says yes (the tests ask the loopback
    identity provider, as a real server asks its own). The certificate lives in `directory` (a temporary one
    by default).
    """

    def __init__(
        self,
        tls: TlsMode = "none",
        auth: bool = False,
        directory: Path | None = None,
        user: str = "inboxcrm",
        password: str = "correct horse battery staple",
        token_check: Callable[[str, str], bool] | None = None,
    ) -> None:
        self.host = HOST
        self.port = 0
        self.tls: TlsMode = tls
        self.auth = auth
        self.user = user
        self.password = password
        self.token_check = token_check
        self.lock = threading.Lock()
        self.received: list[Received] = []
        self.dropped: list[Received] = []
        self.mail_from_seen: list[str] = []
        self.connections = 0
        self._replies: dict[Stage, deque[str]] = {stage: deque() for stage in STAGES}
        self._script: dict[tuple[str, Stage], deque[bool]] = {}
        self._directory = directory
        self._temporary: Path | None = None
        self._controller: _Controller | None = None

    # --- lifecycle -------------------------------------------------------------------------------

    @property
    def ca_file(self) -> Path:
        """The server's self-signed certificate: what a client must trust (TLS servers only)."""
        if self.tls == "none":
            raise SmtpServerError("this SMTP server was started without TLS: it has no certificate")
        return self._certificate()[0]

    def ssl_context(self) -> ssl.SSLContext:
        """A default (verifying) client context that trusts this server's certificate and nothing else."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def _certificate(self) -> tuple[Path, Path]:
        if self._directory is None:
            self._temporary = self._directory = Path(tempfile.mkdtemp(prefix="smtpd-"))
        return make_certificate(self._directory / "tls")

    def _server_context(self) -> ssl.SSLContext:
        cert, key = self._certificate()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        return context

    def _authenticate(
        self, server: SMTP, session: Session, envelope: SmtpEnvelope, mechanism: str, auth_data: object
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == self.user.encode()
            and auth_data.password == self.password.encode()
        )
        # handled=False: aiosmtpd then answers a refusal itself (535); its default would leave the client waiting
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    def start(self) -> SmtpServer:
        """Start on a free port (another one if that was taken meanwhile); returns self."""
        if self._controller is not None:
            raise SmtpServerError("already running")
        options: dict[str, Any] = {"server_hostname": SERVER_NAME, "ready_timeout": 10.0}
        if self.tls == "implicit":
            options["ssl_context"] = self._server_context()
        elif self.tls == "starttls":
            options["tls_context"] = self._server_context()
        if self.auth:
            options.update(authenticator=self._authenticate, auth_required=True, auth_require_tls=self.tls != "none")
            if self.token_check is not None:
                options["auth_exclude_mechanism"] = ["PLAIN", "LOGIN"]
        last: OSError | None = None
        for _ in range(START_ATTEMPTS):
            port = free_port()
            controller = _Controller(self, hostname=HOST, port=port, **options)
            try:
                controller.start()
            except OSError as exc:  # the port was taken between choosing and binding it
                controller.stop(no_assert=True)
                if not controller.loop.is_closed():
                    controller.loop.close()
                last = exc
                continue
            with self.lock:
                self.connections = 0  # Controller.start() connects once itself to see that the server is up
            self.port = port
            self._controller = controller
            return self
        raise SmtpServerError(f"could not start aiosmtpd on {HOST}: {last}")

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()
        if self._temporary is not None:
            shutil.rmtree(self._temporary, ignore_errors=True)
            self._temporary = self._directory = None

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    # --- script ----------------------------------------------------------------------------------

    def fail_next(self, stage: Stage, reply: str, times: int = 1) -> None:
        """Answer the next `times` commands of `stage` with `reply` ("451 4.3.0 try again later").

        At DATA the reply comes after the message was taken in (it is then not in `received`).
        """
        if not (len(reply) >= 3 and reply[:3].isdigit() and reply[0] in "45"):
            raise ValueError(f"not a 4xx or 5xx reply: {reply!r}")
        with self.lock:
            self._replies[stage].extend([reply] * times)

    def drop_next(self, stage: Stage, times: int = 1, after: int = 0) -> None:
        """Close the connection on `times` commands of `stage`, after letting `after` of them through,
        without answering. At DATA this happens once the message was taken in: it is in `dropped`."""
        self._queue("drop", stage, [False] * after + [True] * times)

    def drop_after_data(self, times: int = 1) -> None:
        """Take in the next `times` messages, then close the connection instead of answering."""
        self.drop_next("DATA", times)

    def stall_after_data(self, times: int = 1) -> None:
        """Take in the next `times` messages and never answer (until the client gives up and closes)."""
        self._queue("stall", "DATA", [True] * times)

    def _queue(self, action: str, stage: Stage, steps: list[bool]) -> None:
        with self.lock:
            self._script.setdefault((action, stage), deque()).extend(steps)

    def _record(self, into: list[T], item: T) -> int:
        """Append `item` (from the server's thread) and return the list's new length."""
        with self.lock:
            into.append(item)
            return len(into)

    def _take(self, action: str, stage: Stage) -> bool:
        """Whether the script says to `action` on this command of `stage` (consuming one step)."""
        with self.lock:
            steps = self._script.get((action, stage))
            return steps.popleft() if steps else False

    def _take_reply(self, stage: Stage) -> str | None:
        with self.lock:
            replies = self._replies[stage]
            return replies.popleft() if replies else None


def start_smtp_server(
    tls: TlsMode = "none",
    auth: bool = False,
    directory: Path | None = None,
    token_check: Callable[[str, str], bool] | None = None,
) -> SmtpServer:
    """A started SmtpServer; stop it with `stop()` (or use `with SmtpServer(...) as server:`)."""
    return SmtpServer(tls=tls, auth=auth, directory=directory, token_check=token_check).start()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A plain-text aiosmtpd on a free loopback port for one test, stopped afterwards."""
    with SmtpServer() as server:
        yield server
