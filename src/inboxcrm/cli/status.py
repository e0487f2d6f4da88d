"""`inboxcrm status`: how much is stored, and how far each mailbox folder has been read."""

from __future__ import annotations

import click

from inboxcrm.adapters.db.history import folder_histories
from inboxcrm.cli.app import app_of


@click.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Counts and folder cursors."""
    app = app_of(ctx)
    for name, count in app.reads.status().items():
        click.echo(f"{name:>14}: {count}")
    for mailbox, folder, uidvalidity, last_uid, updated in app.reads.cursors():
        click.echo(f"cursor {mailbox} {folder}: UIDVALIDITY {uidvalidity}, last UID {last_uid} ({updated:%F %T})")
    for history in folder_histories(app.engine):
        click.echo(f"history {history.mailbox} {history.folder}: {history.describe()}")
    app.close()
