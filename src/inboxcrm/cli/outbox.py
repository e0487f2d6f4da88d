"""`inboxcrm outbox list | send | retry`: the mail inboxcrm sends, its state, and sending it now or again."""

from __future__ import annotations

import json
import sys

import click

from inboxcrm.adapters.db.reads import SqlReads
from inboxcrm.cli.app import app_of


@click.group()
def outbox() -> None:
    """Mail inboxcrm sends: acknowledgements, notifications, relayed replies."""


@outbox.command(name="list")
@click.option("--status", type=click.Choice(["queued", "sent", "failed"]), help="Only mail in this state.")
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_context
def outbox_list(ctx: click.Context, status: str | None, limit: int, as_json: bool) -> None:
    """The newest outgoing mail, with its state and the last error."""
    app = app_of(ctx)
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
    app = app_of(ctx)
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
    app = app_of(ctx)
    try:
        with app.store.transaction() as tx:
            found = tx.requeue_mail(key, app.clock())
        if not found:
            click.echo(f"error: no failed mail with key {key!r} (see `inboxcrm outbox list --status failed`)", err=True)
            sys.exit(1)
        click.echo(f"{key}: queued again")
    finally:
        app.close()
