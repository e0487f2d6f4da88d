"""Rules as code: rule files (TOML) → a compiled `RuleSet`; `evaluate(rules, facts)` → a `Decision` with reasons.
Pure core: imports only other `inboxcrm.core` modules and the standard library; callers pass texts and time in."""

from inboxcrm.core.rules.compiler import compile_rules
from inboxcrm.core.rules.evaluation import evaluate, evaluate_event
from inboxcrm.core.rules.explanation import differences, explain, summary
from inboxcrm.core.rules.model import (
    Action,
    ContactFacts,
    Deal,
    Decision,
    Effect,
    EventFacts,
    Facts,
    Rule,
    RuleMatch,
    RuleSet,
)
from inboxcrm.core.rules.vocabulary import (
    ACTIONS,
    CONDITIONS,
    GUARDED,
    PRIORITIES,
    ROUND_ROBIN,
    Vocabulary,
)
from inboxcrm.core.tomlfile import FilesInvalid, Problem

# The names rule problems have always had; campaign and segment files raise the same.
RuleProblem = Problem
RulesInvalid = FilesInvalid

__all__ = [
    "ACTIONS",
    "CONDITIONS",
    "GUARDED",
    "PRIORITIES",
    "ROUND_ROBIN",
    "Action",
    "ContactFacts",
    "Deal",
    "Decision",
    "Effect",
    "EventFacts",
    "Facts",
    "Rule",
    "RuleMatch",
    "RuleProblem",
    "RuleSet",
    "RulesInvalid",
    "Vocabulary",
    "compile_rules",
    "differences",
    "evaluate",
    "evaluate_event",
    "explain",
    "summary",
]
