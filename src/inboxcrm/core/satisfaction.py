"""Customer satisfaction (CSAT) without a database: the signed one-click links of the "How did we do?"
survey a customer gets when their ticket is solved, whether a ticket may get one, and the CSAT figure.

A link's token carries the ticket and the rating themselves, signed, so nobody can rate a ticket they were
not asked about. Layout before encoding: `signature (16 bytes) + ticket id (8 bytes, big-endian) + rating
(one byte: g, o or b)`, in URL-safe base64 without padding. The signature is HMAC-SHA256 over the rest with
a prefix that keeps it apart from every other token signed with the same secret (relay addresses,
unsubscribe links).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from inboxcrm.core.tickets import Ticket

_PURPOSE = b"inboxcrm-satisfaction:v1:"
_MAC_BYTES = 16
_BASE64URL = re.compile(r"[A-Za-z0-9_-]{1,64}")


class Rating(StrEnum):
    """What a customer answered to "How did we do?"."""

    GOOD = "good"
    OKAY = "okay"
    BAD = "bad"

    @property
    def label(self) -> str:
        return {"good": "Good, I'm satisfied", "okay": "Okay", "bad": "Bad, I'm not satisfied"}[self.value]


_CODE = {Rating.GOOD: b"g", Rating.OKAY: b"o", Rating.BAD: b"b"}
_RATING = {v: k for k, v in _CODE.items()}

# How a mailbox asks: not at all (the default), below the agent's reply that solves the ticket, or in a short
# mail of its own.
SURVEY_MODES = ("off", "reply", "mail")


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _mac(body: bytes, secret: bytes) -> bytes:
    return hmac.new(secret, _PURPOSE + body, hashlib.sha256).digest()[:_MAC_BYTES]


def survey_token(ticket_id: int, rating: Rating, secret: bytes) -> str:
    """The token of the link that rates ticket `ticket_id` as `rating`. Raises ValueError on an empty secret or
    a ticket id that is not a positive 64-bit integer."""
    if not secret:
        raise ValueError("a survey token needs a secret")
    if not 0 < ticket_id < 2**63:
        raise ValueError(f"not a ticket id: {ticket_id}")
    body = ticket_id.to_bytes(8, "big") + _CODE[rating]
    return _encode(_mac(body, secret) + body)


def read_survey_token(token: str, secret: bytes) -> tuple[int, Rating] | None:
    """(ticket id, rating) from a token `survey_token` made with `secret`; None for anything else. Never raises."""
    if not isinstance(token, str) or not secret or not _BASE64URL.fullmatch(token):
        return None
    try:
        data = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    if _encode(data) != token or len(data) != _MAC_BYTES + 9:
        return None  # only the one spelling we make: changing any character makes a token invalid
    mac, body = data[:_MAC_BYTES], data[_MAC_BYTES:]
    if not hmac.compare_digest(mac, _mac(body, secret)):
        return None
    rating = _RATING.get(body[8:])
    ticket_id = int.from_bytes(body[:8], "big")
    if rating is None or ticket_id <= 0:
        return None
    return ticket_id, rating


def survey_links(public_url: str, ticket_id: int, secret: bytes) -> dict[Rating, str]:
    """The three links of a ticket's survey (each opens a confirmation page; only its button records)."""
    base = public_url.rstrip("/")
    return {rating: f"{base}/satisfaction/{survey_token(ticket_id, rating, secret)}" for rating in Rating}


def survey_text(public_url: str, ticket_id: int, secret: bytes) -> str:
    """The "How did we do?" block: a question and one line per answer, each with its link."""
    links = survey_links(public_url, ticket_id, secret)
    lines = ["How did we do? One click tells us:", ""]
    lines += [f"  {rating.label}: {links[rating]}" for rating in Rating]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class SurveyFacts:
    """What decides whether a solved ticket's customer is asked: read from the store when it is solved."""

    from_history: bool  # opened by history and not yet touched by live mail
    opened_by: str  # the kind of the message that opened the ticket: normal, auto_reply, list, …
    list_mail: bool  # the customer's messages carry List-Id / List-Unsubscribe / Precedence: bulk|list
    suppressed: bool  # the address is on the suppression list (unsubscribed from everything, bounced, complained)
    already_asked: bool  # a survey for this ticket went out since it was last reopened


def survey_skip_reason(facts: SurveyFacts, email: str | None, no_reply: bool) -> str | None:
    """Why this solved ticket's customer is not asked "How did we do?", or None when they are. `no_reply` is
    whether `email` is an address nobody reads (noreply@, mailer-daemon@ …; see core/loops.py)."""
    if facts.from_history:
        return "the ticket is history"
    if email is None:
        return "the ticket has no customer address"
    if facts.opened_by != "normal":
        return f"the ticket was opened by {facts.opened_by.replace('_', ' ')} mail"
    if facts.list_mail:
        return "the customer writes from a mailing list"
    if no_reply:
        return f"{email} is not read by anyone"
    if facts.suppressed:
        return f"{email} unsubscribed from our mail"
    if facts.already_asked:
        return "the customer was asked already"
    return None


@dataclass(frozen=True, slots=True)
class Tally:
    """Ratings counted: CSAT is the share of good ones among all ratings, in percent."""

    good: int = 0
    okay: int = 0
    bad: int = 0

    @property
    def total(self) -> int:
        return self.good + self.okay + self.bad

    @property
    def csat(self) -> float | None:
        """Good ratings as a percentage of all ratings, rounded to a whole number; None without ratings."""
        return round(100 * self.good / self.total) if self.total else None


def tally(ratings: Iterable[str]) -> Tally:
    """Count ratings given as their values ("good", "okay", "bad"); anything else is ignored."""
    counts = {r.value: 0 for r in Rating}
    for rating in ratings:
        if rating in counts:
            counts[rating] += 1
    return Tally(counts["good"], counts["okay"], counts["bad"])


class SatisfactionTransaction(Protocol):
    """What customer satisfaction reads and writes, inside the desk's transaction."""

    def survey_facts(self, ticket_id: int, email: str | None) -> SurveyFacts: ...
    def survey_asked(self, ticket_id: int, at: datetime) -> bool: ...
    def record_rating(self, ticket: Ticket, rating: str, comment: str | None, at: datetime) -> bool: ...
    def rating_of(self, ticket_id: int) -> tuple[str | None, str | None] | None: ...
