"""Settings for where teams keep their mail: OAuth2 sign-in, several daemons sharing the mailboxes, alerts.

`config.py` puts these into `Settings` (per mailbox, `[outbox]`, `[cluster]`, `[alerts]`);
`oauth2_problems` is part of what `inboxcrm check` reports about the environment. Secrets never live
in the config: client secrets and refresh tokens come from environment variables or files it names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Provider = Literal["microsoft", "google", "generic"]
Flow = Literal["client_credentials", "refresh_token", "service_account"]

MICROSOFT_AUTHORITY = "https://login.microsoftonline.com"
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
GOOGLE_AUTHORIZATION_URL = "https://accounts.google.com/o/oauth2/v2/auth"
DEFAULT_FLOW: dict[str, Flow] = {
    "microsoft": "client_credentials",
    "google": "service_account",
    "generic": "refresh_token",
}


def _duration(value: object) -> float:
    from inboxcrm.config import parse_duration  # config.py imports this module: import when called

    return parse_duration(value)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OAuth2Settings(_Strict):
    """How a mailbox (or the outbox) gets its access tokens for SASL XOAUTH2."""

    provider: Provider
    # microsoft: client_credentials (app-only, for shared mailboxes) or refresh_token (delegated, from
    # `inboxcrm auth`); google: service_account (domain-wide delegation) or refresh_token; generic: either
    flow: Flow | None = None
    client_id: str | None = None
    client_secret_env: str | None = None
    client_secret_file: str | None = None
    # refresh_token: from this environment variable, or the file `inboxcrm auth NAME` writes
    # (default var/tokens/<name>.json next to the config)
    refresh_token_env: str | None = None
    token_file: str | None = None
    # google service_account: the account's JSON key (with its private key)
    service_account_file: str | None = None
    # microsoft: the directory (tenant) id or domain; authority for national clouds
    tenant: str | None = None
    authority: str = MICROSOFT_AUTHORITY
    # generic (and overrides): the token endpoint, the RFC 8628 device endpoint, the browser sign-in page
    token_url: str | None = None
    device_url: str | None = None
    authorization_url: str | None = None
    scopes: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _complete(self) -> OAuth2Settings:
        flow = self.chosen_flow
        if self.client_secret_env and self.client_secret_file:
            raise ValueError("give at most one of client_secret_env and client_secret_file")
        if self.refresh_token_env and self.token_file:
            raise ValueError("give at most one of refresh_token_env and token_file")
        if flow == "service_account":
            if self.provider != "google":
                raise ValueError('flow = "service_account" is for provider = "google"')
            if not self.service_account_file:
                raise ValueError("a Google service account needs service_account_file (its JSON key)")
            return self
        if not self.client_id:
            raise ValueError(f'flow = "{flow}" needs client_id (the app registration\'s id)')
        if self.provider == "microsoft" and not self.tenant:
            raise ValueError('provider = "microsoft" needs tenant (the directory id or a domain such as contoso.com)')
        if self.provider == "generic" and not self.token_url:
            raise ValueError('provider = "generic" needs token_url')
        if flow == "client_credentials":
            if self.provider == "google":
                raise ValueError('Google has no client credentials for mail: use flow = "service_account"')
            if not (self.client_secret_env or self.client_secret_file):
                raise ValueError("client credentials need client_secret_env or client_secret_file")
        return self

    @property
    def chosen_flow(self) -> Flow:
        return self.flow or DEFAULT_FLOW[self.provider]

    def endpoint(self, which: Literal["token", "device", "authorization"]) -> str | None:
        """The provider's endpoint, unless the config names one."""
        given = {"token": self.token_url, "device": self.device_url, "authorization": self.authorization_url}[which]
        if given or self.provider == "generic":
            return given
        if self.provider == "microsoft":
            base = f"{self.authority.rstrip('/')}/{self.tenant}/oauth2/v2.0"
            return {"token": f"{base}/token", "device": f"{base}/devicecode", "authorization": f"{base}/authorize"}[
                which
            ]
        # Google's device flow does not allow the mail scope: `inboxcrm auth` uses the browser page instead
        return {"token": GOOGLE_TOKEN_URL, "device": None, "authorization": GOOGLE_AUTHORIZATION_URL}[which]

    def scope_list(self, smtp: bool = False) -> tuple[str, ...]:
        """The scopes to ask for: the config's, or what IMAP (or SMTP submission) needs at the provider."""
        if self.scopes:
            return self.scopes
        if self.provider == "microsoft":
            if self.chosen_flow == "client_credentials":
                return ("https://outlook.office365.com/.default",)
            what = "SMTP.Send" if smtp else "IMAP.AccessAsUser.All"
            return (f"https://outlook.office365.com/{what}", "offline_access")
        if self.provider == "google":
            return ("https://mail.google.com/",)
        return ()


class ClusterSettings(_Strict):
    # A mailbox whose daemon died (or lost the database) is fetched by another daemon within this time.
    takeover: Annotated[float, Field(ge=4, le=3600)] = 60.0

    @field_validator("takeover", mode="before")
    @classmethod
    def _takeover(cls, value: object) -> float:
        return _duration(value)


class AlertsSettings(_Strict):
    # Who gets one mail when something breaks and one when it works again (none: /health and /metrics only).
    to: tuple[str, ...] = ()
    # The From of alert mail (default: the outbox user, else the first mailbox's first address).
    sender: str | None = None
    # A mailbox or the outbox failing this long is an incident; a refused login or token is one at once.
    alert_after: Annotated[float, Field(gt=0)] = 900.0

    @field_validator("alert_after", mode="before")
    @classmethod
    def _after(cls, value: object) -> float:
        return _duration(value)

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [a for a in value if "@" not in a]
        if bad:
            raise ValueError(f"not an email address: {', '.join(bad)}")
        return tuple(a.strip().lower() for a in value)


def default_token_file(name: str) -> str:
    """Where `inboxcrm auth NAME` stores what it obtained, unless the config says otherwise."""
    return f"var/tokens/{name}.json"


def oauth2_problems(
    oauth2: OAuth2Settings | None,
    name: str,
    environ: Mapping[str, str],
    resolve: Callable[[str], Path],
) -> list[tuple[str, str]]:
    """(key under `oauth2`, what is wrong) for secrets that are missing from the environment or disk."""
    if oauth2 is None:
        return []
    problems: list[tuple[str, str]] = []
    for key in ("client_secret_env", "refresh_token_env"):
        variable = getattr(oauth2, key)
        if variable and not environ.get(variable):
            problems.append((key, f"environment variable {variable} is not set"))
    for key in ("client_secret_file", "service_account_file"):
        path = getattr(oauth2, key)
        if path and not resolve(path).is_file():
            problems.append((key, f"no file at {resolve(path)}"))
    if oauth2.chosen_flow == "refresh_token" and not oauth2.refresh_token_env:
        path = resolve(oauth2.token_file or default_token_file(name))
        if not path.is_file():
            problems.append(("token_file", f"no token at {path}: run `inboxcrm auth {name}` once to sign in"))
    return problems
