"""The one command-line entry: `inboxcrm run | check | import | quarantine | db | status | threads`."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click

from inboxcrm import bootstrap
from inboxcrm.adapters import scheduler
from inboxcrm.adapters.db import migrate
from inboxcrm.adapters.db.reads import SqlReads
from inboxcrm.adapters.files import discover
from inboxcrm.adapters.templates import Templates
from inboxcrm.cli_privacy import erase_contact, export_contact
from inboxcrm.config import ConfigError, Settings, load_settings, parse_duration
from inboxcrm.core.audiences import Segment
from inboxcrm.core.campaigns import Campaign
from inboxcrm.core.model import MailboxKind, MailboxProfile
from inboxcrm.core.outgoing import compose
from inboxcrm.core.ports import NewEvent
from inboxcrm.core.reading import read_raw
from inboxcrm.core.rules import RuleSet, RulesInvalid
from inboxcrm.core.rules import explain as explain_decision
from inboxcrm.logs import configure_logging
from inboxcrm.services.access import Scope, TokenExists, TokenNotFound
from inboxcrm.services.backtest import backtest
from inboxcrm.services.contacts import ContactNotFound
from inboxcrm.services.ingest import IngestResult
from inboxcrm.services.inspect import describe
from inboxcrm.services.outreach import CAMPAIGN_SAMPLE, Unsubscribes, tick_campaigns
from inboxcrm.services.scoring import decay_scores
from inboxcrm.services.support import SAMPLE_CONTEXT, tick_tickets

log = logging.getLogger("inboxcrm")


def _settings(ctx: click.Context, check_environment: bool = True) -> Settings:
    path: str = ctx.obj["config"]
    try:
        settings = load_settings(path, check_environment=check_environment)
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        click.echo(f"{len(exc.problems)} problem(s) in {path}; nothing was started.", err=True)
        sys.exit(2)
    configure_logging(settings.logging.level, settings.logging.format)
    return settings


def _app(ctx: click.Context, check_environment: bool = True) -> bootstrap.App:
    app = bootstrap.build(_settings(ctx, check_environment))
    try:
        bootstrap.prepare_database(app)
    except RuntimeError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    return app


@click.group()
@click.option(
    "--config",
    "-c",
    envvar="INBOXCRM_CONFIG",
    default="inboxcrm.toml",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The TOML config file (or $INBOXCRM_CONFIG).",
)
@click.pass_context
def main(ctx: click.Context, config: str) -> None:
    """inboxcrm: a CRM that lives in the inbox."""
    ctx.ensure_object(dict)
    ctx.obj["config"] = config


def _rules(settings: Settings, rules_dir: Path | None = None) -> RuleSet:
    """The compiled rules, or every problem printed as file:line and exit 2."""
    try:
        return bootstrap.rulebook(settings, rules_dir).compile()
    except RulesInvalid as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        click.echo(f"{len(exc.problems)} problem(s) in the rules; nothing was started.", err=True)
        sys.exit(2)


def _campaigns(settings: Settings) -> dict[str, Campaign]:
    """The compiled campaigns, or every problem printed as file:line and exit 2."""
    try:
        found = bootstrap.campaigns(settings)
    except RulesInvalid as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        click.echo(f"{len(exc.problems)} problem(s) in the campaigns; nothing was started.", err=True)
        sys.exit(2)
    if found and settings.reply_secret(_environ()) is None:
        click.echo("error: campaign mail needs [security] secret_env to sign its unsubscribe links", err=True)
        sys.exit(2)
    return found


def _segments(settings: Settings) -> dict[str, Segment]:
    try:
        return bootstrap.segments(settings)
    except RulesInvalid as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        click.echo(f"{len(exc.problems)} problem(s) in the segments; nothing was started.", err=True)
        sys.exit(2)


@main.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Validate the config and the rules; print every problem with file:line; exit non-zero on any."""
    settings = _settings(ctx)
    rules = _rules(settings)
    named_campaigns = _campaigns(settings)
    click.echo(f"{settings.resolve(settings.rules.dir)}: ok ({len(rules.rules)} rule(s) in {len(rules.files)} file(s))")
    named = _segments(settings)
    click.echo(f"{settings.resolve(settings.segments.dir)}: ok ({len(named)} segment(s))")
    mail_templates = bootstrap.templates(settings)
    problems = _template_problems(settings, mail_templates)
    if problems:
        for problem in problems:
            click.echo(f"error: {problem}", err=True)
        click.echo(f"{len(problems)} problem(s) in the templates.", err=True)
        sys.exit(2)
    click.echo(f"{settings.resolve(settings.templates.dir)}: ok ({len(mail_templates.names())} template(s))")
    click.echo(f"{settings.resolve(settings.campaigns.dir)}: ok ({len(named_campaigns)} campaign(s))")
    click.echo(
        f"{ctx.obj['config']}: ok ({len(settings.mailboxes)} mailbox(es), "
        f"database {settings.database_url().split('@')[-1]})"
    )


