"""Builds what OAuth2 sign-in needs from the settings: the token request of a mailbox or of the outbox.

Part of the wiring (like `bootstrap`): secrets are read here, from the environment or from the files the
config names, never from the config itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from inboxcrm.adapters.oauth2 import AccessTokens, TokenRequest
from inboxcrm.config import Settings
from inboxcrm.config.providers import OAuth2Settings, default_token_file


def _secret(oauth2: OAuth2Settings, environ: Mapping[str, str], settings: Settings) -> str | None:
    if oauth2.client_secret_env:
        return environ.get(oauth2.client_secret_env) or None
    if oauth2.client_secret_file:
        return settings.resolve(oauth2.client_secret_file).read_text(encoding="utf-8").strip() or None
    return None


def token_file(oauth2: OAuth2Settings, name: str, settings: Settings) -> Path:
    """Where `inboxcrm auth NAME` stores the refresh token (and the daemon reads it)."""
    return settings.resolve(oauth2.token_file or default_token_file(name))


def token_request(
    oauth2: OAuth2Settings,
    name: str,
    user: str | None,
    settings: Settings,
    environ: Mapping[str, str],
    smtp: bool = False,
    timeout: float = 30.0,
) -> TokenRequest:
    """How mailbox (or outbox) `name`, logging in as `user`, gets its access tokens."""
    flow = oauth2.chosen_flow
    url = oauth2.endpoint("token")
    account: dict[str, str] | None = None
    if flow == "service_account":
        assert oauth2.service_account_file is not None  # guaranteed by config validation
        account = json.loads(settings.resolve(oauth2.service_account_file).read_text(encoding="utf-8"))
        url = url if oauth2.token_url else (account or {}).get("token_uri") or url
    assert url is not None  # every provider has a token endpoint (generic: required by validation)
    refresh = environ.get(oauth2.refresh_token_env) if oauth2.refresh_token_env else None
    return TokenRequest(
        flow=flow,
        token_url=url,
        scopes=oauth2.scope_list(smtp),
        client_id=oauth2.client_id,
        client_secret=_secret(oauth2, environ, settings),
        refresh_token=refresh or None,
        token_file=None if refresh or flow != "refresh_token" else token_file(oauth2, name, settings),
        service_account=account,
        subject=user,
        timeout=timeout,
    )


def access_tokens(
    oauth2: OAuth2Settings | None,
    name: str,
    user: str | None,
    settings: Settings,
    environ: Mapping[str, str],
    smtp: bool = False,
) -> AccessTokens | None:
    """The token cache of mailbox (or outbox) `name`, or None when it logs in with a password."""
    if oauth2 is None:
        return None
    return AccessTokens(token_request(oauth2, name, user, settings, environ, smtp))
