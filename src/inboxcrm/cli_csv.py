"""`inboxcrm contacts import FILE.csv` and `inboxcrm contacts export` (a segment → CSV, or one contact's data).

Built like `cli_privacy.py`: functions take the CLI's app builder and return commands; `cli.py` adds them to
its `contacts` group. `export` keeps the customer-data export (`export CONTACT --out DIR`) and adds CSV
(`export --csv FILE [--segment NAME]`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from inboxcrm import bootstrap

AppBuilder = Callable[[click.Context], bootstrap.App]
ACTOR = "cli"


def import_contacts(build_app: AppBuilder) -> click.Command:
    @click.command(name="import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--map", "pairs", multiple=True, metavar="HEADER=COLUMN", help="e.g. --map 'E-Mail=email'; =- skips.")
    @click.option("--apply", is_flag=True, help="Write the changes (without it: a dry run that only reports them).")
    @click.pass_context
    def command(ctx: click.Context, file: Path, pairs: tuple[str, ...], apply: bool) -> None:
        """Create and update contacts from a CSV file: columns email (the key), name, company (a domain), tags
        (separated by ;), stage and one per custom field. A dry run unless --apply; any bad cell is reported as
        FILE:row:column and nothing is written. Importing the same file twice changes nothing the second time."""
        bad = [p for p in pairs if "=" not in p]
        if bad:
            raise click.BadParameter(f"expected HEADER=COLUMN, got {bad[0]!r}", param_hint="--map")
        try:
            text = file.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise click.ClickException(f"{file}: not UTF-8 (save the file as UTF-8 CSV)") from None
        app = build_app(ctx)
        try:
            report = app.contacts_csv.import_(text, ACTOR, apply, dict(p.split("=", 1) for p in pairs))
        finally:
            app.close()
        for problem in report.problems:
            click.echo(f"error: {file}:{problem}", err=True)
        if report.problems:
            click.echo(f"{len(report.problems)} problem(s) in {file}; nothing was imported.", err=True)
            sys.exit(2)
        for change in report.changes:
            click.echo(change)
        verb = "imported" if report.applied else "dry run (nothing written; --apply writes it)"
        click.echo(f"{verb}: {report.created} new, {report.updated} changed, {report.unchanged} unchanged")

    return command


def export_contacts(build_app: AppBuilder, data_export: click.Command) -> click.Command:
    """`export`: CSV with --csv, else the customer-data export of one contact (`data_export`)."""

    @click.command(name="export")
    @click.argument("contact", required=False)
    @click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="One contact's data: a folder.")
    @click.option(
        "--csv", "csv_file", type=click.Path(dir_okay=False, allow_dash=True), help="CSV to this file (-: stdout)."
    )
    @click.option("--segment", help="With --csv: only this segment's contacts.")
    @click.pass_context
    def command(
        ctx: click.Context, contact: str | None, out: Path | None, csv_file: str | None, segment: str | None
    ) -> None:
        """`export --csv FILE [--segment NAME]`: contacts as CSV (all, or a segment's), a column per custom
        field; importing the file back changes nothing. `export CONTACT --out DIR`: everything stored about one
        contact (contact.json and its messages)."""
        if csv_file is None:
            if contact is None or out is None:
                raise click.UsageError("give CONTACT --out DIR, or --csv FILE [--segment NAME]")
            ctx.invoke(data_export, contact=contact, out=out)
            return
        if contact is not None or out is not None:
            raise click.UsageError("--csv exports contacts by segment, not one CONTACT --out DIR")
        app = build_app(ctx)
        try:
            chosen = None
            if segment is not None:
                chosen = bootstrap.segments(app.settings).get(segment)
                if chosen is None:
                    raise click.ClickException(f"no segment named {segment!r}")
            text = app.contacts_csv.export(chosen)
        finally:
            app.close()
        if csv_file == "-":
            click.echo(text, nl=False)
        else:
            Path(csv_file).write_text(text, encoding="utf-8")
            click.echo(f"{text.count(chr(10)) - 1} contact(s) written to {csv_file}", err=True)

    return command
