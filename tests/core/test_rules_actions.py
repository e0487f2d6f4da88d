"""Rule actions and how rules combine: every action, file and rule order, later rules overriding single values
and adding to the rest, stop, disabled rules and preselection by mailbox, kind and direction."""

from __future__ import annotations

from dataclasses import replace

import pytest

from inboxcrm.core.rules import Action, Deal, Decision, Vocabulary, compile_rules, evaluate
from tests.core.rules_support import TEAM_VOCABULARY, compiled, facts, problems_of, rule


@pytest.mark.parametrize(
    ("then", "field", "expected"),
    [
        ('then.queue = "billing"', "queue", "billing"),
        ('then.priority = "urgent"', "priority", "urgent"),
        ('then.assign = "ana"', "assignee", "ana"),
        ('then.assign = "round-robin"', "assignee", "round-robin"),
        ('then.add_tags = ["hot", "pricing"]', "tags_added", frozenset({"hot", "pricing"})),
        ('then.remove_tags = "newsletter"', "tags_removed", frozenset({"newsletter"})),
        ('then.stage = "SQL"', "stage", "sql"),
        ("then.score = 10", "score_changes", ((10.0, "r"),)),
        ("then.score = -2.5", "score_changes", ((-2.5, "r"),)),
        ('then.score = { points = 30, reason = "asked for a demo" }', "score_changes", ((30.0, "asked for a demo"),)),
        ("then.open_ticket = false", "open_ticket", False),
        ("then.open_ticket = true", "open_ticket", True),
        ("then.ignore = true", "ignore", True),
        ('then.enrol = "trial-nurture"', "enrol", ("trial-nurture",)),
        ('then.auto_reply = "ack-support"', "auto_replies", ("ack-support",)),
        (
            'then.deal = { name = "Acme renewal", value = 12000, stage = "proposal" }',
            "deals",
            (Deal("Acme renewal", 12000.0, "proposal"),),
        ),
        ('then.deal = { name = "Acme renewal" }', "deals", (Deal("Acme renewal"),)),
    ],
)
def test_action(then: str, field: str, expected: object) -> None:
    decision = evaluate(compiled(rule("", then)), facts())
    assert getattr(decision, field) == expected
    assert decision.matches[0].effects


def test_stop_ends_evaluation_and_applies_after_the_rules_other_actions() -> None:
    rules = compiled(
        rule("", 'then = { stop = true, queue = "support" }', "first"),
        rule("", 'then.queue = "billing"', "never"),
    )
    decision = evaluate(rules, facts())
    assert [m.rule for m in decision.matches] == ["first"]
    assert decision.queue == "support"
    assert [e.action for e in decision.matches[0].effects] == [Action.SET_QUEUE, Action.STOP]


def test_later_rules_override_single_values_and_accumulate_the_rest() -> None:
    rules = compiled(
        rule(
            "",
            'then = { queue = "support", priority = "low", assign = "round-robin", stage = "lead", open_ticket = true,'
            ' ignore = true, add_tags = ["a", "b"], score = 5, enrol = "trial-nurture", auto_reply = "ack-support" }',
            "general",
        ),
        rule(
            'when.subject = "fire"',
            'then = { queue = "billing", assign = "ben", stage = "mql", open_ticket = false, ignore = false,'
            ' remove_tags = "a", add_tags = "c", score = { points = 7, reason = "fire" }, enrol = "trial-nurture",'
            ' deal = { name = "D", stage = "won" } }',
            "specific",
        ),
    )
    decision = evaluate(rules, facts())
    assert (decision.queue, decision.priority, decision.assignee, decision.stage) == ("billing", "low", "ben", "mql")
    assert decision.open_ticket is False and decision.ignore is False
    assert decision.tags_added == {"b", "c"} and decision.tags_removed == {"a"}
    assert decision.score_changes == ((5.0, "general"), (7.0, "fire")) and decision.score == 12
    assert decision.enrol == ("trial-nurture",) and decision.auto_replies == ("ack-support",)
    assert decision.deals == (Deal("D", None, "won"),)


def test_a_tag_removed_then_added_again_is_added() -> None:
    rules = compiled(rule("", 'then.remove_tags = "x"', "one"), rule("", 'then.add_tags = "x"', "two"))
    decision = evaluate(rules, facts())
    assert decision.tags_added == {"x"} and decision.tags_removed == frozenset()


def test_files_run_in_sorted_path_order_then_file_order() -> None:
    files = [
        ("rules/20-b.toml", rule("", 'then.queue = "sales"', "b1") + rule("", 'then.queue = "billing"', "b2")),
        ("rules/10-a.toml", rule("", 'then.queue = "support"', "a1")),
    ]
    rules = compile_rules(files, TEAM_VOCABULARY)
    assert rules.files == ("rules/10-a.toml", "rules/20-b.toml")
    decision = evaluate(rules, facts())
    assert [m.rule for m in decision.matches] == ["a1", "b1", "b2"]
    assert decision.queue == "billing"
    assert [(m.file, m.line) for m in decision.matches] == [
        ("rules/10-a.toml", 1),
        ("rules/20-b.toml", 1),
        ("rules/20-b.toml", 5),
    ]


def test_disabled_rules_are_checked_but_do_not_run() -> None:
    rules = compiled(rule("", 'enabled = false\nthen.queue = "billing"'))
    assert evaluate(rules, facts()).matches == ()
    problems = problems_of(rule("", 'enabled = false\nthen.queue = "biling"'))
    assert [str(p) for p in problems] == ["rules/x.toml:5: unknown queue 'biling' (did you mean 'billing'?)"]


def test_rules_are_preselected_by_mailbox_kind_and_direction() -> None:
    rules = compiled(
        rule('when.mailbox = "sales"', 'then.queue = "sales"', "sales")
        + rule('when.kind = ["bounce"]\nwhen.subject = "x"', "then.ignore = true", "bounces")
        + rule('when.any = [{ mailbox = "sales" }, { subject = "fire" }]', 'then.queue = "billing"', "either")
    )
    assert [r.name for r in rules.candidates(("support", "support", "normal", "in"))] == ["either"]
    assert [r.name for r in rules.candidates(("sales", "sales", "bounce", "in"))] == ["sales", "bounces", "either"]
    assert evaluate(rules, facts()).queue == "billing"
    one_by_one = replace(rules, plan_limit=0)
    assert one_by_one.plan(("support", "support", "normal", "in")) is None
    assert evaluate(one_by_one, facts()) == evaluate(rules, facts())


def test_an_empty_rule_set_decides_nothing() -> None:
    assert evaluate(compile_rules([], Vocabulary()), facts()) == Decision()
    assert evaluate(compile_rules([("rules/empty.toml", "# nothing yet\n")], Vocabulary()), facts()) == Decision()


def test_names_are_matched_ignoring_case_and_stored_as_the_vocabulary_spells_them() -> None:
    decision = evaluate(compiled(rule("", 'then = { queue = "Billing", assign = "BEN" }')), facts())
    assert (decision.queue, decision.assignee) == ("billing", "ben")
