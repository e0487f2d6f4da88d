"""Rule explanations: which conditions made a rule match (`because`), `explain` and `differences`."""

from __future__ import annotations

from typing import Any

import pytest

from inboxcrm.core.rules import Action, Deal, Decision, Effect, differences, evaluate, explain
from tests.core.rules_support import compiled, facts, rule, with_attachments


@pytest.mark.parametrize(
    ("when", "given", "because"),
    [
        ('when.mailbox = "support"', {}, ["mailbox is support"]),
        ('when.from = "*.example"', {}, ["from domain acme-corp.example matches *.example"]),
        ('when.from = "*@acme-corp.example"', {}, ["from carol@acme-corp.example matches *@acme-corp.example"]),
        (
            'when.from = "acme-corp.example"',
            {"from_": "x@eu.acme-corp.example"},
            ["from domain eu.acme-corp.example is under acme-corp.example"],
        ),
        ('when.subject = ["water", "fire"]', {}, ["subject contains 'fire'"]),
        ("when.subject.regex = 'on\\s+\\w+'", {}, ["subject matches /on\\s+\\w+/: 'on fire'"]),
        ('when.any = [{ subject = "water" }, { mailbox = "support" }]', {}, ["mailbox is support"]),
        ('when.not.subject = "water"', {}, ["not (subject contains 'water')"]),
        ("when.contact.score_at_least = 40", {}, ["contact score ≥ 40 (it is 42)"]),
        ('when.time.after = "09:30"', {}, ["it is Mon 10:00 (time is after 09:30)"]),
        ('when.header."In-Reply-To".exists = false', {}, ["header In-Reply-To is absent"]),
        ("", {}, ["every message (no conditions)"]),
        ('when.mailbox = "support"\nwhen.subject = "fire"', {}, ["mailbox is support", "subject contains 'fire'"]),
    ],
)
def test_because_names_the_conditions_that_matched(when: str, given: dict[str, Any], because: list[str]) -> None:
    decision = evaluate(compiled(rule(when)), facts(**given))
    assert list(decision.matches[0].because) == because


def test_attachment_explanation_names_the_attachment() -> None:
    decision = evaluate(
        compiled(rule('when.attachment.filename = "*.pdf"')), facts(with_attachments(("a.pdf", "application/pdf")))
    )
    assert decision.matches[0].because == ("has attachment a.pdf (application/pdf)",)


def test_explain_and_differences_read_well() -> None:
    rules = compiled(rule('when.subject = "fire"', 'then = { queue = "billing", score = 5 }', "fire"))
    decision = evaluate(rules, facts())
    assert explain(decision) == [
        "✓ fire  (rules/00.toml:1)",
        "    because subject contains 'fire'",
        "    → queue → billing",
        "    → score +5 (fire)",
        "  queue: billing",
        "  score: +5 (+5 fire)",
    ]
    assert differences(Decision(), decision) == ["queue: None → billing", "score: +0 → +5"]
    assert differences(decision, decision) == []
    assert str(Effect(Action.DEAL, deal=Deal("Acme", 10.0, "won"))) == "deal 'Acme' value 10 stage won"
