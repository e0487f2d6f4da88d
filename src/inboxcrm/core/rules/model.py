"""The rule model and its decision: the facts a rule reads, a compiled `Rule` and `RuleSet`, the `Effect`s of
its actions and the `Decision` they add up to.

Rules run in order: files sorted by path, then rules in file order. Every matching rule applies its actions;
for single values (queue, priority, assignee, stage, open_ticket, ignore) the last matching rule wins, tags,
score points, enrolments, auto-replies and deals add up. `then.stop = true` ends evaluation after its rule.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from inboxcrm.core.model import Message
from inboxcrm.core.rules.conditions import Plan

if TYPE_CHECKING:
    from inboxcrm.core.rules.conditions import Node
    from inboxcrm.core.rules.context import Context


@dataclass(frozen=True, slots=True)
class ContactFacts:
    """What rules may ask about the contact a message is filed under (tags as stored; email lower-case)."""

    email: str
    tags: frozenset[str] = frozenset()
    score: float = 0.0
    stage: str | None = None
    company_domain: str | None = None
    # custom fields, typed (`core/fields.typed`): numbers as float, booleans as bool, the rest as text
    fields: Mapping[str, str | float | bool] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EventFacts:
    """A business event rules run on (`event = "order"`): its kind, amount and currency."""

    kind: str
    amount: float | None = None
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything one evaluation reads. `now` should be aware (naive means UTC); weekday and time conditions
    are read in `timezone`. `new_text` is the analysis's new text; body conditions fall back to `message.text`.
    `direction` is "in" (from outside) or "out" (from our team), as `understand` decided."""

    message: Message
    kind: str
    mailbox: str
    mailbox_kind: str
    contact: ContactFacts | None
    now: datetime
    timezone: str = "UTC"
    new_text: str | None = None
    direction: str = "in"
    event: EventFacts | None = None  # a business event (then `message` is empty)
    words: str | None = None  # `body_words` of the message, when made already (see core/analysis.py)


class Action(enum.StrEnum):
    """What an `Effect` does."""

    SET_QUEUE = "set_queue"
    SET_PRIORITY = "set_priority"
    ASSIGN = "assign"
    ADD_TAG = "add_tag"
    REMOVE_TAG = "remove_tag"
    SET_STAGE = "set_stage"
    ADD_SCORE = "add_score"
    OPEN_TICKET = "open_ticket"
    IGNORE = "ignore"
    ENROL = "enrol"
    AUTO_REPLY = "auto_reply"
    DEAL = "deal"
    STOP = "stop"


@dataclass(frozen=True, slots=True)
class Deal:
    """Open or move the deal `name` on the contact's company; None leaves value or stage as they are."""

    name: str
    value: float | None = None
    stage: str | None = None

    def __str__(self) -> str:
        parts = [repr(self.name)]
        if self.value is not None:
            parts.append(f"value {self.value:g}")
        if self.stage is not None:
            parts.append(f"stage {self.stage}")
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class Effect:
    """One action of one rule. `target` is the queue, priority, agent (or "round-robin"), tag, stage,
    campaign or template; `points`/`reason` belong to add_score, `flag` to open_ticket and ignore,
    `deal` to deal."""

    action: Action
    target: str = ""
    points: float = 0.0
    reason: str = ""
    flag: bool = True
    deal: Deal | None = None

    def __str__(self) -> str:
        match self.action:
            case Action.SET_QUEUE:
                return f"queue → {self.target}"
            case Action.SET_PRIORITY:
                return f"priority → {self.target}"
            case Action.ASSIGN:
                return f"assign → {self.target}"
            case Action.ADD_TAG:
                return f"tag +{self.target}"
            case Action.REMOVE_TAG:
                return f"tag -{self.target}"
            case Action.SET_STAGE:
                return f"stage → {self.target}"
            case Action.ADD_SCORE:
                return f"score {self.points:+g} ({self.reason})"
            case Action.OPEN_TICKET:
                return "open a ticket" if self.flag else "no ticket"
            case Action.IGNORE:
                return "ignore" if self.flag else "do not ignore"
            case Action.ENROL:
                return f"enrol in {self.target}"
            case Action.AUTO_REPLY:
                return f"auto-reply with {self.target}"
            case Action.DEAL:
                return f"deal {self.deal}"
            case Action.STOP:
                return "stop"
        return self.action.value  # pragma: no cover - every action is listed above


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """A rule that matched: where it is written, the conditions that made it match, and its actions."""

    rule: str
    file: str
    line: int
    because: tuple[str, ...]
    effects: tuple[Effect, ...]


