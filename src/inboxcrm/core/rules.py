"""Rules as code: TOML rule files → a compiled `RuleSet`; `evaluate(rules, facts)` → a `Decision` with reasons.

Pure: callers pass file texts in (`compile_rules([(path, text), …], vocabulary)`) and the time in (`Facts.now`).

The format (rules/README.md has the long version)::

    [[rule]]
    name = "Invoices go to billing"          # required, unique over all files
    when.mailbox = "support"                  # conditions; all of them must hold
    when.subject.contains = ["invoice", "refund"]
    then = { queue = "billing", assign = "ben", add_tags = "billing" }

Rules run in order: files sorted by path, then rules in file order. Every matching rule applies its actions;
for single values (queue, priority, assignee, stage, open_ticket, ignore) the last matching rule wins, tags,
score points, enrolments, auto-replies and deals add up. `then.stop = true` ends evaluation after its rule.

Conditions (a string or a list of strings; a list means "any of"):
  mailbox, mailbox_kind (support/sales/other), kind (normal/auto_reply/bounce/feedback_report/list),
    direction (in: from a customer, out: from our team);
  from, to, cc, recipients (to or cc): "x@y.com", "*@y.com", "y.com" (that domain and its subdomains), or
    { address = …, domain = …, free_mail = true|false } (globs allowed in address and domain);
  subject, body (the new text of the message): "word" (contains), or { contains, contains_all, contains_word,
    regex, equals, starts_with, ends_with, case_sensitive = false };
  header = { "X-Priority" = "1", "In-Reply-To" = { exists = false } } (the text operators, plus exists);
  attachment = true|false, or { filename = "*.pdf", content_type = "image/*" };
  contact = { has_tag, lacks_tag, score_at_least, score_at_most, stage, company = true | "acme.com" };
  weekday = "weekend" | ["mon", "fri"]; time = { after = "18:00", before = "08:00" } (in `Facts.timezone`);
  all = [{…}, {…}], any = [{…}, {…}], not = {…}: combinators, nestable.
Text matching ignores case unless `case_sensitive = true`.

Actions: queue, priority, assign (an agent or "round-robin"), add_tags, remove_tags, stage,
score (points, or { points, reason }), open_ticket, ignore, enrol, auto_reply, deal = { name, value, stage }, stop.

Names of queues, agents, stages, campaigns, templates and deal stages are checked against a `Vocabulary`;
`compile_rules` reports every problem in every file at once, each with file:line and a hint, and never
returns a half-valid rule set.

Speed (bench/rules.py): each rule's conditions become one Python expression over a per-message context
(subject and body lower-cased once, address domains and their parent domains precomputed, only the headers
rules name), with cheap tests first so that `and` stops early. Rules are pre-selected by mailbox, mailbox kind,
kind and direction, and the expressions of the rules left are generated into one function per such selection,
built on first use. User text never becomes source code: every value the generated code uses is a constant
bound by name.
"""

from __future__ import annotations

import bisect
import contextlib
import difflib
import enum
import fnmatch
import itertools
import re
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from datetime import time as clock_time
from typing import Any, cast
from zoneinfo import ZoneInfo

from inboxcrm.core.addresses import FREE_MAIL_DOMAINS
from inboxcrm.core.classify import Kind
from inboxcrm.core.model import Direction, MailboxKind, Message

PRIORITIES = ("low", "normal", "high", "urgent")
ROUND_ROBIN = "round-robin"
# Body conditions read at most this much text: a pathological regex on a huge body stays bounded.
MAX_BODY_CHARS = 100_000
# Deeper nesting than this is a mistake, and Python's compiler has a recursion limit of its own.
MAX_DEPTH = 24

_Loc = tuple[str | int, ...]


# ---------------------------------------------------------------------------------------------------------
# Public values


@dataclass(frozen=True, slots=True)
class RuleProblem:
    """One thing wrong with a rule file; `line` is None only when even the file's syntax is unreadable."""

    file: str
    line: int | None
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}" + (f" ({self.hint})" if self.hint else "")


