"""`inboxcrm db upgrade`: apply the database migrations."""

from __future__ import annotations

import click

from inboxcrm import bootstrap
from inboxcrm.adapters.db import migrate
from inboxcrm.cli.app import settings_of


@click.group()
def db() -> None:
    """Database schema."""


@db.command(name="upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Apply pending migrations (needed for PostgreSQL; `run` does it by itself on SQLite)."""
    app = bootstrap.build(settings_of(ctx, check_environment=False))
    migrate.upgrade(app.engine)
    click.echo(f"database at revision {migrate.current_revision(app.engine)}")
    app.close()
