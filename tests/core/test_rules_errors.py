"""Rule file errors: every problem reported at once, each with file:line and a hint."""

from __future__ import annotations

from typing import Any

import pytest

from inboxcrm.core.rules import RulesInvalid, compile_rules
from tests.core.rules_support import TEAM_VOCABULARY, problems_of

ERRORS: list[Any] = [
    pytest.param(
        '[[rule]]\nname = "r"\nwhen.subject = "x\nthen.stop = true\n',
        [
            "rules/x.toml:3: not valid TOML: Illegal character '\\n' (check quotes, brackets and commas on that line;"
            ' text needs quotes, and inside "…" a backslash must be doubled (or write regexes in single quotes:'
            " '\\d+'))"
        ],
        id="bad toml",
    ),
    pytest.param(
        '[[rule]]\nname = "r"\nwhen.subjct = "x"\nthen.stop = true\n',
        ["rules/x.toml:3: unknown condition 'subjct' (did you mean 'subject'?)"],
        id="unknown condition",
    ),
    pytest.param(
        '[[rule]]\nname = "r"\nwhen.subject = "x"\nthen.stop = true\ndescripton = "typo"\n',
        ["rules/x.toml:5: unknown key 'descripton' in rule 'r' (did you mean 'description'?)"],
        id="unknown rule key",
    ),
    pytest.param(
        '[[rule]]\nname = "r"\nqueue = "billing"\nthen.stop = true\n',
        ["rules/x.toml:3: unknown key 'queue' in rule 'r' (actions go under `then`: then.queue = …)"],
        id="action outside then",
    ),
    pytest.param(
        '[rules]\nname = "r"\n',
        ["rules/x.toml:1: unknown key 'rules' at the top of the file (did you mean 'rule'?)"],
        id="unknown top-level key",
    ),
    pytest.param(
        '[[rule]]\nname = "r"\nwhen.subject = { contain = "x" }\nthen.stop = true\n',
        ["rules/x.toml:3: unknown operator 'contain' for `subject` (did you mean 'contains'?)"],
        id="unknown operator",
    ),
    pytest.param(
        '[[rule]]\nname = "r"\n[rule.when]\nfrom.domian = "x.example"\n[rule.then]\nstop = true\n',
        ["rules/x.toml:4: unknown operator 'domian' for `from` (did you mean 'domain'?)"],
        id="unknown address operator",
    ),
    pytest.param(
        '[[rule]]\nname = "r"\nwhen.contact.score_above = 5\nthen.stop = true\n',
        ["rules/x.toml:3: unknown operator 'score_above' for `contact` (did you mean 'score_at_most'?)"],
        id="unknown contact operator",
    ),
    pytest.param(
        '[[rule]]\nname = "r"\nwhen.subject = "x"\nthen.add_tag = "vip"\n',
        ["rules/x.toml:4: unknown action 'add_tag' (did you mean 'add_tags'?)"],
        id="unknown action",
    ),
    pytest.param(
        '[[rule]]\nname = "r"\nthen = { subject = "x" }\n',
        ["rules/x.toml:3: unknown action 'subject' ('subject' is a condition: put it under `when`)"],
        id="condition in then",
    ),
    pytest.param(
        "[[rule]]\nname = 'r'\nwhen.any = [\n  { subject = 'ok' },\n  { body.regex = 'inv(oice' },\n]\n"
        "then.stop = true\n",
        [
            "rules/x.toml:5: bad regex /inv(oice/: missing ), unterminated subpattern at position 3 (to match text"
            " as written use `contains`; ( ) [ ] { } . * + ? | ^ $ \\ need a backslash)"
        ],
        id="bad regex",
    ),
    pytest.param(
        '[[rule]]\nname = "r"\nthen.auto_reply = "ack-suport"\n',
        ["rules/x.toml:3: unknown template 'ack-suport' (did you mean 'ack-support'?)"],
        id="unknown template",
    ),
    pytest.param(
        '[[rule]]\nname = "r"\nthen.enrol = ["trial-nurture", "trial-nuture"]\n',
        ["rules/x.toml:3: unknown campaign 'trial-nuture' (did you mean 'trial-nurture'?)"],
        id="unknown campaign",
    ),
    pytest.param(
        '[[rule]]\nname = "r"\nthen.enrol = [\n  "trial-nurture",\n  "spring-sale",\n]\n',
        ["rules/x.toml:5: unknown campaign 'spring-sale' (expected one of: trial-nurture)"],
        id="unknown campaign in a multi-line list",
    ),
    pytest.param(
        '[[rule]]\nname = "r"\nthen.assign = "anna"\n',
        ["rules/x.toml:3: unknown agent 'anna' (did you mean 'ana'?)"],
        id="unknown agent",
    ),
    pytest.param(
        '[[rule]]\nname = "r"\nthen.stage = "won"\n',
        ["rules/x.toml:3: unknown stage 'won' (expected one of: customer, lead, mql, sql, subscriber)"],
        id="unknown stage",
    ),
    pytest.param(
        '[[rule]]\nname = "r"\nwhen.contact.stage = "custmer"\nthen.stop = true\n',
        ["rules/x.toml:3: unknown stage 'custmer' (did you mean 'customer'?)"],
        id="unknown stage in a condition",
    ),
    pytest.param(
        '[[rule]]\nname = "r"\nthen.queue = "biling"\n',
        ["rules/x.toml:3: unknown queue 'biling' (did you mean 'billing'?)"],
        id="unknown queue",
    ),
    pytest.param(
        '[[rule]]\nname = "r"\nthen.deal = { name = "D", stage = "proposl" }\n',
        ["rules/x.toml:3: unknown deal stage 'proposl' (did you mean 'proposal'?)"],
        id="unknown deal stage",
    ),
    pytest.param(
        '[[rule]]\nname = "r"\nwhen.mailbox = "suport"\nthen.stop = true\n',
        ["rules/x.toml:3: unknown mailbox 'suport' (did you mean 'support'?)"],
        id="unknown mailbox",
    ),
    pytest.param(
        '[[rule]]\nname = "r"\nwhen.kind = "auto-reply"\nthen.stop = true\n',
        ["rules/x.toml:3: unknown kind 'auto-reply' (did you mean 'auto_reply'?)"],
        id="unknown kind",
    ),
    pytest.param(
        '[[rule]]\nname = "r"\nthen.score = "ten"\n',
        ["rules/x.toml:3: score points must be a number, got 'ten' (e.g. score = 10 or score = -5)"],
        id="wrong type: score",
    ),
    pytest.param(
        '[[rule]]\nname = "r"\nwhen.subject = 42\nthen.stop = true\n',
        ['rules/x.toml:3: `subject` takes text, a list of texts or a table, got 42 (e.g. { contains = "x" })'],
        id="wrong type: subject",
    ),
    pytest.param(
        '[[rule]]\nname = "r"\nwhen.mailbox = ["support", 7]\nthen.stop = true\n',
        ["rules/x.toml:3: expected a mailbox, got 7 (put text in quotes)"],
        id="wrong type in a list",
    ),
    pytest.param(
        '[[rule]]\nname = "r"\nthen.stop = "yes"\n',
        ["rules/x.toml:3: `stop` must be true or false, got 'yes' (write stop = true)"],
        id="wrong type: stop",
    ),
    pytest.param(
        '[[rule]]\nname = "r"\nwhen.time.after = "6pm"\nthen.stop = true\n',
        ['rules/x.toml:3: expected a time of day such as "18:00", got \'6pm\' (write "HH:MM", 24-hour)'],
        id="bad time",
    ),
    pytest.param(
        '[[rule]]\nname = "r"\nwhen.weekday = "mo"\nthen.stop = true\n',
        ["rules/x.toml:3: unknown weekday 'mo' (did you mean 'mon'?)"],
        id="bad weekday",
    ),
    pytest.param(
        '[[rule]]\nname = "r"\nwhen.any = []\nthen.stop = true\n',
        ["rules/x.toml:3: an empty `any` never matches (list at least one condition table)"],
        id="empty any",
    ),
    pytest.param(
        '[rule]\nname = "r"\n',
        ["rules/x.toml:1: `[rule]` is a single table (write [[rule]] (double brackets) for each rule)"],
        id="single brackets",
    ),
    pytest.param(
        '[[rule]]\nwhen.subject = "x"\nthen.stop = true\n',
        ['rules/x.toml:1: a rule needs a `name` (add name = "what this rule does")'],
        id="missing name",
    ),
    pytest.param(
        '[[rule]]\nname = "r"\nwhen.subject = "x"\n',
        ["rules/x.toml:1: rule 'r' has no actions (add then = { … }, e.g. then.add_tags = \"vip\")"],
        id="missing then",
    ),
    pytest.param(
        '[[rule]]\nname = "r"\nthen.stop = true\n\n[[rule]]\nname = "r"\nthen.stop = true\n',
        ["rules/x.toml:6: rule name 'r' is used twice (also at rules/x.toml:1)"],
        id="duplicate name",
    ),
    pytest.param(
        '[[rule]]\nname = "r"\nwhen.to.free_mail = true\nthen.stop = true\n',
        ["rules/x.toml:3: `free_mail` applies to `from` only (write from.free_mail = true)"],
        id="free_mail on to",
    ),
    pytest.param(
        '[[rule]]\nname = "r"\nwhen.from.address = "acme.example"\nthen.stop = true\n',
        ["rules/x.toml:3: 'acme.example' is not an address (to match a whole domain use domain = \"acme.example\")"],
        id="domain given as address",
    ),
    pytest.param(
        '[[rule]]\nname = "r"\nwhen.subject.exists = true\nthen.stop = true\n',
        ["rules/x.toml:3: unknown operator 'exists' for `subject` (`exists` applies to headers only)"],
        id="exists on subject",
    ),
]


