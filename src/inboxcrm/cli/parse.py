"""`inboxcrm parse`: what inboxcrm understands of message files, without storing anything."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from inboxcrm.config import load_settings
from inboxcrm.services.inspect import describe


@click.command(name="parse")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file and line.")
@click.pass_context
def parse_files(ctx: click.Context, files: tuple[Path, ...], as_json: bool) -> None:
    """Show what inboxcrm understands of each message file (nothing is stored).

    With a config (--config), forwards are attributed to the original author only when a team member
    forwarded them, as the daemon files them."""
    config = Path(ctx.obj["config"])
    team = load_settings(config, check_environment=False).team_profile() if config.is_file() else None
    for file in files:
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raw = b""
            result = describe(raw, str(file), team)
            result["defects"] = [f"cannot read the file: {exc.strerror}"]
        else:
            result = describe(raw, str(file), team)
        if as_json:
            click.echo(json.dumps(result, ensure_ascii=False))
        else:
            click.echo(_human(result))


def _human(result: dict[str, Any]) -> str:
    def who(address: dict[str, str] | None) -> str:
        return (
            f"{address['name']} <{address['email']}>"
            if address and address["name"]
            else (address["email"] if address else "-")
        )

    lines = [f"== {result['file']}", f"from:      {who(result['from'])}"]
    if result["original_from"]:
        lines.append(
            f"original:  {who(result['original_from'])} (forwarded by {who(result['forwarded_by'])}, "
            f"confidence {result['forward_confidence']:.2f})"
        )
    reasons = "; ".join(result["kind_reasons"])
    lines += [
        f"to:        {', '.join(who(a) for a in result['to']) or '-'}",
        f"subject:   {result['subject']}",
        f"date:      {result['date'] or '-'}",
        f"kind:      {result['kind'] or '-'}" + (f" ({reasons})" if reasons else ""),
    ]
    if result["bounce"]:
        for r in result["bounce"]["recipients"]:
            lines.append(f"bounced:   {r['email']} {r['status'] or ''} {'hard' if r['hard'] else 'soft'}")
    for a in result["attachments"]:
        lines.append(f"attached:  {a['filename']} ({a['content_type']}, {a['size']} bytes)")
    if result["defects"]:
        lines.append(f"defects:   {'; '.join(result['defects'])}")
    lines.append("new text:\n  " + "\n  ".join((result["new_text"] or "").splitlines()[:40]))
    if result["quoted_text"]:
        lines.append(f"quoted:    {len(result['quoted_text'].splitlines())} line(s)")
    if result["signature"]:
        lines.append("signature:\n  " + "\n  ".join(result["signature"].splitlines()))
    return "\n".join(lines)
