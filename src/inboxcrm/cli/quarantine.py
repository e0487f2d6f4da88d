"""`inboxcrm quarantine list | retry`: mail that could not be understood, kept raw with the reason."""

from __future__ import annotations

import json

import click

from inboxcrm.cli.app import app_of


@click.group()
def quarantine() -> None:
    """Messages that could not be understood (kept raw, with the reason)."""


@quarantine.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_context
def quarantine_list(ctx: click.Context, as_json: bool) -> None:
    """List quarantined messages and why."""
    app = app_of(ctx)
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
    app = app_of(ctx)
    result = app.quarantine.retry()
    click.echo(f"{result.recovered} recovered, {result.still_failing} still in quarantine")
    app.close()
