"""Words for people: a `Decision` as lines of text (`rules explain`), and what changed between two decisions
(`rules backtest`)."""

from __future__ import annotations

from inboxcrm.core.rules.model import Decision


def explain(decision: Decision) -> list[str]:
    """The decision as lines of text: each matching rule with its reasons and actions, then the outcome."""
    lines: list[str] = []
    for match in decision.matches:
        lines.append(f"✓ {match.rule}  ({match.file}:{match.line})")
        lines.extend(f"    because {reason}" for reason in match.because)
        lines.extend(f"    → {effect}" for effect in match.effects)
    if not decision.matches:
        lines.append("no rule matched")
    lines.extend(f"  {line}" for line in summary(decision))
    lines.extend(f"! {problem}" for problem in decision.problems)
    return lines


def summary(decision: Decision) -> list[str]:
    """One line per field the decision sets."""
    out: list[str] = []
    for label, value in (
        ("queue", decision.queue),
        ("priority", decision.priority),
        ("assignee", decision.assignee),
        ("stage", decision.stage),
    ):
        if value is not None:
            out.append(f"{label}: {value}")
    if decision.open_ticket is not None:
        out.append(f"ticket: {'open' if decision.open_ticket else 'none'}")
    if decision.ignore:
        out.append("ignored")
    tags = [f"+{t}" for t in sorted(decision.tags_added)] + [f"-{t}" for t in sorted(decision.tags_removed)]
    if tags:
        out.append("tags: " + " ".join(tags))
    if decision.score_changes:
        parts = ", ".join(f"{points:+g} {reason}" for points, reason in decision.score_changes)
        out.append(f"score: {decision.score:+g} ({parts})")
    if decision.enrol:
        out.append("enrol: " + ", ".join(decision.enrol))
    if decision.auto_replies:
        out.append("auto-reply: " + ", ".join(decision.auto_replies))
    out.extend(f"deal: {deal}" for deal in decision.deals)
    return out


def differences(before: Decision, after: Decision) -> list[str]:
    """What `after` decides differently from `before` (for backtests): routing, tickets, tags, scores,
    stages, enrolments, auto-replies and deals; empty when the outcomes agree."""
    out: list[str] = []
    for label in ("queue", "priority", "assignee", "stage", "open_ticket", "ignore"):
        old, new = getattr(before, label), getattr(after, label)
        if old != new:
            out.append(f"{label}: {old} → {new}")
    for label, old_set, new_set in (
        ("tags added", before.tags_added, after.tags_added),
        ("tags removed", before.tags_removed, after.tags_removed),
        ("enrol", frozenset(before.enrol), frozenset(after.enrol)),
        ("auto-reply", frozenset(before.auto_replies), frozenset(after.auto_replies)),
    ):
        gained, lost = sorted(new_set - old_set), sorted(old_set - new_set)
        if gained or lost:
            out.append(f"{label}: " + " ".join([f"+{x}" for x in gained] + [f"-{x}" for x in lost]))
    if before.score != after.score:
        out.append(f"score: {before.score:+g} → {after.score:+g}")
    if before.deals != after.deals:
        out.append(
            "deals: "
            + (", ".join(map(str, before.deals)) or "none")
            + " → "
            + (", ".join(map(str, after.deals)) or "none")
        )
    return out