@dataclass(frozen=True, slots=True)
class Decision:
    """What the rules decided for one message. None / empty means no rule said anything about that field.

    `problems` lists anything evaluation had to skip (an unknown timezone, a rule that failed): evaluation
    itself never raises."""

    matches: tuple[RuleMatch, ...] = ()
    queue: str | None = None
    priority: str | None = None
    assignee: str | None = None
    tags_added: frozenset[str] = frozenset()
    tags_removed: frozenset[str] = frozenset()
    stage: str | None = None
    score_changes: tuple[tuple[float, str], ...] = ()
    open_ticket: bool | None = None
    ignore: bool = False
    enrol: tuple[str, ...] = ()
    auto_replies: tuple[str, ...] = ()
    deals: tuple[Deal, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def score(self) -> float:
        """The sum of the score changes."""
        return sum(points for points, _ in self.score_changes)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one rule's actions add up to, folded once when the rule is compiled (None: not set by the rule).
    Within a rule, as between rules, the later of two actions on the same field or tag wins."""

    queue: str | None = None
    priority: str | None = None
    assignee: str | None = None
    stage: str | None = None
    open_ticket: bool | None = None
    ignore: bool | None = None
    added: frozenset[str] = frozenset()
    removed: frozenset[str] = frozenset()
    scores: tuple[tuple[float, str], ...] = ()
    enrol: tuple[str, ...] = ()
    auto_replies: tuple[str, ...] = ()
    deals: tuple[Deal, ...] = ()

    @classmethod
    def of(cls, effects: Sequence[Effect]) -> Outcome:
        single: dict[str, Any] = {}
        added: dict[str, bool] = {}  # tag → added (True) or removed (False), the last action winning
        scores: list[tuple[float, str]] = []
        lists: dict[Action, list[str]] = {Action.ENROL: [], Action.AUTO_REPLY: []}
        deals: list[Deal] = []
        fields = {
            Action.SET_QUEUE: "queue",
            Action.SET_PRIORITY: "priority",
            Action.ASSIGN: "assignee",
            Action.SET_STAGE: "stage",
        }
        for effect in effects:
            action = effect.action
            if action in fields:
                single[fields[action]] = effect.target
            elif action is Action.OPEN_TICKET or action is Action.IGNORE:
                single[action.value] = effect.flag
            elif action is Action.ADD_TAG or action is Action.REMOVE_TAG:
                added.pop(effect.target, None)  # re-insert: the order of the last action counts
                added[effect.target] = action is Action.ADD_TAG
            elif action is Action.ADD_SCORE:
                scores.append((effect.points, effect.reason))
            elif action in lists and effect.target not in lists[action]:
                lists[action].append(effect.target)
            elif action is Action.DEAL and effect.deal is not None:
                deals.append(effect.deal)
        return cls(
            **single,
            added=frozenset(t for t, on in added.items() if on),
            removed=frozenset(t for t, on in added.items() if not on),
            scores=tuple(scores),
            enrol=tuple(lists[Action.ENROL]),
            auto_replies=tuple(lists[Action.AUTO_REPLY]),
            deals=tuple(deals),
        )


@dataclass(frozen=True, eq=False)
class Rule:
    """One compiled rule. `test` is the generated predicate; `guard` lists, per field of `GUARDED`, the
    values the rule can match at all (None: any), so most rules are skipped without running."""

    name: str
    file: str
    line: int
    condition: Node
    effects: tuple[Effect, ...]
    stops: bool
    test: Callable[[Context], bool] = field(repr=False)
    guard: tuple[frozenset[str] | None, ...] = (None, None, None, None)
    # The constants `condition.expr` refers to; their names are unique over the rule set, so that the
    # expressions of many rules can share one generated function (see `Plan`).
    constants: Mapping[str, object] = field(default_factory=dict, repr=False)
    # Derived once, so that evaluation only adds outcomes up: what the actions do, and the match without reasons.
    outcome: Outcome = field(init=False, repr=False)
    unexplained: RuleMatch = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "outcome", Outcome.of(self.effects))
        object.__setattr__(self, "unexplained", RuleMatch(self.name, self.file, self.line, (), self.effects))

    def admits(self, key: tuple[str, ...]) -> bool:
        """Whether the rule can match a message with these `GUARDED` values."""
        return all(allowed is None or value in allowed for allowed, value in zip(self.guard, key, strict=True))

    def describe(self) -> str:
        """The rule's conditions in words."""
        return self.condition.describe()


@dataclass(frozen=True)
class RuleSet:
    """Compiled rules in evaluation order, and the files they came from (sorted)."""

    rules: tuple[Rule, ...] = ()
    files: tuple[str, ...] = ()
    needs: frozenset[str] = frozenset()
    header_names: frozenset[str] = frozenset()
    # At most this many plans are built; 0 runs every message rule by rule (the same results, slower).
    plan_limit: int = field(default=512, compare=False)
    # `GUARDED` values → the plan for them; a memo, not state: it never changes a result.
    _plans: dict[tuple[str, ...], Plan] = field(default_factory=dict, init=False, repr=False, compare=False)

    def candidates(self, key: tuple[str, ...]) -> tuple[Rule, ...]:
        """The rules that can match a message with these `GUARDED` values, in order."""
        found = self._plans.get(key)
        return found.rules if found is not None else tuple(r for r in self.rules if r.admits(key))

    def plan(self, key: tuple[str, ...]) -> Plan | None:
        """The plan for these `GUARDED` values, built on first use; None once `plan_limit` plans exist (mailbox
        names and kinds come from the config, so only odd input gets there, and is then run rule by rule)."""
        found = self._plans.get(key)
        if found is None and len(self._plans) < self.plan_limit:
            found = self._plans[key] = Plan.build(self.candidates(key))
        return found
