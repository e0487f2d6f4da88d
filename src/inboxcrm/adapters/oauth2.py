"""Access tokens for SASL XOAUTH2 (IMAP and SMTP): Microsoft 365, Google, or any OAuth2 token endpoint.

authlib does the OAuth2 work over requests: the client credentials and refresh token grants (RFC 6749),
and the JWT bearer assertion (RFC 7523) that a Google service account signs to act as a user of its
domain (domain-wide delegation). One library speaks to all three providers: their token endpoints are
standard, and what inboxcrm needs from each is one grant.

`AccessTokens.token()` hands out a cached token and fetches a new one before the old one expires (5
minutes before, or half its lifetime for short-lived ones); `token(force=True)` fetches one whatever our
clock says (a server refused the cached one). A refusal by the identity provider (revoked consent, a
wrong or expired secret) raises `TokenRefused`, which needs a person; anything else (network, 5xx) raises
`TokenUnavailable`, which the caller retries with backoff.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from inboxcrm.adapters import token_store
from inboxcrm.core.alerts import TokenRefused

if TYPE_CHECKING:
    from authlib.integrations.requests_client import OAuth2Session

# authlib, requests and joserfc are imported by the first token asked for: a daemon whose mailboxes sign in
# with passwords never loads them (~13 MB).

log = logging.getLogger(__name__)

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
MARGIN = 300.0
# errors after which asking again cannot help: a person must sign in again or fix the app registration
_REFUSALS = frozenset(
    {
        "invalid_grant",
        "invalid_client",
        "unauthorized_client",
        "access_denied",
        "invalid_scope",
        "consent_required",
        "interaction_required",
        "expired_token",
    }
)


class TokenUnavailable(Exception):
    """The identity provider could not be asked (network, timeout, a 5xx): try again later."""


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """How to get access tokens for one mailbox (or the outbox)."""

    flow: Literal["client_credentials", "refresh_token", "service_account"]
    token_url: str
    scopes: tuple[str, ...] = ()
    client_id: str | None = None
    client_secret: str | None = None
    # refresh_token: from the environment, or the file `inboxcrm auth` wrote (new tokens are written back)
    refresh_token: str | None = None
    token_file: Path | None = None
    # service_account: the account's JSON key, and the user it acts as
    service_account: Mapping[str, str] | None = None
    subject: str | None = None
    timeout: float = 30.0


def _client(request: TokenRequest) -> OAuth2Session:
    from authlib.integrations.requests_client import OAuth2Session

    method = "client_secret_post" if request.client_secret else "none"
    return OAuth2Session(
        request.client_id,
        request.client_secret,
        scope=" ".join(request.scopes) or None,
        token_endpoint_auth_method=method,
        default_timeout=request.timeout,
    )


def refused_or_unavailable(exc: Exception, what: str) -> Exception:
    """The error to raise for a failed token request: TokenRefused when asking again cannot help."""
    import requests
    from authlib.integrations.requests_client import OAuthError

    if isinstance(exc, OAuthError):
        text = f"{what}: {exc.error}" + (f" ({exc.description})" if exc.description else "")
        return TokenRefused(text) if exc.error in _REFUSALS else TokenUnavailable(text)
    if isinstance(exc, requests.RequestException | OSError | ValueError):
        return TokenUnavailable(f"{what}: {type(exc).__name__}: {exc}")
    return TokenUnavailable(f"{what}: {exc!r}")


def fetch(request: TokenRequest) -> dict[str, Any]:
    """One token response from the identity provider (access_token, expires_in …)."""
    try:
        if request.flow == "client_credentials":
            with _client(request) as client:
                return dict(client.fetch_token(request.token_url, grant_type="client_credentials"))
        if request.flow == "service_account":
            return _service_account(request)
        stored = token_store.load(request.token_file) if request.token_file and not request.refresh_token else None
        refresh = request.refresh_token or (stored or {}).get("refresh_token")
        with _client(request) as client:
            token = dict(client.refresh_token(request.token_url, refresh_token=refresh))
        new = token.get("refresh_token")
        if stored is not None and request.token_file and new and new != refresh:
            about = {k: v for k, v in stored.items() if k not in ("refresh_token", "saved_at")}
            token_store.save(request.token_file, new, **about)  # Microsoft rotates them; keep the newest
        return token
    except TokenRefused:
        raise
    except Exception as exc:
        raise refused_or_unavailable(exc, f"token request to {request.token_url} failed") from exc


def _service_account(request: TokenRequest) -> dict[str, Any]:
    from authlib.integrations.requests_client import AssertionSession
    from joserfc.jwk import RSAKey

    key = request.service_account or {}
    token_url = key.get("token_uri") or request.token_url
    session = AssertionSession(
        token_endpoint=token_url,
        issuer=key.get("client_email"),
        subject=request.subject,
        audience=token_url,
        claims={"scope": " ".join(request.scopes)},
        header={"alg": "RS256", "kid": key.get("private_key_id", "")},
        key=RSAKey.import_key(key.get("private_key", "")),
        default_timeout=request.timeout,
    )
    with session:
        return dict(session.refresh_token())


class AccessTokens:
    """A thread-safe cache of one access token, refreshed before it expires."""

    def __init__(
        self,
        request: TokenRequest,
        clock: Callable[[], float] = time.time,
        fetcher: Callable[[TokenRequest], dict[str, Any]] = fetch,
    ) -> None:
        self.request = request
        self._clock = clock
        self._fetch = fetcher
        self._lock = threading.Lock()
        self._value: str | None = None
        self._expires_at = 0.0
        self._refresh_at = 0.0

    @property
    def expires_at(self) -> float | None:
        """When the cached token expires (the clock's seconds), or None before the first one."""
        return self._expires_at if self._value is not None else None

    def token(self, force: bool = False) -> str:
        with self._lock:
            now = self._clock()
            if force or self._value is None or now >= self._refresh_at:
                body = self._fetch(self.request)
                value = body.get("access_token")
                if not isinstance(value, str) or not value:
                    raise TokenUnavailable(f"{self.request.token_url} answered without an access_token")
                lifetime = float(body.get("expires_in") or 3600)
                self._value = value
                self._expires_at = now + lifetime
                self._refresh_at = now + lifetime - min(MARGIN, lifetime / 2)
                log.info("new access token from %s (valid %.0fs)", self.request.token_url, lifetime)
            return self._value

    def refresh_due_at(self) -> float | None:
        """When the cached token should be replaced: a session should end (and log in anew) by then."""
        return self._refresh_at if self._value is not None else None
