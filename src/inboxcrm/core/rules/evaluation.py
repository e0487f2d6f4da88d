"""Evaluating: a `RuleSet` over one message's `Facts` → a `Decision`, with the reasons each rule matched.
Never raises: a rule that fails is skipped and named in `Decision.problems`."""

from __future__ import annotations

from collections.abc import Sequence

from inboxcrm.core.rules.context import Context, digest
from inboxcrm.core.rules.model import Deal, Decision, Facts, Rule, RuleMatch, RuleSet


def evaluate(rules: RuleSet, facts: Facts, *, reasons: bool = True) -> Decision:
    """Run `rules` in order over `facts`. Never raises: a rule that fails to run is skipped and named in
    `Decision.problems`. Later rules override single-valued fields; a rule with `stop` ends evaluation.

    `reasons=False` leaves every `RuleMatch.because` empty, for callers that only need the outcome (a backtest
    comparing outcomes): explaining costs about as much as finding the matches."""
    problems: list[str] = []
    try:
        c = digest(facts, rules, problems)
    except Exception as exc:  # facts we cannot read at all: no rule can match them
        return Decision(problems=(f"cannot read the message for rules: {type(exc).__name__}: {exc}",))
    key = (c.mailbox, c.mailbox_kind, c.kind, c.direction)
    plan = rules.plan(key)
    try:
        if plan is None:
            raise LookupError(key)
        matched = [plan.rules[i] for i in plan.run(c)]
    except Exception:  # rule by rule: no plan, or one failed (generated tests are total; this is a last resort)
        matched = _one_by_one(rules.candidates(key), c, problems)
    return _decide(matched, c, problems, reasons)


def evaluate_event(rules: RuleSet, facts: Facts) -> Decision:
    """Run the rules that name `event` (and only those: a rule about mail never fires on a purchase) over a
    business event (`facts.event`, with an empty message). Never raises."""
    problems: list[str] = []
    try:
        c = digest(facts, rules, problems)
    except Exception as exc:
        return Decision(problems=(f"cannot read the event for rules: {type(exc).__name__}: {exc}",))
    candidates = [rule for rule in rules.rules if "event" in rule.condition.needs]
    return _decide(_one_by_one(candidates, c, problems), c, problems, True)


def _one_by_one(rules: Sequence[Rule], c: Context, problems: list[str]) -> list[Rule]:
    matched: list[Rule] = []
    for rule in rules:
        try:
            hit = rule.test(c)
        except Exception as exc:
            problems.append(f"rule {rule.name!r} ({rule.file}:{rule.line}) failed: {type(exc).__name__}: {exc}")
            continue
        if hit:
            matched.append(rule)
            if rule.stops:
                break
    return matched


def _because(rule: Rule, c: Context) -> tuple[str, ...]:
    try:
        return tuple(rule.condition.explain(c))
    except Exception:  # an explanation is for people; a bug in one must not cost the decision
        return (rule.describe(),)


def _decide(rules: Sequence[Rule], c: Context, problems: list[str], reasons: bool) -> Decision:
    queue = priority = assignee = stage = None
    open_ticket: bool | None = None
    ignore: bool | None = None
    added: set[str] = set()
    removed: set[str] = set()
    scores: list[tuple[float, str]] = []
    enrol: list[str] = []
    replies: list[str] = []
    deals: list[Deal] = []
    for rule in rules:
        done = rule.outcome
        if done.queue is not None:
            queue = done.queue
        if done.priority is not None:
            priority = done.priority
        if done.assignee is not None:
            assignee = done.assignee
        if done.stage is not None:
            stage = done.stage
        if done.open_ticket is not None:
            open_ticket = done.open_ticket
        if done.ignore is not None:
            ignore = done.ignore
        if done.added or done.removed:
            added.difference_update(done.removed)
            added.update(done.added)
            removed.difference_update(done.added)
            removed.update(done.removed)
        if done.scores:
            scores.extend(done.scores)
        if done.enrol:
            enrol.extend(x for x in done.enrol if x not in enrol)
        if done.auto_replies:
            replies.extend(x for x in done.auto_replies if x not in replies)
        if done.deals:
            deals.extend(done.deals)
    if reasons:
        matches = tuple(RuleMatch(r.name, r.file, r.line, _because(r, c), r.effects) for r in rules)
    else:
        matches = tuple(r.unexplained for r in rules)
    return Decision(
        matches=matches,
        queue=queue,
        priority=priority,
        assignee=assignee,
        tags_added=frozenset(added),
        tags_removed=frozenset(removed),
        stage=stage,
        score_changes=tuple(scores),
        open_ticket=open_ticket,
        ignore=bool(ignore),
        enrol=tuple(enrol),
        auto_replies=tuple(replies),
        deals=tuple(deals),
        problems=tuple(problems),
    )
