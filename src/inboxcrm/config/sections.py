"""The sections of the config file (`[database]`, `[[mailboxes]]`, `[sla]` …) as strict, frozen models, and
the durations they read ("30s", "5m", "2h", "1d")."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from inboxcrm.config.providers import OAuth2Settings
from inboxcrm.core.agent_mail import AgentMailMode, AgentMailPolicy
from inboxcrm.core.history import Backlog
from inboxcrm.core.model import MailboxKind, MailboxProfile


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Berlin)") from None
    return value


class Section(BaseModel):
    """A table of the config file: unknown keys are errors, values never change once read."""

    model_config = ConfigDict(extra="forbid", frozen=True)


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_duration(value: object) -> float:
    """`30`, `"30s"`, `"5m"`, `"2h"`, `"1d"` → seconds."""
    if isinstance(value, bool):
        raise ValueError('expected a duration such as 60, "30s", "5m" or "1h"')
    if isinstance(value, int | float):
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f'expected a duration such as 60, "30s", "5m" or "1h", got {value!r}')
    return float(match.group(1)) * _UNITS[match.group(2)]


class DatabaseSettings(Section):
    url: str = "sqlite:///var/inboxcrm.db"
    echo: bool = False


class TokenSettings(Section):
    name: str
    value: str | None = None
    value_env: str | None = None
    # read | write | admin (each includes the ones before it); admin by default, as before scopes existed
    scope: Literal["read", "write", "admin"] = "admin"

    @model_validator(mode="after")
    def _one_source(self) -> TokenSettings:
        if (self.value is None) == (self.value_env is None):
            raise ValueError("give exactly one of `value` (demo only) or `value_env` (an environment variable)")
        return self

    def secret(self, environ: Mapping[str, str]) -> str | None:
        """The token's value (inline, or from `environ`); None when its variable is unset or empty."""
        value = self.value if self.value is not None else environ.get(self.value_env or "")
        return value or None


class ApiSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    tokens: tuple[TokenSettings, ...] = ()
    # Requests per minute per token, for tokens without a limit of their own (counted per process).
    rate_limit: int = Field(default=600, ge=1)


class TeamSettings(Section):
    addresses: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()


