"""The only place that builds concrete adapters from settings and hands them to the services."""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from inboxcrm.adapters.db import migrate
from inboxcrm.adapters.db.history import folder_histories
from inboxcrm.adapters.db.reads import SqlReads
from inboxcrm.adapters.db.store import SqlStore, make_engine
from inboxcrm.adapters.dkim import DkimVerifier, DnsLookup
from inboxcrm.adapters.files import MaildirSource, read_rule_files
from inboxcrm.adapters.imap import ImapAccount, ImapSource
from inboxcrm.adapters.oauth2 import AccessTokens
from inboxcrm.adapters.smtp import FileSender, SmtpSender
from inboxcrm.adapters.templates import Templates
from inboxcrm.bootstrap_record import field_defs, record_parts, search_language, webhooks
from inboxcrm.config import MailboxSettings, Settings
from inboxcrm.core.audiences import Segment, compile_segments
from inboxcrm.core.campaigns import Campaign, CampaignVocabulary, compile_campaigns
from inboxcrm.core.history import Backlog
from inboxcrm.core.loops import Fuse
from inboxcrm.core.model import Address
from inboxcrm.core.ports import MailSource, NamedMailSource, Renderer, Sender
from inboxcrm.core.rules import RuleSet, RulesInvalid, Vocabulary
from inboxcrm.core.scoring import Weights
from inboxcrm.core.sla import BusinessHours, Target
from inboxcrm.core.suppression import SoftBouncePolicy
from inboxcrm.providers import access_tokens
from inboxcrm.services.access import Access, ConfiguredToken, Scope
from inboxcrm.services.contacts import ContactService
from inboxcrm.services.contacts_csv import ContactsCsv
from inboxcrm.services.desk import Agent, Desk, DeskMailbox, Support
from inboxcrm.services.ingest import IngestService
from inboxcrm.services.outbox import Dispatcher, RetryPolicy
from inboxcrm.services.outreach import Marketing, Outreach
from inboxcrm.services.polling import MailboxHealth, MailboxPoller
from inboxcrm.services.quarantine import QuarantineService
from inboxcrm.services.reading import Reader
from inboxcrm.services.record import CustomerRecord
from inboxcrm.services.reports import ReadService
from inboxcrm.services.routing import Routing
from inboxcrm.services.rulebook import LiveRules, RuleBook
from inboxcrm.services.scoring import Scoring
from inboxcrm.services.search import SearchService
from inboxcrm.services.webhooks import WebhookDispatcher, Webhooks

if TYPE_CHECKING:
    from inboxcrm.web.app import Features


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class App:
    """Everything `run`, the CLI and the web app need, built from one `Settings`."""

    settings: Settings
    engine: Engine
    ingest: IngestService
    quarantine: QuarantineService
    contacts: ContactService
    reads: ReadService
    clock: Callable[[], datetime]
    reader: Reader
    rules: LiveRules
    store: SqlStore
    scoring: Scoring
    support: Support
    templates: Templates
    dispatcher: Dispatcher
    outreach: Outreach
    search: SearchService
    record: CustomerRecord
    contacts_csv: ContactsCsv
    webhooks: WebhookDispatcher

    def close(self) -> None:
        self.reader.close()
        self.engine.dispose()


