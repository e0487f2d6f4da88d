"""`inboxcrm webhooks list | send`: webhook deliveries from the command line."""

from __future__ import annotations

import json
from datetime import datetime

import click

from inboxcrm.adapters.db.record_reads import SqlRecordReads
from inboxcrm.cli.app import app_of


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S}" if value is not None else "-"


@click.group()
def webhooks() -> None:
    """Webhooks out ([[webhooks]] in the config): deliveries and their state."""


@webhooks.command(name="list")
@click.option("--status", type=click.Choice(["queued", "sent", "failed"]), help="Only deliveries in this state.")
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_context
def webhooks_list(ctx: click.Context, status: str | None, limit: int, as_json: bool) -> None:
    """Deliveries, newest first: webhook, event, delivery id, state, attempts, next attempt, last error."""
    app = app_of(ctx)
    try:
        reads = SqlRecordReads(app.engine)
        configured = {w.name: w.url for w in app.settings.webhooks}
        for name, url in configured.items():
            counts = {s: n for (w, s), n in reads.delivery_counts().items() if w == name}
            if not as_json:
                shown = ", ".join(f"{s} {n}" for s, n in sorted(counts.items())) or "no deliveries"
                click.echo(f"{name} → {url}: {shown}")
        for row in reads.deliveries(status, limit):
            if as_json:
                click.echo(json.dumps(row, default=str))
                continue
            error = f"  {row['last_error']}" if row["last_error"] else ""
            due = f" next {_when(row['next_attempt_at'])}" if row["status"] == "queued" else ""
            click.echo(
                f"{row['id']:>6} {row['webhook']} {row['event']} {row['delivery_id']} {row['status']} "
                f"({row['attempts']} attempt(s)){due}{error}"
            )
    finally:
        app.close()


@webhooks.command(name="send")
@click.pass_context
def webhooks_send(ctx: click.Context) -> None:
    """Send what is due now (the daemon does it every [webhook_delivery] interval by itself)."""
    app = app_of(ctx)
    try:
        done = app.webhooks.dispatch(app.clock())
    finally:
        app.close()
    click.echo(f"webhooks: {done.sent} sent, {done.retried} to retry, {done.failed} failed, {done.waiting} waiting")
    for error in done.errors:
        click.echo(f"  {error}", err=True)
