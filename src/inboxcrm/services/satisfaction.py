"""The survey links' two halves for the web: `read` (no side effects: link scanners and previews follow links
and must never vote) and `record` (the confirmation page's POST), in a transaction of their own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from inboxcrm.core.ports import Store
from inboxcrm.core.satisfaction import Rating, read_survey_token
from inboxcrm.services.desk import Support

MAX_COMMENT = 2000


@dataclass(frozen=True, slots=True)
class SurveyLink:
    """What a valid link is about."""

    ticket_id: int
    rating: Rating
    subject: str
    rated: str | None  # the answer already given, if any


class SurveyLinks:
    def __init__(self, store: Store, support: Support, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._support = support
        self._clock = clock

    def _token(self, token: str) -> tuple[int, Rating] | None:
        secret = self._support.desk.secret
        return read_survey_token(token, secret) if secret is not None else None

    def read(self, token: str) -> SurveyLink | None:
        """The ticket and rating a link names, if it is one of ours and the ticket was asked."""
        found = self._token(token)
        if found is None:
            return None
        with self._store.transaction() as tx:
            ticket = tx.ticket(found[0])
            asked = tx.rating_of(found[0])
        if ticket is None or asked is None:
            return None
        return SurveyLink(ticket.id, found[1], ticket.subject, asked[0])

    def record(self, token: str, rating: Rating | None, comment: str) -> SurveyLink | None:
        """Record the answer (`rating` chosen on the page, else the link's own) with an optional comment."""
        found = self._token(token)
        if found is None:
            return None
        chosen = rating or found[1]
        text = " ".join(comment.split())[:MAX_COMMENT] or None
        now = self._clock()
        with self._store.transaction() as tx:
            ticket = tx.ticket(found[0])
            if ticket is None:
                return None
            events = self._support.rated(tx, ticket, chosen, text, now)
            if not events and tx.rating_of(ticket.id) is None:
                return None
            tx.add_events(events)
        return SurveyLink(ticket.id, chosen, ticket.subject, chosen.value)