def build(settings: Settings, clock: Callable[[], datetime] = utc_now, dkim_dns: DnsLookup | None = None) -> App:
    """Build the application; nothing connects until it is used. `dkim_dns` serves DKIM keys instead of DNS
    (tests)."""
    url = settings.database_url()
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url, echo=settings.database.echo)
    hooks = webhooks(settings, os.environ)
    store = SqlStore(engine, (Webhooks(hooks),) if hooks else ())
    team = settings.team_profile()
    profiles = {m.name: m.profile() for m in settings.mailboxes}
    reader = Reader(settings.ingest.parse_workers, settings.ingest.parallel_from, settings.ingest.max_message_bytes)
    contacts_cap = settings.ingest.new_contacts_per_message
    rules = LiveRules(rulebook(settings), lambda compiled: routing(settings, compiled))
    secret = settings.reply_secret(os.environ)
    mail_templates = templates(settings)
    support = Support(desk(settings, mail_templates, secret, dkim_dns))
    try:
        compiled = campaigns(settings, mail_templates)
    except RulesInvalid:
        compiled = {}  # `run` and `check` refuse to start with the problems listed (see cli/app.py)
    outreach = Outreach(
        Marketing(
            compiled,
            mail_templates,
            secret,
            settings.campaigns.public_url,
            settings.lifecycle.stages,
            _segments_or_none(settings),
            soft_bounces=SoftBouncePolicy(
                settings.campaigns.soft_bounce_limit, timedelta(seconds=settings.campaigns.soft_bounce_window)
            ),
        )
    )
    return App(
        settings=settings,
        engine=engine,
        ingest=IngestService(
            store, team, clock, reader, secret, rules.current, scoring(settings), support, outreach, contacts_cap
        ),
        quarantine=QuarantineService(
            store,
            team,
            profiles,
            clock,
            rules.current,
            scoring(settings),
            support,
            reply_secret=secret,
            outreach=outreach,
            max_bytes=settings.ingest.max_message_bytes,
            new_contacts_per_message=contacts_cap,
        ),
        contacts=ContactService(store, clock),
        reads=ReadService(SqlReads(engine)),
        clock=clock,
        reader=reader,
        rules=rules,
        store=store,
        scoring=scoring(settings),
        support=support,
        templates=mail_templates,
        dispatcher=Dispatcher(
            store,
            sender(settings, os.environ),
            clock,
            support,
            RetryPolicy(
                timedelta(seconds=settings.outbox.retry_first),
                timedelta(seconds=settings.outbox.retry_max),
                timedelta(seconds=settings.outbox.give_up_after),
            ),
            settings.outbox.batch_size,
            outreach=outreach,
            campaign_rate_limit=settings.campaigns.rate_limit,
            interval=timedelta(seconds=settings.outbox.interval),
        ),
        outreach=outreach,
        **record_parts(settings, engine, store, clock, rules.current, outreach, hooks),
    )


def access(app: App, environ: Mapping[str, str] | None = None) -> Access:
    """Who may call the API: the configured tokens (with their values from `environ`) and the stored ones."""
    env = os.environ if environ is None else environ
    tokens = []
    for token in app.settings.api.tokens:
        value = token.secret(env)
        if value:
            tokens.append(ConfiguredToken(value, token.name, Scope.named(token.scope)))
    return Access(tokens, app.store, app.clock, app.settings.api.rate_limit)


def campaigns(settings: Settings, renderer: Templates | None = None) -> dict[str, Campaign]:
    """The campaigns in the config's `[campaigns] dir`; raises `RulesInvalid` listing every problem."""
    folder = settings.resolve(settings.campaigns.dir)
    if not folder.is_dir():
        return {}
    names = (renderer or templates(settings)).names()
    vocabulary = CampaignVocabulary(
        templates=frozenset(names),
        segments=frozenset(_segments_or_none(settings)),
        stages=settings.lifecycle.stages,
        senders=frozenset(a for m in settings.mailboxes for a in m.addresses),
        mailboxes={m.name: Address(m.addresses[0], m.from_name) for m in settings.mailboxes},
    )
    return {c.name: c for c in compile_campaigns(read_rule_files(folder), vocabulary)}


def _segments_or_none(settings: Settings) -> dict[str, Segment]:
    try:
        return segments(settings)
    except (RulesInvalid, OSError):
        return {}


def templates(settings: Settings) -> Templates:
    """The mail templates in the config's `[templates] dir` (loaded on first use)."""
    return Templates(settings.resolve(settings.templates.dir))


def desk(
    settings: Settings, renderer: Renderer | None, secret: bytes | None, dkim_dns: DnsLookup | None = None
) -> Desk:
    """The support desk: agents, the mailboxes it answers from, SLA targets and loop protection."""
    sla = settings.sla
    hours = None
    if sla.business_hours is not None:
        days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        hours = BusinessHours(
            sla.timezone,
            frozenset(days.index(d) for d in sla.business_hours.days),
            time.fromisoformat(sla.business_hours.start),
            time.max if sla.business_hours.end == "24:00" else time.fromisoformat(sla.business_hours.end),
            frozenset(sla.holidays),
        )

    def span(seconds: float | None) -> timedelta | None:
        return timedelta(seconds=seconds) if seconds is not None else None

    support = settings.support
    return Desk(
        agents=tuple(Agent(a.name, a.addresses, a.queues, a.display_name) for a in settings.agents),
        mailboxes={
            m.name: DeskMailbox(
                m.name, m.addresses[0], m.from_name, m.acknowledge, survey=m.survey, echo=m.acknowledge_echo
            )
            for m in settings.mailboxes
        },
        secret=secret,
        templates=renderer,
        relay_valid_for=timedelta(seconds=support.relay_valid_for),
        close_after=timedelta(seconds=support.close_solved_after),
        drop_held_after=timedelta(seconds=support.drop_held_after),
        fuse=Fuse(support.fuse_limit, timedelta(seconds=support.fuse_window)),
        targets={p: Target(span(t.first_response), span(t.resolution)) for p, t in sla.targets.items()},
        business_hours=hours,
        timezone=sla.timezone,
        team=settings.team_profile(),
        public_url=settings.campaigns.public_url,
        agent_mail=settings.security.agent_mail_policy(),
        verify_dkim=DkimVerifier(dkim_dns).verify if settings.security.agent_mail == "dkim" else None,
    )


