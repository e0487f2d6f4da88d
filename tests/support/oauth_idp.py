"""A loopback OAuth2 identity provider: the one third party the OAuth2 tests play themselves.

It is a real HTTP server on 127.0.0.1 (the standard library's, in a thread) that speaks just enough of
what Microsoft's and Google's token endpoints speak for inboxcrm's token code to run against it unchanged:

- `POST /token`: the grants `client_credentials` (Microsoft app-only), `refresh_token` (delegated; the
  refresh token may be rotated), `urn:ietf:params:oauth:grant-type:device_code` (RFC 8628; the first poll
  answers `authorization_pending`, later ones succeed once the test approved the code, which by default
  happens at once) and `urn:ietf:params:oauth:grant-type:jwt-bearer` (RFC 7523: Google service accounts;
  the assertion's signature is checked with the service account's public key, and `sub` names the user).
  Microsoft tenants appear as a path prefix: `/<tenant>/oauth2/v2.0/token` works as well.
- `GET /authorize`: the browser sign-in (authorization code with PKCE): signs the person in at once and
  redirects to `redirect_uri` with a code, which `POST /token` (`authorization_code`) exchanges.
- `POST /devicecode` (also `/<tenant>/oauth2/v2.0/devicecode`): RFC 8628 device authorization.
- `POST /introspect?user=…` (RFC 7662 token introspection; also `GET` with the token as a bearer header,
  Dovecot's `introspection_mode = auth`), for Dovecot's `oauth2` passdb and the test SMTP server. An
  access token is active while it has not expired or been revoked; the answer names the user it was
  issued for (`username`, which Dovecot compares with the login name; with `?user=`, a token for another
  user is inactive). App-only tokens are for `app_mailbox`: Dovecot 2.3.19 cannot put the login name
  into the introspection URL, so the test provider cannot answer per mailbox.

Tests change its behaviour: `lifetime` of new access tokens, `revoke_access_tokens()`,
`revoke_refresh_token()`, `rotate_refresh_tokens`; and read what happened: `grants` (one entry per token
issued, by grant type), `introspections`.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.support.dovecot import Dovecot, start_dovecot

HOST = "127.0.0.1"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass
class _Token:
    users: frozenset[str]  # who it may log in as
    expires: float  # time.monotonic()
    revoked: bool = False


@dataclass
class ServiceAccount:
    """A Google service account: its key file's JSON (with the private key) and the public half."""

    email: str
    key: RSAKey
    token_uri: str

    def key_file_json(self) -> dict[str, str]:
        """What Google's console downloads as the account's JSON key."""
        return {
            "type": "service_account",
            "client_email": self.email,
            "private_key": self.key.as_pem(private=True).decode(),
            "private_key_id": "test-key",
            "token_uri": self.token_uri,
        }