class MailboxSettings(Section):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")]
    kind: MailboxKind = MailboxKind.OTHER
    addresses: tuple[str, ...] = Field(min_length=1)
    source: Literal["imap", "maildir"] = "imap"
    # IMAP
    host: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Literal["tls", "starttls", "none"] = "tls"
    # A CA certificate (PEM) to trust instead of the system's, for servers with a private CA.
    ca_file: str | None = None
    user: str | None = None
    password_env: str | None = None
    folders: tuple[str, ...] = ("INBOX",)
    batch_size: int = Field(default=200, ge=1, le=5000)
    mark_seen: bool = False
    move_to: str | None = None
    timeout: float = 60.0
    # Maildir
    path: str | None = None
    poll_interval: Annotated[float, Field(gt=0)] = 60.0
    # The display name on mail sent from this mailbox ("Northwind Support").
    from_name: str = ""
    # The template (in the templates folder) that acknowledges a new ticket; none = no acknowledgement.
    acknowledge: str | None = None
    # "How did we do?" when a ticket is solved: "off" (default), "reply" (below the agent's reply that solves it;
    # a mail of its own when #close comes alone) or "mail" (always a short mail of its own). README: satisfaction.
    survey: Literal["off", "reply", "mail"] = "off"
    # What automatic answers (the acknowledgement, rules' auto-replies) may repeat of the message they answer
    # (its subject, the sender's display name): "known" (default) only to a sender inboxcrm already has mail
    # of or sent mail to, so nobody can make us carry their words to a stranger; "always"; "never".
    acknowledge_echo: Literal["known", "always", "never"] = "known"
    # Mail already in a folder when inboxcrm first connects is history: stored without mailing anyone.
    # "all" (default), the last span of it ("90d", "12w"), or "none" (start from now). README: history.
    backlog: str = "all"
    # OAuth2 and IDLE (see config/providers.py): sign in with a password or an OAuth2 token (XOAUTH2); wait in
    # IDLE on the first folder when the server offers it, renewed every idle_renew (servers end it at 29 min).
    auth: Literal["password", "oauth2"] = "password"
    oauth2: OAuth2Settings | None = None
    idle: bool = True
    idle_renew: Annotated[float, Field(ge=1, le=1500)] = 300.0

    @field_validator("backlog")
    @classmethod
    def _backlog(cls, value: str) -> str:
        Backlog.parse(value)  # raises ValueError with what is expected
        return value

    @field_validator("poll_interval", "timeout", "idle_renew", mode="before")
    @classmethod
    def _duration(cls, value: object) -> float:
        return parse_duration(value)

    @field_validator("addresses")
    @classmethod
    def _lower(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [a for a in value if "@" not in a]
        if bad:
            raise ValueError(f"not an email address: {', '.join(bad)}")
        return tuple(a.strip().lower() for a in value)

    @model_validator(mode="after")
    def _source_fields(self) -> MailboxSettings:
        if self.source == "imap":
            needed = ("host", "user", "password_env") if self.auth == "password" else ("host", "user", "oauth2")
            missing = [k for k in needed if getattr(self, k) in (None, "")]
            if missing:
                raise ValueError(f"an imap mailbox needs {', '.join(missing)}")
            if self.ca_file and self.security == "none":
                raise ValueError('ca_file needs security = "tls" or "starttls"')
        elif not self.path:
            raise ValueError("a maildir mailbox needs `path`")
        return self

    @property
    def imap_port(self) -> int:
        if self.port:
            return self.port
        return 993 if self.security == "tls" else 143

    def profile(self) -> MailboxProfile:
        return MailboxProfile(name=self.name, kind=self.kind, addresses=frozenset(self.addresses))


class AgentSettings(Section):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")]
    addresses: tuple[str, ...] = Field(min_length=1)
    queues: tuple[str, ...] = ()
    # The name customers see on replies relayed from this agent (default: `name`).
    display_name: str = ""

    @field_validator("addresses")
    @classmethod
    def _lower(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [a for a in value if "@" not in a]
        if bad:
            raise ValueError(f"not an email address: {', '.join(bad)}")
        return tuple(a.strip().lower() for a in value)


class OutboxSettings(Section):
    # smtp: an SMTP submission server; file: write each message as an .eml file into `path` (the demo).
    transport: Literal["smtp", "file"] = "file"
    path: str = "var/outbox"
    host: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Literal["tls", "starttls", "none"] = "starttls"
    ca_file: str | None = None
    user: str | None = None
    password_env: str | None = None
    auth: Literal["password", "oauth2"] = "password"  # oauth2: XOAUTH2 as `user` with [outbox.oauth2]
    oauth2: OAuth2Settings | None = None
    timeout: float = 60.0
    # How often due mail is sent, and how much per round.
    interval: Annotated[float, Field(gt=0)] = 5.0
    batch_size: int = Field(default=50, ge=1, le=1000)
    # A temporary failure (4xx, connection lost) is retried after retry_first, doubling up to retry_max,
    # until give_up_after has passed since the mail was queued; then it fails like a 5xx.
    retry_first: Annotated[float, Field(gt=0)] = 60.0
    retry_max: Annotated[float, Field(gt=0)] = 3600.0
    give_up_after: Annotated[float, Field(gt=0)] = 2 * 86400.0

    @field_validator("timeout", "interval", "retry_first", "retry_max", "give_up_after", mode="before")
    @classmethod
    def _duration(cls, value: object) -> float:
        return parse_duration(value)

    @model_validator(mode="after")
    def _smtp_fields(self) -> OutboxSettings:
        if self.transport == "smtp" and not self.host:
            raise ValueError("an smtp outbox needs `host`")
        if self.auth == "oauth2" and not (self.user and self.oauth2):
            raise ValueError('auth = "oauth2" needs `user` and an [outbox.oauth2] table')
        if self.auth == "password" and self.user and not self.password_env:
            raise ValueError("`user` needs `password_env` (the environment variable holding the password)")
        return self

    @property
    def smtp_port(self) -> int:
        if self.port:
            return self.port
        return {"tls": 465, "starttls": 587, "none": 25}[self.security]


class SupportSettings(Section):
    # Solved tickets close by themselves this long after they were solved (a customer reply reopens them until then).
    close_solved_after: Annotated[float, Field(gt=0)] = 4 * 86400.0
    # How long the reply address in an agent notification keeps working.
    relay_valid_for: Annotated[float, Field(gt=0)] = 90 * 86400.0
    # The loop fuse: at most fuse_limit automatic mails caused by one sender within fuse_window.
    fuse_limit: int = Field(default=20, ge=1)
    fuse_window: Annotated[float, Field(gt=0)] = 7200.0
    # A reply held by the collision guard and not sent with #send is dropped this long after it was held.
    drop_held_after: Annotated[float, Field(gt=0)] = 86400.0

    @field_validator("close_solved_after", "relay_valid_for", "fuse_window", "drop_held_after", mode="before")
    @classmethod
    def _duration(cls, value: object) -> float:
        return parse_duration(value)


class BusinessHoursSettings(Section):
    days: tuple[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], ...] = ("mon", "tue", "wed", "thu", "fri")
    start: Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")] = "09:00"
    end: Annotated[str, Field(pattern=r"^([01][0-9]|2[0-4]):[0-5][0-9]$")] = "17:00"

    @model_validator(mode="after")
    def _order(self) -> BusinessHoursSettings:
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        if not self.days:
            raise ValueError("give at least one day")
        return self


class SlaTargetSettings(Section):
    first_response: float | None = None
    resolution: float | None = None

    @field_validator("first_response", "resolution", mode="before")
    @classmethod
    def _duration(cls, value: object) -> float | None:
        return None if value is None else parse_duration(value)


class SlaSettings(Section):
    timezone: str = "UTC"
    # Count targets in business hours only; omit to count round the clock.
    business_hours: BusinessHoursSettings | None = None
    holidays: tuple[date, ...] = ()
    # Priority → targets, e.g. high = { first_response = "1h", resolution = "1d" }.
    targets: dict[Literal["low", "normal", "high", "urgent"], SlaTargetSettings] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return _check_zone(value)


class TemplatesSettings(Section):
    dir: str = "templates"


class CampaignsSettings(Section):
    # Campaign files ([[campaign]] tables in *.toml); see campaigns/README.md.
    dir: str = "campaigns"
    # The public address of this API, for unsubscribe links (https://crm.example.com); the link's GET shows a
    # confirmation page and its POST (RFC 8058 one-click) unsubscribes.
    public_url: str = "http://127.0.0.1:8000"
    # How often due steps are queued, and the overall limit for campaign mail (messages per minute).
    interval: Annotated[float, Field(gt=0)] = 30.0
    rate_limit: int | None = Field(default=None, ge=1)
    # A hard bounce suppresses an address at once; this many soft bounces (full mailbox, spam block …)
    # within the window do too (0: soft bounces never suppress). Delays never count.
    soft_bounce_limit: int = Field(default=3, ge=0)
    soft_bounce_window: Annotated[float, Field(gt=0)] = 30 * 86_400.0

    @field_validator("interval", "soft_bounce_window", mode="before")
    @classmethod
    def _duration(cls, value: object) -> float:
        return parse_duration(value)

    @field_validator("public_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"expected an http(s) URL such as https://crm.example.com, got {value!r}")
        return value.rstrip("/")


class RulesSettings(Section):
    dir: str = "rules"
    timezone: str = "UTC"
    queues: tuple[str, ...] = ()
    # Names rules may enrol in / reply with, until campaign files and templates are loaded from their
    # own folders by the campaign and support-desk features.
    campaigns: tuple[str, ...] = ()
    templates: tuple[str, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return _check_zone(value)


class SignalSettings(Section):
    company_domain: float = 0.0
    free_mail: float = 0.0
    message_in: float = 0.0
    message_out: float = 0.0
    fast_reply: float = 0.0
    fast_reply_within: float = 86_400.0
    open_ticket: float = 0.0

    @field_validator("fast_reply_within", mode="before")
    @classmethod
    def _duration(cls, value: object) -> float:
        return parse_duration(value)


class ScoringSettings(Section):
    # Points halve every half-life; omit to keep points forever.
    half_life: float | None = None
    signals: SignalSettings = SignalSettings()
    keywords: dict[str, float] = Field(default_factory=dict)
    # Lifecycle stage → the score that earns it (stages only move forward by score).
    stages: dict[str, float] = Field(default_factory=dict)

    @field_validator("half_life", mode="before")
    @classmethod
    def _half_life(cls, value: object) -> float | None:
        return None if value is None else parse_duration(value)


class SegmentsSettings(Section):
    dir: str = "segments"


class StagesSettings(Section):
    stages: tuple[str, ...] = ()


class SecuritySettings(Section):
    # The environment variable holding the secret that signs reply tokens (support+<token>@…).
    secret_env: str | None = None
    # The secret itself, inline: for demos only (like an inline API token).
    secret: str | None = None
    # Who may act as an agent by mail (README, "Agent mail: who is trusted"; core/agent_mail.py).
    agent_mail: AgentMailMode = "relay-only"
    # The authserv-ids of the team's own receiving servers, for agent_mail = "authentication-results".
    trusted_authserv_id: tuple[str, ...] = ()

    @field_validator("trusted_authserv_id", mode="before")
    @classmethod
    def _one_or_more(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    @field_validator("trusted_authserv_id")
    @classmethod
    def _plain_ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for one in value:
            if not one.strip() or any(c.isspace() or c in ";()=" for c in one.strip()):
                raise ValueError(f"{one!r} is not an authserv-id (a host name such as mx.google.com)")
        return tuple(v.strip().lower() for v in value)

    @model_validator(mode="after")
    def _one_source(self) -> SecuritySettings:
        if self.secret is not None and self.secret_env is not None:
            raise ValueError("give at most one of `secret_env` and `secret` (demo only)")
        if self.agent_mail == "authentication-results" and not self.trusted_authserv_id:
            raise ValueError(
                'agent_mail = "authentication-results" needs trusted_authserv_id: the authserv-id your own '
                'receiving server writes (the first word of its Authentication-Results headers, e.g. "mx.google.com")'
            )
        if self.trusted_authserv_id and self.agent_mail != "authentication-results":
            raise ValueError('trusted_authserv_id is only read with agent_mail = "authentication-results"')
        return self

    def agent_mail_policy(self) -> AgentMailPolicy:
        """What makes mail from an agent's address trusted (core/agent_mail.py)."""
        return AgentMailPolicy(self.agent_mail, frozenset(self.trusted_authserv_id))


class IngestSettings(Section):
    parse_workers: int = Field(default=2, ge=0, le=64)
    parallel_from: int = Field(default=64, ge=1)
    # issue 17 (hostile mail): a larger message is kept raw and quarantined unread; new contacts per message
    max_message_bytes: int = Field(default=50_000_000, ge=100_000)
    new_contacts_per_message: int = Field(default=20, ge=1)


class LoggingSettings(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"
