"""What `classify` answers: the kind of a message and, for reports, the recipients they are about."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from inboxcrm.core.classify.reasons import Reason


class Kind(enum.StrEnum):
    """What sort of inbound message this is; only `NORMAL` mail was written by a person, to us."""

    NORMAL = "normal"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    FEEDBACK_REPORT = "feedback_report"
    LIST = "list"


@dataclass(frozen=True, slots=True)
class BouncedRecipient:
    """One recipient a report is about.

    `email` is normalised; `status` is the DSN status ("5.1.1"), read or inferred from well-known words,
    None when nothing says; `reason` says why (`core.classify.reasons`: user unknown, mailbox full …, or
    `delayed`, which is no bounce at all); `hard` means the address itself is dead, as the reasons' table
    decides from reason and status; `diagnostic` is the remote server's words ("550 5.1.1 user unknown"),
    "" when there were none. In a feedback report these are the people who complained: never hard,
    `status` and `reason` None.
    """

    email: str
    status: str | None
    hard: bool
    diagnostic: str
    reason: Reason | None = None

    def as_record(self) -> dict[str, str | bool | None]:
        """The recipient as stored with the message and printed by `inboxcrm parse`."""
        reason = self.reason.value if self.reason else None
        return {"email": self.email, "status": self.status, "reason": reason, "hard": self.hard,
                "diagnostic": self.diagnostic}  # fmt: skip

    @property
    def counts(self) -> bool:
        """A real bounce (not a delay, not a complaint): it counts towards suppressing the address."""
        return self.reason is not None and self.reason is not Reason.DELAYED


@dataclass(frozen=True, slots=True)
class Classification:
    """The kind of a message, whom a bounce or feedback report is about, and short reasons for the verdict."""

    kind: Kind
    bounce: tuple[BouncedRecipient, ...] = ()
    reasons: tuple[str, ...] = ()
