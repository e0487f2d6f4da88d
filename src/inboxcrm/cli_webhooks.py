"""`inboxcrm webhooks list` and `inboxcrm webhooks send`: webhook deliveries from the command line.

Built like `cli_privacy.py`: `webhooks_group(build_app)` returns the group; `cli.py` adds it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

import click

from inboxcrm import bootstrap
from inboxcrm.adapters.db.record_reads import SqlRecordReads

AppBuilder = Callable[[click.Context], bootstrap.App]


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S}" if value is not None else "-"


def webhooks_group(build_app: AppBuilder) -> click.Group:
    @click.group(name="webhooks")
    def group() -> None:
        """Webhooks out ([[webhooks]] in the config): deliveries and their state."""

    @group.command(name="list")
    @click.option("--status", type=click.Choice(["queued", "sent", "failed"]), help="Only deliveries in this state.")
    @click.option("--limit", default=50, show_default=True)
    @click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
    @click.pass_context
    def list_(ctx: click.Context, status: str | None, limit: int, as_json: bool) -> None:
        """Deliveries, newest first: webhook, event, delivery id, state, attempts, next attempt, last error."""
        app = build_app(ctx)
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

    @group.command(name="send")
    @click.pass_context
    def send(ctx: click.Context) -> None:
        """Send what is due now (the daemon does it every [webhook_delivery] interval by itself)."""
        app = build_app(ctx)
        try:
            done = app.webhooks.dispatch(app.clock())
        finally:
            app.close()
        click.echo(f"webhooks: {done.sent} sent, {done.retried} to retry, {done.failed} failed, {done.waiting} waiting")
        for error in done.errors:
            click.echo(f"  {error}", err=True)

    return group
