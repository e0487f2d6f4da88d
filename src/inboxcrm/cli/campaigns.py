"""`inboxcrm campaigns list | preview | enrol`: what the drip campaigns are, what a step sends, enrolling by hand."""

from __future__ import annotations

import sys

import click

from inboxcrm.adapters.db.reads import SqlReads
from inboxcrm.cli.app import app_of, campaigns_of, settings_of
from inboxcrm.core.ports import NewEvent


@click.group(name="campaigns")
def campaigns_group() -> None:
    """Drip campaigns: what is configured, what a step looks like, who is enrolled."""


@campaigns_group.command(name="list")
@click.pass_context
def campaigns_list(ctx: click.Context) -> None:
    """Every campaign with its trigger, steps and figures (enrolled, sent, replied, bounced, unsubscribed)."""
    found = campaigns_of(settings_of(ctx))
    app = app_of(ctx)
    try:
        reads = SqlReads(app.engine)
        figures, counts = reads.campaign_figures(), reads.enrolment_counts()
        for name, campaign in sorted(found.items()):
            trigger = campaign.trigger.kind + (
                f" {campaign.trigger.value}" if campaign.trigger.value is not None else ""
            )
            click.echo(f"{name}: {len(campaign.steps)} step(s), trigger {trigger}  ({campaign.file}:{campaign.line})")
            totals = counts.get(name, {})
            click.echo(
                f"  enrolled {sum(totals.values())}: active {totals.get('active', 0)}, "
                f"completed {totals.get('finished', 0)}, left {totals.get('exited', 0)}"
            )
            for row in figures.get(name, []):
                click.echo(
                    f"  step {row['step']}: sent {row['sent']}, replied {row['replied']}, bounced {row['bounced']}, "
                    f"unsubscribed {row['unsubscribed']}"
                )
    finally:
        app.close()


@campaigns_group.command(name="preview")
@click.argument("name")
@click.option("--step", "step", type=int, default=1, show_default=True, help="The step number (from 1).")
@click.option("--contact", "email", required=True, help="The contact's address.")
@click.pass_context
def campaigns_preview(ctx: click.Context, name: str, step: int, email: str) -> None:
    """Print exactly the mail step N would send to a contact (nothing is stored or sent)."""
    found = campaigns_of(settings_of(ctx))
    campaign = found.get(name)
    if campaign is None or not 1 <= step <= len(campaign.steps):
        known = ", ".join(sorted(found)) or "none"
        click.echo(f"error: no campaign {name!r} with a step {step} (campaigns: {known})", err=True)
        sys.exit(2)
    app = app_of(ctx)
    try:
        with app.store.transaction() as tx:
            contact_id = tx.contact_ids_for([email]).get(email.lower())
            recipient = tx.recipient(contact_id, app.clock()) if contact_id is not None else None
        if recipient is None:
            click.echo(f"error: no contact {email}", err=True)
            sys.exit(2)
        domain = campaign.sender.email.partition("@")[2]
        try:
            mail = app.outreach.step_mail(campaign, step, app.clock()).mail(recipient, None, f"<preview@{domain}>")
        except Exception as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        click.echo(mail.raw.decode("utf-8", "replace"), nl=False)
    finally:
        app.close()


@campaigns_group.command(name="enrol")
@click.argument("name")
@click.argument("emails", nargs=-1, required=True)
@click.pass_context
def campaigns_enrol(ctx: click.Context, name: str, emails: tuple[str, ...]) -> None:
    """Enrol contacts (by address) in a campaign by hand."""
    campaigns_of(settings_of(ctx))
    app = app_of(ctx)
    failed = 0
    try:
        for email in emails:
            with app.store.transaction() as tx:
                contact_id = tx.contact_ids_for([email]).get(email.lower())
                if contact_id is None:
                    click.echo(f"{email}: no such contact", err=True)
                    failed += 1
                    continue
                enrolment_id, why = app.outreach.enrol(tx, contact_id, name, "cli", app.clock())
                if enrolment_id is None:
                    click.echo(f"{email}: not enrolled: {why}", err=True)
                    failed += 1
                    continue
                tx.add_events([NewEvent(contact_id, app.clock(), "campaign_enrolled", f"Enrolled in {name} (cli)")])
                click.echo(f"{email}: enrolled in {name}")
    finally:
        app.close()
    sys.exit(1 if failed else 0)