@pytest.mark.parametrize(("text", "expected"), ERRORS)
def test_problem_is_reported_with_file_line_and_hint(text: str, expected: list[str]) -> None:
    problems = problems_of(text)
    assert [str(p) for p in problems] == expected
    assert all(p.hint for p in problems)


def test_every_problem_in_every_file_is_reported_at_once() -> None:
    files = [
        ("rules/b.toml", '[[rule]]\nname = "b"\nwhen.subjct = "x"\nthen.queue = "nowhere"\n'),
        (
            "rules/a.toml",
            "[[rule]]\nname = 'a'\nthen.assign = 'bob'\nthen.stage = 'won'\n\n[[rule]]\nname = 'c'\nthen = {\n",
        ),
    ]
    with pytest.raises(RulesInvalid) as caught:
        compile_rules(files, TEAM_VOCABULARY)
    where = [(p.file, p.line) for p in caught.value.problems]
    assert where == [("rules/a.toml", 8), ("rules/b.toml", 3), ("rules/b.toml", 4)]
    text = str(caught.value)
    assert "rules/b.toml:3: unknown condition 'subjct'" in text and "rules/b.toml:4: unknown queue 'nowhere'" in text


def test_problems_in_valid_toml_of_every_shape_get_their_line() -> None:
    text = """# a comment with [brackets] and = signs
[[rule]]
name = "multi"
description = \"\"\"
  a multi-line description with "quotes" and [brackets]
\"\"\"
[rule.when]
"subject".contains = ["a", 'b']
any = [
  { from = "x.example" },  # a comment
  { header = { "X-Tag" = { regxe = "y" } } },
]
[rule.then]
queue = "support"

[[rule]]
name = "second"
then = { queue = "support", assign = "nobody" }
"""
    assert [str(p) for p in problems_of(text)] == [
        "rules/x.toml:11: unknown operator 'regxe' for `header X-Tag` (did you mean 'regex'?)",
        "rules/x.toml:18: unknown agent 'nobody' (expected one of: ana, ben, round-robin)",
    ]
