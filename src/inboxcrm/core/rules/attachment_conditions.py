"""Attachment conditions: `attachment = true|false`, or globs over file names and content types."""

from __future__ import annotations

from typing import Any

from inboxcrm.core.rules.checking import RuleChecker, first_glob, glob_regex, quoted_list, shown_value
from inboxcrm.core.rules.conditions import Leaf, Node
from inboxcrm.core.rules.context import Context
from inboxcrm.core.rules.vocabulary import ATTACHMENT_OPERATORS
from inboxcrm.core.tomlfile import Loc, suggest


class AttachmentConditions(RuleChecker):
    """Compiles `attachment`."""

    def attachment(self, value: Any, loc: Loc) -> Node | None:
        if isinstance(value, bool):
            if value:
                return Leaf(
                    "(c.attachments != ())",
                    "has an attachment",
                    1,
                    because=lambda c: f"has {len(c.attachments)} attachment(s)",
                )
            return Leaf("(c.attachments == ())", "has no attachment", 1)
        if not isinstance(value, dict) or not value:
            self.problem(
                loc,
                f"`attachment` takes true/false or a table, got {shown_value(value)}",
                'e.g. attachment.filename = "*.pdf"',
            )
            return None
        patterns: dict[str, list[str]] = {}
        ok = True
        for op, spec in value.items():
            if op not in ATTACHMENT_OPERATORS:
                self.problem((*loc, op), f"unknown operator {op!r} for `attachment`", suggest(op, ATTACHMENT_OPERATORS))
                ok = False
                continue
            items = self.strings(spec, (*loc, op), "a glob")
            if items is None:
                ok = False
            else:
                patterns[op] = [i.lower() for i, _ in items]
        if not ok:
            return None
        names = patterns.get("filename")
        types = patterns.get("content_type")
        kn = self.ns.const(glob_regex(names) if names else None)
        kt = self.ns.const(glob_regex(types) if types else None)
        parts = ([f"named {quoted_list(names)}"] if names else []) + (
            [f"of type {quoted_list(types)}"] if types else []
        )
        text = "has an attachment " + " ".join(parts)

        def because(c: Context) -> str:
            for filename, content_type in c.attachments:
                if (names is None or first_glob(names, (filename,))) and (
                    types is None or first_glob(types, (content_type,))
                ):
                    return f"has attachment {filename or '(no name)'} ({content_type})"
            return text

        return Leaf(f"_attachment_match({kn}, {kt}, c.attachments)", text, 3, because=because)
