"""The `contacts export` and `contacts erase` commands, on both databases: export to an empty folder, erase after
asking or with --yes."""

from __future__ import annotations

import json
from pathlib import Path

import click
from click.testing import CliRunner

from inboxcrm import bootstrap
from inboxcrm.adapters.db import tables as t
from inboxcrm.cli.contacts import erase_contact, export_contact
from tests.services.privacy_support import (
    ALIAS,
    CAROL,
    Clock,
    World,
    build,
    clock,
    contact_id,
    crm,
    mentions,
    rows,
    settings_path,
    world,
)

__all__ = ["clock", "crm", "settings_path", "world"]  # the fixtures


def cli(settings_path: Path, database_url: str, clock: Clock) -> click.Group:
    """A `contacts` group with the two commands, as cli/contacts.py registers them, on a fresh app per command."""

    def build_app(_ctx: click.Context) -> bootstrap.App:
        return build(settings_path.parent, database_url, clock)

    group = click.Group("contacts")
    group.add_command(export_contact(build_app))
    group.add_command(erase_contact(build_app))
    return group


def test_the_cli_exports_to_a_folder_and_erases_after_asking(
    crm: bootstrap.App, world: World, settings_path: Path, database_url: str, clock: Clock, tmp_path: Path
) -> None:
    contacts = cli(settings_path, database_url, clock)
    runner = CliRunner()
    out = tmp_path / "export"
    done = runner.invoke(contacts, ["export", CAROL.upper(), "--out", str(out)])
    assert done.exit_code == 0, done.output
    document = json.loads((out / "contact.json").read_text())
    assert document["contact"]["id"] == world.carol
    written = sorted(p.read_bytes() for p in (out / "messages").glob("*.eml"))
    assert written == sorted(world.carol_raws)
    # never into a folder that holds something already
    again = runner.invoke(contacts, ["export", str(world.carol), "--out", str(out)])
    assert again.exit_code != 0 and "not empty" in again.output
    assert runner.invoke(contacts, ["export", "nobody@nowhere.example", "--out", str(tmp_path / "x")]).exit_code == 1

    # without --yes it asks; "no" changes nothing
    refused = runner.invoke(contacts, ["erase", CAROL], input="n\n")
    assert refused.exit_code != 0 and "cannot be undone" in refused.output
    assert contact_id(crm, CAROL) == world.carol
    confirmed = runner.invoke(contacts, ["erase", str(world.carol)], input="y\n")
    assert confirmed.exit_code == 0, confirmed.output
    assert f"erased contact #{world.carol}" in confirmed.output
    assert mentions(crm, CAROL, ALIAS) == []
    assert [(a.actor, a.action) for a in rows(crm, t.audit_log)] == [("cli", "export"), ("cli", "erase")]
    assert runner.invoke(contacts, ["erase", CAROL, "--yes"]).exit_code == 1  # gone


def test_the_cli_erases_with_yes_without_asking(
    crm: bootstrap.App, world: World, settings_path: Path, database_url: str, clock: Clock
) -> None:
    done = CliRunner().invoke(cli(settings_path, database_url, clock), ["erase", ALIAS, "--yes"])
    assert done.exit_code == 0, done.output
    assert "Erase contact" not in done.output
    assert mentions(crm, CAROL, ALIAS) == []
