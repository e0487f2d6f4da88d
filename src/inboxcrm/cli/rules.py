"""`inboxcrm rules explain | backtest`: why rules match a message, and what a rule change would change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import click

from inboxcrm import bootstrap
from inboxcrm.cli.app import app_of, mailbox_named, rules_of, settings_of
from inboxcrm.config import parse_duration
from inboxcrm.core.arrival import arrived_on
from inboxcrm.core.reading import read_raw
from inboxcrm.core.rules import explain as explain_decision
from inboxcrm.services.backtest import backtest

F = TypeVar("F", bound=Callable[..., Any])


def rules_dir_option(help_text: str) -> Callable[[F], F]:
    """`--rules DIR`: a rule folder instead of the config's."""
    return click.option(
        "--rules", "rules_dir", type=click.Path(file_okay=False, path_type=Path), default=None, help=help_text
    )


@click.group()
def rules() -> None:
    """The team's rules (rules/*.toml)."""


@rules.command(name="explain")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@rules_dir_option("Rule folder to use instead of the config's [rules] dir.")
@click.option(
    "--mailbox",
    "mailbox_name",
    default=None,
    help="The mailbox the mail arrives on (default: the one its Delivered-To/To/Cc names, else the first).",
)
@click.pass_context
def rules_explain(
    ctx: click.Context, files: tuple[Path, ...], rules_dir: Path | None, mailbox_name: str | None
) -> None:
    """Which rules match each message file, which condition made each match, and what they would do."""
    settings = settings_of(ctx, check_environment=False)
    compiled = rules_of(settings, rules_dir)
    named = mailbox_named(settings, mailbox_name) if mailbox_name else None
    if not settings.mailboxes:
        raise click.UsageError("the config has no mailbox; name one with --mailbox")
    profiles = [m.profile() for m in settings.mailboxes]
    book = bootstrap.rulebook(settings, rules_dir)
    for file in files:
        reading = read_raw(file.read_bytes())
        found = arrived_on(reading.message, profiles) if reading.message and named is None else None
        on, how = (found[0], f", from its {found[1]}") if found else (named or profiles[0], "")
        decision = book.decide(compiled, reading, on, bootstrap.utc_now())
        click.echo(f"== {file} (on mailbox {on.name}{how})")
        for line in explain_decision(decision):
            click.echo(f"  {line}")


@rules.command(name="backtest")
@click.option("--since", default="30d", show_default=True, help="How far back: e.g. 7d, 30d, 12h.")
@rules_dir_option("Rule folder to try instead of the config's [rules] dir (e.g. a branch's checkout).")
@click.option("--show", default=50, show_default=True, help="Differences to print (the counts cover all).")
@click.pass_context
def rules_backtest(ctx: click.Context, since: str, rules_dir: Path | None, show: int) -> None:
    """Replay stored mail through a rule set, without side effects, and print what would differ from what
    happened: routing, tickets, tags, scores, stages, enrolments, auto-replies, deals."""
    try:
        seconds = parse_duration(since)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None
    app = app_of(ctx)
    compiled = rules_of(app.settings, rules_dir)
    report = backtest(
        app.reads.source,
        bootstrap.rulebook(app.settings, rules_dir),
        compiled,
        app.clock() - timedelta(seconds=seconds),
        {m.name: m.profile() for m in app.settings.mailboxes},
    )
    for difference in report.differences[:show]:
        click.echo(
            f"#{difference.message_id} [{difference.mailbox}] {difference.sent_at:%Y-%m-%d} {difference.subject!r}"
        )
        for change in difference.changes:
            click.echo(f"    {change}")
    counts = ", ".join(f"{label} {count}" for label, count in sorted(report.counts().items())) or "nothing"
    click.echo(f"{report.replayed} message(s) replayed; {len(report.differences)} would differ ({counts})")
    app.close()
