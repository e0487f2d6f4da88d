"""`inboxcrm check`: validate the config, rules, segments, templates and campaigns without starting anything."""

from __future__ import annotations

import sys

import click

from inboxcrm import bootstrap
from inboxcrm.adapters.templates import Templates
from inboxcrm.cli.app import campaigns_of, rules_of, segments_of, settings_of
from inboxcrm.config import Settings
from inboxcrm.core.rules import RulesInvalid
from inboxcrm.services.desk import SAMPLE_CONTEXT
from inboxcrm.services.outreach import CAMPAIGN_SAMPLE


@click.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Validate the config and the rules; print every problem with file:line; exit non-zero on any."""
    settings = settings_of(ctx)
    rules = rules_of(settings)
    named_campaigns = campaigns_of(settings)
    click.echo(f"{settings.resolve(settings.rules.dir)}: ok ({len(rules.rules)} rule(s) in {len(rules.files)} file(s))")
    named = segments_of(settings)
    click.echo(f"{settings.resolve(settings.segments.dir)}: ok ({len(named)} segment(s))")
    mail_templates = bootstrap.templates(settings)
    problems = template_problems(settings, mail_templates)
    if problems:
        for problem in problems:
            click.echo(f"error: {problem}", err=True)
        click.echo(f"{len(problems)} problem(s) in the templates.", err=True)
        sys.exit(2)
    click.echo(f"{settings.resolve(settings.templates.dir)}: ok ({len(mail_templates.names())} template(s))")
    click.echo(f"{settings.resolve(settings.campaigns.dir)}: ok ({len(named_campaigns)} campaign(s))")
    click.echo(
        f"{ctx.obj['config']}: ok ({len(settings.mailboxes)} mailbox(es), "
        f"database {settings.database_url().split('@')[-1]})"
    )


def template_problems(settings: Settings, templates: Templates) -> list[str]:
    """Every problem with the mail templates: files that do not compile, and templates the config names
    (acknowledgements, rules' auto_reply) that are missing or fail to render with sample data."""
    wanted = sorted({m.acknowledge for m in settings.mailboxes if m.acknowledge})
    try:
        steps = sorted({step.template for c in bootstrap.campaigns(settings, templates).values() for step in c.steps})
    except RulesInvalid:
        steps = []  # reported by the campaign check
    if not wanted and not steps and not templates.directory.is_dir():
        return []  # no templates and nothing that needs one
    problems = [str(p) for p in templates.load()]
    names = set(templates.names())
    for name in wanted:
        if name in names:  # a missing one is reported by the config check, with its line
            problems += [str(p) for p in templates.check(name, SAMPLE_CONTEXT)]
    for name in steps:
        if name in names:  # a missing one is reported by the campaign check, with its line
            problems += [str(p) for p in templates.check(name, CAMPAIGN_SAMPLE)]
    return problems
