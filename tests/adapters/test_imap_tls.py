"""ImapSource over TLS against a real, private Dovecot: implicit TLS (`security = "tls"`), STARTTLS, and
refusals. A certificate the client does not trust, or a server that cannot do STARTTLS, must fail loudly
before the password is sent: never a silent fall-back to plain text or to an unverified connection.

The module starts its own Dovecot with a self-signed certificate (one per xdist worker); the suite's
plain-text `dovecot` server stands in for a server without STARTTLS.
"""

from __future__ import annotations

import gc
import ssl
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from imapclient import IMAPClient
from imapclient.exceptions import CapabilityError

from inboxcrm import bootstrap
from inboxcrm.adapters.imap import ImapAccount, ImapSource, Security, connect
from inboxcrm.config import Settings, parse_settings
from tests.support.dovecot import Dovecot, sample_messages, start_dovecot
from tests.support.dovecot.config import make_certificate

pytestmark = pytest.mark.imap

# The daemon retries a failed connection forever: a refused one must not leak its socket either.
no_leaks = pytest.mark.filterwarnings("error::ResourceWarning", "error::pytest.PytestUnraisableExceptionWarning")


@pytest.fixture(scope="module")
def tls_dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dovecot]:
    """A private Dovecot with a self-signed certificate: STARTTLS on `port`, implicit TLS on `tls_port`."""
    server = start_dovecot(tmp_path_factory.mktemp("dovecot-tls"), tls=True)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def folder(tls_dovecot: Dovecot) -> str:
    name = f"t{uuid.uuid4().hex[:10]}"
    tls_dovecot.create_folder(name)
    return name


def account_for(server: Dovecot, security: Security, ssl_context: ssl.SSLContext | None) -> ImapAccount:
    """`security = "tls"` talks to the implicit-TLS port, anything else to the plain/STARTTLS port."""
    port = server.tls_port if security == "tls" else server.port
    assert port is not None
    return ImapAccount(
        host=server.host,
        port=port,
        user=server.user,
        password=server.password,
        security=security,
        timeout=10,
        ssl_context=ssl_context,
    )


@pytest.fixture
def login_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Users that `IMAPClient.login` was called for (the password is sent there), while still logging in."""
    calls: list[str] = []
    real_login = IMAPClient.login

    def spy(self: IMAPClient, username: str, password: str) -> Any:
        calls.append(username)
        return real_login(self, username, password)

    monkeypatch.setattr(IMAPClient, "login", spy)
    return calls


def login_lines(server: Dovecot) -> list[str]:
    """Dovecot's "Login:" log lines; they end in "TLS" for a TLS session, "secured" for plain loopback."""
    if not server.log_path.exists():
        return []
    return [line for line in server.log_path.read_text().splitlines() if "imap-login: Info: Login:" in line]


def next_login_line(server: Dovecot, seen: int) -> str:
    """The first Login line after the `seen` ones; the log process may write it a moment after LOGIN."""
    deadline = time.monotonic() + 10
    while True:
        lines = login_lines(server)
        if len(lines) > seen:
            return lines[seen]
        if time.monotonic() > deadline:
            raise AssertionError(f"no new Login line in {server.log_path}\n{server.diagnostics()}")
        time.sleep(0.02)


# --- what works ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_tls_with_a_context_trusting_the_certificate_fetches_exact_bytes(
    tls_dovecot: Dovecot, folder: str, security: Security
) -> None:
    raws = sample_messages(3, seed=40)
    uids = tls_dovecot.append_many(folder, raws)
    seen = len(login_lines(tls_dovecot))

    with ImapSource(account_for(tls_dovecot, security, tls_dovecot.ssl_context())) as source:
        sock = source.client._imap.sock
        assert isinstance(sock, ssl.SSLSocket)
        assert sock.version() in ("TLSv1.2", "TLSv1.3")
        assert source.client._imap.debug == 0
        fetched = [m for batch in source.fetch_after(folder, 0, 2) for m in batch]

    assert [m.uid for m in fetched] == uids
    assert [m.raw for m in fetched] == raws
    # The server saw the login inside TLS (a plain loopback login is logged as "secured" instead).
    assert ", TLS, session=" in next_login_line(tls_dovecot, seen)


def test_starttls_encrypts_the_connection_before_logging_in(tls_dovecot: Dovecot, login_calls: list[str]) -> None:
    account = account_for(tls_dovecot, "starttls", tls_dovecot.ssl_context())
    client = connect(account)
    try:
        assert client._starttls_done
        assert isinstance(client._imap.sock, ssl.SSLSocket)
        peer = client._imap.sock.getpeercert()
        assert peer is not None
        names = set(peer["subjectAltName"])
        assert names == {("DNS", "localhost"), ("IP Address", "127.0.0.1")}  # our certificate, verified
        # After STARTTLS the capabilities are asked again (RFC 3501 6.2.1), and STARTTLS is gone from them.
        assert b"STARTTLS" not in client.capabilities()
        assert client._imap.state == "AUTH"
        assert login_calls == [tls_dovecot.user]
    finally:
        client.logout()


# --- what must be refused -----------------------------------------------------------------------------


