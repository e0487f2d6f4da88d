"""`inboxcrm contacts merge | export | erase`: one contact at a time, from the command line.

`export` and `erase` are made by functions that take an app builder (`app_of` here; a test passes its own),
and are recorded in the audit log with the actor "cli".
"""

from __future__ import annotations

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


contacts.add_command(export_contact(app_of))
contacts.add_command(erase_contact(app_of))