def sender(settings: Settings, environ: Mapping[str, str]) -> Sender:
    """SMTP submission, or a folder of .eml files (the demo's outbox)."""
    outbox = settings.outbox
    if outbox.transport == "file":
        return FileSender(settings.resolve(outbox.path))
    assert outbox.host is not None  # guaranteed by config validation
    context = ssl.create_default_context(cafile=str(settings.resolve(outbox.ca_file))) if outbox.ca_file else None
    return SmtpSender(
        outbox.host,
        outbox.smtp_port,
        outbox.security,
        outbox.user,
        environ.get(outbox.password_env or "") if outbox.password_env else None,
        timeout=outbox.timeout,
        ssl_context=context,
        tokens=access_tokens(
            outbox.oauth2 if outbox.auth == "oauth2" else None, "outbox", outbox.user, settings, environ, smtp=True
        ),
    )


def prepare_database(app: App) -> None:
    """SQLite is upgraded in place; PostgreSQL (shared by several daemons) must be upgraded on purpose."""
    if app.engine.dialect.name == "sqlite":
        migrate.upgrade(app.engine)
        search_language(app.store, app.settings.search.language, app.clock())
        return
    current, head = migrate.current_revision(app.engine), migrate.head_revision(app.engine)
    if current != head:
        raise RuntimeError(
            f"database schema is at {current or 'nothing'}, this version needs {head}: run `inboxcrm db upgrade` first"
        )
    search_language(app.store, app.settings.search.language, app.clock())


def imap_account(mailbox: MailboxSettings, environ: Mapping[str, str], settings: Settings | None = None) -> ImapAccount:
    """The IMAP account of `mailbox`; its `ca_file` (resolved against the config file) replaces the
    system CAs for that server's certificate."""
    assert mailbox.host and mailbox.user  # guaranteed by config validation
    context = None
    if mailbox.ca_file:
        ca_file = settings.resolve(mailbox.ca_file) if settings else Path(mailbox.ca_file)
        context = ssl.create_default_context(cafile=str(ca_file))
    return ImapAccount(
        host=mailbox.host,
        port=mailbox.imap_port,
        user=mailbox.user,
        password=environ.get(mailbox.password_env or "", ""),
        security=mailbox.security,
        timeout=mailbox.timeout,
        mark_seen=mailbox.mark_seen,
        move_to=mailbox.move_to,
        ssl_context=context,
        tokens=_mailbox_tokens(mailbox, environ, settings),
        idle=mailbox.idle,
    )


def _mailbox_tokens(
    mailbox: MailboxSettings, environ: Mapping[str, str], settings: Settings | None
) -> AccessTokens | None:
    if mailbox.auth != "oauth2":
        return None
    if settings is None:
        raise ValueError(f"mailbox {mailbox.name} signs in with OAuth2: its files are named relative to the config")
    return access_tokens(mailbox.oauth2, mailbox.name, mailbox.user, settings, environ)


def source_opener(
    settings: Settings, mailbox: MailboxSettings, environ: Mapping[str, str] | None = None
) -> Callable[[], AbstractContextManager[MailSource | NamedMailSource]]:
    """A function that opens a fresh connection (or Maildir) for `mailbox`."""
    env = os.environ if environ is None else environ
    if mailbox.source == "maildir":
        assert mailbox.path is not None
        path = settings.resolve(mailbox.path)

        @contextmanager
        def open_maildir() -> Iterator[MailSource | NamedMailSource]:
            yield MaildirSource(path)

        return open_maildir

    account = imap_account(mailbox, env, settings)

    @contextmanager
    def open_imap() -> Iterator[MailSource | NamedMailSource]:
        with ImapSource(account) as source:
            yield source

    return open_imap


