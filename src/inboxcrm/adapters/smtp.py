"""Sending mail: SMTP (aiosmtplib) for production, .eml files for the demo; one result per envelope.

An outcome is SENT (the server took responsibility for the message), RETRY (send the same bytes again
later) or FAILED (refused for good: a 5xx reply, or an envelope no server could take). Whatever is
uncertain is RETRY: a resend carries the same Message-ID, so a duplicate can be recognised, whereas a
wrong FAILED loses a customer's mail. Neither sender raises for a mail, network or server problem.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import aiosmtplib
from aiosmtplib.email import parse_address
from aiosmtplib.protocol import normalize_message_line_endings

from inboxcrm.adapters.oauth2 import AccessTokens
from inboxcrm.adapters.whole_files import write_whole
from inboxcrm.core.alerts import TokenRefused
from inboxcrm.core.ports import Envelope, Outcome, Sender, SendResult

# The data types live in core.ports (services use them too); importing them from here works as well.
__all__ = ["Envelope", "FileSender", "Outcome", "SendResult", "Sender", "SmtpSender", "envelope_problem"]

log = logging.getLogger(__name__)

Security = Literal["tls", "starttls", "none"]
# QUIT only says goodbye after everything is decided: a slow answer must not hold up the caller.
QUIT_TIMEOUT = 5.0
# How long a finished batch waits for its sockets to be really closed (TLS exchanges close_notify first).
CLOSE_TIMEOUT = 5.0
AUTH_REQUIRED = 530  # RFC 4954
# Keys become file names (FileSender): no separators, no leading dot, nothing a shell or Windows minds.
_SAFE_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+=-]{0,199}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class _Socket(Protocol):
    def fileno(self) -> int: ...


def envelope_problem(envelope: Envelope) -> str | None:
    """Why no server could ever take this envelope (then it is FAILED without being tried), or None."""
    if not envelope.recipients:
        return "no recipients"
    for address in (envelope.sender, *envelope.recipients):
        if _CONTROL.search(address):
            return f"invalid address {address!r}: control characters"
        try:
            parse_address(address)
        except ValueError as exc:
            return f"invalid address {address!r}: {exc}"
    if not all(parse_address(recipient) for recipient in envelope.recipients):
        return "empty recipient address"  # only the sender may be empty: <>, the null reverse-path
    return None


def _reply(code: int, message: str) -> str:
    """A server reply on one line: "451 4.3.0 try again later"."""
    return f"{code} {' '.join(message.split())}".rstrip()


def _outcome(code: int) -> Outcome:
    if 200 <= code < 300:
        return Outcome.SENT
    if code == AUTH_REQUIRED:
        return Outcome.RETRY  # our configuration lacks credentials: nothing wrong with the customer's mail
    if 500 <= code < 600:
        return Outcome.FAILED
    return Outcome.RETRY  # 4xx, and whatever a server should not have said (aiosmtplib: -1 for malformed)


def _reason(exc: BaseException) -> str:
    """The most telling text of a connection error (aiosmtplib wraps the OSError that says what happened)."""
    cause = exc.__cause__
    return (str(cause) if cause is not None else "") or str(exc) or type(exc).__name__


class _Unavailable(Exception):
    """No usable connection: connecting, STARTTLS or AUTH failed. Every envelope left is RETRY."""

    def __init__(self, detail: str, code: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code


@dataclass(frozen=True, slots=True)
class _Attempt:
    result: SendResult
    unanswered_mail: bool = False  # the connection broke before the server answered MAIL FROM
    timed_out: bool = False


class SmtpSender:
    """Sends a batch over one SMTP connection (reconnecting when the server closes it); not thread-safe.

    `security`: "tls" is implicit TLS, "starttls" requires STARTTLS (never plain text), "none" is plain
    text. Certificates are verified against the system CAs, or only against `ssl_context`'s if given.
    AUTH happens only when `username` is given: with `tokens`, SASL XOAUTH2 (aiosmtplib's `auth_xoauth2`;
    a refused token is replaced once by a fresh one), else the password. `auth_problem` says why the last
    login was refused (a person must act), or None once one worked.
    """

    def __init__(
        self,
        host: str,
        port: int,
        security: Security,
        username: str | None,
        password: str | None,
        timeout: float = 60,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
        tokens: AccessTokens | None = None,
    ) -> None:
        if security not in ("tls", "starttls", "none"):
            raise ValueError(f"security must be 'tls', 'starttls' or 'none', not {security!r}")
        self.host = host
        self.port = port
        self.security: Security = security
        self.username = username
        self.password = password
        self.timeout = timeout
        self.local_hostname = local_hostname
        self.tokens = tokens
        self.auth_problem: str | None = None
        self._tls_context = None if security == "none" else ssl_context or ssl.create_default_context()

    @property
    def _where(self) -> str:
        return f"{self.host}:{self.port}"

    async def send_many(self, envelopes: Sequence[Envelope]) -> list[SendResult]:
        """One result per envelope, same order. Stops early (the rest RETRY) when no connection can be had."""
        results: list[SendResult] = []
        connection = _Connection(self)
        try:
            for index, envelope in enumerate(envelopes):
                problem = envelope_problem(envelope)
                if problem:
                    results.append(SendResult(envelope.key, Outcome.FAILED, problem))
                    continue
                try:
                    attempt = await self._send_one(connection, envelope)
                except _Unavailable as exc:
                    results.extend(_not_attempted(envelopes[index:], exc.detail, exc.code))
                    break
                results.append(attempt.result)
                if attempt.timed_out:
                    # A server that stops answering would cost `timeout` per message: the rest waits a round.
                    detail = f"not attempted: the server timed out on {envelope.key}"
                    results.extend(_not_attempted(envelopes[index + 1 :], detail, None))
                    break
        except BaseException:
            connection.abort()
            raise
        await connection.finish()
        return results

    async def _send_one(self, connection: _Connection, envelope: Envelope) -> _Attempt:
        client, reused = await connection.ready()
        attempt = await self._transaction(client, envelope)
        if attempt.unanswered_mail and reused:
            # The server closed the connection after the previous message (an idle or per-connection limit).
            # Nothing of this message reached it, so sending it on a new connection cannot duplicate it.
            log.info("SMTP %s closed the connection between messages; reconnecting", self._where)
            client, _ = await connection.ready()
            attempt = await self._transaction(client, envelope)
        return attempt

    async def _connect(self, sockets: list[_Socket]) -> aiosmtplib.SMTP:
        """A connected client, after EHLO, STARTTLS and AUTH as configured; raises _Unavailable.

        Its socket is added to `sockets` as soon as there is one, so that the batch can wait for it to close.
        """
        client = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            local_hostname=self.local_hostname,
            timeout=self.timeout,
            use_tls=self.security == "tls",
            start_tls=False,  # done below, where a missing STARTTLS is an error and not a silent plain text
            tls_context=self._tls_context,
        )
        prefixes = {
            "connect": f"could not connect to {self._where}",
            "EHLO": f"EHLO to {self._where} failed",
            "STARTTLS": f"STARTTLS with {self._where} failed",
            "AUTH": "authentication failed",
        }
        step = "connect"
        try:
            await client.connect()
            sockets.append(client.get_transport_info("socket"))
            step = "EHLO"
            await _hello(client)
            if self.security == "starttls":
                if not client.supports_extension("starttls"):
                    raise _Unavailable("server does not offer STARTTLS")
                step = "STARTTLS"
                await client.starttls()
                step = "EHLO"
                await _hello(client)  # RFC 3207: what the server said before TLS no longer counts
            if self.username is not None:
                step = "AUTH"
                await self._login(client, self.username)
        except _Unavailable:
            client.close()
            raise
        except aiosmtplib.SMTPResponseException as exc:
            client.close()
            raise _Unavailable(f"{prefixes[step]}: {_reply(exc.code, exc.message)}", exc.code) from exc
        except Exception as exc:
            client.close()
            raise _Unavailable(f"{prefixes[step]}: {_reason(exc)}") from exc
        return client

    async def _login(self, client: aiosmtplib.SMTP, username: str) -> None:
        try:
            if self.tokens is None:
                await client.login(username, self.password or "")
            else:
                try:
                    await client.auth_xoauth2(username, await asyncio.to_thread(self.tokens.token))
                except aiosmtplib.SMTPAuthenticationError as exc:
                    if not client.is_connected:
                        raise
                    log.info("SMTP %s refused the access token (%s); fetching a new one", self._where, exc.message)
                    await client.auth_xoauth2(username, await asyncio.to_thread(self.tokens.token, True))
        except TokenRefused as exc:
            self.auth_problem = f"token: {exc}"
            raise
        except aiosmtplib.SMTPAuthenticationError as exc:
            self.auth_problem = f"login: {_reply(exc.code, exc.message)}"
            raise
        self.auth_problem = None

    async def _transaction(self, client: aiosmtplib.SMTP, envelope: Envelope) -> _Attempt:
        """MAIL, RCPT for each recipient, DATA; any trouble becomes a result, never an exception."""
        key = envelope.key
        stage = "MAIL FROM"
        try:
            options, encoding = _mail_options(client, envelope)
        except _Refusal as refusal:
            return _Attempt(SendResult(key, Outcome.FAILED, refusal.detail))
        refused: list[tuple[int, str]] = []
        try:
            await client.mail(envelope.sender, options=options, encoding=encoding)
            stage = "RCPT TO"
            for recipient in envelope.recipients:
                try:
                    await client.rcpt(recipient, encoding=encoding)
                except aiosmtplib.SMTPRecipientRefused as exc:
                    refused.append((exc.code, f"{_reply(exc.code, exc.message)} (RCPT TO <{recipient}>)"))
                    if exc.code == 421:  # the server is closing the connection: no more answers will come
                        break
            temporary = [item for item in refused if _outcome(item[0]) is not Outcome.FAILED]
            if temporary or len(refused) == len(envelope.recipients):
                # A recipient refused for now must get this very message later: none gets it now, so a
                # resend duplicates nothing. Refused for good, every one of them: nothing to send.
                await _reset(client, (temporary or refused)[0][0])
                outcome = Outcome.RETRY if temporary else Outcome.FAILED
                detail = "; ".join(text for _, text in refused)
                return _Attempt(SendResult(key, outcome, detail, (temporary or refused)[0][0]))
            stage = "DATA"
            response = await client.data(envelope.raw)
        except aiosmtplib.SMTPResponseException as exc:
            await _reset(client, exc.code)
            return _Attempt(SendResult(key, _outcome(exc.code), f"{_reply(exc.code, exc.message)} ({stage})", exc.code))
        except aiosmtplib.SMTPTimeoutError:
            client.close()  # a late answer would be taken for the next command's
            where = "after DATA" if stage == "DATA" else f"at {stage}"
            return _Attempt(SendResult(key, Outcome.RETRY, f"timed out {where}"), timed_out=True)
        except (aiosmtplib.SMTPServerDisconnected, OSError) as exc:
            client.close()
            where = "after DATA" if stage == "DATA" else f"at {stage}"
            log.debug("SMTP connection lost %s for %s: %s", where, key, exc)
            return _Attempt(
                SendResult(key, Outcome.RETRY, f"connection lost {where}"), unanswered_mail=stage == "MAIL FROM"
            )
        except Exception as exc:
            log.exception("unexpected error sending %s (%s)", key, stage)
            client.close()
            return _Attempt(SendResult(key, Outcome.RETRY, f"unexpected error at {stage}: {exc!r}"))
        detail = _reply(response.code, response.message)
        if refused:
            detail += "; refused: " + "; ".join(text for _, text in refused)
        return _Attempt(SendResult(key, Outcome.SENT, detail, response.code))


class _Connection:
    """The batch's current connection, made when a message needs one, and every socket the batch opened."""

    def __init__(self, sender: SmtpSender) -> None:
        self.sender = sender
        self.client: aiosmtplib.SMTP | None = None
        self.sockets: list[_Socket] = []

    async def ready(self) -> tuple[aiosmtplib.SMTP, bool]:
        """(a connected client, whether it already served an earlier message); raises _Unavailable."""
        if self.client is not None and self.client.is_connected:
            return self.client, True
        self.abort()
        self.client = await self.sender._connect(self.sockets)
        return self.client, False

    def abort(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    async def finish(self) -> None:
        """QUIT, then wait until every socket of the batch is closed.

        asyncio closes a socket some loop iterations after `close()` (with TLS, after the close_notify
        exchange); a caller's `asyncio.run` that returns before would leave it open for the GC to find.
        """
        client, self.client = self.client, None
        if client is not None and client.is_connected:
            try:
                await client.quit(timeout=QUIT_TIMEOUT)
            except (aiosmtplib.SMTPException, OSError) as exc:
                log.debug("SMTP QUIT failed: %s", exc)
        if client is not None:
            client.close()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CLOSE_TIMEOUT
        while any(sock.fileno() != -1 for sock in self.sockets) and loop.time() < deadline:
            await asyncio.sleep(0.001)


class _Refusal(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def _mail_options(client: aiosmtplib.SMTP, envelope: Envelope) -> tuple[list[str], str]:
    """(MAIL FROM parameters, address encoding); raises _Refusal when the server cannot take the addresses."""
    options: list[str] = []
    if client.supports_extension("size"):  # a server with a limit then refuses at MAIL, before the upload
        options.append(f"SIZE={len(normalize_message_line_endings(envelope.raw))}")
    if not envelope.raw.isascii() and client.supports_extension("8bitmime"):
        options.append("BODY=8BITMIME")
    if all(address.isascii() for address in (envelope.sender, *envelope.recipients)):
        return options, "ascii"
    if not client.supports_extension("smtputf8"):
        raise _Refusal("the server does not support SMTPUTF8, which non-ASCII addresses need")
    return [*options, "SMTPUTF8"], "utf-8"


async def _hello(client: aiosmtplib.SMTP) -> None:
    try:
        await client.ehlo()
    except aiosmtplib.SMTPHeloError:
        if not client.is_connected:
            raise
        await client.helo()


async def _reset(client: aiosmtplib.SMTP, code: int) -> None:
    """After a refused transaction: RSET so the connection can carry the next message, or drop it."""
    if code == 421 or code < 200 or not client.is_connected:
        client.close()  # 421: the server is closing; a malformed reply: the dialogue cannot be trusted
        return
    try:
        await client.rset()
    except (aiosmtplib.SMTPException, OSError):
        client.close()


def _not_attempted(envelopes: Sequence[Envelope], detail: str, code: int | None) -> list[SendResult]:
    results = []
    for envelope in envelopes:
        problem = envelope_problem(envelope)
        if problem:
            results.append(SendResult(envelope.key, Outcome.FAILED, problem))
        else:
            results.append(SendResult(envelope.key, Outcome.RETRY, detail, code))
    return results


class FileSender:
    """The demo's outbox: each envelope becomes `<directory>/<key>.eml` with the exact bytes of `raw`.

    Files appear whole or not at all (temporary file, fsync, os.replace); the same key again replaces
    the file, so a resend is harmless.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def send_many(self, envelopes: Sequence[Envelope]) -> list[SendResult]:
        """One result per envelope, same order; keys must be plain file names ([A-Za-z0-9._@+=-], no leading dot)."""
        return await asyncio.to_thread(lambda: [self._write(envelope) for envelope in envelopes])

    def path_for(self, key: str) -> Path:
        return self.directory / f"{key}.eml"

    def _write(self, envelope: Envelope) -> SendResult:
        problem = envelope_problem(envelope)
        if problem is None and not _SAFE_KEY.fullmatch(envelope.key):
            problem = f"key {envelope.key!r} cannot be a file name"
        if problem:
            return SendResult(envelope.key, Outcome.FAILED, problem)
        path = self.path_for(envelope.key)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            # written whole (a dot file that does not end in .eml until it is renamed): nothing reading the
            # outbox mistakes a half-written file for a message
            write_whole(path, envelope.raw)
        except OSError as exc:
            return SendResult(envelope.key, Outcome.RETRY, f"could not write {path}: {exc}")
        return SendResult(envelope.key, Outcome.SENT, f"written to {path}")
