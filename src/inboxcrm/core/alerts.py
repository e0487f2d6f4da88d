"""What is an incident worth waking a person for, and the mail that tells them.

Pure: the caller passes the failures it sees now, the incidents already open and `now`; `decide` answers
which incidents to open and which to close. A refused login or token is an incident at once (waiting
does not fix it: a person must act); a mailbox or the outbox failing otherwise is one after `alert_after`.
Each incident is mailed once when it opens and once when it closes, never on every retry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from inboxcrm.core.model import Address
from inboxcrm.core.outgoing import Draft

Problem = Literal["connection", "login", "token", "outbox"]
IMMEDIATE: frozenset[str] = frozenset({"login", "token"})


class LoginRefused(Exception):
    """The server said no to our credentials: a wrong password, or a token it does not accept."""


class TokenRefused(LoginRefused):
    """The identity provider refused to give us an access token (consent revoked, secret expired …)."""


def problem_of(exc: BaseException) -> Problem:
    """How an error that ended a mailbox session counts for alerting."""
    if isinstance(exc, TokenRefused):
        return "token"
    if isinstance(exc, LoginRefused):
        return "login"
    return "connection"


@dataclass(frozen=True, slots=True)
class Failure:
    """Something failing now: `subject` is a mailbox name or "outbox"; `since` when it started failing."""

    subject: str
    problem: Problem
    since: datetime
    detail: str

    @property
    def key(self) -> str:
        return "outbox" if self.subject == "outbox" else f"mailbox:{self.subject}"


@dataclass(frozen=True, slots=True)
class Incident:
    """An open incident, as stored."""

    id: int
    key: str
    problem: str
    detail: str
    opened_at: datetime


@dataclass(frozen=True, slots=True)
class Decision:
    open: tuple[Failure, ...]
    close: tuple[Incident, ...]


def decide(
    failures: Iterable[Failure],
    healthy: Iterable[str],
    incidents: Mapping[str, Incident],
    now: datetime,
    alert_after: timedelta,
) -> Decision:
    """Incidents to open (failing long enough, or at once for refused credentials, and not open yet) and to
    close (open, and its subject now works: a key in `healthy`). A subject neither failing nor healthy
    (another daemon fetches it) changes nothing."""
    opening = []
    for failure in failures:
        if failure.key in incidents:
            continue
        if failure.problem in IMMEDIATE or now - failure.since >= alert_after:
            opening.append(failure)
    closing = [incident for key, incident in sorted(incidents.items()) if key in set(healthy)]
    return Decision(tuple(opening), tuple(closing))


def _what(key: str) -> str:
    return "the outbox (sending mail)" if key == "outbox" else f"mailbox {key.removeprefix('mailbox:')}"


_ADVICE = {
    "login": "The server refused the login. Check the password or the app's permission on the mailbox.",
    "token": "No access token could be had. Sign in again with `inboxcrm auth {name}`, or check the app "
    "registration (client secret expired? consent revoked?).",
    "connection": "The server could not be reached or broke off. inboxcrm keeps retrying with backoff.",
    "outbox": "Queued mail could not be sent. inboxcrm keeps retrying; nothing is lost.",
}


def opened_mail(failure: Failure, incident_id: int, sender: Address, to: Iterable[str], now: datetime) -> Draft:
    """The one mail that says an incident began."""
    what = _what(failure.key)
    advice = _ADVICE[failure.problem].format(name=failure.subject)
    text = (
        f"{what} is failing since {failure.since:%Y-%m-%d %H:%M} UTC.\n\n"
        f"Last error: {failure.detail}\n\n{advice}\n\n"
        "You get one more mail when it works again, none on every retry. /health and /metrics show the same.\n"
    )
    return _draft(f"alert-{incident_id}-open", sender, to, f"[inboxcrm] {what} is failing", text)


def closed_mail(incident: Incident, sender: Address, to: Iterable[str], now: datetime) -> Draft:
    """The one mail that says an incident is over."""
    what = _what(incident.key)
    lasted = now - incident.opened_at
    text = (
        f"{what} works again ({now:%Y-%m-%d %H:%M} UTC), after {_span(lasted)}.\n\n"
        f"The incident began with: {incident.detail}\n"
    )
    return _draft(f"alert-{incident.id}-closed", sender, to, f"[inboxcrm] {what} works again", text)


def _span(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{max(minutes, 1)} min"


def _draft(key: str, sender: Address, to: Iterable[str], subject: str, text: str) -> Draft:
    return Draft(
        key=key,
        kind="alert",
        sender=sender,
        to=tuple(Address(a) for a in to),
        subject=subject,
        text=text,
        automatic="auto-generated",
    )