@main.command()
@click.option("--api/--no-api", default=True, help="Serve the HTTP API as well (default: yes).")
@click.option("--once", is_flag=True, help="Poll every mailbox once and exit (no API).")
@click.pass_context
def run(ctx: click.Context, api: bool, once: bool) -> None:
    """Poll the configured mailboxes and serve the API until stopped (Ctrl-C)."""
    app = _app(ctx)
    _rules(app.settings)  # a bad rule file stops the start, with the same messages as `check`
    _campaigns(app.settings)
    named = _segments(app.settings)
    pollers = bootstrap.pollers(app)
    _templates(app)
    if once:
        for poller in pollers:
            with poller.open_source() as source:
                result = poller.poll_once(source)
            click.echo(f"{poller.mailbox.name}: {_summary(result)}")
        tick_tickets(app.store, app.support, app.clock())
        tick_campaigns(app.store, app.outreach, app.clock())
        sent = app.dispatcher.dispatch()
        click.echo(f"outbox: {sent.sent} sent, {sent.retried} to retry, {sent.failed} failed")
        return
    stop = threading.Event()
    threads = [
        threading.Thread(target=p.run, args=(stop,), name=f"poll-{p.mailbox.name}", daemon=True) for p in pollers
    ]
    for thread in threads:
        thread.start()
    ticks = scheduler.start(
        [
            scheduler.Tick("outbox", app.dispatcher.dispatch, app.settings.outbox.interval),
            scheduler.Tick("tickets", lambda: tick_tickets(app.store, app.support, app.clock()), 60),
            scheduler.Tick(
                "campaigns",
                lambda: tick_campaigns(app.store, app.outreach, app.clock()),
                app.settings.campaigns.interval,
            ),
            scheduler.Tick("templates", lambda: _reload_templates(app), 10),
            scheduler.Tick("score-decay", lambda: _decay(app), 3600),
        ]
    )
    log.info("polling %d mailbox(es): %s", len(pollers), ", ".join(p.mailbox.name for p in pollers))
    try:
        if api:
            import uvicorn

            from inboxcrm.web.app import create_app

            web = create_app(
                app.reads,
                health=lambda: [p.health for p in pollers],
                contacts=app.contacts,
                segments=named,
                pipeline_stages=app.settings.pipeline.stages,
                unsubscribes=Unsubscribes(app.store, app.outreach, app.clock),
                access=bootstrap.access(app, _environ()),
                features=bootstrap.features(app),
            )
            host, port = app.settings.api.host, app.settings.api.port
            log.info("API on http://%s:%d (OpenAPI at /docs)", host, port)
            uvicorn.run(web, host=host, port=port, log_config=None, access_log=False)
        else:
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            while not stop.wait(1.0):
                pass
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        ticks.shutdown(wait=True)
        for thread in threads:
            thread.join(timeout=30)
        app.close()
        log.info("stopped")


def _decay(app: bootstrap.App) -> None:
    """Scores halve every half-life: bring them up to date every hour, so segments see current scores."""
    changed = decay_scores(app.store, app.scoring, app.clock())
    log.info("score decay: %d contact(s) updated", changed)


_reported: set[str] = set()


