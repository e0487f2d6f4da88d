"""`inboxcrm contacts merge | export | erase | import`: contacts from the command line.

`export`, `erase` and `import` are made by functions that take an app builder (`app_of` here; a test passes
its own), and are recorded in the audit log with the actor "cli". `export` is the customer-data export of one
contact (`export CONTACT --out DIR`) or, with `--csv FILE [--segment NAME]`, contacts as CSV; `import FILE.csv`
reads such a file back.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from inboxcrm import bootstrap
from inboxcrm.cli.app import app_of
from inboxcrm.services.contacts import ContactNotFound
from inboxcrm.services.privacy import ErasureNeedsSecret, Privacy

AppBuilder = Callable[[click.Context], bootstrap.App]
ACTOR = "cli"


@click.group()
def contacts() -> None:
    """Contacts."""


@contacts.command(name="merge")
@click.argument("keep")
@click.argument("other")
@click.pass_context
def contacts_merge(ctx: click.Context, keep: str, other: str) -> None:
    """Merge contact OTHER into KEEP (each an id or an address); OTHER's addresses become aliases."""
    app = app_of(ctx)
    try:
        keep_id, other_id = app.contacts.resolve(keep), app.contacts.resolve(other)
        app.contacts.merge(keep_id, other_id)
    except (ContactNotFound, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        app.close()
    click.echo(f"merged contact #{other_id} into #{keep_id}")


def privacy_service(app: bootstrap.App) -> Privacy:
    """The app's export/erasure service; erased addresses are keyed with the same secret the campaigns check."""
    return Privacy(app.store, app.outreach.marketing.secret, app.clock)


def export_contact(build_app: AppBuilder) -> click.Command:
    """The `export CONTACT --out DIR` command."""

    @click.command(name="export")
    @click.argument("contact")
    @click.option(
        "--out",
        "out",
        required=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="A new or empty folder: contact.json and messages/<id>.eml are written there.",
    )
    @click.pass_context
    def command(ctx: click.Context, contact: str, out: Path) -> None:
        """Write everything stored about CONTACT (an id or an address) to a folder: contact.json and the raw
        bytes of its messages as messages/<id>.eml."""
        # never mix two exports: stale files of another contact would pass for this one's
        if out.exists() and any(out.iterdir()):
            raise click.ClickException(f"{out} is not empty: give a new or empty folder")
        app = build_app(ctx)
        try:
            export = privacy_service(app).export(app.contacts.resolve(contact), ACTOR)
        except ContactNotFound as exc:
            raise click.ClickException(str(exc)) from None
        finally:
            app.close()
        messages = out / "messages"
        messages.mkdir(parents=True, exist_ok=True, mode=0o700)  # personal data: the owner's eyes only
        (out / "contact.json").write_bytes(export.json_bytes())
        for name, raw in export.files:
            (messages / name).write_bytes(raw)
        click.echo(f"exported contact #{export.contact_id} to {out}: contact.json and {len(export.files)} message(s)")

    return command


def erase_contact(build_app: AppBuilder) -> click.Command:
    """The `erase CONTACT [--yes]` command."""

    @click.command(name="erase")
    @click.argument("contact")
    @click.option("--yes", is_flag=True, help="Erase without asking first.")
    @click.pass_context
    def command(ctx: click.Context, contact: str, yes: bool) -> None:
        """Erase CONTACT (an id or an address) and everything stored about them: messages with their raw
        bytes, timeline, tickets, tags, enrolments and mail to them. Their addresses stay on the suppression
        list only as salted hashes, so no campaign mails them again. Messages of other contacts that merely
        mention them stay. This cannot be undone."""
        app = build_app(ctx)
        try:
            contact_id = app.contacts.resolve(contact)
            if not yes:
                click.confirm(
                    f"Erase contact #{contact_id} and everything stored about them? This cannot be undone",
                    abort=True,
                )
            counts = privacy_service(app).erase(contact_id, ACTOR)
        except (ContactNotFound, ErasureNeedsSecret) as exc:
            raise click.ClickException(str(exc)) from None
        finally:
            app.close()
        deleted = ", ".join(f"{kind} {count}" for kind, count in counts.items() if count)
        click.echo(f"erased contact #{contact_id} ({deleted})")

    return command


def import_contacts(build_app: AppBuilder) -> click.Command:
    """The `import FILE.csv [--map HEADER=COLUMN] [--apply]` command."""

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


contacts.add_command(export_contacts(app_of, export_contact(app_of)))  # --csv, or one contact's data
contacts.add_command(erase_contact(app_of))
contacts.add_command(import_contacts(app_of))
