"""Drip campaign files that do not compile: every problem, each with its line and a hint, all reported at once."""

from __future__ import annotations

import pytest

from inboxcrm.core.campaigns import CampaignVocabulary, compile_campaigns
from inboxcrm.core.rules import RuleProblem, RulesInvalid
from tests.core.campaigns_support import HEAD, STEP, VALID, VOCAB, one


def problems_of(*files: tuple[str, str], vocabulary: CampaignVocabulary = VOCAB) -> list[RuleProblem]:
    with pytest.raises(RulesInvalid) as caught:
        compile_campaigns(files, vocabulary)
    return list(caught.value.problems)


def only_problem(text: str) -> RuleProblem:
    found = problems_of(("campaigns/c.toml", text))
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


def _steps(count: int) -> str:
    return "".join('[[campaign.step]]\ndelay = "1d"\ntemplate = "campaigns/trial-1"\n' for _ in range(count))


PROBLEMS = [
    # (id, text, line, in the message, in the hint)
    ("bad toml", HEAD + 'description = "unterminated\n' + STEP, 5, "not valid TOML", "quotes"),
    ("unknown key", HEAD + "windw = {}\n" + STEP, 5, "unknown key 'windw'", "did you mean 'window'?"),
    ("step key at the top", HEAD + 'template = "x"\n' + STEP, 5, "unknown key 'template'", "[[campaign.step]]"),
    ("unknown top-level key", 'name = "c"\n' + HEAD + STEP, 1, "unknown key 'name' at the top", "[[campaign]]"),
    ("unknown step key", HEAD + STEP + 'subject = "Hi"\n', 8, "unknown key 'subject' in step 1", "template"),
    (
        "misspelt step key",
        HEAD + '[[campaign.step]]\ndelay = "0d"\ntemplate = "campaigns/trial-1"\ndealy = "1d"\n',
        8,
        "unknown key 'dealy'",
        "did you mean 'delay'?",
    ),
    (
        "unknown window key",
        HEAD + 'timezone = "UTC"\nwindow.start = "09:00"\nwindow.end = "17:00"\nwindow.dayz = ["mon"]\n' + STEP,
        8,
        "unknown key 'dayz' in `window`",
        "did you mean 'days'?",
    ),
    ("unknown exit", HEAD + "[campaign.exit]\nreplied = true\n" + STEP, 6, "unknown exit 'replied'", "'reply'"),
    ("unsubscribe exit", HEAD + "[campaign.exit]\nunsubscribe = false\n" + STEP, 6, "cannot be configured", "always"),
    ("missing name", HEAD.replace('name = "c"\n', "") + STEP, 1, "needs a `name`", 'name = "'),
    ("missing from", HEAD.replace('from = "sales@northwind.example"\n', "") + STEP, 1, "needs `from`", "from ="),
    (
        "missing postal address",
        HEAD.replace('postal_address = "Northwind GmbH, Berlin"\n', "") + STEP,
        1,
        "needs `postal_address`",
        "postal_address =",
    ),
    ("missing steps", HEAD, 1, "has no steps", "[[campaign.step]]"),
    ("empty step list", HEAD + "step = []\n", 5, "campaign 'c' has no steps", "[[campaign.step]]"),
    ("single step table", HEAD + '[campaign.step]\ndelay = "0d"\n', 5, "single table", "[[campaign.step]]"),
    ("step without template", HEAD + '[[campaign.step]]\ndelay = "0d"\n', 5, "needs a `template`", "template ="),
    ("step without delay", HEAD + '[[campaign.step]]\ntemplate = "campaigns/trial-1"\n', 5, "needs a `delay`", "0d"),
    (
        "unknown template",
        HEAD + '[[campaign.step]]\ndelay = "0d"\ntemplate = "campaigns/trail-2"\n',
        7,
        "unknown template 'campaigns/trail-2'",
        "did you mean 'campaigns/trial-2'?",
    ),
    (
        "unknown segment",
        HEAD + 'trigger = { segment = "hot-lead" }\n' + STEP,
        5,
        "unknown segment 'hot-lead'",
        "did you mean 'hot-leads'?",
    ),
    (
        "unknown trigger stage",
        HEAD + 'trigger = { stage = "leed" }\n' + STEP,
        5,
        "unknown stage 'leed'",
        "did you mean 'lead'?",
    ),
    (
        "unknown exit stage",
        HEAD + '[campaign.exit]\nstages = [\n  "customer",\n  "custommer",\n]\n' + STEP,
        8,
        "unknown stage 'custommer'",
        "did you mean 'customer'?",
    ),
    (
        "sender not ours",
        HEAD.replace("sales@northwind", "sales@northwind-mail") + STEP,
        3,
        "'sales@northwind-mail.example' is not one of our shared addresses",
        "did you mean 'sales@northwind.example'?",
    ),
    (
        "sender far from ours",
        HEAD.replace("sales@northwind.example", "x@y.example") + STEP,
        3,
        "not one of our shared addresses",
        "hello@northwind.example, sales@northwind.example",
    ),
    (
        "from is no address",
        HEAD.replace('"sales@northwind.example"', '"Northwind Sales"') + STEP,
        3,
        "`from` is not one address",
        "Name <",
    ),
    (
        "from is two addresses",
        HEAD.replace('"sales@northwind.example"', '"a@northwind.example, b@northwind.example"') + STEP,
        3,
        "not one address",
        "",
    ),
    ("reply_to is no address", HEAD + 'reply_to = "sales"\n' + STEP, 5, "`reply_to` is not one address", ""),
    (
        "bad timezone",
        HEAD + 'timezone = "Europe/Berln"\n' + STEP,
        5,
        "unknown timezone 'Europe/Berln'",
        "did you mean 'Europe/Berlin'?",
    ),
    ("nonsense timezone", HEAD + 'timezone = "CEST+2 summer"\n' + STEP, 5, "unknown timezone", "IANA"),
    (
        "delay without unit",
        HEAD + '[[campaign.step]]\ndelay = "2"\ntemplate = "campaigns/trial-1"\n',
        6,
        "cannot read delay '2'",
        '"30m"',
    ),
    (
        "delay in words",
        HEAD + '[[campaign.step]]\ndelay = "2 days"\ntemplate = "campaigns/trial-1"\n',
        6,
        "cannot read delay",
        "",
    ),
    (
        "fractional delay",
        HEAD + '[[campaign.step]]\ndelay = "1.5d"\ntemplate = "campaigns/trial-1"\n',
        6,
        "cannot read delay",
        "whole minutes",
    ),
    (
        "month delay",
        HEAD + '[[campaign.step]]\ndelay = "1M"\ntemplate = "campaigns/trial-1"\n',
        6,
        "cannot read delay",
        "",
    ),
    (
        "delay as a number",
        HEAD + '[[campaign.step]]\ndelay = 2\ntemplate = "campaigns/trial-1"\n',
        6,
        "a delay is text with a unit, got 2",
        "",
    ),
    (
        "negative delay",
        HEAD + STEP + '[[campaign.step]]\ndelay = "-1h"\ntemplate = "campaigns/trial-2"\n',
        9,
        "a delay cannot be negative",
        "",
    ),
    (
        "huge delay",
        HEAD + '[[campaign.step]]\ndelay = "521w"\ntemplate = "campaigns/trial-1"\n',
        6,
        "longer than 520 weeks",
        "",
    ),
    (
        "unknown weekday",
        HEAD + 'timezone = "UTC"\nwindow = { days = ["mon", "thur"], start = "09:00", end = "17:00" }\n' + STEP,
        6,
        "unknown weekday 'thur'",
        "did you mean 'thu'?",
    ),
    (
        "no days",
        HEAD + 'timezone = "UTC"\nwindow = { days = [], start = "09:00", end = "17:00" }\n' + STEP,
        6,
        "the window has no days",
        "",
    ),
    (
        "bad start",
        HEAD + 'timezone = "UTC"\nwindow = { start = "9am", end = "17:00" }\n' + STEP,
        6,
        "expected a time of day such as \"09:00\", got '9am'",
        "HH:MM",
    ),
    (
        "bad minutes",
        HEAD + 'timezone = "UTC"\nwindow = { start = "09:60", end = "17:00" }\n' + STEP,
        6,
        "got '09:60'",
        "",
    ),
    (
        "end 24:00",
        HEAD + 'timezone = "UTC"\nwindow.start = "09:00"\nwindow.end = "24:00"\n' + STEP,
        7,
        "got '24:00'",
        '"23:59"',
    ),
    (
        "end before start",
        HEAD + 'timezone = "UTC"\nwindow = { start = "22:00", end = "06:00" }\n' + STEP,
        6,
        "the window must end after it starts (06:00 is not after 22:00)",
        "midnight",
    ),
    (
        "end equals start",
        HEAD + 'timezone = "UTC"\nwindow = { start = "09:00", end = "09:00" }\n' + STEP,
        6,
        "must end after it starts",
        "",
    ),
    (
        "window without end",
        HEAD + 'timezone = "UTC"\nwindow = { start = "09:00" }\n' + STEP,
        6,
        "the window needs `end`",
        "",
    ),
    (
        "window without timezone",
        HEAD + 'window = { start = "09:00", end = "17:00" }\n' + STEP,
        5,
        "a send window needs the campaign's `timezone`",
        "timezone =",
    ),
    ("window not a table", HEAD + 'timezone = "UTC"\nwindow = "9-5"\n' + STEP, 6, "`window` must be a table", ""),
    (
        "two trigger kinds",
        HEAD + 'trigger = { tag = "trial", stage = "lead" }\n' + STEP,
        5,
        "a trigger is exactly one kind, got tag and stage",
        "segment",
    ),
    ("empty trigger", HEAD + "trigger = {}\n" + STEP, 5, "the trigger is empty", '"manual"'),
    (
        "unknown trigger kind",
        HEAD + 'trigger = { tags = "trial" }\n' + STEP,
        5,
        "unknown trigger 'tags'",
        "did you mean 'tag'?",
    ),
    ("unknown trigger word", HEAD + 'trigger = "manuel"\n' + STEP, 5, "unknown trigger 'manuel'", "'manual'"),
    ("trigger kind without value", HEAD + 'trigger = "tag"\n' + STEP, 5, "trigger 'tag' needs a value", "tag ="),
    ("rule as a table", HEAD + "trigger = { rule = true }\n" + STEP, 5, "unknown trigger 'rule'", 'trigger = "rule"'),
    ("trigger a number", HEAD + "trigger = 5\n" + STEP, 5, "`trigger` must be a table or text, got 5", ""),
    ("score as text", HEAD + 'trigger = { score = "30" }\n' + STEP, 5, "`score` must be a number, got '30'", ""),
    ("score as bool", HEAD + "trigger = { score = true }\n" + STEP, 5, "`score` must be a number, got true", ""),
    ("tag not text", HEAD + "trigger = { tag = 3 }\n" + STEP, 5, "`tag` must be text, got 3", ""),
    ("name not text", HEAD.replace('"c"', "5") + STEP, 2, "a campaign name must be text, got 5", ""),
    (
        "name with spaces",
        HEAD.replace('"c"', '"trial nurture!"') + STEP,
        2,
        "campaign name 'trial nurture!' may hold only letters, digits, '-' and '_'",
        "'trial-nurture'",
    ),
    ("description not text", HEAD + "description = 3\n" + STEP, 5, "`description` must be text, got 3", ""),
    (
        "empty postal address",
        HEAD.replace('"Northwind GmbH, Berlin"', '"  "') + STEP,
        4,
        "`postal_address` must be text",
        "",
    ),
    ("reenrol not bool", HEAD + 'reenrol = "no"\n' + STEP, 5, "`reenrol` must be true or false, got 'no'", ""),
    ("exit flag not bool", HEAD + '[campaign.exit]\nticket = "yes"\n' + STEP, 6, "`ticket` must be true or false", ""),
    ("exit tags not text", HEAD + "[campaign.exit]\ntags = [1]\n" + STEP, 6, "expected a tag, got 1", ""),
    ("exit not a table", HEAD + "exit = 3\n" + STEP, 5, "`exit` must be a table, got 3", ""),
    ("rate limit zero", HEAD + "rate_limit = 0\n" + STEP, 5, "`rate_limit` must be at least 1, got 0", ""),
    ("rate limit negative", HEAD + "rate_limit = -5\n" + STEP, 5, "must be at least 1, got -5", ""),
    ("rate limit fraction", HEAD + "rate_limit = 1.5\n" + STEP, 5, "`rate_limit` must be a whole number, got 1.5", ""),
    ("rate limit bool", HEAD + "rate_limit = false\n" + STEP, 5, "must be a whole number, got false", ""),
    ("51 steps", HEAD + _steps(51), 5 + 50 * 3, "a campaign has at most 50 steps, campaign 'c' has 51", ""),
    ("single campaign table", '[campaign]\nname = "c"\n', 1, "`[campaign]` is a single table", "[[campaign]]"),
    (
        "tag enrols and exits",
        HEAD + 'trigger = { tag = "trial" }\n[campaign.exit]\ntags = ["trial"]\n' + STEP,
        5,
        "tag 'trial' both enrols and ends the campaign",
        "exit.tags",
    ),
    (
        "stage enrols and exits",
        HEAD + 'trigger = { stage = "customer" }\n[campaign.exit]\nstages = ["mql"]\n' + STEP,
        5,
        "stage 'customer' both enrols and ends",
        "every later one",
    ),
]