def _reload_templates(app: bootstrap.App) -> None:
    """Pick up edited templates; a broken edit keeps the last good set, and each problem is logged once."""
    for problem in app.templates.load():
        if str(problem) not in _reported:
            _reported.add(str(problem))
            log.error("template problem (the last good version stays in use): %s", problem)


def _template_problems(settings: Settings, templates: Templates) -> list[str]:
    """Every problem with the mail templates: files that do not compile, and templates the config names
    (acknowledgements, rules' auto_reply) that are missing or fail to render with sample data."""
    wanted = sorted({m.acknowledge for m in settings.mailboxes if m.acknowledge})
    try:
        steps = sorted({step.template for c in bootstrap.campaigns(settings, templates).values() for step in c.steps})
    except RulesInvalid:
        steps = []  # reported by the campaign check
    if not wanted and not steps and not templates.directory.is_dir():
        return []  # no templates and nothing that needs one
    problems = [str(p) for p in templates.load()]
    names = set(templates.names())
    for name in wanted:
        if name in names:  # a missing one is reported by the config check, with its line
            problems += [str(p) for p in templates.check(name, SAMPLE_CONTEXT)]
    for name in steps:
        if name in names:  # a missing one is reported by the campaign check, with its line
            problems += [str(p) for p in templates.check(name, CAMPAIGN_SAMPLE)]
    return problems


def _templates(app: bootstrap.App) -> None:
    problems = _template_problems(app.settings, app.templates)
    if problems:
        for problem in problems:
            click.echo(f"error: {problem}", err=True)
        click.echo(f"{len(problems)} problem(s) in the templates; nothing was started.", err=True)
        sys.exit(2)


def _environ() -> dict[str, str]:
    import os

    return dict(os.environ)


def _summary(result: IngestResult) -> str:
    return (
        f"{result.fetched} read, {result.stored} stored, {result.duplicates} already stored, "
        f"{result.quarantined} quarantined"
    )


@main.command(name="import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--mailbox",
    "mailbox_name",
    default=None,
    help="File the messages as if they arrived on this configured mailbox (default: 'import').",
)
@click.option("--batch-size", default=500, show_default=True)
@click.pass_context
def import_(ctx: click.Context, path: Path, mailbox_name: str | None, batch_size: int) -> None:
    """Import an mbox file, a Maildir, .eml files, or a folder of any of these.

    Resumable (a cursor per file) and idempotent (content hashes): importing twice adds nothing."""
    app = _app(ctx)
    if mailbox_name:
        try:
            profile = app.settings.mailbox(mailbox_name).profile()
        except KeyError:
            raise click.BadParameter(
                f"no mailbox named {mailbox_name!r} in the config", param_hint="--mailbox"
            ) from None
    else:
        profile = MailboxProfile("import", MailboxKind.OTHER)
    try:
        sources = discover(path)
    except OSError as exc:
        raise click.ClickException(str(exc)) from None
    total = IngestResult()
    for source in sources:
        with click.progressbar(
            length=source.count(), label=f"importing {source.folder_name()}", file=sys.stderr, show_pos=True
        ) as bar:
            # For file sources, progress is the number of messages stored so far.
            total.add(
                app.ingest.sync_folder(
                    source, profile, source.folder_name(), batch_size, progress=lambda uid: bar.update(uid - bar.pos)
                )
            )
    click.echo(_summary(total))
    for error in total.errors[:20]:
        click.echo(f"  quarantined {error}", err=True)
    app.close()


@main.group()
def quarantine() -> None:
    """Messages that could not be understood (kept raw, with the reason)."""


@quarantine.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_context
def quarantine_list(ctx: click.Context, as_json: bool) -> None:
    """List quarantined messages and why."""
    app = _app(ctx)
    held = app.quarantine.list()
    for item in held:
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "id": item.quarantine_id,
                        "raw_id": item.raw_id,
                        "mailbox": item.mailbox,
                        "error": item.error,
                        "attempts": item.attempts,
                        "created_at": item.created_at.isoformat(),
                    }
                )
            )
        else:
            click.echo(
                f"#{item.quarantine_id} [{item.mailbox}] {item.created_at:%Y-%m-%d %H:%M} "
                f"({item.attempts} attempt(s)): {item.error}"
            )
    if not as_json:
        click.echo(f"{len(held)} message(s) in quarantine")
    app.close()


