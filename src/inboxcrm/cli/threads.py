"""`inboxcrm threads`: every stored thread with the Message-IDs in it."""

from __future__ import annotations

import json

import click

from inboxcrm.cli.app import app_of


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_context
def threads(ctx: click.Context, as_json: bool) -> None:
    """Every stored thread with the Message-IDs in it."""
    app = app_of(ctx)
    for thread_id, subject, message_ids in app.reads.all_threads():
        if as_json:
            click.echo(json.dumps({"thread_id": thread_id, "subject": subject, "message_ids": message_ids}))
        else:
            click.echo(f"#{thread_id} {subject!r}: {len(message_ids)} message(s)")
    app.close()
