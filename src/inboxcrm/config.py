"""TOML → frozen, validated settings. Secrets come from the environment, never from the file.

`load_settings` either returns `Settings` or raises `ConfigError` carrying *every* problem found,
each with the file, the line, the key and what was expected.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from inboxcrm.core.model import MailboxKind, MailboxProfile, Team


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a config file, located as precisely as we can."""

    file: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class ConfigError(Exception):
    """The config cannot be used; `problems` lists everything that is wrong."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Berlin)") from None
    return value


class _Strict(BaseModel):
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


class DatabaseSettings(_Strict):
    url: str = "sqlite:///var/inboxcrm.db"
    echo: bool = False


class TokenSettings(_Strict):
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


class ApiSettings(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    tokens: tuple[TokenSettings, ...] = ()
    # Requests per minute per token, for tokens without a limit of their own (counted per process).
    rate_limit: int = Field(default=600, ge=1)


class TeamSettings(_Strict):
    addresses: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()


class MailboxSettings(_Strict):
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

    @field_validator("poll_interval", "timeout", mode="before")
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
            missing = [k for k in ("host", "user", "password_env") if getattr(self, k) in (None, "")]
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


class AgentSettings(_Strict):
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


class OutboxSettings(_Strict):
    # smtp: an SMTP submission server; file: write each message as an .eml file into `path` (the demo).
    transport: Literal["smtp", "file"] = "file"
    path: str = "var/outbox"
    host: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Literal["tls", "starttls", "none"] = "starttls"
    ca_file: str | None = None
    user: str | None = None
    password_env: str | None = None
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
        if self.user and not self.password_env:
            raise ValueError("`user` needs `password_env` (the environment variable holding the password)")
        return self

    @property
    def smtp_port(self) -> int:
        if self.port:
            return self.port
        return {"tls": 465, "starttls": 587, "none": 25}[self.security]


class SupportSettings(_Strict):
    # Solved tickets close by themselves this long after they were solved (a customer reply reopens them until then).
    close_solved_after: Annotated[float, Field(gt=0)] = 4 * 86400.0
    # How long the reply address in an agent notification keeps working.
    relay_valid_for: Annotated[float, Field(gt=0)] = 90 * 86400.0
    # The loop fuse: at most fuse_limit automatic mails caused by one sender within fuse_window.
    fuse_limit: int = Field(default=20, ge=1)
    fuse_window: Annotated[float, Field(gt=0)] = 7200.0

    @field_validator("close_solved_after", "relay_valid_for", "fuse_window", mode="before")
    @classmethod
    def _duration(cls, value: object) -> float:
        return parse_duration(value)


class BusinessHoursSettings(_Strict):
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


class SlaTargetSettings(_Strict):
    first_response: float | None = None
    resolution: float | None = None

    @field_validator("first_response", "resolution", mode="before")
    @classmethod
    def _duration(cls, value: object) -> float | None:
        return None if value is None else parse_duration(value)


class SlaSettings(_Strict):
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


class TemplatesSettings(_Strict):
    dir: str = "templates"


class CampaignsSettings(_Strict):
    # Campaign files ([[campaign]] tables in *.toml); see campaigns/README.md.
    dir: str = "campaigns"
    # The public address of this API, for unsubscribe links (https://crm.example.com); the link's GET shows a
    # confirmation page and its POST (RFC 8058 one-click) unsubscribes.
    public_url: str = "http://127.0.0.1:8000"
    # How often due steps are queued, and the overall limit for campaign mail (messages per minute).
    interval: Annotated[float, Field(gt=0)] = 30.0
    rate_limit: int | None = Field(default=None, ge=1)

    @field_validator("interval", mode="before")
    @classmethod
    def _duration(cls, value: object) -> float:
        return parse_duration(value)

    @field_validator("public_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"expected an http(s) URL such as https://crm.example.com, got {value!r}")
        return value.rstrip("/")


class RulesSettings(_Strict):
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


class SignalSettings(_Strict):
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


class ScoringSettings(_Strict):
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


class SegmentsSettings(_Strict):
    dir: str = "segments"


class StagesSettings(_Strict):
    stages: tuple[str, ...] = ()


class SecuritySettings(_Strict):
    # The environment variable holding the secret that signs reply tokens (support+<token>@…).
    secret_env: str | None = None
    # The secret itself, inline: for demos only (like an inline API token).
    secret: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> SecuritySettings:
        if self.secret is not None and self.secret_env is not None:
            raise ValueError("give at most one of `secret_env` and `secret` (demo only)")
        return self


class IngestSettings(_Strict):
    parse_workers: int = Field(default=2, ge=0, le=64)
    parallel_from: int = Field(default=64, ge=1)
    # issue 17 (hostile mail): a larger message is kept raw and quarantined unread; new contacts per message
    max_message_bytes: int = Field(default=50_000_000, ge=100_000)
    new_contacts_per_message: int = Field(default=20, ge=1)


class LoggingSettings(_Strict):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"


class Settings(_Strict):
    """The whole validated configuration. Relative paths are resolved against the config file."""

    database: DatabaseSettings = DatabaseSettings()
    api: ApiSettings = ApiSettings()
    team: TeamSettings = TeamSettings()
    mailboxes: tuple[MailboxSettings, ...] = ()
    ingest: IngestSettings = IngestSettings()
    security: SecuritySettings = SecuritySettings()
    agents: tuple[AgentSettings, ...] = ()
    rules: RulesSettings = RulesSettings()
    segments: SegmentsSettings = SegmentsSettings()
    scoring: ScoringSettings = ScoringSettings()
    lifecycle: StagesSettings = StagesSettings(stages=("subscriber", "lead", "mql", "sql", "customer"))
    pipeline: StagesSettings = StagesSettings(stages=("qualified", "proposal", "won", "lost"))
    logging: LoggingSettings = LoggingSettings()
    outbox: OutboxSettings = OutboxSettings()
    support: SupportSettings = SupportSettings()
    sla: SlaSettings = SlaSettings()
    templates: TemplatesSettings = TemplatesSettings()
    campaigns: CampaignsSettings = CampaignsSettings()
    base_dir: str = "."

    @model_validator(mode="after")
    def _scoring_stages_exist(self) -> Settings:
        unknown = sorted(set(self.scoring.stages) - set(self.lifecycle.stages))
        if unknown:
            raise ValueError(
                f"[scoring] stages names unknown lifecycle stage(s): {', '.join(unknown)} "
                f"(the [lifecycle] stages are: {', '.join(self.lifecycle.stages)})"
            )
        return self

    @model_validator(mode="after")
    def _unique_names(self) -> Settings:
        names = [m.name for m in self.mailboxes]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"mailbox names must be unique; repeated: {', '.join(dupes)}")
        return self

    def team_profile(self) -> Team:
        shared = {a for m in self.mailboxes for a in m.addresses}
        agents = {a for agent in self.agents for a in agent.addresses}
        return Team(
            addresses=frozenset({a.lower() for a in (*self.team.addresses, *agents)} | shared),
            domains=frozenset(d.lower() for d in self.team.domains),
        )

    def mailbox(self, name: str) -> MailboxSettings:
        for mailbox in self.mailboxes:
            if mailbox.name == name:
                return mailbox
        raise KeyError(name)

    def resolve(self, path: str) -> Path:
        candidate = Path(path)
        return candidate if candidate.is_absolute() else Path(self.base_dir) / candidate

    def database_url(self) -> str:
        """The SQLAlchemy URL, with a relative SQLite path made relative to the config file."""
        url = self.database.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
            return prefix + str(self.resolve(url[len(prefix) :]))
        return url

    def reply_secret(self, environ: Mapping[str, str]) -> bytes | None:
        """The key that signs reply tokens, or None when none is configured."""
        if self.security.secret:
            return self.security.secret.encode()
        value = environ.get(self.security.secret_env or "") if self.security.secret_env else None
        return value.encode() if value else None

    def api_tokens(self, environ: Mapping[str, str]) -> dict[str, str]:
        """Token value → token name, reading `value_env` tokens from `environ`."""
        tokens: dict[str, str] = {}
        for token in self.api.tokens:
            value = token.secret(environ)
            if value:
                tokens[value] = token.name
        return tokens


def _key_lines(text: str) -> dict[tuple[str | int, ...], int]:
    """Map each key path in a TOML document to the line that defines it (tables and arrays of tables)."""
    lines: dict[tuple[str | int, ...], int] = {}
    table: tuple[str | int, ...] = ()
    counters: dict[tuple[str | int, ...], int] = {}
    header = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    key = re.compile(r"^\s*([A-Za-z0-9_.\"'-]+)\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        found = header.match(line)
        if found:
            path = tuple(part.strip().strip("\"'") for part in found.group(2).split("."))
            if found.group(1) == "[[":
                index = counters.get(path, -1) + 1
                counters[path] = index
                table = (*path, index)
            else:
                table = path
            lines.setdefault(table, number)
            continue
        found = key.match(line)
        if found:
            path = tuple(part.strip().strip("\"'") for part in found.group(1).split("."))
            lines.setdefault((*table, *path), number)
    return lines


def _locate(lines: Mapping[tuple[str | int, ...], int], loc: tuple[str | int, ...]) -> int | None:
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _dotted(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _environment_problems(
    settings: Settings, file: str, lines: Mapping[tuple[str | int, ...], int], environ: Mapping[str, str]
) -> list[Problem]:
    problems: list[Problem] = []
    for index, mailbox in enumerate(settings.mailboxes):
        loc: tuple[str | int, ...] = ("mailboxes", index)
        if mailbox.source == "imap" and mailbox.password_env and not environ.get(mailbox.password_env):
            problems.append(
                Problem(
                    file,
                    _locate(lines, (*loc, "password_env")),
                    _dotted((*loc, "password_env")),
                    f"environment variable {mailbox.password_env} is not set",
                )
            )
        if mailbox.ca_file and not settings.resolve(mailbox.ca_file).is_file():
            problems.append(
                Problem(
                    file,
                    _locate(lines, (*loc, "ca_file")),
                    _dotted((*loc, "ca_file")),
                    f"no CA certificate at {settings.resolve(mailbox.ca_file)}",
                )
            )
        folder = settings.resolve(settings.templates.dir)
        if mailbox.acknowledge and not (folder / f"{mailbox.acknowledge}.subject.j2").is_file():
            problems.append(
                Problem(
                    file,
                    _locate(lines, (*loc, "acknowledge")),
                    _dotted((*loc, "acknowledge")),
                    f"no template {mailbox.acknowledge!r}: expected {folder / mailbox.acknowledge}.subject.j2 "
                    "and .text.j2",
                )
            )
        if mailbox.source == "maildir" and mailbox.path and not settings.resolve(mailbox.path).is_dir():
            problems.append(
                Problem(
                    file,
                    _locate(lines, (*loc, "path")),
                    _dotted((*loc, "path")),
                    f"no Maildir at {settings.resolve(mailbox.path)}",
                )
            )
    outbox = settings.outbox
    if outbox.transport == "smtp" and outbox.password_env and not environ.get(outbox.password_env):
        loc = ("outbox", "password_env")
        problems.append(
            Problem(file, _locate(lines, loc), _dotted(loc), f"environment variable {outbox.password_env} is not set")
        )
    if outbox.transport == "smtp" and outbox.ca_file and not settings.resolve(outbox.ca_file).is_file():
        loc = ("outbox", "ca_file")
        problems.append(
            Problem(file, _locate(lines, loc), _dotted(loc), f"no CA certificate at {settings.resolve(outbox.ca_file)}")
        )
    secret = settings.security.secret_env
    if secret and not environ.get(secret):
        loc = ("security", "secret_env")
        problems.append(Problem(file, _locate(lines, loc), _dotted(loc), f"environment variable {secret} is not set"))
    for index, token in enumerate(settings.api.tokens):
        loc = ("api", "tokens", index)
        if token.value_env and not environ.get(token.value_env):
            problems.append(
                Problem(
                    file,
                    _locate(lines, (*loc, "value_env")),
                    _dotted((*loc, "value_env")),
                    f"environment variable {token.value_env} is not set",
                )
            )
    return problems


def parse_settings(text: str, file: str, environ: Mapping[str, str], check_environment: bool = True) -> Settings:
    """Validate TOML `text` (read from `file`); raise ConfigError listing every problem."""
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise ConfigError(
            [Problem(file, int(match.group(1)) if match else None, "", f"not valid TOML: {exc}")]
        ) from None
    lines = _key_lines(text)
    data["base_dir"] = str(Path(file).resolve().parent)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = "unknown key (check the spelling against config.example.toml)"
            elif "input" in error and error["type"] not in ("missing",) and not isinstance(error["input"], dict):
                message += f" (got {error['input']!r})"
            problems.append(Problem(file, _locate(lines, loc), _dotted(loc), message))
        raise ConfigError(problems) from None
    if check_environment:
        problems = _environment_problems(settings, file, lines, environ)
        if problems:
            raise ConfigError(problems)
    return settings


def load_settings(
    path: str | os.PathLike[str], environ: Mapping[str, str] | None = None, check_environment: bool = True
) -> Settings:
    """Read and validate the config file at `path`."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([Problem(file, None, "", f"cannot read the config file: {exc.strerror}")]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([Problem(file, None, "", f"the config file is not UTF-8: {exc}")]) from None
    return parse_settings(text, file, os.environ if environ is None else environ, check_environment)
