"""The customer record's statements as one mixin of `SqlTransaction` (search index, custom fields, business
events, webhook deliveries, merging), and the hook that lets webhooks see each transaction's timeline events."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from inboxcrm.adapters.db.events import EventStatements
from inboxcrm.adapters.db.fields import FieldStatements
from inboxcrm.adapters.db.merge import MergeStatements
from inboxcrm.adapters.db.search import SearchStatements
from inboxcrm.adapters.db.webhooks import WebhookStatements
from inboxcrm.core.ports import NewEvent

# Called with the transaction and the events it just added to timelines, inside the transaction.
EventHooks = Sequence[Callable[[Any, Sequence[NewEvent]], None]]


class RecordStatements(SearchStatements, FieldStatements, EventStatements, WebhookStatements, MergeStatements):
    event_hooks: EventHooks = ()
    _announcing: bool = True

    def after_events(self, events: Sequence[NewEvent]) -> None:
        """Run the store's hooks on events just added to timelines (queues webhook deliveries), unless they
        were added `unannounced`."""
        if not self._announcing:
            return
        for hook in self.event_hooks:
            hook(self, events)

    @contextmanager
    def unannounced(self) -> Iterator[None]:
        """Events added inside go on the timelines but to no hook: history, mail read from the past."""
        before, self._announcing = self._announcing, False
        try:
            yield
        finally:
            self._announcing = before
