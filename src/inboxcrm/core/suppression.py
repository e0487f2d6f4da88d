"""When a bounce stops campaign mail to an address: a hard bounce at once, soft ones after a few in a while.

A hard bounce (the address itself is dead: `core.classify.reasons`) suppresses the address the moment it
arrives. A soft one (full mailbox, a spam block, a server that gave up) says nothing certain about the
address, so it only counts: `limit` soft bounces within `window` suppress it too, as listmonk's and
Mautic's bounce settings do. A delay is no bounce and never counts. Pure: the caller stores and counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class SoftBouncePolicy:
    """`limit` soft bounces within `window` suppress an address; a `limit` of 0 never does."""

    limit: int = 3
    window: timedelta = timedelta(days=30)


class Verdict(StrEnum):
    """What one bounced recipient does to the address."""

    IGNORE = "ignore"  # a delay (or a complaint's recipient): nothing to count
    COUNT = "count"  # a soft bounce: record it, then see `after_soft_bounce`
    SUPPRESS = "suppress"  # a hard bounce: suppress now


def verdict(*, hard: bool, counts: bool) -> Verdict:
    """The verdict for one bounced recipient: `hard` per the reasons' table, `counts` False for a delay."""
    if not counts:
        return Verdict.IGNORE
    return Verdict.SUPPRESS if hard else Verdict.COUNT


def suppressed_after_soft(soft_in_window: int, policy: SoftBouncePolicy) -> bool:
    """Whether `soft_in_window` soft bounces (this one included) within the policy's window suppress."""
    return policy.limit > 0 and soft_in_window >= policy.limit
