"""What every command starts from: the settings, the app, the rules, campaigns and segments they load.

Each loader prints every problem (file:line) and exits with status 2 when something is wrong, so no
command starts on a bad config.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import click

from inboxcrm import bootstrap
from inboxcrm.config import ConfigError, Settings, load_settings
from inboxcrm.core.audiences import Segment
from inboxcrm.core.campaigns import Campaign
from inboxcrm.core.model import MailboxProfile
from inboxcrm.core.rules import RuleSet, RulesInvalid
from inboxcrm.logs import configure_logging


def settings_of(ctx: click.Context, check_environment: bool = True) -> Settings:
    """The settings of the config file named by `--config`, with logging set up from them."""
    path: str = ctx.obj["config"]
    try:
        settings = load_settings(path, check_environment=check_environment)
    except ConfigError as exc:
        stop_on(exc.problems, path)
    configure_logging(settings.logging.level, settings.logging.format)
    return settings


def app_of(ctx: click.Context, check_environment: bool = True) -> bootstrap.App:
    """The app built from the settings, its database checked (and migrated on SQLite)."""
    app = bootstrap.build(settings_of(ctx, check_environment))
    try:
        bootstrap.prepare_database(app)
    except RuntimeError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    # What is loaded now (modules, settings, compiled rules) lives as long as the process: kept out of the
    # collector's full passes, which otherwise walk it again and again while mail is filed.
    gc.freeze()
    return app


def mailbox_named(settings: Settings, name: str) -> MailboxProfile:
    """The configured mailbox `name` (given as `--mailbox`), or a usage error naming the option."""
    try:
        return settings.mailbox(name).profile()
    except KeyError:
        raise click.BadParameter(f"no mailbox named {name!r} in the config", param_hint="--mailbox") from None


def environ() -> dict[str, str]:
    """The process environment (where secrets and token values are read from)."""
    return dict(os.environ)


def stop_on(problems: Sequence[object], where: str) -> NoReturn:
    """Print every problem, then how many and where, and exit 2: nothing starts on a bad file."""
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    click.echo(f"{len(problems)} problem(s) in {where}; nothing was started.", err=True)
    sys.exit(2)


def rules_of(settings: Settings, rules_dir: Path | None = None) -> RuleSet:
    """The compiled rules, or every problem printed as file:line and exit 2."""
    try:
        return bootstrap.rulebook(settings, rules_dir).compile()
    except RulesInvalid as exc:
        stop_on(exc.problems, "the rules")


def campaigns_of(settings: Settings) -> dict[str, Campaign]:
    """The compiled campaigns, or every problem printed as file:line and exit 2."""
    try:
        found = bootstrap.campaigns(settings)
    except RulesInvalid as exc:
        stop_on(exc.problems, "the campaigns")
    if found and settings.reply_secret(environ()) is None:
        click.echo("error: campaign mail needs [security] secret_env to sign its unsubscribe links", err=True)
        sys.exit(2)
    return found


def segments_of(settings: Settings) -> dict[str, Segment]:
    """The contact segments, or every problem printed as file:line and exit 2."""
    try:
        return bootstrap.segments(settings)
    except RulesInvalid as exc:
        stop_on(exc.problems, "the segments")