@quarantine.command(name="retry")
@click.pass_context
def quarantine_retry(ctx: click.Context) -> None:
    """Parse every quarantined message again; those that now work are filed normally."""
    app = _app(ctx)
    result = app.quarantine.retry()
    click.echo(f"{result.recovered} recovered, {result.still_failing} still in quarantine")
    app.close()


@main.group()
def outbox() -> None:
    """Mail inboxcrm sends: acknowledgements, notifications, relayed replies."""


@outbox.command(name="list")
@click.option("--status", type=click.Choice(["queued", "sent", "failed"]), help="Only mail in this state.")
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_context
def outbox_list(ctx: click.Context, status: str | None, limit: int, as_json: bool) -> None:
    """The newest outgoing mail, with its state and the last error."""
    app = _app(ctx)
    try:
        for row in SqlReads(app.engine).outbox(status, limit):
            if as_json:
                click.echo(json.dumps(row, default=str))
                continue
            error = f"  ({row['last_error']})" if row["last_error"] and row["status"] != "sent" else ""
            click.echo(
                f"{row['status']:7} {row['kind']:16} {', '.join(row['recipients'])}  "
                f"attempts {row['attempts']}  {row['key']}{error}"
            )
    finally:
        app.close()


@outbox.command(name="send")
@click.pass_context
def outbox_send(ctx: click.Context) -> None:
    """Send everything that is due now (the daemon does this every few seconds by itself)."""
    app = _app(ctx)
    try:
        done = app.dispatcher.drain()
        click.echo(f"{done.sent} sent, {done.retried} to retry, {done.failed} failed")
    finally:
        app.close()


@outbox.command(name="retry")
@click.argument("key")
@click.pass_context
def outbox_retry(ctx: click.Context, key: str) -> None:
    """Queue a failed mail again (same bytes, same Message-ID), e.g. after fixing the SMTP settings."""
    app = _app(ctx)
    try:
        with app.store.transaction() as tx:
            found = tx.requeue_mail(key, app.clock())
        if not found:
            click.echo(f"error: no failed mail with key {key!r} (see `inboxcrm outbox list --status failed`)", err=True)
            sys.exit(1)
        click.echo(f"{key}: queued again")
    finally:
        app.close()


@main.group(name="campaigns")
def campaigns_group() -> None:
    """Drip campaigns: what is configured, what a step looks like, who is enrolled."""


@campaigns_group.command(name="list")
@click.pass_context
def campaigns_list(ctx: click.Context) -> None:
    """Every campaign with its trigger, steps and figures (enrolled, sent, replied, bounced, unsubscribed)."""
    found = _campaigns(_settings(ctx))
    app = _app(ctx)
    try:
        reads = SqlReads(app.engine)
        figures, counts = reads.campaign_figures(), reads.enrolment_counts()
        for name, campaign in sorted(found.items()):
            trigger = campaign.trigger.kind + (
                f" {campaign.trigger.value}" if campaign.trigger.value is not None else ""
            )
            click.echo(f"{name}: {len(campaign.steps)} step(s), trigger {trigger}  ({campaign.file}:{campaign.line})")
            totals = counts.get(name, {})
            click.echo(
                f"  enrolled {sum(totals.values())}: active {totals.get('active', 0)}, "
                f"completed {totals.get('finished', 0)}, left {totals.get('exited', 0)}"
            )
            for row in figures.get(name, []):
                click.echo(
                    f"  step {row['step']}: sent {row['sent']}, replied {row['replied']}, bounced {row['bounced']}, "
                    f"unsubscribed {row['unsubscribed']}"
                )
    finally:
        app.close()


