"""The whole validated configuration (`Settings`): every section, and what the rest of the program asks of it
(the team, a mailbox by name, paths, the database URL, secrets from the environment)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import model_validator

from inboxcrm.config.providers import AlertsSettings, ClusterSettings
from inboxcrm.config.record import EventsSettings, FieldSettings, SearchSettings, WebhookSettings, WebhooksSettings
from inboxcrm.config.sections import (
    AgentSettings,
    ApiSettings,
    CampaignsSettings,
    DatabaseSettings,
    IngestSettings,
    LoggingSettings,
    MailboxSettings,
    OutboxSettings,
    RulesSettings,
    ScoringSettings,
    Section,
    SecuritySettings,
    SegmentsSettings,
    SlaSettings,
    StagesSettings,
    SupportSettings,
    TeamSettings,
    TemplatesSettings,
)
from inboxcrm.core.model import Team


class Settings(Section):
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
    fields: tuple[FieldSettings, ...] = ()
    webhooks: tuple[WebhookSettings, ...] = ()
    webhook_delivery: WebhooksSettings = WebhooksSettings()
    search: SearchSettings = SearchSettings()
    events: EventsSettings = EventsSettings()
    cluster: ClusterSettings = ClusterSettings()
    alerts: AlertsSettings = AlertsSettings()
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
        for kind, named in (("field", [f.name for f in self.fields]), ("webhook", [w.name for w in self.webhooks])):
            again = sorted({n for n in named if named.count(n) > 1})
            if again:
                raise ValueError(f"{kind} names must be unique; repeated: {', '.join(again)}")
        return self

    def webhook_secrets(self, environ: Mapping[str, str]) -> dict[str, bytes | None]:
        """Webhook name → its signing secret (None when its variable is unset)."""
        found: dict[str, bytes | None] = {}
        for hook in self.webhooks:
            value = hook.secret if hook.secret is not None else environ.get(hook.secret_env or "")
            found[hook.name] = value.encode() if value else None
        return found

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