@pytest.mark.parametrize(("text", "line", "message", "hint"), [p[1:] for p in PROBLEMS], ids=[p[0] for p in PROBLEMS])
def test_each_problem_is_reported_with_its_line(text: str, line: int, message: str, hint: str) -> None:
    problem = only_problem(text)
    assert (problem.file, problem.line) == ("campaigns/c.toml", line), str(problem)
    assert message in problem.message
    assert hint in problem.hint


def test_exactly_fifty_steps_are_allowed() -> None:
    assert len(one(HEAD + _steps(50)).steps) == 50


def test_a_problem_reads_file_line_message_hint() -> None:
    problem = only_problem(HEAD + "windw = {}\n" + STEP)
    assert str(problem) == "campaigns/c.toml:5: unknown key 'windw' in campaign 'c' (did you mean 'window'?)"


def test_duplicate_names_are_reported_at_both_places() -> None:
    first = HEAD.replace('"c"', '"trial-nurture"') + STEP
    second = "# the same campaign again\n" + HEAD.replace('"c"', '"Trial-Nurture"') + STEP
    found = problems_of(("campaigns/b.toml", second), ("campaigns/a.toml", first))
    assert [str(p) for p in found] == [
        "campaigns/a.toml:2: campaign 'trial-nurture' is defined more than once "
        "(names are unique ignoring case; also at campaigns/b.toml:3)",
        "campaigns/b.toml:3: campaign 'Trial-Nurture' is defined more than once "
        "(names are unique ignoring case; also at campaigns/a.toml:2)",
    ]


