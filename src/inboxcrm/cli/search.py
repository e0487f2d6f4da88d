"""`inboxcrm search QUERY` and `inboxcrm search --rebuild`: the full-text index from the command line."""

from __future__ import annotations

import html
import json
import re

import click

from inboxcrm import bootstrap
from inboxcrm.cli.app import app_of
from inboxcrm.core.search_query import QueryProblem
from inboxcrm.core.search_text import LANGUAGES
from inboxcrm.services.search import Rebuilt, rebuild


def _plain(marked: str, style: bool) -> str:
    """HTML with <mark> → terminal text, the marked words bold."""
    text = re.sub(r"<mark>(.*?)</mark>", (lambda m: click.style(m.group(1), bold=True)) if style else r"\1", marked)
    return html.unescape(text)


@click.command(name="search")
@click.argument("query", nargs=-1)
@click.option("--limit", default=20, show_default=True, help="Messages to show.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per message.")
@click.option("--rebuild", is_flag=True, help="Build the index anew from every stored message and contact.")
@click.option(
    "--language", type=click.Choice(LANGUAGES), default=None, help="With --rebuild: stem words in this language."
)
@click.pass_context
def search(
    ctx: click.Context, query: tuple[str, ...], limit: int, as_json: bool, rebuild: bool, language: str | None
) -> None:
    """Find messages (newest first) by what they say: words, "phrases", from:, to:, subject:, mailbox:,
    after:/before: (YYYY-MM-DD), has:attachment, is:ticket, -word, a OR b, prefix*. With --rebuild, build
    the index anew (after upgrading, or to change its language)."""
    app = app_of(ctx)
    try:
        if rebuild:
            _rebuild_index(app, language)
            return
        if not query:
            raise click.UsageError("give a query, e.g. inboxcrm search 'from:acme.com invoice'")
        try:
            page = app.search.search(" ".join(query), limit=limit)
        except QueryProblem as exc:
            raise click.ClickException(str(exc)) from None
        for hit in page.messages:
            if as_json:
                click.echo(
                    json.dumps(
                        {
                            "id": hit.id,
                            "thread_id": hit.thread_id,
                            "contact_id": hit.contact_id,
                            "mailbox": hit.mailbox,
                            "from": hit.from_.email if hit.from_ else None,
                            "sent_at": hit.sent_at.isoformat(),
                            "subject": _plain(hit.subject, False),
                            "snippet": _plain(hit.snippet, False),
                        },
                        ensure_ascii=False,
                    )
                )
            else:
                who = hit.from_.email if hit.from_ else "?"
                click.echo(f"#{hit.id} [{hit.mailbox}] {hit.sent_at:%Y-%m-%d} {who}: {_plain(hit.subject, True)}")
                click.echo(f"    {_plain(hit.snippet, True)}")
        if not as_json:
            more = " (more: use --limit)" if page.next_cursor else ""
            click.echo(f"{len(page.messages)} message(s){more}")
    finally:
        app.close()


def _rebuild_index(app: bootstrap.App, language: str | None) -> None:
    chosen = language or app.settings.search.language

    def progress(done: Rebuilt) -> None:
        click.echo(f"\r{done.contacts} contact(s), {done.messages} message(s) indexed", nl=False, err=True)

    done = rebuild(app.store, chosen, app.clock(), progress=progress)
    click.echo("", err=True)
    click.echo(f"search index rebuilt in {chosen!r}: {done.contacts} contact(s), {done.messages} message(s)")