@no_leaks
@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_the_default_context_refuses_a_self_signed_certificate_before_logging_in(
    tls_dovecot: Dovecot, security: Security, login_calls: list[str]
) -> None:
    # No ssl_context: ssl.create_default_context(), the system CAs, which do not include ours.
    account = account_for(tls_dovecot, security, None)
    with pytest.raises(ssl.SSLCertVerificationError, match=r"self[- ]signed certificate"):
        ImapSource(account)
    assert login_calls == []
    gc.collect()


@no_leaks
@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_a_context_trusting_another_certificate_is_refused(
    tls_dovecot: Dovecot, security: Security, tmp_path: Path, login_calls: list[str]
) -> None:
    # A second server's certificate: the same names, another key. Trusting it must not trust ours.
    other = Dovecot(root=tmp_path / "other", port=0, tls_port=0)
    make_certificate(other)
    account = account_for(tls_dovecot, security, other.ssl_context())
    with pytest.raises(ssl.SSLCertVerificationError):
        ImapSource(account)
    assert login_calls == []
    gc.collect()


@no_leaks
def test_starttls_against_a_server_without_starttls_fails_instead_of_logging_in_in_plain_text(
    dovecot: Dovecot, tls_dovecot: Dovecot, login_calls: list[str]
) -> None:
    # The suite's plain-text Dovecot (ssl = no) does not offer STARTTLS; a stripping attacker looks the same.
    with dovecot.client() as plain:
        assert b"STARTTLS" not in plain.capabilities()
    login_calls.clear()
    account = account_for(dovecot, "starttls", tls_dovecot.ssl_context())
    # imapclient checks the capability itself (imaplib would raise IMAP4.abort "TLS not supported by server").
    with pytest.raises(CapabilityError, match="Server does not support STARTTLS capability"):
        ImapSource(account)
    assert login_calls == []
    gc.collect()


@no_leaks
def test_implicit_tls_against_the_plain_text_port_fails(tls_dovecot: Dovecot, login_calls: list[str]) -> None:
    # A wrong port: the server greets in plain text where a TLS handshake was expected.
    account = replace(account_for(tls_dovecot, "tls", tls_dovecot.ssl_context()), port=tls_dovecot.port)
    with pytest.raises(ssl.SSLError) as raised:
        ImapSource(account)
    assert not isinstance(raised.value, ssl.SSLCertVerificationError)
    assert login_calls == []
    gc.collect()


# --- the configuration path ---------------------------------------------------------------------------


def configured_mailbox(
    account: ImapAccount, security: Security, tmp_path: Path, extra: str
) -> tuple[Settings, dict[str, str]]:
    """Settings from an inboxcrm.toml naming `account` as its one IMAP mailbox, plus its environment."""
    text = f"""
[[mailboxes]]
name = "support"
kind = "support"
addresses = ["support@northwind.example"]
host = "{account.host}"
port = {account.port}
security = "{security}"
user = "{account.user}"
password_env = "INBOXCRM_TLS_PASSWORD"
{extra}
"""
    file = tmp_path / "inboxcrm.toml"
    file.write_text(text)
    environ = {"INBOXCRM_TLS_PASSWORD": account.password}
    return parse_settings(text, str(file), environ), environ


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_a_configured_tls_mailbox_verifies_against_the_system_cas(
    tls_dovecot: Dovecot, folder: str, tmp_path: Path, security: Security
) -> None:
    """inboxcrm.toml → parse_settings → bootstrap: the account has security but no ssl_context (TOML
    cannot say one), so a private CA's certificate is refused; with a context trusting it, the same
    account fetches."""
    account = account_for(tls_dovecot, security, None)
    settings, environ = configured_mailbox(account, security, tmp_path, "timeout = 10")
    (mailbox,) = settings.mailboxes

    configured = bootstrap.imap_account(mailbox, environ)
    assert configured == account  # every field, including ssl_context=None

    open_source = bootstrap.source_opener(settings, mailbox, environ)  # what the daemon's pollers call
    with pytest.raises(ssl.SSLCertVerificationError), open_source():
        pass

    raws = sample_messages(1, seed=41)
    tls_dovecot.append_many(folder, raws)
    with ImapSource(replace(configured, ssl_context=tls_dovecot.ssl_context())) as source:
        assert [m.raw for batch in source.fetch_after(folder, 0, 10) for m in batch] == raws


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_ca_file_in_the_config_trusts_a_private_ca(
    tls_dovecot: Dovecot, folder: str, tmp_path: Path, security: Security
) -> None:
    """`ca_file` (relative to the config file) is how a self-hosted server's certificate is trusted."""
    account = account_for(tls_dovecot, security, None)
    (tmp_path / "ca.pem").write_bytes(Path(tls_dovecot.ca_file).read_bytes())
    settings, environ = configured_mailbox(account, security, tmp_path, 'ca_file = "ca.pem"')
    raws = sample_messages(1, seed=42)
    tls_dovecot.append_many(folder, raws)
    with bootstrap.source_opener(settings, settings.mailboxes[0], environ)() as source:
        assert [m.raw for batch in source.fetch_after(folder, 0, 10) for m in batch][-1] == raws[-1]