@campaigns_group.command(name="preview")
@click.argument("name")
@click.option("--step", "step", type=int, default=1, show_default=True, help="The step number (from 1).")
@click.option("--contact", "email", required=True, help="The contact's address.")
@click.pass_context
def campaigns_preview(ctx: click.Context, name: str, step: int, email: str) -> None:
    """Print exactly the mail step N would send to a contact (nothing is stored or sent)."""
    found = _campaigns(_settings(ctx))
    campaign = found.get(name)
    if campaign is None or not 1 <= step <= len(campaign.steps):
        known = ", ".join(sorted(found)) or "none"
        click.echo(f"error: no campaign {name!r} with a step {step} (campaigns: {known})", err=True)
        sys.exit(2)
    app = _app(ctx)
    try:
        with app.store.transaction() as tx:
            contact_id = tx.contact_ids_for([email]).get(email.lower())
            recipient = tx.recipient(contact_id, app.clock()) if contact_id is not None else None
        if recipient is None:
            click.echo(f"error: no contact {email}", err=True)
            sys.exit(2)
        try:
            draft = app.outreach.draft(campaign, step, recipient, None)
        except Exception as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        domain = campaign.sender.email.partition("@")[2]
        click.echo(compose(draft, f"<preview@{domain}>", app.clock()).decode("utf-8", "replace"), nl=False)
    finally:
        app.close()


@campaigns_group.command(name="enrol")
@click.argument("name")
@click.argument("emails", nargs=-1, required=True)
@click.pass_context
def campaigns_enrol(ctx: click.Context, name: str, emails: tuple[str, ...]) -> None:
    """Enrol contacts (by address) in a campaign by hand."""
    _campaigns(_settings(ctx))
    app = _app(ctx)
    failed = 0
    try:
        for email in emails:
            with app.store.transaction() as tx:
                contact_id = tx.contact_ids_for([email]).get(email.lower())
                if contact_id is None:
                    click.echo(f"{email}: no such contact", err=True)
                    failed += 1
                    continue
                enrolment_id, why = app.outreach.enrol(tx, contact_id, name, "cli", app.clock())
                if enrolment_id is None:
                    click.echo(f"{email}: not enrolled: {why}", err=True)
                    failed += 1
                    continue
                tx.add_events([NewEvent(contact_id, app.clock(), "campaign_enrolled", f"Enrolled in {name} (cli)")])
                click.echo(f"{email}: enrolled in {name}")
    finally:
        app.close()
    sys.exit(1 if failed else 0)


@main.group()
def db() -> None:
    """Database schema."""