class RulesInvalid(Exception):
    """The rule files cannot be used; `problems` lists every problem in every file."""

    def __init__(self, problems: Sequence[RuleProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """The names actions and conditions may refer to. `mailboxes` None means mailbox names are not checked."""

    templates: frozenset[str] = frozenset()
    campaigns: frozenset[str] = frozenset()
    agents: frozenset[str] = frozenset()
    stages: tuple[str, ...] = ()
    queues: frozenset[str] = frozenset()
    deal_stages: tuple[str, ...] = ()
    mailboxes: frozenset[str] | None = None
    priorities: tuple[str, ...] = PRIORITIES


@dataclass(frozen=True, slots=True)
class ContactFacts:
    """What rules may ask about the contact a message is filed under (tags as stored; email lower-case)."""

    email: str
    tags: frozenset[str] = frozenset()
    score: float = 0.0
    stage: str | None = None
    company_domain: str | None = None


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
class _Outcome:
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
    def of(cls, effects: Sequence[Effect]) -> _Outcome:
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
    condition: _Node
    effects: tuple[Effect, ...]
    stops: bool
    test: Callable[[_Ctx], bool] = field(repr=False)
    guard: tuple[frozenset[str] | None, ...] = (None, None, None, None)
    # The constants `condition.expr` refers to; their names are unique over the rule set, so that the
    # expressions of many rules can share one generated function (see `_Plan`).
    constants: Mapping[str, object] = field(default_factory=dict, repr=False)
    # Derived once, so that evaluation only adds outcomes up: what the actions do, and the match without reasons.
    outcome: _Outcome = field(init=False, repr=False)
    unexplained: RuleMatch = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "outcome", _Outcome.of(self.effects))
        object.__setattr__(self, "unexplained", RuleMatch(self.name, self.file, self.line, (), self.effects))

    def admits(self, key: tuple[str, ...]) -> bool:
        """Whether the rule can match a message with these `GUARDED` values."""
        return all(allowed is None or value in allowed for allowed, value in zip(self.guard, key, strict=True))

    def describe(self) -> str:
        """The rule's conditions in words."""
        return self.condition.describe()


# The fields whose values pre-select rules: few distinct values, and nearly every rule names one of them.
GUARDED = ("mailbox", "mailbox_kind", "kind", "direction")


@dataclass(frozen=True, eq=False)
class _Plan:
    """The rules that can match messages with one set of `GUARDED` values, and one generated function that
    tests them all in order and returns the positions of those that match (stopping after a `stop` rule).

    One function instead of one call per rule: a call costs more than most rules' first, failing, test."""

    rules: tuple[Rule, ...]
    run: Callable[[_Ctx], list[int]]

    @classmethod
    def build(cls, rules: tuple[Rule, ...]) -> _Plan:
        lines = ["def run(c):", "    hits = []"]
        namespace: dict[str, object] = dict(_HELPERS)
        for index, rule in enumerate(rules):
            namespace.update(rule.constants)
            lines += [f"    if {rule.condition.expr}:", f"        hits.append({index})"]
            if rule.stops:
                lines.append("        return hits")
        lines.append("    return hits")
        exec(compile("\n".join(lines), "<rules>", "exec"), namespace)
        return cls(rules, cast("Callable[[_Ctx], list[int]]", namespace["run"]))


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
    _plans: dict[tuple[str, ...], _Plan] = field(default_factory=dict, init=False, repr=False, compare=False)

    def candidates(self, key: tuple[str, ...]) -> tuple[Rule, ...]:
        """The rules that can match a message with these `GUARDED` values, in order."""
        found = self._plans.get(key)
        return found.rules if found is not None else tuple(r for r in self.rules if r.admits(key))

    def plan(self, key: tuple[str, ...]) -> _Plan | None:
        """The plan for these `GUARDED` values, built on first use; None once `plan_limit` plans exist (mailbox
        names and kinds come from the config, so only odd input gets there, and is then run rule by rule)."""
        found = self._plans.get(key)
        if found is None and len(self._plans) < self.plan_limit:
            found = self._plans[key] = _Plan.build(self.candidates(key))
        return found


# ---------------------------------------------------------------------------------------------------------
# The per-message context the generated code reads


class _Ctx:
    """One message, pre-digested for matching: lower-cased texts, emails, domains and their parent domains."""

    __slots__ = (
        "attachments",
        "body",
        "body_raw",
        "cc",
        "cc_domains",
        "cc_suffixes",
        "company_domain",
        "company_suffixes",
        "direction",
        "from_domain",
        "from_email",
        "from_suffixes",
        "has_contact",
        "headers",
        "headers_raw",
        "kind",
        "local",
        "mailbox",
        "mailbox_kind",
        "minute",
        "recipients",
        "recipients_domains",
        "recipients_suffixes",
        "score",
        "stage",
        "subject",
        "subject_raw",
        "tags",
        "to",
        "to_domains",
        "to_suffixes",
        "weekday",
    )

    mailbox: str
    mailbox_kind: str
    kind: str
    direction: str
    subject: str
    subject_raw: str
    body: str
    body_raw: str
    from_email: str
    from_domain: str
    from_suffixes: tuple[str, ...]
    to: tuple[str, ...]
    to_domains: tuple[str, ...]
    to_suffixes: tuple[str, ...]
    cc: tuple[str, ...]
    cc_domains: tuple[str, ...]
    cc_suffixes: tuple[str, ...]
    recipients: tuple[str, ...]
    recipients_domains: tuple[str, ...]
    recipients_suffixes: tuple[str, ...]
    headers: dict[str, str]
    headers_raw: dict[str, str]
    attachments: tuple[tuple[str, str], ...]
    has_contact: bool
    tags: frozenset[str]
    score: float
    stage: str | None
    company_domain: str
    company_suffixes: tuple[str, ...]
    weekday: int
    minute: int
    local: datetime | None


def _suffixes(domain: str) -> tuple[str, ...]:
    """`mail.eu.acme.com` → itself, `eu.acme.com`, `acme.com`, `com`: a domain condition matches any of them."""
    if not domain:
        return ()
    found = [domain]
    dot = domain.find(".")
    while dot >= 0:
        found.append(domain[dot + 1 :])
        dot = domain.find(".", dot + 1)
    return tuple(found)


def _domain_of(email: str) -> str:
    return email.rpartition("@")[2].rstrip(".")


def _context(facts: Facts, rules: RuleSet, problems: list[str]) -> _Ctx:
    """Digest `facts` once; only the work the rules need (body, headers they name, recipients, time …) is done."""
    needs = rules.needs
    c = _Ctx()
    message = facts.message
    c.mailbox = str(facts.mailbox).lower()
    c.mailbox_kind = str(facts.mailbox_kind).lower()
    c.kind = str(facts.kind).lower()
    c.direction = str(facts.direction).lower()
    subject = message.subject.strip()
    c.subject_raw = subject
    c.subject = subject.lower()
    sender = message.from_.email.lower() if message.from_ is not None else ""
    c.from_email = sender
    c.from_domain = _domain_of(sender)
    c.from_suffixes = _suffixes(c.from_domain)
    c.to = c.to_domains = c.to_suffixes = c.cc = c.cc_domains = c.cc_suffixes = ()
    if "to" in needs or "cc" in needs or "recipients" in needs:
        c.to = tuple([a.email.lower() for a in message.to])
        c.to_domains = tuple([_domain_of(e) for e in c.to])
        c.to_suffixes = tuple([s for d in c.to_domains for s in _suffixes(d)])
        if message.cc:
            c.cc = tuple([a.email.lower() for a in message.cc])
            c.cc_domains = tuple([_domain_of(e) for e in c.cc])
            c.cc_suffixes = tuple([s for d in c.cc_domains for s in _suffixes(d)])
    c.recipients = c.to + c.cc
    c.recipients_domains = c.to_domains + c.cc_domains
    c.recipients_suffixes = c.to_suffixes + c.cc_suffixes
    if "body" in needs:
        body = (facts.new_text if facts.new_text is not None else message.text)[:MAX_BODY_CHARS].strip()
        c.body_raw = body
        c.body = body.lower()
    else:
        c.body = c.body_raw = ""
    c.headers = c.headers_raw = _NO_HEADERS
    wanted = rules.header_names
    if wanted:
        found: dict[str, list[str]] = {}
        for name, value in message.headers:
            key = name.lower()
            if key in wanted:
                found.setdefault(key, []).append(value.strip())
        if found:
            c.headers_raw = {name: "\n".join(values) for name, values in found.items()}
            c.headers = {name: value.lower() for name, value in c.headers_raw.items()}
    c.attachments = (
        tuple([(a.filename.lower(), a.content_type.lower()) for a in message.attachments])
        if message.attachments
        else ()
    )
    contact = facts.contact
    if contact is None:
        c.has_contact, c.tags, c.score, c.stage, c.company_domain = False, _NO_TAGS, 0.0, None, ""
    else:
        c.has_contact, c.tags, c.score, c.stage = True, contact.tags, contact.score, contact.stage
        c.company_domain = (contact.company_domain or "").lower()
    c.company_suffixes = _suffixes(c.company_domain)
    c.weekday, c.minute, c.local = 0, 0, None
    if "time" in needs:
        now = facts.now if facts.now.tzinfo is not None else facts.now.replace(tzinfo=UTC)
        try:
            zone = ZoneInfo(facts.timezone)
        except Exception:  # an unknown or malformed zone name must not stop evaluation
            problems.append(f"unknown timezone {facts.timezone!r}: weekday and time read in UTC")
            zone = ZoneInfo("UTC")
        c.local = now.astimezone(zone)
        c.weekday = c.local.weekday()
        c.minute = c.local.hour * 60 + c.local.minute
    return c


_NO_HEADERS: dict[str, str] = {}  # shared and never written to
_NO_TAGS: frozenset[str] = frozenset()


def _local_time(c: _Ctx) -> str:
    return c.local.strftime("%a %H:%M") if c.local is not None else "?"


def _any_match(pattern: re.Pattern[str], values: tuple[str, ...]) -> bool:
    # A plain loop, not any(<generator>): this runs inside the hot path of evaluation.
    for value in values:  # noqa: SIM110
        if pattern.match(value) is not None:
            return True
    return False


def _attachment_match(
    names: re.Pattern[str] | None, types: re.Pattern[str] | None, attachments: tuple[tuple[str, str], ...]
) -> bool:
    for filename, content_type in attachments:
        if (names is None or names.match(filename) is not None) and (
            types is None or types.match(content_type) is not None
        ):
            return True
    return False


_HELPERS: dict[str, object] = {
    "__builtins__": {},
    "_any_match": _any_match,
    "_attachment_match": _attachment_match,
    "_FREE": FREE_MAIL_DOMAINS,
}


class _Namespace:
    """Constants the generated code refers to by name (`_r3k0`, `_r3k1` … for rule 3): values never become
    source text."""

    def __init__(self, prefix: str = "_") -> None:
        self.prefix = prefix
        self.constants: dict[str, object] = {}
        self.values: dict[str, object] = dict(_HELPERS)

    def const(self, value: object) -> str:
        name = f"{self.prefix}k{len(self.constants)}"
        self.constants[name] = value
        self.values[name] = value
        return name

    def function(self, expr: str, label: str) -> Callable[[_Ctx], bool]:
        code = compile(f"lambda c: {expr}", f"<rule {label}>", "eval")
        return cast("Callable[[_Ctx], bool]", eval(code, self.values))


# ---------------------------------------------------------------------------------------------------------
# Condition trees: generated source for speed, explanations for people


class _Node:
    """A condition. `expr` is its Python source over the context `c`; `cost` orders the tests of an `all`."""

    expr: str
    cost: int
    needs: frozenset[str]
    check: Callable[[_Ctx], bool]

    def describe(self) -> str:
        raise NotImplementedError

    def explain(self, c: _Ctx) -> list[str]:
        """Why this condition holds for `c` (call only when it does)."""
        raise NotImplementedError

    def children(self) -> Sequence[_Node]:
        return ()


class _Leaf(_Node):
    def __init__(
        self,
        expr: str,
        text: str,
        cost: int,
        needs: Iterable[str] = (),
        because: Callable[[_Ctx], str] | None = None,
        guard: tuple[str, frozenset[str]] | None = None,
    ) -> None:
        self.expr = expr
        self.text = text
        self.cost = cost
        self.needs = frozenset(needs)
        self.because = because
        self.guard = guard

    def describe(self) -> str:
        return self.text

    def explain(self, c: _Ctx) -> list[str]:
        return [self.because(c) if self.because is not None else self.text]


class _All(_Node):
    def __init__(self, items: Sequence[_Node]) -> None:
        self.items = tuple(items)
        # Cheap tests first: `and` stops at the first false one, and most rules fail on a cheap test.
        ordered = sorted(self.items, key=lambda n: n.cost)
        self.expr = "(" + " and ".join(n.expr for n in ordered) + ")" if ordered else "True"
        self.cost = ordered[0].cost if ordered else 0
        self.needs = frozenset().union(*(n.needs for n in self.items))

    def describe(self) -> str:
        if not self.items:
            return "every message"
        return " and ".join(n.describe() for n in self.items)

    def explain(self, c: _Ctx) -> list[str]:
        if not self.items:
            return ["every message (no conditions)"]
        return [reason for n in self.items for reason in n.explain(c)]

    def children(self) -> Sequence[_Node]:
        return self.items


class _Any(_Node):
    def __init__(self, items: Sequence[_Node]) -> None:
        self.items = tuple(items)
        ordered = sorted(self.items, key=lambda n: n.cost)
        self.expr = "(" + " or ".join(n.expr for n in ordered) + ")" if ordered else "False"
        self.cost = max((n.cost for n in self.items), default=0)
        self.needs = frozenset().union(*(n.needs for n in self.items))

    def describe(self) -> str:
        return "any of (" + "; ".join(n.describe() for n in self.items) + ")"

    def explain(self, c: _Ctx) -> list[str]:
        for n in self.items:  # the first branch as written, which is what a reader looks for
            if n.check(c):
                return n.explain(c)
        return [self.describe()]

    def children(self) -> Sequence[_Node]:
        return self.items


class _Not(_Node):
    def __init__(self, item: _Node) -> None:
        self.item = item
        self.expr = f"(not {item.expr})"
        self.cost = item.cost
        self.needs = item.needs

    def describe(self) -> str:
        return f"not ({self.item.describe()})"

    def explain(self, c: _Ctx) -> list[str]:
        return [self.describe()]

    def children(self) -> Sequence[_Node]:
        return (self.item,)


def _walk(node: _Node) -> Iterable[_Node]:
    yield node
    for child in node.children():
        yield from _walk(child)


def _guard_of(node: _Node) -> tuple[frozenset[str] | None, ...]:
    """The values of `GUARDED` fields a rule requires, read from its top-level conditions only."""
    found: dict[str, frozenset[str]] = {}
    tops = node.items if isinstance(node, _All) else (node,)
    for top in tops:
        if isinstance(top, _Leaf) and top.guard is not None:
            name, values = top.guard
            found[name] = found[name] & values if name in found else values
    return tuple(found.get(name) for name in GUARDED)


# ---------------------------------------------------------------------------------------------------------
# Locating keys: a small TOML scanner (tomllib reports no positions)


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR = re.compile(r"[^,\]}\r\n#]+")


class _LineScanner:
    """Map each key path, array item and table of a *valid* TOML text to its line, e.g.
    ("rule", 0, "when", "any", 1, "subject") → 14. Inline tables and multi-line arrays included."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.newlines = [m.start() for m in re.finditer("\n", text)]
        self.lines: dict[_Loc, int] = {}
        self.arrays: dict[_Loc, int] = {}

    def line(self) -> int:
        return bisect.bisect_left(self.newlines, self.pos) + 1

    def scan(self) -> None:
        table: _Loc = ()
        text = self.text
        while True:
            self.skip(newlines=True)
            if self.pos >= len(text):
                return
            line = self.line()
            if text.startswith("[[", self.pos):
                self.pos += 2
                keys = self.key()
                self.expect("]]")
                base = (*self.resolve(keys[:-1]), keys[-1])
                index = self.arrays.get(base, 0)
                self.arrays[base] = index + 1
                table = (*base, index)
                self.lines.setdefault(table, line)
            elif text[self.pos] == "[":
                self.pos += 1
                table = self.resolve(self.key())
                self.expect("]")
                self.lines.setdefault(table, line)
            else:
                self.pair(table, line)

    def resolve(self, keys: Sequence[str]) -> _Loc:
        """A header's path, with the current index of each array of tables it passes through."""
        path: _Loc = ()
        for key in keys:
            path = (*path, key)
            if path in self.arrays:
                path = (*path, self.arrays[path] - 1)
        return path

    def pair(self, table: _Loc, line: int) -> None:
        keys = self.key()
        self.expect("=")
        for end in range(1, len(keys) + 1):
            self.lines.setdefault((*table, *keys[:end]), line)
        self.value((*table, *keys))

    def value(self, path: _Loc) -> None:
        self.skip(newlines=False)
        self.lines.setdefault(path, self.line())
        text = self.text
        char = text[self.pos]
        if char == "{":
            self.pos += 1
            while True:
                self.skip(newlines=True)
                if text[self.pos] == "}":
                    self.pos += 1
                    return
                self.pair(path, self.line())
                self.skip(newlines=True)
                if text[self.pos] == ",":
                    self.pos += 1
        elif char == "[":
            self.pos += 1
            index = 0
            while True:
                self.skip(newlines=True)
                if text[self.pos] == "]":
                    self.pos += 1
                    return
                self.value((*path, index))
                index += 1
                self.skip(newlines=True)
                if text[self.pos] == ",":
                    self.pos += 1
        elif char in "\"'":
            self.string()
        else:
            found = _SCALAR.match(text, self.pos)
            if found is None:
                raise ValueError(f"unexpected {char!r}")
            self.pos = found.end()

    def key(self) -> tuple[str, ...]:
        parts: list[str] = []
        while True:
            self.skip(newlines=False)
            start = self.pos
            if self.text[start] in "\"'":
                self.string()
                quoted = self.text[start : self.pos]
                parts.append(tomllib.loads(f"k = {quoted}")["k"] if "\\" in quoted else quoted[1:-1])
            else:
                found = _BARE_KEY.match(self.text, start)
                if found is None:
                    raise ValueError("no key")
                parts.append(found.group())
                self.pos = found.end()
            self.skip(newlines=False)
            if self.pos < len(self.text) and self.text[self.pos] == ".":
                self.pos += 1
                continue
            return tuple(parts)

    def expect(self, token: str) -> None:
        self.skip(newlines=False)
        if not self.text.startswith(token, self.pos):
            raise ValueError(f"expected {token}")
        self.pos += len(token)

    def skip(self, *, newlines: bool) -> None:
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in " \t" or (newlines and char in "\r\n"):
                self.pos += 1
            elif char == "#" and newlines:
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            else:
                return

    def string(self) -> None:
        text, pos = self.text, self.pos
        quote = text[pos]
        if text.startswith(quote * 3, pos):
            i = pos + 3
            while i < len(text):
                if quote == '"' and text[i] == "\\":
                    i += 2
                    continue
                if text.startswith(quote * 3, i):
                    run = 3
                    while run < 5 and i + run < len(text) and text[i + run] == quote:
                        run += 1
                    self.pos = i + run
                    return
                i += 1
            raise ValueError("unterminated string")
        i = pos + 1
        while text[i] != quote:
            i += 2 if quote == '"' and text[i] == "\\" else 1
        self.pos = i + 1


def key_lines(text: str) -> dict[_Loc, int]:
    """The line of every key path in TOML `text` (best effort: a path it cannot place is left out)."""
    scanner = _LineScanner(text)
    # The locator only refines line numbers; if it trips on something, problems keep their coarser lines.
    with contextlib.suppress(Exception):
        scanner.scan()
    return scanner.lines


# ---------------------------------------------------------------------------------------------------------
# Compiling

CONDITIONS = (
    "mailbox",
    "mailbox_kind",
    "kind",
    "direction",
    "from",
    "to",
    "cc",
    "recipients",
    "subject",
    "body",
    "header",
    "attachment",
    "contact",
    "weekday",
    "time",
    "all",
    "any",
    "not",
)
ACTIONS = (
    "queue",
    "priority",
    "assign",
    "add_tags",
    "remove_tags",
    "stage",
    "score",
    "open_ticket",
    "ignore",
    "enrol",
    "auto_reply",
    "deal",
    "stop",
)
RULE_KEYS = ("name", "description", "enabled", "when", "then")
TEXT_OPERATORS = (
    "contains",
    "contains_all",
    "contains_word",
    "regex",
    "equals",
    "starts_with",
    "ends_with",
    "case_sensitive",
)
HEADER_OPERATORS = (*TEXT_OPERATORS, "exists")
ADDRESS_OPERATORS = ("address", "domain", "free_mail")
ATTACHMENT_OPERATORS = ("filename", "content_type")
CONTACT_OPERATORS = ("has_tag", "lacks_tag", "score_at_least", "score_at_most", "stage", "company")
TIME_OPERATORS = ("after", "before")
WEEKDAYS: Mapping[str, tuple[int, ...]] = {
    **{name: (i,) for i, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    **{
        name: (i,)
        for i, name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
    },
    "weekdays": (0, 1, 2, 3, 4),
    "weekend": (5, 6),
}
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_TIME = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?\s*$")
_TEXT_FIELDS = ("subject", "body")
_ADDRESS_FIELDS = ("from", "to", "cc", "recipients")
_GLOB_CHARS = frozenset("*?[")


def _lower_case_safe(pattern: str) -> bool:
    """Whether a case-insensitive `pattern` may run on the lower-cased text without IGNORECASE: it has no
    capitals (\\D, \\W, [A-Z] …), no escape naming a character by code (\\x41 is "A"), and no inline flag
    switching case-insensitivity off."""
    return pattern == pattern.lower() and re.search(r"\\[xu0-7]|\(\?[a-z]*-", pattern) is None


def _word(needle: str) -> re.Pattern[str]:
    """`needle` as a whole word; the lookbehind after it (`vat(?<!\\wvat)`) keeps a literal at the start."""
    escaped = re.escape(needle)
    return re.compile(rf"{escaped}(?<!\w{escaped})(?!\w)")


def _type_name(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return "text"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def _shown(value: object) -> str:
    text = repr(value) if not isinstance(value, dict | list) else _type_name(value)
    return text if len(text) <= 60 else text[:57] + "…"


def suggest(word: str, choices: Iterable[str], what: str = "") -> str:
    """A hint for an unknown name: the closest choice (also one differing only in case), or the choices."""
    options = sorted(set(choices))
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not close:
        close = [o for o in options if o.lower() == word.lower()][:1]
    if close:
        return f"did you mean {close[0]!r}?"
    if not options:
        return f"no {what}s are defined" if what else ""
    shown = ", ".join(options[:12]) + (", …" if len(options) > 12 else "")
    return f"expected one of: {shown}"


def weekdays_in(items: Sequence[tuple[str, Any]], problem: Callable[[Any, str, str], None]) -> frozenset[int] | None:
    """Day numbers (0 = Monday) for weekday names and groups ("mon", "weekdays" …); each unknown name is
    reported through `problem(where, message, hint)` and the result is then None."""
    days: set[int] = set()
    ok = True
    for item, where in items:
        found = WEEKDAYS.get(item.lower())
        if found is None:
            problem(where, f"unknown weekday {item!r}", suggest(item.lower(), WEEKDAYS))
            ok = False
        else:
            days.update(found)
    return frozenset(days) if ok else None


def _quoted_list(values: Sequence[str], joiner: str = "or") -> str:
    shown = [repr(v) for v in values]
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + f" {joiner} " + shown[-1]


def _glob_regex(patterns: Sequence[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))


def _first_glob(patterns: Sequence[str], values: Iterable[str]) -> tuple[str, str] | None:
    for value in values:
        for pattern in patterns:
            if fnmatch.fnmatchcase(value, pattern):
                return value, pattern
    return None


class _FileCompiler:
    """Validates and compiles one file's rules; problems go to the shared list, never raised one by one."""

    def __init__(
        self, file: str, text: str, vocabulary: Vocabulary, problems: list[RuleProblem], numbers: Iterator[int]
    ) -> None:
        self.file = file
        self.text = text
        self.vocabulary = vocabulary
        self.problems = problems
        self.lines: dict[_Loc, int] = {}
        self.numbers = numbers
        self.ns = _Namespace()

    # -- reporting

    def line(self, loc: _Loc) -> int | None:
        for end in range(len(loc), 0, -1):
            found = self.lines.get(loc[:end])
            if found is not None:
                return found
        return None

    def problem(self, loc: _Loc, message: str, hint: str) -> None:
        self.problems.append(RuleProblem(self.file, self.line(loc), message, hint))

    # -- the file

    def compile(self) -> list[tuple[Rule, _Loc]]:
        try:
            data = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as exc:
            message = str(exc)
            found = re.search(r"\(at line (\d+), column \d+\)", message)
            line = int(found.group(1)) if found else None
            text = message[: found.start()].strip() if found else message
            hint = 'check quotes, brackets and commas on that line; text needs quotes, and inside "…" a '
            hint += "backslash must be doubled (or write regexes in single quotes: '\\d+')"
            self.problems.append(RuleProblem(self.file, line, f"not valid TOML: {text}", hint))
            return []
        self.lines = key_lines(self.text)
        for key in data:
            if key != "rule":
                hint = suggest(key, ("rule",))
                if key in RULE_KEYS:
                    hint = "start each rule with a [[rule]] line"
                self.problem((key,), f"unknown key {key!r} at the top of the file", hint)
        rules = data.get("rule", [])
        if isinstance(rules, dict):
            self.problem(("rule",), "`[rule]` is a single table", "write [[rule]] (double brackets) for each rule")
            return []
        if not isinstance(rules, list):
            self.problem(
                ("rule",), f"`rule` must be a list of tables, got {_shown(rules)}", "start each rule with [[rule]]"
            )
            return []
        compiled: list[tuple[Rule, _Loc]] = []
        for index, table in enumerate(rules):
            loc: _Loc = ("rule", index)
            if not isinstance(table, dict):
                self.problem(loc, f"a rule must be a table, got {_shown(table)}", "write each rule as [[rule]]")
                continue
            rule = self.rule(table, loc)
            if rule is not None:
                compiled.append((rule, loc))
        return compiled

    def rule(self, table: dict[str, Any], loc: _Loc) -> Rule | None:
        before = len(self.problems)
        self.ns = _Namespace(f"_r{next(self.numbers)}")
        name = table.get("name")
        if not isinstance(name, str) or not name.strip():
            where = (*loc, "name") if "name" in table else loc
            got = f", got {_shown(name)}" if "name" in table else ""
            self.problem(where, f"a rule needs a `name`{got}", 'add name = "what this rule does"')
            name = f"rule {loc[-1]}"
        name = name.strip()
        for key in table:
            if key in RULE_KEYS:
                continue
            if key in CONDITIONS:
                hint = f"conditions go under `when`: when.{key} = …"
            elif key in ACTIONS:
                hint = f"actions go under `then`: then.{key} = …"
            else:
                hint = suggest(key, RULE_KEYS)
            self.problem((*loc, key), f"unknown key {key!r} in rule {name!r}", hint)
        enabled = table.get("enabled", True)
        if not isinstance(enabled, bool):
            self.problem(
                (*loc, "enabled"), f"`enabled` must be true or false, got {_shown(enabled)}", "enabled = false"
            )
        description = table.get("description", "")
        if not isinstance(description, str):
            self.problem(
                (*loc, "description"), f"`description` must be text, got {_shown(description)}", "put it in quotes"
            )
        when = table.get("when", {})
        condition: _Node | None = _All(())
        if isinstance(when, dict):
            condition = self.conditions(when, (*loc, "when"), 0)
        else:
            self.problem(
                (*loc, "when"), f"`when` must be a table of conditions, got {_shown(when)}", 'e.g. when.subject = "x"'
            )
        if "then" not in table:
            self.problem(loc, f"rule {name!r} has no actions", 'add then = { … }, e.g. then.add_tags = "vip"')
            effects: list[Effect] = []
        elif not isinstance(table["then"], dict):
            self.problem(
                (*loc, "then"),
                f"`then` must be a table of actions, got {_shown(table['then'])}",
                'e.g. then = { queue = "support" }',
            )
            effects = []
        else:
            effects = self.effects(table["then"], (*loc, "then"), name)
        if len(self.problems) > before or condition is None or enabled is False:
            return None
        for node in _walk(condition):
            node.check = self.ns.function(node.expr, name)
        stops = any(e.action is Action.STOP for e in effects)
        line = self.line(loc) or 0
        return Rule(
            name,
            self.file,
            line,
            condition,
            tuple(effects),
            stops,
            condition.check,
            _guard_of(condition),
            self.ns.constants,
        )

    # -- conditions

    def conditions(self, table: Mapping[str, Any], loc: _Loc, depth: int) -> _Node | None:
        if depth > MAX_DEPTH:
            self.problem(loc, f"conditions nested more than {MAX_DEPTH} deep", "flatten the all/any/not nesting")
            return None
        items: list[_Node] = []
        ok = True
        for key, value in table.items():
            node = self.condition(key, value, (*loc, key), depth)
            if node is None:
                ok = False
            else:
                items.append(node)
        if not ok:
            return None
        return items[0] if len(items) == 1 else _All(items)

    def condition(self, key: str, value: Any, loc: _Loc, depth: int) -> _Node | None:
        if key in ("all", "any"):
            return self.combination(key, value, loc, depth)
        if key == "not":
            if not isinstance(value, dict):
                self.problem(loc, f"`not` takes a table of conditions, got {_shown(value)}", 'e.g. not.subject = "x"')
                return None
            inner = self.conditions(value, loc, depth + 1)
            return _Not(inner) if inner is not None else None
        if key in GUARDED:
            return self.one_of(key, value, loc)
        if key in _ADDRESS_FIELDS:
            return self.address(key, value, loc)
        if key in _TEXT_FIELDS:
            return self.text_field(key, value, loc)
        if key == "header":
            return self.headers(value, loc)
        if key == "attachment":
            return self.attachment(value, loc)
        if key == "contact":
            return self.contact(value, loc)
        if key == "weekday":
            return self.weekday(value, loc)
        if key == "time":
            return self.time_window(value, loc)
        hint = f"{key!r} is an action: put it under `then`" if key in ACTIONS else suggest(key, CONDITIONS)
        self.problem(loc, f"unknown condition {key!r}", hint)
        return None

    def combination(self, key: str, value: Any, loc: _Loc, depth: int) -> _Node | None:
        if isinstance(value, dict):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.problem(
                loc, f"`{key}` takes a list of condition tables, got {_shown(value)}", f"{key} = [{{ … }}, {{ … }}]"
            )
            return None
        if key == "any" and not value:
            self.problem(loc, "an empty `any` never matches", "list at least one condition table")
            return None
        items = [self.conditions(v, (*loc, i), depth + 1) for i, v in enumerate(value)]
        if any(item is None for item in items):
            return None
        nodes = [item for item in items if item is not None]
        return _All(nodes) if key == "all" else _Any(nodes)

    def strings(self, value: Any, loc: _Loc, what: str = "text") -> list[tuple[str, _Loc]] | None:
        """A string or a non-empty list of non-empty strings, each with its location."""
        items = [(value, loc)] if isinstance(value, str) else None
        if isinstance(value, list):
            items = [(v, (*loc, i)) for i, v in enumerate(value)]
        if items is None:
            self.problem(loc, f"expected {what} or a list of them, got {_shown(value)}", 'e.g. "x" or ["x", "y"]')
            return None
        if not items:
            self.problem(loc, "an empty list matches nothing", f"give at least one {what}")
            return None
        ok = True
        for item, where in items:
            if not isinstance(item, str):
                self.problem(where, f"expected {what}, got {_shown(item)}", "put text in quotes")
                ok = False
            elif not item.strip():
                self.problem(where, "empty text", f"give a {what}, or remove the line")
                ok = False
        return [(item.strip(), where) for item, where in items] if ok else None

    def known(self, items: list[tuple[str, _Loc]], known: Iterable[str], what: str) -> bool:
        choices = list(known)
        lowered = {c.lower() for c in choices}
        ok = True
        for item, where in items:
            if item.lower() not in lowered:
                self.problem(where, f"unknown {what} {item!r}", suggest(item, choices, what))
                ok = False
        return ok

    def one_of(self, key: str, value: Any, loc: _Loc) -> _Node | None:
        items = self.strings(value, loc, f"a {key.replace('_', ' ')}")
        if items is None:
            return None
        allowed: dict[str, Iterable[str] | None] = {
            "mailbox": self.vocabulary.mailboxes,
            "mailbox_kind": [k.value for k in MailboxKind],
            "kind": [k.value for k in Kind],
            "direction": [d.value for d in Direction],
        }
        choices = allowed[key]
        if choices is not None and not self.known(items, choices, key.replace("_", " ")):
            return None
        names = [item for item, _ in items]
        values = frozenset(n.lower() for n in names)
        label = key.replace("_", " ")
        k = self.ns.const(values)
        return _Leaf(
            f"(c.{key} in {k})",
            f"{label} is {_quoted_list(names)}",
            1,
            because=lambda c: f"{label} is {getattr(c, key)}",
            guard=(key, values),
        )

    # addresses

    def address(self, key: str, value: Any, loc: _Loc) -> _Node | None:
        if isinstance(value, str | list):
            items = self.strings(value, loc, "an address or domain")
            if items is None:
                return None
            addresses = [(i, w) for i, w in items if "@" in i]
            domains = [(i, w) for i, w in items if "@" not in i]
            nodes = []
            if addresses:
                nodes.append(self.address_leaf(key, addresses))
            if domains:
                nodes.append(self.domain_leaf(key, domains))
            return nodes[0] if len(nodes) == 1 else _Any(nodes)
        if not isinstance(value, dict):
            self.problem(
                loc,
                f"`{key}` takes an address, a domain or a table, got {_shown(value)}",
                f'e.g. {key} = "acme.com" or {key}.address = "carol@acme.com"',
            )
            return None
        if not value:
            self.problem(loc, f"`{key}` has no test", f"use {_quoted_list(ADDRESS_OPERATORS)}")
            return None
        leaves: list[_Node] = []
        ok = True
        for op, spec in value.items():
            where = (*loc, op)
            if op == "address":
                items = self.strings(spec, where, "an address")
                bad = [(i, w) for i, w in items or [] if "@" not in i]
                for item, w in bad:
                    self.problem(w, f"{item!r} is not an address", f'to match a whole domain use domain = "{item}"')
                if items is None or bad:
                    ok = False
                else:
                    leaves.append(self.address_leaf(key, items))
            elif op == "domain":
                items = self.strings(spec, where, "a domain")
                bad = [(i, w) for i, w in items or [] if "@" in i]
                for item, w in bad:
                    self.problem(w, f"{item!r} is an address, not a domain", f'use address = "{item}"')
                if items is None or bad:
                    ok = False
                else:
                    leaves.append(self.domain_leaf(key, items))
            elif op == "free_mail":
                if key != "from":
                    self.problem(where, "`free_mail` applies to `from` only", "write from.free_mail = true")
                    ok = False
                elif not isinstance(spec, bool):
                    self.problem(where, f"`free_mail` must be true or false, got {_shown(spec)}", "free_mail = true")
                    ok = False
                else:
                    leaves.append(self.free_mail_leaf(spec))
            else:
                self.problem(where, f"unknown operator {op!r} for `{key}`", suggest(op, ADDRESS_OPERATORS))
                ok = False
        if not ok:
            return None
        return leaves[0] if len(leaves) == 1 else _All(leaves)

    def address_leaf(self, key: str, items: list[tuple[str, _Loc]]) -> _Node:
        patterns = [i.lower() for i, _ in items]
        exact = [p for p in patterns if _GLOB_CHARS.isdisjoint(p)]
        globs = [p for p in patterns if not _GLOB_CHARS.isdisjoint(p)]
        single = key == "from"
        field_name = "from_email" if single else key
        tests: list[str] = []
        if exact:
            k = self.ns.const(frozenset(exact))
            tests.append(f"(c.from_email in {k})" if single else f"(not {k}.isdisjoint(c.{key}))")
        if globs:
            k = self.ns.const(_glob_regex(globs))
            tests.append(f"({k}.match(c.from_email) is not None)" if single else f"_any_match({k}, c.{key})")

        def because(c: _Ctx) -> str:
            values: tuple[str, ...] = (c.from_email,) if single else getattr(c, field_name)
            for value in values:
                if value in exact:
                    return f"{key} is {value}" if single else f"{key} includes {value}"
            hit = _first_glob(globs, values)
            return f"{key} {hit[0]} matches {hit[1]}" if hit else f"{key} is {_quoted_list(patterns)}"

        expr = tests[0] if len(tests) == 1 else "(" + " or ".join(tests) + ")"
        needs = () if single else (key,)
        return _Leaf(expr, f"{key} is {_quoted_list(patterns)}", 2, needs, because)

    def domain_leaf(self, key: str, items: list[tuple[str, _Loc]]) -> _Node:
        patterns = [i.lower().lstrip("@").rstrip(".") for i, _ in items]
        exact = [p for p in patterns if _GLOB_CHARS.isdisjoint(p)]
        globs = [p for p in patterns if not _GLOB_CHARS.isdisjoint(p)]
        prefix = "from" if key == "from" else key
        tests: list[str] = []
        if exact:
            k = self.ns.const(frozenset(exact))
            tests.append(f"(not {k}.isdisjoint(c.{prefix}_suffixes))")
        if globs:
            k = self.ns.const(_glob_regex(globs))
            if key == "from":
                tests.append(f"({k}.match(c.from_domain) is not None)")
            else:
                tests.append(f"_any_match({k}, c.{key}_domains)")

        def because(c: _Ctx) -> str:
            domains: tuple[str, ...] = (c.from_domain,) if key == "from" else getattr(c, f"{key}_domains")
            for domain in domains:
                for suffix in _suffixes(domain):
                    if suffix in exact:
                        return (
                            f"{key} domain is {domain}"
                            if suffix == domain
                            else f"{key} domain {domain} is under {suffix}"
                        )
            hit = _first_glob(globs, domains)
            return f"{key} domain {hit[0]} matches {hit[1]}" if hit else f"{key} domain is {_quoted_list(patterns)}"

        expr = tests[0] if len(tests) == 1 else "(" + " or ".join(tests) + ")"
        needs = () if key == "from" else (key,)
        return _Leaf(expr, f"{key} domain is {_quoted_list(patterns)}", 2, needs, because)

    def free_mail_leaf(self, wanted: bool) -> _Node:
        if wanted:
            return _Leaf(
                "(c.from_domain in _FREE)",
                "from a free-mail provider",
                1,
                because=lambda c: f"from {c.from_domain}, a free-mail provider",
            )
        return _Leaf(
            "(c.from_domain != '' and c.from_domain not in _FREE)",
            "from a company domain (not free mail)",
            1,
            because=lambda c: f"from {c.from_domain}, not a free-mail provider",
        )

    # texts

    def text_field(self, key: str, value: Any, loc: _Loc) -> _Node | None:
        label = key
        lower, raw = f"c.{key}", f"c.{key}_raw"
        needs = ("body",) if key == "body" else ()
        cost = 4 if key == "body" else 2

        def lower_text(c: _Ctx) -> str:
            return str(getattr(c, key))

        def raw_text(c: _Ctx) -> str:
            return str(getattr(c, f"{key}_raw"))

        return self.text_spec(label, value, loc, lower, raw, None, needs, cost, lower_text, raw_text, TEXT_OPERATORS)

    def headers(self, value: Any, loc: _Loc) -> _Node | None:
        if not isinstance(value, dict) or not value:
            self.problem(
                loc, f"`header` takes a table of header names, got {_shown(value)}", 'header."X-Priority" = "1"'
            )
            return None
        nodes: list[_Node] = []
        ok = True
        for name, spec in value.items():
            header = name.strip().lower()
            k = self.ns.const(header)
            label = f"header {name}"
            lower, raw = f"c.headers.get({k}, '')", f"c.headers_raw.get({k}, '')"

            def lower_text(c: _Ctx, header: str = header) -> str:
                return c.headers.get(header, "")

            def raw_text(c: _Ctx, header: str = header) -> str:
                return c.headers_raw.get(header, "")

            needs = ("headers", f"header:{header}")
            node = self.text_spec(
                label, spec, (*loc, name), lower, raw, k, needs, 3, lower_text, raw_text, HEADER_OPERATORS
            )
            if node is None:
                ok = False
            else:
                nodes.append(node)
        if not ok:
            return None
        return nodes[0] if len(nodes) == 1 else _All(nodes)

    def text_spec(
        self,
        label: str,
        value: Any,
        loc: _Loc,
        lower: str,
        raw: str,
        header: str | None,
        needs: Sequence[str],
        cost: int,
        lower_text: Callable[[_Ctx], str],
        raw_text: Callable[[_Ctx], str],
        operators: Sequence[str],
    ) -> _Node | None:
        if isinstance(value, str | list):
            value = {"contains": value}
        if not isinstance(value, dict):
            self.problem(
                loc,
                f"`{label}` takes text, a list of texts or a table, got {_shown(value)}",
                'e.g. { contains = "x" }',
            )
            return None
        case_sensitive = value.get("case_sensitive", False)
        if not isinstance(case_sensitive, bool):
            self.problem(
                (*loc, "case_sensitive"),
                f"`case_sensitive` must be true or false, got {_shown(case_sensitive)}",
                "case_sensitive = true",
            )
            return None
        tests = [op for op in value if op != "case_sensitive"]
        if not tests:
            self.problem(
                loc, f"`{label}` has no test", f"use {_quoted_list([op for op in operators if op != 'case_sensitive'])}"
            )
            return None
        text_expr = raw if case_sensitive else lower
        text_of = raw_text if case_sensitive else lower_text
        guard = f"{header} in c.headers and " if header is not None else ""
        leaves: list[_Node] = []
        ok = True
        for op in tests:
            spec, where = value[op], (*loc, op)
            if op not in operators:
                hint = suggest(op, operators)
                if op == "exists":
                    hint = "`exists` applies to headers only"
                self.problem(where, f"unknown operator {op!r} for `{label}`", hint)
                ok = False
                continue
            if op == "exists":
                if not isinstance(spec, bool):
                    self.problem(where, f"`exists` must be true or false, got {_shown(spec)}", "exists = false")
                    ok = False
                    continue
                leaves.append(
                    _Leaf(
                        f"({header} {'in' if spec else 'not in'} c.headers)",
                        f"{label} is {'present' if spec else 'absent'}",
                        1,
                        needs,
                    )
                )
                continue
            items = self.strings(spec, where, "a pattern" if op == "regex" else "a text")
            if items is None:
                ok = False
                continue
            texts = [item for item, _ in items]
            if op == "regex":
                leaf = self.regex_leaf(
                    label, items, case_sensitive, lower, raw, guard, needs, cost, (lower_text, raw_text)
                )
                if leaf is None:
                    ok = False
                else:
                    leaves.append(leaf)
                continue
            needles = texts if case_sensitive else [t.lower() for t in texts]
            leaves.append(
                self.text_leaf(op, label, needles, header, text_expr, guard, needs, cost, text_of, case_sensitive)
            )
        if not ok:
            return None
        return leaves[0] if len(leaves) == 1 else _All(leaves)

    def text_leaf(
        self,
        op: str,
        label: str,
        needles: list[str],
        header: str | None,
        text_expr: str,
        guard: str,
        needs: Sequence[str],
        cost: int,
        text_of: Callable[[_Ctx], str],
        case_sensitive: bool,
    ) -> _Node:
        words = _quoted_list(needles)
        if op in ("contains", "contains_all"):
            names = [self.ns.const(n) for n in needles]
            joiner = " or " if op == "contains" else " and "
            test = "(" + joiner.join(f"{n} in {text_expr}" for n in names) + ")"

            def because(c: _Ctx) -> str:
                text = text_of(c)
                found = [n for n in needles if n in text]
                return f"{label} contains {_quoted_list(found, 'and')}"

            text = f"{label} contains {words if op == 'contains' else _quoted_list(needles, 'and')}"
            return _Leaf(f"({guard}{test})", text, cost + len(needles) // 4, needs, because)
        if op == "contains_word":
            # Word edges as lookarounds, not \b: "c++" and "#urgent" are words to the people writing rules. The
            # text is lower-cased already (or case matters), so no IGNORECASE. One regex of alternatives has no
            # literal prefix for `re` to skip ahead with and is slow on long bodies; so `in` finds candidates at C
            # speed, and one regex per needle, starting with the needle, checks the word edges.
            patterns = [(n, _word(n)) for n in needles]
            tests = [
                f"({self.ns.const(n)} in {text_expr} and {self.ns.const(rx)}.search({text_expr}) is not None)"
                for n, rx in patterns
            ]

            def as_word(c: _Ctx) -> str:
                text = text_of(c)
                found = [n for n, rx in patterns if n in text and rx.search(text) is not None]
                return f"{label} contains the word {_quoted_list(found, 'and')}"

            expr = f"({guard}(" + " or ".join(tests) + "))"
            return _Leaf(expr, f"{label} contains the word {words}", cost + 1, needs, as_word)
        flags = 0 if case_sensitive else re.IGNORECASE
        described = {"equals": "is", "starts_with": "starts with", "ends_with": "ends with"}
        shape = {"equals": "^(?:{0})$", "starts_with": "^(?:{0})", "ends_with": "(?:{0})$"}[op]
        # A header may occur several times; its values are joined by newlines, and each is tested on its own.
        multiline = re.MULTILINE if header is not None else 0
        pattern = re.compile(shape.format("|".join(re.escape(n) for n in needles)), flags | multiline)
        if header is not None:
            expr = f"({guard}{self.ns.const(pattern)}.search({text_expr}) is not None)"
        else:
            k = self.ns.const(frozenset(needles) if op == "equals" else tuple(needles))
            method = {"equals": f"{text_expr} in {k}", "starts_with": f"{text_expr}.startswith({k})"}
            expr = "(" + method.get(op, f"{text_expr}.endswith({k})") + ")"

        def matched(c: _Ctx) -> str:
            found = pattern.search(text_of(c))
            shown = repr(found.group(0)[:40]) if found else words
            return f"{label} {described[op]} {shown}"

        return _Leaf(expr, f"{label} {described[op]} {words}", cost, needs, matched)

    def regex_leaf(
        self,
        label: str,
        items: list[tuple[str, _Loc]],
        case_sensitive: bool,
        lower: str,
        raw: str,
        guard: str,
        needs: Sequence[str],
        cost: int,
        texts: tuple[Callable[[_Ctx], str], Callable[[_Ctx], str]],
    ) -> _Node | None:
        """A regex test; `lower`/`raw` are the expressions, `texts` the functions, for the lower-cased and the
        original text."""
        flags = 0 if case_sensitive else re.IGNORECASE
        compiled: list[tuple[str, re.Pattern[str], bool]] = []  # (as written, as run, runs on the lower-cased text)
        for pattern, where in items:
            try:
                rx = re.compile(pattern, flags)
            except re.error as exc:
                hint = "to match text as written use `contains`; ( ) [ ] { } . * + ? | ^ $ \\ need a backslash"
                self.problem(where, f"bad regex /{pattern}/: {exc.msg} at position {exc.pos}", hint)
                continue
            if not case_sensitive and _lower_case_safe(pattern):
                # The same matches 3-6x faster: without IGNORECASE `re` can skip ahead to a literal prefix.
                compiled.append((pattern, re.compile(pattern), True))
            else:
                compiled.append((pattern, rx, False))
        if len(compiled) != len(items):
            return None
        tests = [
            f"{self.ns.const(rx)}.search({lower if on_lower else raw}) is not None" for _, rx, on_lower in compiled
        ]
        expr = f"({guard}(" + " or ".join(tests) + "))"

        def because(c: _Ctx) -> str:
            lower_text, raw_text = texts[0](c), texts[1](c)
            for pattern, rx, on_lower in compiled:
                found = rx.search(lower_text if on_lower else raw_text)
                if found is not None:
                    # Show the words as written; lower-casing keeps offsets unless a rare letter changes length.
                    same = not on_lower or len(lower_text) == len(raw_text)
                    shown = raw_text[found.start() : found.end()] if same else found.group(0)
                    return f"{label} matches /{pattern}/: {shown[:40]!r}"
            return f"{label} matches {self.describe_patterns(compiled)}"

        text = f"{label} matches {self.describe_patterns(compiled)}"
        return _Leaf(expr, text, cost + 3, needs, because)

    @staticmethod
    def describe_patterns(compiled: Sequence[tuple[str, re.Pattern[str], bool]]) -> str:
        return " or ".join(f"/{pattern}/" for pattern, _, _ in compiled)

    # attachments, contact, time

    def attachment(self, value: Any, loc: _Loc) -> _Node | None:
        if isinstance(value, bool):
            if value:
                return _Leaf(
                    "(c.attachments != ())",
                    "has an attachment",
                    1,
                    because=lambda c: f"has {len(c.attachments)} attachment(s)",
                )
            return _Leaf("(c.attachments == ())", "has no attachment", 1)
        if not isinstance(value, dict) or not value:
            self.problem(
                loc,
                f"`attachment` takes true/false or a table, got {_shown(value)}",
                'e.g. attachment.filename = "*.pdf"',
            )
            return None
        patterns: dict[str, list[str]] = {}
        ok = True
        for op, spec in value.items():
            if op not in ATTACHMENT_OPERATORS:
                self.problem((*loc, op), f"unknown operator {op!r} for `attachment`", suggest(op, ATTACHMENT_OPERATORS))
                ok = False
                continue
            items = self.strings(spec, (*loc, op), "a glob")
            if items is None:
                ok = False
            else:
                patterns[op] = [i.lower() for i, _ in items]
        if not ok:
            return None
        names = patterns.get("filename")
        types = patterns.get("content_type")
        kn = self.ns.const(_glob_regex(names) if names else None)
        kt = self.ns.const(_glob_regex(types) if types else None)
        parts = ([f"named {_quoted_list(names)}"] if names else []) + (
            [f"of type {_quoted_list(types)}"] if types else []
        )
        text = "has an attachment " + " ".join(parts)

        def because(c: _Ctx) -> str:
            for filename, content_type in c.attachments:
                if (names is None or _first_glob(names, (filename,))) and (
                    types is None or _first_glob(types, (content_type,))
                ):
                    return f"has attachment {filename or '(no name)'} ({content_type})"
            return text

        return _Leaf(f"_attachment_match({kn}, {kt}, c.attachments)", text, 3, because=because)

    def contact(self, value: Any, loc: _Loc) -> _Node | None:
        if not isinstance(value, dict) or not value:
            self.problem(loc, f"`contact` takes a table, got {_shown(value)}", 'e.g. contact.has_tag = "vip"')
            return None
        leaves: list[_Node] = []
        ok = True
        for op, spec in value.items():
            where = (*loc, op)
            if op in ("has_tag", "lacks_tag"):
                items = self.strings(spec, where, "a tag")
                if items is None:
                    ok = False
                    continue
                tags = [i for i, _ in items]
                k = self.ns.const(frozenset(tags))
                if op == "has_tag":

                    def has(c: _Ctx, tags: list[str] = tags) -> str:
                        return f"contact has tag {_quoted_list([t for t in tags if t in c.tags], 'and')}"

                    expr = f"(c.has_contact and not {k}.isdisjoint(c.tags))"
                    leaves.append(_Leaf(expr, f"contact has tag {_quoted_list(tags)}", 1, ("contact",), has))
                else:
                    expr = f"(c.has_contact and {k}.isdisjoint(c.tags))"
                    leaves.append(_Leaf(expr, f"contact has no tag {_quoted_list(tags)}", 1, ("contact",)))
            elif op in ("score_at_least", "score_at_most"):
                if isinstance(spec, bool) or not isinstance(spec, int | float):
                    self.problem(where, f"`{op}` must be a number, got {_shown(spec)}", f"e.g. {op} = 50")
                    ok = False
                    continue
                k = self.ns.const(float(spec))
                sign = ">=" if op == "score_at_least" else "<="
                text = f"contact score {'≥' if op == 'score_at_least' else '≤'} {spec:g}"

                def scored(c: _Ctx, text: str = text) -> str:
                    return f"{text} (it is {c.score:g})"

                leaves.append(_Leaf(f"(c.has_contact and c.score {sign} {k})", text, 1, ("contact",), scored))
            elif op == "stage":
                items = self.strings(spec, where, "a stage")
                if items is None or not self.known(items, self.vocabulary.stages, "stage"):
                    ok = False
                    continue
                stages = [i for i, _ in items]
                k = self.ns.const(frozenset(stages) | frozenset(s.lower() for s in stages))
                leaves.append(
                    _Leaf(
                        f"(c.has_contact and c.stage in {k})",
                        f"contact stage is {_quoted_list(stages)}",
                        1,
                        ("contact",),
                        lambda c: f"contact stage is {c.stage}",
                    )
                )
            elif op == "company":
                if isinstance(spec, bool):
                    expr = "(c.has_contact and c.company_domain != '')"
                    if not spec:
                        expr = "(c.has_contact and c.company_domain == '')"
                    text = "contact has a company" if spec else "contact has no company"
                    because = (lambda c: f"contact's company is {c.company_domain}") if spec else None
                    leaves.append(_Leaf(expr, text, 1, ("contact",), because))
                    continue
                items = self.strings(spec, where, "a company domain")
                if items is None:
                    ok = False
                    continue
                domains = [i.lower() for i, _ in items]
                k = self.ns.const(frozenset(domains))
                leaves.append(
                    _Leaf(
                        f"(not {k}.isdisjoint(c.company_suffixes))",
                        f"contact's company is {_quoted_list(domains)}",
                        1,
                        ("contact",),
                        lambda c: f"contact's company is {c.company_domain}",
                    )
                )
            else:
                self.problem(where, f"unknown operator {op!r} for `contact`", suggest(op, CONTACT_OPERATORS))
                ok = False
        if not ok:
            return None
        return leaves[0] if len(leaves) == 1 else _All(leaves)

    def weekday(self, value: Any, loc: _Loc) -> _Node | None:
        items = self.strings(value, loc, "a weekday")
        if items is None:
            return None
        days = weekdays_in(items, self.problem)
        if days is None:
            return None
        k = self.ns.const(frozenset(days))
        text = "weekday is " + ", ".join(_DAY_NAMES[d] for d in sorted(days))
        return _Leaf(f"(c.weekday in {k})", text, 1, ("time",), lambda c: f"it is {_local_time(c)}")

    def clock(self, value: Any, loc: _Loc) -> int | None:
        if isinstance(value, clock_time):
            return value.hour * 60 + value.minute
        found = _TIME.match(value) if isinstance(value, str) else None
        if found is None or int(found.group(1)) > 24 or int(found.group(2) or 0) > 59:
            self.problem(loc, f'expected a time of day such as "18:00", got {_shown(value)}', 'write "HH:MM", 24-hour')
            return None
        return min(int(found.group(1)) * 60 + int(found.group(2) or 0), 24 * 60)

    def time_window(self, value: Any, loc: _Loc) -> _Node | None:
        if not isinstance(value, dict) or not value:
            self.problem(
                loc, f"`time` takes a table, got {_shown(value)}", 'e.g. time = { after = "18:00", before = "08:00" }'
            )
            return None
        ok = True
        for op in value:
            if op not in TIME_OPERATORS:
                self.problem((*loc, op), f"unknown operator {op!r} for `time`", suggest(op, TIME_OPERATORS))
                ok = False
        after = self.clock(value["after"], (*loc, "after")) if "after" in value else None
        before = self.clock(value["before"], (*loc, "before")) if "before" in value else None
        if not ok or ("after" in value and after is None) or ("before" in value and before is None):
            return None
        a = self.ns.const(after)
        b = self.ns.const(before)
        if after is not None and before is not None:
            # after 18:00, before 08:00 is the night: the window wraps around midnight.
            if after <= before:
                expr = f"({a} <= c.minute < {b})"
                text = f"time is after {value['after']} and before {value['before']}"
            else:
                expr = f"(c.minute >= {a} or c.minute < {b})"
                text = f"time is after {value['after']} or before {value['before']}"
        elif after is not None:
            expr, text = f"(c.minute >= {a})", f"time is after {value['after']}"
        else:
            expr, text = f"(c.minute < {b})", f"time is before {value['before']}"
        return _Leaf(expr, text, 1, ("time",), lambda c: f"it is {_local_time(c)} ({text})")

    # -- actions

    def effects(self, then: Mapping[str, Any], loc: _Loc, rule: str) -> list[Effect]:
        effects: list[Effect] = []
        vocabulary = self.vocabulary
        if not then:
            self.problem(loc, f"rule {rule!r} has no actions", "add at least one action under `then`")
        for key, value in then.items():
            where = (*loc, key)
            if key in ("queue", "priority", "assign", "stage"):
                known: dict[str, Iterable[str]] = {
                    "queue": vocabulary.queues,
                    "priority": vocabulary.priorities,
                    "assign": (*sorted(vocabulary.agents), ROUND_ROBIN),
                    "stage": vocabulary.stages,
                }
                what = {"queue": "queue", "priority": "priority", "assign": "agent", "stage": "stage"}[key]
                if not isinstance(value, str) or not value.strip():
                    self.problem(where, f"`{key}` takes one {what} name, got {_shown(value)}", f'e.g. {key} = "…"')
                    continue
                if not self.known([(value.strip(), where)], known[key], what):
                    continue
                action = {
                    "queue": Action.SET_QUEUE,
                    "priority": Action.SET_PRIORITY,
                    "assign": Action.ASSIGN,
                    "stage": Action.SET_STAGE,
                }[key]
                effects.append(Effect(action, target=self.canonical(value.strip(), known[key])))
            elif key in ("add_tags", "remove_tags"):
                items = self.strings(value, where, "a tag")
                action = Action.ADD_TAG if key == "add_tags" else Action.REMOVE_TAG
                effects.extend(Effect(action, target=item) for item, _ in items or [])
            elif key in ("enrol", "auto_reply"):
                what = "campaign" if key == "enrol" else "template"
                pool = vocabulary.campaigns if key == "enrol" else vocabulary.templates
                items = self.strings(value, where, f"a {what}")
                if items is None or not self.known(items, pool, what):
                    continue
                action = Action.ENROL if key == "enrol" else Action.AUTO_REPLY
                effects.extend(Effect(action, target=self.canonical(item, pool)) for item, _ in items)
            elif key == "score":
                effect = self.score(value, where, rule)
                if effect is not None:
                    effects.append(effect)
            elif key in ("open_ticket", "ignore", "stop"):
                if not isinstance(value, bool):
                    self.problem(where, f"`{key}` must be true or false, got {_shown(value)}", f"write {key} = true")
                    continue
                if key == "stop":
                    if value:
                        effects.append(Effect(Action.STOP))
                else:
                    effects.append(Effect(Action.OPEN_TICKET if key == "open_ticket" else Action.IGNORE, flag=value))
            elif key == "deal":
                deal = self.deal(value, where)
                if deal is not None:
                    effects.append(Effect(Action.DEAL, target=deal.name, deal=deal))
            else:
                hint = f"{key!r} is a condition: put it under `when`" if key in CONDITIONS else suggest(key, ACTIONS)
                self.problem(where, f"unknown action {key!r}", hint)
        # `stop` is applied after the rule's other actions, wherever it is written.
        effects.sort(key=lambda e: e.action is Action.STOP)
        return effects

    @staticmethod
    def canonical(name: str, known: Iterable[str]) -> str:
        """The vocabulary's spelling of `name` (names are matched ignoring case)."""
        for candidate in known:
            if candidate.lower() == name.lower():
                return candidate
        return name

    def score(self, value: Any, loc: _Loc, rule: str) -> Effect | None:
        reason = rule
        if isinstance(value, dict):
            for key in value:
                if key not in ("points", "reason"):
                    self.problem((*loc, key), f"unknown key {key!r} in `score`", suggest(key, ("points", "reason")))
                    return None
            if "points" not in value:
                self.problem(loc, "`score` needs `points`", 'score = { points = 10, reason = "…" }')
                return None
            reason = value.get("reason", rule)
            if not isinstance(reason, str) or not reason.strip():
                self.problem(
                    (*loc, "reason"), f"`reason` must be text, got {_shown(reason)}", 'reason = "asked for a demo"'
                )
                return None
            loc, value = (*loc, "points"), value["points"]
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problem(loc, f"score points must be a number, got {_shown(value)}", "e.g. score = 10 or score = -5")
            return None
        return Effect(Action.ADD_SCORE, points=float(value), reason=reason.strip())

    def deal(self, value: Any, loc: _Loc) -> Deal | None:
        if not isinstance(value, dict):
            self.problem(
                loc, f"`deal` takes a table, got {_shown(value)}", 'deal = { name = "…", value = 1000, stage = "…" }'
            )
            return None
        ok = True
        for key in value:
            if key not in ("name", "value", "stage"):
                self.problem((*loc, key), f"unknown key {key!r} in `deal`", suggest(key, ("name", "value", "stage")))
                ok = False
        name = value.get("name")
        if not isinstance(name, str) or not name.strip():
            self.problem((*loc, "name") if "name" in value else loc, "a deal needs a `name`", 'name = "Acme renewal"')
            ok = False
        amount = value.get("value")
        if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int | float) or amount < 0):
            self.problem((*loc, "value"), f"a deal's value must be a number ≥ 0, got {_shown(amount)}", "value = 12000")
            ok = False
        stage = value.get("stage")
        if stage is not None:
            if not isinstance(stage, str):
                self.problem((*loc, "stage"), f"a deal stage must be text, got {_shown(stage)}", "put it in quotes")
                ok = False
            elif not self.known([(stage, (*loc, "stage"))], self.vocabulary.deal_stages, "deal stage"):
                ok = False
        if not ok or not isinstance(name, str):
            return None
        stage_name = self.canonical(stage, self.vocabulary.deal_stages) if isinstance(stage, str) else None
        return Deal(name.strip(), float(amount) if amount is not None else None, stage_name)


def compile_rules(files: Sequence[tuple[str, str]], vocabulary: Vocabulary) -> RuleSet:
    """Compile `(path, text)` rule files, evaluated in sorted path order then file order.

    Raises `RulesInvalid` listing every problem in every file (each with file:line and a hint); a rule set is
    either wholly valid or not returned at all. Disabled rules (`enabled = false`) are checked but left out.
    """
    problems: list[RuleProblem] = []
    compiled: list[Rule] = []
    first_use: dict[str, str] = {}
    numbers = itertools.count()  # gives each rule's constants a prefix of their own
    for path, text in sorted(files, key=lambda pair: pair[0]):
        compiler = _FileCompiler(path, text, vocabulary, problems, numbers)
        for rule, loc in compiler.compile():
            where = f"{path}:{rule.line}"
            if rule.name in first_use:
                compiler.problem(
                    (*loc, "name"), f"rule name {rule.name!r} is used twice", f"also at {first_use[rule.name]}"
                )
                continue
            first_use[rule.name] = where
            compiled.append(rule)
    if problems:
        raise RulesInvalid(problems)
    needs = frozenset().union(*(r.condition.needs for r in compiled)) if compiled else frozenset()
    headers = frozenset(n.removeprefix("header:") for n in needs if n.startswith("header:"))
    return RuleSet(tuple(compiled), tuple(sorted({path for path, _ in files})), needs, headers)


# ---------------------------------------------------------------------------------------------------------
# Evaluating


def evaluate(rules: RuleSet, facts: Facts, *, reasons: bool = True) -> Decision:
    """Run `rules` in order over `facts`. Never raises: a rule that fails to run is skipped and named in
    `Decision.problems`. Later rules override single-valued fields; a rule with `stop` ends evaluation.

    `reasons=False` leaves every `RuleMatch.because` empty, for callers that only need the outcome (a backtest
    comparing outcomes): explaining costs about as much as finding the matches."""
    problems: list[str] = []
    try:
        c = _context(facts, rules, problems)
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


def _one_by_one(rules: Sequence[Rule], c: _Ctx, problems: list[str]) -> list[Rule]:
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


def _because(rule: Rule, c: _Ctx) -> tuple[str, ...]:
    try:
        return tuple(rule.condition.explain(c))
    except Exception:  # an explanation is for people; a bug in one must not cost the decision
        return (rule.describe(),)


def _decide(rules: Sequence[Rule], c: _Ctx, problems: list[str], reasons: bool) -> Decision:
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


# ---------------------------------------------------------------------------------------------------------
# Words for people: `rules explain` and `rules backtest`


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