@dataclass
class IdentityProvider:
    """The server's state; `url` is its base address once started."""

    client_id: str = "inboxcrm-test-app"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    # the mailbox app-only (client credentials) tokens may open
    app_mailbox: str = "inboxcrm"
    lifetime: float = 3600.0
    rotate_refresh_tokens: bool = False
    approve_devices: bool = True
    url: str = ""
    grants: list[str] = field(default_factory=list)
    introspections: int = 0
    _access: dict[str, _Token] = field(default_factory=dict)
    _refresh: dict[str, str] = field(default_factory=dict)  # refresh token → user
    _devices: dict[str, tuple[str, int]] = field(default_factory=dict)  # device code → (user, polls)
    _accounts: dict[str, ServiceAccount] = field(default_factory=dict)
    _codes: dict[str, tuple[str, str]] = field(default_factory=dict)  # code → (user, PKCE challenge)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    # --- what a test arranges ---------------------------------------------------------------------

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    @property
    def device_url(self) -> str:
        return f"{self.url}/devicecode"

    def refresh_token_for(self, user: str) -> str:
        """A refresh token for `user`, as if they had consented in a browser."""
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._refresh[token] = user
        return token

    def service_account(self, email: str = "inboxcrm@project.iam.gserviceaccount.test") -> ServiceAccount:
        account = ServiceAccount(email, RSAKey.generate_key(2048), self.token_url)
        with self._lock:
            self._accounts[email] = account
        return account

    def device_code_user(self, user: str) -> None:
        """The user who signs in next (device code or browser; on the provider's page, in real life)."""
        self._next_device_user = user

    def revoke_access_tokens(self) -> None:
        """Every access token issued so far stops working (as when a server ends a session early)."""
        with self._lock:
            for token in self._access.values():
                token.revoked = True

    def revoke_refresh_token(self, token: str | None = None) -> None:
        """One refresh token (or all of them) stops working: an admin revoked the app's consent."""
        with self._lock:
            for key in [token] if token else list(self._refresh):
                self._refresh.pop(key, None)

    def count(self, grant: str) -> int:
        with self._lock:
            return self.grants.count(grant)

    # --- the protocol ----------------------------------------------------------------------------

    def _issue(self, grant: str, users: frozenset[str], refresh_user: str | None = None) -> dict[str, Any]:
        access = secrets.token_urlsafe(24)
        body: dict[str, Any] = {"access_token": access, "token_type": "Bearer", "expires_in": int(self.lifetime)}
        with self._lock:
            self._access[access] = _Token(users, time.monotonic() + self.lifetime)
            self.grants.append(grant)
            if refresh_user is not None:
                body["refresh_token"] = new = secrets.token_urlsafe(24)
                self._refresh[new] = refresh_user
        return body

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        grant = form.get("grant_type", "")
        if grant == "client_credentials":
            if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
                return 401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret"}
            return 200, self._issue(grant, frozenset({self.app_mailbox}))
        if grant == "refresh_token":
            with self._lock:
                user = self._refresh.get(form.get("refresh_token", ""))
                if user is not None and self.rotate_refresh_tokens:
                    del self._refresh[form["refresh_token"]]
            if user is None:
                revoked = "AADSTS70000: the refresh token was revoked"
                return 400, {"error": "invalid_grant", "error_description": revoked}
            body = self._issue(grant, frozenset({user}), user if self.rotate_refresh_tokens else None)
            return 200, body
        if grant == DEVICE_GRANT:
            with self._lock:
                found = self._devices.get(form.get("device_code", ""))
                if found is None:
                    return 400, {"error": "expired_token"}
                user, polls = found
                self._devices[form["device_code"]] = (user, polls + 1)
            if polls == 0 or not self.approve_devices:
                return 400, {"error": "authorization_pending"}
            with self._lock:
                del self._devices[form["device_code"]]
            return 200, self._issue(grant, frozenset({user}), user)
        if grant == "authorization_code":
            with self._lock:
                found = self._codes.pop(form.get("code", ""), None)
            if found is None or found[1] != _s256(form.get("code_verifier", "")):
                return 400, {"error": "invalid_grant", "error_description": "unknown code or wrong PKCE verifier"}
            return 200, self._issue(grant, frozenset({found[0]}), found[0])
        if grant == JWT_GRANT:
            return self._jwt_bearer(form.get("assertion", ""))
        return 400, {"error": "unsupported_grant_type"}

    def _jwt_bearer(self, assertion: str) -> tuple[int, dict[str, Any]]:
        try:
            claims = jwt.decode(assertion, self._any_key(assertion)).claims
        except Exception as exc:
            return 400, {"error": "invalid_grant", "error_description": f"bad assertion: {exc}"}
        if claims.get("aud") != self.token_url or claims.get("exp", 0) < time.time():
            return 400, {"error": "invalid_grant", "error_description": "wrong audience or expired"}
        return 200, self._issue(JWT_GRANT, frozenset({claims.get("sub") or claims["iss"]}))

    def _any_key(self, assertion: str) -> RSAKey:
        issuer = json.loads(_b64(assertion.split(".")[1])).get("iss", "")
        with self._lock:
            account = self._accounts.get(issuer)
        if account is None:
            raise ValueError(f"unknown service account {issuer!r}")
        return account.key

    def authorization_code(self, challenge: str) -> str:
        code = secrets.token_urlsafe(16)
        with self._lock:
            self._codes[code] = (getattr(self, "_next_device_user", "admin@northwind.example"), challenge)
        return code

    def device_code(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if form.get("client_id") != self.client_id:
            return 400, {"error": "invalid_client"}
        code = secrets.token_urlsafe(16)
        with self._lock:
            self._devices[code] = (getattr(self, "_next_device_user", "admin@northwind.example"), 0)
        return 200, {
            "device_code": code,
            "user_code": "TEST-CODE",
            "verification_uri": f"{self.url}/device",
            "expires_in": 900,
            "interval": 1,
            "message": f"To sign in, open {self.url}/device and enter the code TEST-CODE.",
        }

    def introspect(self, form: dict[str, str], user: str | None) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.introspections += 1
            token = self._access.get(form.get("token", ""))
            active = token is not None and not token.revoked and token.expires > time.monotonic()
            if active and token is not None and user is not None and user not in token.users:
                active = False
        if not active:
            return 200, {"active": False}
        return 200, {"active": True, "username": user or next(iter(token.users)) if token else ""}

    # --- the server ------------------------------------------------------------------------------

    def start(self) -> IdentityProvider:
        server = ThreadingHTTPServer((HOST, 0), _handler(self))
        server.daemon_threads = True
        self._server = server
        self.url = f"http://{HOST}:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, name="oauth-idp", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def _s256(verifier: str) -> str:
    import base64
    import hashlib

    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _b64(part: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _handler(idp: IdentityProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet: pytest shows failures anyway
            pass

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path.endswith("/authorize"):  # the browser sign-in: signed in at once, sent back with a code
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                code = idp.authorization_code(query.get("code_challenge", ""))
                self.send_response(302)
                self.send_header("Location", f"{query['redirect_uri']}?code={code}&state={query.get('state', '')}")
                self.end_headers()
                return
            # Dovecot's introspection_mode = auth: GET with the token as a bearer header
            bearer = self.headers.get("Authorization", "").removeprefix("Bearer ")
            self._answer(urlsplit(self.path), {"token": bearer})

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            form = {k: v[0] for k, v in parse_qs(raw).items()}
            if "client_id" not in form and self.headers.get("Authorization", "").startswith("Basic "):
                import base64

                client_id, _, secret = base64.b64decode(self.headers["Authorization"][6:]).decode().partition(":")
                form.update(client_id=client_id, client_secret=secret)
            self._answer(url, form)

        def _answer(self, url: Any, form: dict[str, str]) -> None:
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            path = url.path
            if path.endswith("/token"):
                status, body = idp.token(form)
            elif path.endswith("/devicecode"):
                status, body = idp.device_code(form)
            elif path.endswith("/introspect"):
                status, body = idp.introspect(form, query.get("user"))
            else:
                status, body = 404, {"error": "not_found"}
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


# The OAuth2 IMAP tests' fixtures: a test module imports them to have them (one of each per module).


@pytest.fixture(scope="module")
def idp() -> Iterator[IdentityProvider]:
    """A loopback identity provider for the test module."""
    server = IdentityProvider().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def oauth_dovecot(tmp_path_factory: pytest.TempPathFactory, idp: IdentityProvider) -> Iterator[Dovecot]:
    """A Dovecot of the test module's own whose `oauth2` passdb asks `idp` about every token."""
    server = start_dovecot(tmp_path_factory.mktemp("dovecot-oauth"), introspection_url=f"{idp.url}/introspect")
    yield server
    server.stop()