@db.command(name="upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Apply pending migrations (needed for PostgreSQL; `run` does it by itself on SQLite)."""
    app = bootstrap.build(_settings(ctx, check_environment=False))
    migrate.upgrade(app.engine)
    click.echo(f"database at revision {migrate.current_revision(app.engine)}")
    app.close()


@main.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Counts and folder cursors."""
    app = _app(ctx)
    for name, count in app.reads.status().items():
        click.echo(f"{name:>14}: {count}")
    for mailbox, folder, uidvalidity, last_uid, updated in app.reads.cursors():
        click.echo(f"cursor {mailbox} {folder}: UIDVALIDITY {uidvalidity}, last UID {last_uid} ({updated:%F %T})")
    app.close()


@main.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_context
def threads(ctx: click.Context, as_json: bool) -> None:
    """Every stored thread with the Message-IDs in it."""
    app = _app(ctx)
    for thread_id, subject, message_ids in app.reads.all_threads():
        if as_json:
            click.echo(json.dumps({"thread_id": thread_id, "subject": subject, "message_ids": message_ids}))
        else:
            click.echo(f"#{thread_id} {subject!r}: {len(message_ids)} message(s)")
    app.close()


@main.group()
def contacts() -> None:
    """Contacts."""


@contacts.command(name="merge")
@click.argument("keep")
@click.argument("other")
@click.pass_context
def contacts_merge(ctx: click.Context, keep: str, other: str) -> None:
    """Merge contact OTHER into KEEP (each an id or an address); OTHER's addresses become aliases."""
    app = _app(ctx)
    try:
        keep_id, other_id = app.contacts.resolve(keep), app.contacts.resolve(other)
        app.contacts.merge(keep_id, other_id)
    except (ContactNotFound, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        app.close()
    click.echo(f"merged contact #{other_id} into #{keep_id}")


@main.group()
def tokens() -> None:
    """API tokens kept in the database (shown once when created; only their SHA-256 is stored)."""


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value is not None else "-"


@tokens.command(name="create")
@click.argument("name")
@click.option("--scope", required=True, type=click.Choice([str(s) for s in Scope]), help="What the token may do.")
@click.option(
    "--rate-limit", type=click.IntRange(min=1), default=None, help="Requests per minute (default: [api] rate_limit)."
)
@click.pass_context
def tokens_create(ctx: click.Context, name: str, scope: str, rate_limit: int | None) -> None:
    """Create a token NAME and print it: this is the only time it is shown."""
    # only names are needed from the config's tokens, not their values: do not insist on their variables
    app = _app(ctx, check_environment=False)
    try:
        if name in {t.name for t in app.settings.api.tokens}:
            raise click.ClickException(f"a token named {name!r} is in the config ([api] tokens)")
        value = bootstrap.access(app, _environ()).create(name, Scope.named(scope), rate_limit, actor="cli")
    except (TokenExists, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        app.close()
    click.echo(f"created token {name!r} ({scope}); it is shown only this once, keep it now:", err=True)
    click.echo(value)


@tokens.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_context
def tokens_list(ctx: click.Context, as_json: bool) -> None:
    """Stored tokens: name, scope, rate limit, created, last used, revoked (never the token itself)."""
    app = _app(ctx, check_environment=False)
    try:
        stored = bootstrap.access(app, _environ()).tokens()
    finally:
        app.close()
    for token in stored:
        if as_json:
            row = {
                "name": token.name,
                "scope": token.scope,
                "rate_limit": token.rate_limit,
                "created_at": token.created_at.isoformat(),
                "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
                "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
            }
            click.echo(json.dumps(row))
            continue
        rate = f"{token.rate_limit}/min" if token.rate_limit else "default"
        revoked = f"revoked {_when(token.revoked_at)}" if token.revoked_at else "active"
        click.echo(
            f"{token.name:20} {token.scope:5}  {rate:>9}  created {_when(token.created_at)}  "
            f"last used {_when(token.last_used_at)}  {revoked}"
        )
    if not as_json:
        configured = ", ".join(f"{t.name} ({t.scope})" for t in app.settings.api.tokens) or "none"
        click.echo(f"{len(stored)} stored token(s); in the config: {configured}")


@tokens.command(name="revoke")
@click.argument("name")
@click.pass_context
def tokens_revoke(ctx: click.Context, name: str) -> None:
    """Revoke the stored token NAME: it is refused from the next request on."""
    app = _app(ctx, check_environment=False)
    try:
        revoked = bootstrap.access(app, _environ()).revoke(name, actor="cli")
    except TokenNotFound as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        app.close()
    click.echo(f"revoked token {name!r}" if revoked else f"token {name!r} was revoked already")


contacts.add_command(export_contact(_app))
contacts.add_command(erase_contact(_app))


@main.command(name="parse")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file and line.")
@click.pass_context
def parse_files(ctx: click.Context, files: tuple[Path, ...], as_json: bool) -> None:
    """Show what inboxcrm understands of each message file (nothing is stored).

    With a config (--config), forwards are attributed to the original author only when a team member
    forwarded them, as the daemon files them."""
    config = Path(ctx.obj["config"])
    team = load_settings(config, check_environment=False).team_profile() if config.is_file() else None
    for file in files:
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raw = b""
            result = describe(raw, str(file), team)
            result["defects"] = [f"cannot read the file: {exc.strerror}"]
        else:
            result = describe(raw, str(file), team)
        if as_json:
            click.echo(json.dumps(result, ensure_ascii=False))
        else:
            click.echo(_human(result))


def _human(result: dict[str, Any]) -> str:
    def who(address: dict[str, str] | None) -> str:
        return (
            f"{address['name']} <{address['email']}>"
            if address and address["name"]
            else (address["email"] if address else "-")
        )

    lines = [f"== {result['file']}", f"from:      {who(result['from'])}"]
    if result["original_from"]:
        lines.append(
            f"original:  {who(result['original_from'])} (forwarded by {who(result['forwarded_by'])}, "
            f"confidence {result['forward_confidence']:.2f})"
        )
    reasons = "; ".join(result["kind_reasons"])
    lines += [
        f"to:        {', '.join(who(a) for a in result['to']) or '-'}",
        f"subject:   {result['subject']}",
        f"date:      {result['date'] or '-'}",
        f"kind:      {result['kind'] or '-'}" + (f" ({reasons})" if reasons else ""),
    ]
    if result["bounce"]:
        for r in result["bounce"]["recipients"]:
            lines.append(f"bounced:   {r['email']} {r['status'] or ''} {'hard' if r['hard'] else 'soft'}")
    for a in result["attachments"]:
        lines.append(f"attached:  {a['filename']} ({a['content_type']}, {a['size']} bytes)")
    if result["defects"]:
        lines.append(f"defects:   {'; '.join(result['defects'])}")
    lines.append("new text:\n  " + "\n  ".join((result["new_text"] or "").splitlines()[:40]))
    if result["quoted_text"]:
        lines.append(f"quoted:    {len(result['quoted_text'].splitlines())} line(s)")
    if result["signature"]:
        lines.append("signature:\n  " + "\n  ".join(result["signature"].splitlines()))
    return "\n".join(lines)


@main.group()
def rules() -> None:
    """The team's rules (rules/*.toml)."""


@rules.command(name="explain")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--rules",
    "rules_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Rule folder to use instead of the config's [rules] dir.",
)
@click.option("--mailbox", "mailbox_name", default=None, help="The mailbox the mail arrives on (default: the first).")
@click.pass_context
def rules_explain(
    ctx: click.Context, files: tuple[Path, ...], rules_dir: Path | None, mailbox_name: str | None
) -> None:
    """Which rules match each message file, which condition made each match, and what they would do."""
    settings = _settings(ctx, check_environment=False)
    compiled = _rules(settings, rules_dir)
    if mailbox_name:
        try:
            mailbox = settings.mailbox(mailbox_name).profile()
        except KeyError:
            raise click.BadParameter(
                f"no mailbox named {mailbox_name!r} in the config", param_hint="--mailbox"
            ) from None
    elif settings.mailboxes:
        mailbox = settings.mailboxes[0].profile()
    else:
        raise click.UsageError("the config has no mailbox; name one with --mailbox")
    book = bootstrap.rulebook(settings, rules_dir)
    for file in files:
        decision = book.decide(compiled, read_raw(file.read_bytes()), mailbox, bootstrap.utc_now())
        click.echo(f"== {file} (on mailbox {mailbox.name})")
        for line in explain_decision(decision):
            click.echo(f"  {line}")


@rules.command(name="backtest")
@click.option("--since", default="30d", show_default=True, help="How far back: e.g. 7d, 30d, 12h.")
@click.option(
    "--rules",
    "rules_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Rule folder to try instead of the config's [rules] dir (e.g. a branch's checkout).",
)
@click.option("--show", default=50, show_default=True, help="Differences to print (the counts cover all).")
@click.pass_context
def rules_backtest(ctx: click.Context, since: str, rules_dir: Path | None, show: int) -> None:
    """Replay stored mail through a rule set, without side effects, and print what would differ from what
    happened: routing, tickets, tags, scores, stages, enrolments, auto-replies, deals."""
    try:
        seconds = parse_duration(since)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None
    app = _app(ctx)
    compiled = _rules(app.settings, rules_dir)
    report = backtest(
        app.reads.source,
        bootstrap.rulebook(app.settings, rules_dir),
        compiled,
        app.clock() - timedelta(seconds=seconds),
        {m.name: m.profile() for m in app.settings.mailboxes},
    )
    for difference in report.differences[:show]:
        click.echo(
            f"#{difference.message_id} [{difference.mailbox}] {difference.sent_at:%Y-%m-%d} {difference.subject!r}"
        )
        for change in difference.changes:
            click.echo(f"    {change}")
    counts = ", ".join(f"{label} {count}" for label, count in sorted(report.counts().items())) or "nothing"
    click.echo(f"{report.replayed} message(s) replayed; {len(report.differences)} would differ ({counts})")
    app.close()
