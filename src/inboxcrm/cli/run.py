"""`inboxcrm run`: the daemon. Poll every mailbox, tick the desk, campaigns, outbox and webhooks, serve the API."""

from __future__ import annotations

import logging
import signal
import threading

import click

from inboxcrm import bootstrap, daemon
from inboxcrm.adapters import scheduler
from inboxcrm.cli.app import app_of, campaigns_of, environ, rules_of, segments_of, stop_on
from inboxcrm.cli.check import template_problems
from inboxcrm.cli.imports import summary
from inboxcrm.services.desk import tick_tickets
from inboxcrm.services.outreach import Unsubscribes, tick_campaigns
from inboxcrm.services.scoring import decay_scores

log = logging.getLogger("inboxcrm")


@click.command()
@click.option("--api/--no-api", default=True, help="Serve the HTTP API as well (default: yes).")
@click.option("--once", is_flag=True, help="Poll every mailbox once and exit (no API).")
@click.pass_context
def run(ctx: click.Context, api: bool, once: bool) -> None:
    """Poll the configured mailboxes and serve the API until stopped (Ctrl-C)."""
    app = app_of(ctx)
    rules_of(app.settings)  # a bad rule file stops the start, with the same messages as `check`
    campaigns_of(app.settings)
    named = segments_of(app.settings)
    watch = daemon.prepare(app)  # pollers gated by the mailbox leases, and the alerts
    pollers = watch.pollers
    problems = template_problems(app.settings, app.templates)
    if problems:
        stop_on(problems, "the templates")
    if once:
        for poller in pollers:
            with poller.open_source() as source:
                result = poller.poll_once(source)
            click.echo(f"{poller.mailbox.name}: {summary(result)}")
        tick_tickets(app.store, app.support, app.clock())
        tick_campaigns(app.store, app.outreach, app.clock())
        sent = app.dispatcher.dispatch()
        click.echo(f"outbox: {sent.sent} sent, {sent.retried} to retry, {sent.failed} failed")
        return
    stop = threading.Event()
    threads = watch.start(stop)
    ticks = scheduler.start(
        [
            *watch.ticks(),
            scheduler.Tick("outbox", app.dispatcher.dispatch, app.settings.outbox.interval),
            scheduler.Tick("tickets", lambda: tick_tickets(app.store, app.support, app.clock()), 60),
            scheduler.Tick(
                "campaigns",
                lambda: tick_campaigns(app.store, app.outreach, app.clock()),
                app.settings.campaigns.interval,
            ),
            scheduler.Tick("templates", lambda: _reload_templates(app), 10),
            scheduler.Tick("score-decay", lambda: _decay(app), 3600),
            scheduler.Tick(
                "webhooks", lambda: app.webhooks.dispatch(app.clock()), app.settings.webhook_delivery.interval
            ),
        ]
    )
    log.info("polling %d mailbox(es): %s", len(pollers), ", ".join(p.mailbox.name for p in pollers))
    try:
        if api:
            import uvicorn

            from inboxcrm.web.app import create_app

            web = create_app(
                app.reads,
                health=lambda: bootstrap.health(app, pollers),
                contacts=app.contacts,
                segments=named,
                pipeline_stages=app.settings.pipeline.stages,
                unsubscribes=Unsubscribes(app.store, app.outreach, app.clock),
                access=bootstrap.access(app, environ()),
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
