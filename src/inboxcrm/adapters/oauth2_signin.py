"""Signing in once as a person, for `inboxcrm auth`: what the daemon needs afterwards is a refresh token.

Two ways, both with authlib: the device flow (RFC 8628; Microsoft and any provider with a device endpoint)
shows a code to enter on the provider's page from any browser, and polls until the person has signed in;
the browser flow (authorization code with PKCE; Google, whose device flow does not allow the mail scope)
shows a sign-in address and takes back the address the browser ends on, which holds the code.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from typing import Any

from authlib.integrations.requests_client import OAuth2Session, OAuthError

from inboxcrm.adapters.oauth2 import DEVICE_GRANT, refused_or_unavailable
from inboxcrm.core.alerts import TokenRefused

# Google sends a desktop app's browser here when done; nothing listens, the address bar holds the code
LOOPBACK_REDIRECT = "http://127.0.0.1:1/"


def _session(client_id: str, client_secret: str | None, scopes: Sequence[str], **extra: Any) -> OAuth2Session:
    return OAuth2Session(
        client_id,
        client_secret,
        scope=" ".join(scopes) or None,
        token_endpoint_auth_method="client_secret_post" if client_secret else "none",
        default_timeout=30,
        **extra,
    )


def device_sign_in(
    device_url: str,
    token_url: str,
    client_id: str,
    client_secret: str | None,
    scopes: Sequence[str],
    show: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """The token response once the person has entered the code shown by `show` (raises TokenRefused)."""
    with _session(client_id, client_secret, scopes) as client:
        try:
            answer = client.post(
                device_url, data={"client_id": client_id, "scope": " ".join(scopes)}, timeout=30, withhold_token=True
            )
            answer.raise_for_status()
            device = answer.json()
        except Exception as exc:
            raise refused_or_unavailable(exc, f"device sign-in at {device_url} failed") from exc
        show(
            device.get("message")
            or f"Open {device['verification_uri']} in a browser and enter the code {device['user_code']}."
        )
        interval = float(device.get("interval") or 5)
        deadline = time.monotonic() + float(device.get("expires_in") or 900)
        while time.monotonic() < deadline:
            sleep(interval)
            try:
                return dict(client.fetch_token(token_url, grant_type=DEVICE_GRANT, device_code=device["device_code"]))
            except OAuthError as exc:
                if exc.error == "authorization_pending":
                    continue
                if exc.error == "slow_down":
                    interval += 5
                    continue
                raise refused_or_unavailable(exc, "sign-in failed") from exc
    raise TokenRefused("the code expired before anyone signed in: run `inboxcrm auth` again")


def browser_sign_in(
    authorization_url: str,
    token_url: str,
    client_id: str,
    client_secret: str | None,
    scopes: Sequence[str],
    ask: Callable[[str], str],
) -> dict[str, Any]:
    """The token response after the person signed in at the address given to `ask`, which returns the
    address the browser ended on."""
    verifier = secrets.token_urlsafe(48)
    with _session(client_id, client_secret, scopes, redirect_uri=LOOPBACK_REDIRECT, code_challenge_method="S256") as c:
        url, _state = c.create_authorization_url(
            authorization_url, code_verifier=verifier, access_type="offline", prompt="consent"
        )
        landed = ask(url).strip()
        try:
            return dict(c.fetch_token(token_url, authorization_response=landed, code_verifier=verifier))
        except Exception as exc:
            raise refused_or_unavailable(exc, "sign-in failed") from exc
