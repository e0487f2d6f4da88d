"""Lead score signals read from mail itself, decay, and the stage a score earns. Pure functions.

Rules add points of their own (core/rules/); these are the signals every message gives without a
rule, weighted in the config's `[scoring]` table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class Weights:
    """Points per signal; 0 switches a signal off. `keywords` are matched in the subject and the new text
    (never in quoted text), once each per message."""

    company_domain: float = 0.0
    free_mail: float = 0.0
    message_in: float = 0.0
    message_out: float = 0.0
    fast_reply: float = 0.0
    fast_reply_within: timedelta = timedelta(hours=24)
    open_ticket: float = 0.0
    keywords: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MessageSignals:
    """What one stored message says about its contact."""

    inbound: bool
    automatic: bool
    first_from_contact: bool
    company_domain: bool
    new_text: str
    opens_ticket: bool
    replied_after: timedelta | None  # time since our last message in the thread, for a customer reply


def signal_points(signals: MessageSignals, weights: Weights) -> list[tuple[float, str]]:
    """(points, reason) for each signal `signals` shows; automatic mail scores nothing."""
    if signals.automatic:
        return []
    points: list[tuple[float, str]] = []

    def add(value: float, reason: str) -> None:
        if value:
            points.append((value, reason))

    if not signals.inbound:
        add(weights.message_out, "we wrote to them")
        return points
    add(weights.message_in, "wrote to us")
    if signals.first_from_contact:
        if signals.company_domain:
            add(weights.company_domain, "writes from a company domain")
        else:
            add(weights.free_mail, "writes from a free-mail address")
    if signals.replied_after is not None and signals.replied_after <= weights.fast_reply_within:
        hours = signals.replied_after.total_seconds() / 3600
        add(weights.fast_reply, f"replied within {hours:.0f} h")
    if signals.opens_ticket:
        add(weights.open_ticket, "opened a ticket")
    text = signals.new_text.lower()
    for keyword, value in weights.keywords.items():
        if keyword.lower() in text:
            add(value, f"mentions '{keyword}'")
    return points


def decayed(score: float, since: datetime, now: datetime, half_life: timedelta | None) -> float:
    """`score` as of `now`, halving every `half_life` since `since` (no decay without a half-life)."""
    if half_life is None or half_life.total_seconds() <= 0 or now <= since:
        return score
    return score * math.pow(0.5, (now - since) / half_life)


def earned_stage(
    score: float, current: str | None, thresholds: Mapping[str, float], order: Sequence[str]
) -> str | None:
    """The furthest stage whose threshold `score` reaches, if it is beyond `current`; stages only move
    forward by score (a lower score never demotes a customer)."""
    best, furthest = current, order.index(current) if current in order else -1
    for stage, threshold in thresholds.items():
        if score >= threshold and stage in order and order.index(stage) > furthest:
            best, furthest = stage, order.index(stage)
    return best if best != current else None