def test_duplicates_within_one_file() -> None:
    text = HEAD + STEP + HEAD + STEP
    assert [(p.line, p.hint) for p in problems_of(("campaigns/c.toml", text))] == [
        (2, "names are unique ignoring case; also at campaigns/c.toml:9"),
        (9, "names are unique ignoring case; also at campaigns/c.toml:2"),
    ]


def test_every_problem_in_every_file_is_reported_at_once() -> None:
    bad = """\
[[campaign]]
name = "trial-nurture"
from = "Northwind Sales <sales@northwind.example>"
timezone = "Europe/Berln"
trigger = { tags = "trial" }
window = { days = ["mon", "thur"], start = "09:00", end = "08:00" }
rate_limit = 0
windw = 1

[[campaign.step]]
delay = "-2d"
template = "campaigns/trial-9"
"""
    broken_toml = "[[campaign]]\nname = 'x\n"
    found = problems_of(("campaigns/a.toml", bad), ("campaigns/b.toml", broken_toml), ("campaigns/c.toml", VALID))
    assert [(p.file, p.line, p.message) for p in found] == [
        ("campaigns/a.toml", 1, "campaign 'trial-nurture' needs `postal_address`"),
        ("campaigns/a.toml", 2, "campaign 'trial-nurture' is defined more than once"),
        ("campaigns/a.toml", 4, "unknown timezone 'Europe/Berln'"),
        ("campaigns/a.toml", 5, "unknown trigger 'tags'"),
        ("campaigns/a.toml", 6, "unknown weekday 'thur'"),
        ("campaigns/a.toml", 6, "the window must end after it starts (08:00 is not after 09:00)"),
        ("campaigns/a.toml", 7, "`rate_limit` must be at least 1, got 0"),
        ("campaigns/a.toml", 8, "unknown key 'windw' in campaign 'trial-nurture'"),
        ("campaigns/a.toml", 11, "a delay cannot be negative, got '-2d'"),
        ("campaigns/a.toml", 12, "unknown template 'campaigns/trial-9'"),
        ("campaigns/b.toml", 2, 'not valid TOML: Expected "\'"'),
        ("campaigns/c.toml", 2, "campaign 'trial-nurture' is defined more than once"),
    ]


def test_an_empty_vocabulary_says_so() -> None:
    nothing = CampaignVocabulary(frozenset(), frozenset(), (), frozenset())
    found = problems_of(("campaigns/c.toml", HEAD + 'trigger = { segment = "hot" }\n' + STEP), vocabulary=nothing)
    assert [(p.line, p.hint) for p in found] == [
        (3, "campaigns send from one of our shared addresses: none are configured"),
        (5, "no segments are defined"),
        (8, "no templates are defined"),
    ]
