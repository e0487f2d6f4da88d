"""`inboxcrm import`: file an mbox, a Maildir, .eml files or a folder of them, resumably and only once."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from inboxcrm.adapters.files import discover
from inboxcrm.cli.app import app_of, mailbox_named
from inboxcrm.core.model import MailboxKind, MailboxProfile
from inboxcrm.services.ingest import IngestResult


def summary(result: IngestResult) -> str:
    """One line of what an import or a poll did."""
    return (
        f"{result.fetched} read, {result.stored} stored, {result.duplicates} already stored, "
        f"{result.quarantined} quarantined"
    )


@click.command(name="import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--mailbox",
    "mailbox_name",
    default=None,
    help="File the messages as if they arrived on this configured mailbox (default: 'import').",
)
@click.option(
    "--batch-size",
    default=100,
    show_default=True,
    help="Messages per transaction (larger batches: a little faster, more memory).",
)
@click.pass_context
def import_(ctx: click.Context, path: Path, mailbox_name: str | None, batch_size: int) -> None:
    """Import an mbox file, a Maildir, .eml files, or a folder of any of these, as history.

    Resumable (every message is known by name) and idempotent (content hashes): importing twice adds
    nothing. History is stored and understood, but nobody is mailed about it (no acknowledgement, notification
    or campaign)."""
    app = app_of(ctx)
    imported = MailboxProfile("import", MailboxKind.OTHER)
    profile = mailbox_named(app.settings, mailbox_name) if mailbox_name else imported
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
                    source,
                    profile,
                    source.folder_name(),
                    batch_size,
                    progress=lambda uid: bar.update(uid - bar.pos),
                    history=True,  # what an import reads is history: stored, and nobody is mailed about it
                )
            )
    click.echo(summary(total))
    for error in total.errors[:20]:
        click.echo(f"  quarantined {error}", err=True)
    app.close()
