"""`inboxcrm tokens create | list | revoke`: API tokens kept in the database (only their SHA-256)."""

from __future__ import annotations

import json
from datetime import datetime

import click

from inboxcrm import bootstrap
from inboxcrm.cli.app import app_of, environ
from inboxcrm.services.access import Scope, TokenExists, TokenNotFound


@click.group()
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
    app = app_of(ctx, check_environment=False)
    try:
        if name in {t.name for t in app.settings.api.tokens}:
            raise click.ClickException(f"a token named {name!r} is in the config ([api] tokens)")
        value = bootstrap.access(app, environ()).create(name, Scope.named(scope), rate_limit, actor="cli")
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
    app = app_of(ctx, check_environment=False)
    try:
        stored = bootstrap.access(app, environ()).tokens()
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
    app = app_of(ctx, check_environment=False)
    try:
        revoked = bootstrap.access(app, environ()).revoke(name, actor="cli")
    except TokenNotFound as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        app.close()
    click.echo(f"revoked token {name!r}" if revoked else f"token {name!r} was revoked already")