def pollers(app: App, environ: Mapping[str, str] | None = None) -> list[MailboxPoller]:
    """One poller per configured mailbox."""
    out = []
    for mailbox in app.settings.mailboxes:
        folders = ("maildir",) if mailbox.source == "maildir" else mailbox.folders
        out.append(
            MailboxPoller(
                app.ingest,
                mailbox.profile(),
                folders,
                source_opener(app.settings, mailbox, environ),
                mailbox.batch_size,
                mailbox.poll_interval,
                app.clock,
                idle_renew=mailbox.idle_renew,
                backlog=Backlog.parse(mailbox.backlog),
            )
        )
    return out


def health(app: App, polling: Sequence[MailboxPoller]) -> list[MailboxHealth]:
    """What `/health` says about each mailbox: the poller's state and how far its history import has got."""
    try:
        history = folder_histories(app.engine)
    except SQLAlchemyError:
        history = []  # /health reports the database itself
    return [replace(p.health, history=tuple(h for h in history if h.mailbox == p.mailbox.name)) for p in polling]


def vocabulary(settings: Settings) -> Vocabulary:
    """The names rules may refer to, from the config (and the templates folder, for `auto_reply`)."""
    mailboxes = frozenset(m.name for m in settings.mailboxes)
    return Vocabulary(
        templates=frozenset(settings.rules.templates) | frozenset(templates(settings).names()),
        campaigns=frozenset(settings.rules.campaigns) | frozenset(_campaign_names(settings)),
        agents=frozenset(a.name for a in settings.agents),
        stages=settings.lifecycle.stages,
        queues=frozenset(settings.rules.queues) | mailboxes,
        deal_stages=settings.pipeline.stages,
        mailboxes=mailboxes,
        fields=field_defs(settings),
    )


def _campaign_names(settings: Settings) -> list[str]:
    try:
        return list(campaigns(settings))
    except (RulesInvalid, OSError):
        return []


def rulebook(settings: Settings, rules_dir: Path | None = None) -> RuleBook:
    """The rule files in `rules_dir` (default: the config's `[rules] dir`), checked against the config."""
    directory = rules_dir or settings.resolve(settings.rules.dir)
    return RuleBook(
        lambda: read_rule_files(directory), vocabulary(settings), settings.team_profile(), settings.rules.timezone
    )


def routing(settings: Settings, rules: RuleSet) -> Routing:
    """Compiled rules with the agents who work each queue (for round-robin assignment)."""
    by_queue: dict[str, list[str]] = {}
    for agent in settings.agents:
        for queue in agent.queues:
            by_queue.setdefault(queue, []).append(agent.name)
    return Routing(
        rules,
        settings.rules.timezone,
        {queue: tuple(names) for queue, names in by_queue.items()},
        tuple(a.name for a in settings.agents),
        settings.pipeline.stages[0] if settings.pipeline.stages else "open",
        field_defs(settings),
    )


def segments(settings: Settings) -> dict[str, Segment]:
    """The named segments in the config's `[segments] dir`; raises `RulesInvalid` with every problem."""
    files = read_rule_files(settings.resolve(settings.segments.dir))
    return {
        segment.name: segment for segment in compile_segments(files, settings.lifecycle.stages, field_defs(settings))
    }


def scoring(settings: Settings) -> Scoring:
    """Signal weights, decay and stage thresholds from the config's `[scoring]` table."""
    signals = settings.scoring.signals
    weights = Weights(
        company_domain=signals.company_domain,
        free_mail=signals.free_mail,
        message_in=signals.message_in,
        message_out=signals.message_out,
        fast_reply=signals.fast_reply,
        fast_reply_within=timedelta(seconds=signals.fast_reply_within),
        open_ticket=signals.open_ticket,
        keywords=dict(settings.scoring.keywords),
    )
    half_life = timedelta(seconds=settings.scoring.half_life) if settings.scoring.half_life else None
    return Scoring(weights, half_life, dict(settings.scoring.stages), settings.lifecycle.stages)


def features(app: App) -> Features:
    """What the daemon adds to the API: changes, customer data, reports, pages and metrics. The web stack is
    imported only here, by what serves it: commands that only read mail stay smaller."""
    from inboxcrm.bootstrap_web import web_features

    return web_features(app)
