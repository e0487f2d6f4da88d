"""Why a delivery failed, and the one table that says which reasons are hard.

A *hard* bounce means the address itself will not work: mail to it is pointless until someone fixes it. A
*soft* bounce is about this message, this sender or this moment. The reason is read from the server's
words first (a recipient's own `Diagnostic-Code` and the lines about it), then from its DSN status; the
status alone decides only when the words name no reason (see `core.classify.diagnosis`).

| reason               | what the server said                                      | hard or soft                 |
|----------------------|-----------------------------------------------------------|------------------------------|
| `user_unknown`       | no such user or mailbox (5.1.1, 5.1.3)                    | hard, even with a 4.x.x      |
| `host_unknown`       | no such domain or host (5.1.2)                            | hard                         |
| `has_moved`          | the address has moved (5.1.6)                             | hard                         |
| `not_accepting_mail` | the domain accepts no mail: null MX, no MX (5.1.10)       | hard; soft with a 4.x.x      |
| `mailbox_full`       | over quota (5.2.2)                                        | soft                         |
| `suspended`          | account disabled, inactive, locked (5.2.1)                | soft                         |
| `filtered`           | the recipient's filter refused this message               | soft                         |
| `blocked`            | our sending host or IP refused: block lists, reputation   | soft                         |
| `rejected`           | our sender address or domain refused; relaying denied     | soft                         |
| `policy_violation`   | refused by the recipient's policy (5.7.x)                 | soft                         |
| `spam_detected`      | taken for spam                                            | soft                         |
| `virus_detected`     | a virus was found                                         | soft                         |
| `security_error`     | SPF, DKIM, DMARC, authentication or TLS failed            | soft                         |
| `message_too_large`  | over a size limit (5.2.3, 5.3.4)                          | soft                         |
| `content_error`      | the message itself is malformed (5.6.x)                   | soft                         |
| `rate_limited`       | too many messages or connections                          | soft                         |
| `expired`            | the sending server gave up retrying (4.4.7, 5.4.7)        | soft                         |
| `network_error`      | the recipient's server could not be reached (5.4.x)       | soft                         |
| `system_error`       | the recipient's system failed (5.3.x, a delivery program) | soft                         |
| `undefined`          | nothing says why                                          | soft                         |
| `delayed`            | still retrying (`Action: delayed`, "will retry")          | no bounce: never counts      |

So a 5.x.x refusal of policy, reputation, content or security is soft (the address is fine; the message
or the sender was not), and "user unknown" is hard even with a 4.x.x status. These are the reasons, with
sisimai's names joined into fewer words (sisimai's `authfailure`, `failedstarttls` → `security_error`;
`requireptr`, `badreputation` → `blocked`; `norelaying` → `rejected`; `exceedlimit`, `mesgtoobig` →
`message_too_large`; `toomanyconn`, `speeding` → `rate_limited`; `mailererror`, `systemfull`,
`syntaxerror` → `system_error`; `notcompliantrfc` → `content_error`; `onhold` → `undefined`).
"""

from __future__ import annotations

import enum


class Reason(enum.StrEnum):
    """Why mail to one recipient failed (see the table in the module docstring)."""

    USER_UNKNOWN = "user_unknown"
    HOST_UNKNOWN = "host_unknown"
    HAS_MOVED = "has_moved"
    NOT_ACCEPTING_MAIL = "not_accepting_mail"
    MAILBOX_FULL = "mailbox_full"
    SUSPENDED = "suspended"
    FILTERED = "filtered"
    BLOCKED = "blocked"
    REJECTED = "rejected"
    POLICY_VIOLATION = "policy_violation"
    SPAM_DETECTED = "spam_detected"
    VIRUS_DETECTED = "virus_detected"
    SECURITY_ERROR = "security_error"
    MESSAGE_TOO_LARGE = "message_too_large"
    CONTENT_ERROR = "content_error"
    RATE_LIMITED = "rate_limited"
    EXPIRED = "expired"
    NETWORK_ERROR = "network_error"
    SYSTEM_ERROR = "system_error"
    UNDEFINED = "undefined"
    DELAYED = "delayed"

    @property
    def words(self) -> str:
        """The reason for a person: "user unknown", "mailbox full" …"""
        return self.value.replace("_", " ")


# The table, as code: hard whatever the status …
_HARD = frozenset({Reason.USER_UNKNOWN, Reason.HOST_UNKNOWN, Reason.HAS_MOVED})
# … and hard unless the server said "try again later" (4.x.x).
_HARD_UNLESS_TEMPORARY = frozenset({Reason.NOT_ACCEPTING_MAIL})


def is_hard(reason: Reason, status: str | None) -> bool:
    """Whether a failure for `reason` with DSN `status` ("5.1.1", "4.2.2" or None) is a hard bounce."""
    if reason in _HARD:
        return True
    return reason in _HARD_UNLESS_TEMPORARY and not (status or "5").startswith("4")


def counts_as_bounce(reason: Reason) -> bool:
    """A delay is not a bounce: the server is still trying; it never counts towards suppression."""
    return reason is not Reason.DELAYED


# The reason a status alone implies (RFC 3463 subjects and details), when the words name none.
_BY_STATUS = {
    "1.1": Reason.USER_UNKNOWN,
    "1.2": Reason.HOST_UNKNOWN,
    "1.3": Reason.USER_UNKNOWN,
    "1.6": Reason.HAS_MOVED,
    "1.7": Reason.REJECTED,
    "1.8": Reason.REJECTED,
    "1.10": Reason.NOT_ACCEPTING_MAIL,
    "2.1": Reason.SUSPENDED,
    "2.2": Reason.MAILBOX_FULL,
    "2.3": Reason.MESSAGE_TOO_LARGE,
    "3.4": Reason.MESSAGE_TOO_LARGE,
    "4.7": Reason.EXPIRED,
    "7.1": Reason.POLICY_VIOLATION,
    "7.26": Reason.SECURITY_ERROR,
}
_BY_SUBJECT = {
    "3": Reason.SYSTEM_ERROR,
    "4": Reason.NETWORK_ERROR,
    "5": Reason.SYSTEM_ERROR,
    "6": Reason.CONTENT_ERROR,
    "7": Reason.POLICY_VIOLATION,
}


def reason_by_status(status: str | None) -> Reason:
    """The reason a DSN status implies on its own ("5.1.1" → user unknown); `undefined` when it implies none."""
    if not status:
        return Reason.UNDEFINED
    _, _, detail = status.partition(".")
    found = _BY_STATUS.get(detail)
    if found is not None:
        return found
    subject = detail.partition(".")[0]
    return _BY_SUBJECT.get(subject, Reason.UNDEFINED)
