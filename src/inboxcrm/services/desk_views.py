"""What the pages and the API show of the desk's saved replies and collisions: each saved reply rendered with
sample data (or why it does not render), and how many replies the collision guard held, sent, dropped, or
could only record (observed replies)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from inboxcrm.core import saved_replies
from inboxcrm.core.ports import Renderer


@dataclass(frozen=True, slots=True)
class SavedReplyView:
    """A saved reply as listed: its name, what an agent writes, and its text with sample data."""

    name: str
    usage: str
    preview: str
    problem: str | None = None


class DeskViews:
    """Read-only views of the desk for the pages and the API."""

    def __init__(
        self, templates: Renderer | None, collision_counts: Callable[[datetime, datetime], Mapping[str, int]]
    ) -> None:
        self.templates = templates
        self.collision_counts = collision_counts

    def saved_replies(self) -> list[SavedReplyView]:
        """Every saved reply, by name, rendered with `saved_replies.SAMPLE`."""
        if self.templates is None:
            return []
        found = []
        for name in self.templates.saved_replies():
            try:
                text = self.templates.render(saved_replies.template_name(name), saved_replies.SAMPLE).text
            except Exception as exc:  # shown on the list: a broken saved reply must not hide the others
                found.append(SavedReplyView(name, f"#reply {name}", "", str(exc)))
                continue
            found.append(SavedReplyView(name, f"#reply {name}", text))
        return found

    def collisions(self, since: datetime, until: datetime) -> dict[str, int]:
        """Replies held in `[since, until)` by what became of them, and observed replies that collided."""
        return dict(self.collision_counts(since, until))
