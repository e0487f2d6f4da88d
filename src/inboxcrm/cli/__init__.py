"""The command line `inboxcrm …`: the `main` group here, then one module per command (group) in `--help` order.
Shell on top: may import bootstrap, config, logs, services, core, adapters; of web only `web.app` (served by `run`)."""

from __future__ import annotations

import click

from inboxcrm.cli.auth import auth
from inboxcrm.cli.campaigns import campaigns_group
from inboxcrm.cli.check import check
from inboxcrm.cli.contacts import contacts
from inboxcrm.cli.db import db
from inboxcrm.cli.imports import import_
from inboxcrm.cli.outbox import outbox
from inboxcrm.cli.parse import parse_files
from inboxcrm.cli.quarantine import quarantine
from inboxcrm.cli.rules import rules
from inboxcrm.cli.run import run
from inboxcrm.cli.search import search
from inboxcrm.cli.status import status
from inboxcrm.cli.threads import threads
from inboxcrm.cli.tokens import tokens
from inboxcrm.cli.webhooks import webhooks


@click.group()
@click.option(
    "--config",
    "-c",
    envvar="INBOXCRM_CONFIG",
    default="inboxcrm.toml",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The TOML config file (or $INBOXCRM_CONFIG).",
)
@click.pass_context
def main(ctx: click.Context, config: str) -> None:
    """inboxcrm: a CRM that lives in the inbox."""
    ctx.ensure_object(dict)
    ctx.obj["config"] = config


for command in (
    auth,
    campaigns_group,
    check,
    contacts,
    db,
    import_,
    outbox,
    parse_files,
    quarantine,
    rules,
    run,
    search,
    status,
    threads,
    tokens,
    webhooks,
):
    main.add_command(command)

__all__ = ["main"]
