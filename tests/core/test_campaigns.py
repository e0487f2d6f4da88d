"""Drip campaigns: compiling campaign files (values, every problem with its line), send windows across weekends
and DST, due times, exits, triggers and re-enrolment."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inboxcrm.core.campaigns import (
    Campaign,
    CampaignVocabulary,
    ContactNow,
    Exits,
    Step,
    Trigger,
    Window,
    compile_campaigns,
    due_at,
    exit_reason,
    may_enrol,
    send_time,
    triggers,
)
from inboxcrm.core.model import Address
from inboxcrm.core.rules import RuleProblem, RulesInvalid

BERLIN = ZoneInfo("Europe/Berlin")
STAGES = ("subscriber", "lead", "mql", "customer", "churned")
VOCAB = CampaignVocabulary(
    templates=frozenset({"campaigns/trial-1", "campaigns/trial-2", "campaigns/trial-3"}),
    segments=frozenset({"hot-leads", "cold-leads"}),
    stages=STAGES,
    senders=frozenset({"sales@northwind.example", "hello@northwind.example"}),
)
OFFICE = Window(frozenset(range(5)), time(9), time(17))
EVERY_DAY = frozenset(range(7))

VALID = """\
[[campaign]]
name = "trial-nurture"
description = "Three mails for people who asked for a trial"
from = "Northwind Sales <Sales@Northwind.example>"
reply_to = "sales@northwind.example"
timezone = "Europe/Berlin"
postal_address = "Northwind GmbH, Hauptstr. 1, 10115 Berlin"
trigger = { tag = "trial" }
reenrol = true
window = { days = ["mon","tue","wed","thu","fri"], start = "09:00", end = "17:00" }
rate_limit = 60

[campaign.exit]
reply = false
ticket = true
tags = ["customer"]
stages = ["customer"]

[[campaign.step]]
delay = "0d"
template = "campaigns/trial-1"

[[campaign.step]]
delay = "2d"
template = "campaigns/trial-2"
"""

# Four lines; every problem test below adds its lines after these (line 5 on) unless it replaces one.
HEAD = """\
[[campaign]]
name = "c"
from = "sales@northwind.example"
postal_address = "Northwind GmbH, Berlin"
"""
STEP = """\
[[campaign.step]]
delay = "0d"
template = "campaigns/trial-1"
"""


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=BERLIN)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def problems_of(*files: tuple[str, str], vocabulary: CampaignVocabulary = VOCAB) -> list[RuleProblem]:
    with pytest.raises(RulesInvalid) as caught:
        compile_campaigns(files, vocabulary)
    return list(caught.value.problems)


def only_problem(text: str) -> RuleProblem:
    found = problems_of(("campaigns/c.toml", text))
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


def one(text: str, vocabulary: CampaignVocabulary = VOCAB) -> Campaign:
    (campaign,) = compile_campaigns([("campaigns/c.toml", text)], vocabulary)
    return campaign


# ---------------------------------------------------------------------------------------------------------
# Compiling valid files


def test_a_valid_file_compiles_to_the_expected_campaign() -> None:
    assert compile_campaigns([("campaigns/trial.toml", VALID)], VOCAB) == (
        Campaign(
            name="trial-nurture",
            file="campaigns/trial.toml",
            line=1,
            description="Three mails for people who asked for a trial",
            sender=Address("sales@northwind.example", "Northwind Sales"),
            reply_to="sales@northwind.example",
            timezone="Europe/Berlin",
            postal_address="Northwind GmbH, Hauptstr. 1, 10115 Berlin",
            trigger=Trigger("tag", "trial"),
            steps=(
                Step(1, timedelta(0), "campaigns/trial-1", 19),
                Step(2, timedelta(days=2), "campaigns/trial-2", 23),
            ),
            # a stage exit holds the stages after it too: leaving at "customer" also means leaving at "churned"
            exits=Exits(
                reply=False, ticket=True, tags=frozenset({"customer"}), stages=frozenset({"customer", "churned"})
            ),
            reenrol=True,
            window=OFFICE,
            rate_limit=60,
        ),
    )


def test_defaults_of_a_minimal_campaign() -> None:
    campaign = one(HEAD + STEP)
    assert campaign.sender == Address("sales@northwind.example", "")
    assert campaign.reply_to == "sales@northwind.example"
    assert campaign.description == ""
    assert campaign.timezone == "UTC"
    assert campaign.trigger == Trigger("manual", None)
    assert campaign.exits == Exits(reply=True, ticket=True, tags=frozenset(), stages=frozenset())
    assert (campaign.reenrol, campaign.window, campaign.rate_limit) == (False, None, None)


@pytest.mark.parametrize(
    ("trigger", "expected"),
    [
        ('{ tag = "trial" }', Trigger("tag", "trial")),
        ('{ stage = "MQL" }', Trigger("stage", "mql")),
        ("{ score = 30 }", Trigger("score", 30.0)),
        ("{ score = 12.5 }", Trigger("score", 12.5)),
        ('{ segment = "hot-leads" }', Trigger("segment", "hot-leads")),
        ('"rule"', Trigger("rule", None)),
        ('"manual"', Trigger("manual", None)),
    ],
)
def test_each_kind_of_trigger(trigger: str, expected: Trigger) -> None:
    assert one(HEAD + f"trigger = {trigger}\n" + STEP).trigger == expected


@pytest.mark.parametrize(
    ("delay", "expected"),
    [
        ("0d", timedelta(0)),
        ("0", timedelta(0)),
        ("30m", timedelta(minutes=30)),
        ("4h", timedelta(hours=4)),
        ("2d", timedelta(days=2)),
        ("1w", timedelta(weeks=1)),
        ("1d12h", timedelta(days=1, hours=12)),
        (" 1d 6h ", timedelta(days=1, hours=6)),
        ("520w", timedelta(weeks=520)),
    ],
)
def test_delays(delay: str, expected: timedelta) -> None:
    steps = one(HEAD + STEP + f'[[campaign.step]]\ndelay = "{delay}"\ntemplate = "campaigns/trial-2"\n').steps
    assert steps[1] == Step(2, expected, "campaigns/trial-2", 8)


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ('{ days = "weekdays", start = "9:00", end = "17:30" }', Window(frozenset(range(5)), time(9), time(17, 30))),
        ('{ days = ["Sat", "sunday"], start = "10:00", end = "12:00" }', Window(frozenset({5, 6}), time(10), time(12))),
        ('{ start = "00:00", end = "23:59" }', Window(EVERY_DAY, time(0), time(23, 59))),
        ("{ days = ['weekend'], start = 08:00:00, end = 08:30:00 }", Window(frozenset({5, 6}), time(8), time(8, 30))),
    ],
)
def test_windows(window: str, expected: Window) -> None:
    assert one(HEAD + 'timezone = "Europe/Berlin"\n' + f"window = {window}\n" + STEP).window == expected


def test_names_are_matched_ignoring_case_and_take_the_vocabulary_spelling() -> None:
    text = (
        HEAD + 'trigger = { segment = "Hot-Leads" }\n[[campaign.step]]\ndelay = "1h"\ntemplate = "Campaigns/Trial-2"\n'
    )
    campaign = one(text)
    assert campaign.trigger == Trigger("segment", "hot-leads")
    assert campaign.steps[0].template == "campaigns/trial-2"


def test_campaigns_come_in_file_order_then_in_order_within_a_file() -> None:
    second = HEAD.replace('"c"', '"b-two"') + STEP + HEAD.replace('"c"', '"b-three"') + STEP
    files = [("campaigns/b.toml", second), ("campaigns/a.toml", HEAD.replace('"c"', '"a-one"') + STEP)]
    compiled = compile_campaigns(files, VOCAB)
    assert [(c.name, c.file, c.line) for c in compiled] == [
        ("a-one", "campaigns/a.toml", 1),
        ("b-two", "campaigns/b.toml", 1),
        ("b-three", "campaigns/b.toml", 8),
    ]


def test_no_files_no_campaigns() -> None:
    assert compile_campaigns([], VOCAB) == ()
    assert compile_campaigns([("campaigns/empty.toml", "# nothing yet\n")], VOCAB) == ()


# ---------------------------------------------------------------------------------------------------------
# Problems, one at a time, each with its line


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


# ---------------------------------------------------------------------------------------------------------
# Send windows


@pytest.mark.parametrize(
    ("earliest", "window", "zone", "expected"),
    [
        pytest.param(berlin(2026, 3, 4, 10), OFFICE, "Europe/Berlin", berlin(2026, 3, 4, 10), id="inside stays"),
        pytest.param(berlin(2026, 3, 4, 8), OFFICE, "Europe/Berlin", berlin(2026, 3, 4, 9), id="early → opening"),
        pytest.param(berlin(2026, 3, 4, 9), OFFICE, "Europe/Berlin", berlin(2026, 3, 4, 9), id="exactly at start"),
        pytest.param(
            berlin(2026, 3, 4, 16, 59, 59),
            OFFICE,
            "Europe/Berlin",
            berlin(2026, 3, 4, 16, 59, 59),
            id="just before end",
        ),
        pytest.param(
            berlin(2026, 3, 4, 17), OFFICE, "Europe/Berlin", berlin(2026, 3, 5, 9), id="exactly at end → next"
        ),
        pytest.param(berlin(2026, 3, 4, 20), OFFICE, "Europe/Berlin", berlin(2026, 3, 5, 9), id="evening → morning"),
        pytest.param(berlin(2026, 3, 6, 17, 30), OFFICE, "Europe/Berlin", berlin(2026, 3, 9, 9), id="friday → monday"),
        pytest.param(berlin(2026, 3, 7, 12), OFFICE, "Europe/Berlin", berlin(2026, 3, 9, 9), id="saturday → monday"),
        pytest.param(berlin(2026, 3, 8, 23, 59), OFFICE, "Europe/Berlin", berlin(2026, 3, 9, 9), id="sunday night"),
        pytest.param(
            berlin(2026, 3, 28, 18), OFFICE, "Europe/Berlin", utc(2026, 3, 30, 7), id="over spring DST: 09:00 CEST"
        ),
        pytest.param(berlin(2026, 3, 27, 18), OFFICE, "Europe/Berlin", utc(2026, 3, 30, 7), id="friday before spring"),
        pytest.param(
            berlin(2026, 10, 24, 18), OFFICE, "Europe/Berlin", utc(2026, 10, 26, 8), id="over autumn DST: 09:00 CET"
        ),
        pytest.param(
            berlin(2026, 3, 28, 18),
            Window(EVERY_DAY, time(9), time(17)),
            "Europe/Berlin",
            utc(2026, 3, 29, 7),
            id="on the spring DST day itself",
        ),
        pytest.param(
            berlin(2026, 10, 24, 18),
            Window(EVERY_DAY, time(9), time(17)),
            "Europe/Berlin",
            utc(2026, 10, 25, 8),
            id="on the autumn DST day itself",
        ),
        pytest.param(
            utc(2026, 3, 29, 0),
            Window(EVERY_DAY, time(2, 30), time(6)),
            "Europe/Berlin",
            utc(2026, 3, 29, 1),
            id="start in the skipped hour opens at the jump (03:00 CEST)",
        ),
        pytest.param(
            utc(2026, 3, 28, 23),
            Window(EVERY_DAY, time(2), time(2, 45)),
            "Europe/Berlin",
            utc(2026, 3, 30, 0),
            id="window wholly in the skipped hour: next day",
        ),
        pytest.param(
            utc(2026, 10, 25, 0, 45),
            Window(EVERY_DAY, time(2), time(2, 30)),
            "Europe/Berlin",
            utc(2026, 10, 25, 1),
            id="repeated hour: open again on the second pass",
        ),
        pytest.param(
            utc(2026, 10, 25, 1, 10),
            Window(EVERY_DAY, time(2, 30), time(6)),
            "Europe/Berlin",
            utc(2026, 10, 25, 1, 30),
            id="repeated hour: 02:10 CET is before the start again",
        ),
        pytest.param(
            utc(2026, 9, 5, 12),
            Window(EVERY_DAY, time(0), time(6)),
            "America/Santiago",
            utc(2026, 9, 6, 4),
            id="skipped midnight opens at 01:00",
        ),
        pytest.param(
            datetime(2026, 3, 7, 12, tzinfo=ZoneInfo("America/New_York")),
            OFFICE,
            "America/New_York",
            utc(2026, 3, 9, 13),
            id="new york over its DST change",
        ),
        pytest.param(
            datetime(2011, 12, 29, 12, tzinfo=ZoneInfo("Pacific/Apia")),
            Window(frozenset({4}), time(9), time(17)),
            "Pacific/Apia",
            datetime(2012, 1, 6, 9, tzinfo=ZoneInfo("Pacific/Apia")),
            id="a friday that never happened (Samoa 2011)",
        ),
        pytest.param(berlin(2026, 3, 7, 12), None, "Europe/Berlin", utc(2026, 3, 7, 11), id="no window: as is"),
    ],
)
def test_send_time(earliest: datetime, window: Window | None, zone: str, expected: datetime) -> None:
    found = send_time(earliest, window, zone)
    assert found == expected
    assert found.tzinfo is UTC


def test_send_time_refuses_naive_times_and_unknown_zones() -> None:
    with pytest.raises(ValueError, match="aware"):
        send_time(datetime(2026, 3, 4, 10), OFFICE, "Europe/Berlin")
    with pytest.raises(ValueError, match="unknown timezone"):
        send_time(utc(2026, 3, 4, 10), OFFICE, "Mars/Olympus")


ZONES = ("Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Santiago", "Asia/Kolkata", "UTC")
# Around the 2026 offset changes of those zones, where a window is most likely to be got wrong.
CHANGES = (
    utc(2026, 3, 29, 1),
    utc(2026, 10, 25, 1),
    utc(2026, 3, 8, 7),
    utc(2026, 11, 1, 6),
    utc(2026, 4, 4, 15),
    utc(2026, 10, 3, 15, 30),
    utc(2026, 4, 5, 3),
    utc(2026, 9, 6, 4),
)
TRICKY = ((time(2, 30), time(6)), (time(2), time(2, 30)), (time(0), time(1)), (time(1), time(5)), (time(9), time(17)))


@st.composite
def windows(draw: st.DrawFn) -> Window:
    days = draw(st.frozensets(st.integers(0, 6), min_size=1))
    if draw(st.booleans()):
        start, end = draw(st.sampled_from(TRICKY))
    else:
        first, second = sorted(draw(st.lists(st.integers(0, 24 * 60 - 1), min_size=2, max_size=2, unique=True)))
        start, end = time(first // 60, first % 60), time(second // 60, second % 60)
    return Window(days, start, end)


instants = st.one_of(
    st.datetimes(datetime(2025, 1, 1), datetime(2028, 12, 31), timezones=st.just(UTC)),
    st.builds(
        lambda change, minutes: change + timedelta(minutes=minutes),
        st.sampled_from(CHANGES),
        st.integers(-3 * 24 * 60, 3 * 24 * 60),
    ),
)


def inside(moment: datetime, window: Window, zone: str) -> bool:
    local = moment.astimezone(ZoneInfo(zone))
    return local.weekday() in window.days and window.start <= local.time() < window.end


@settings(max_examples=200, deadline=None)
@given(instants, windows(), st.sampled_from(ZONES), st.floats(0, 1, exclude_max=True))
def test_send_time_is_the_first_instant_inside_the_window(
    earliest: datetime, window: Window, zone: str, fraction: float
) -> None:
    found = send_time(earliest, window, zone)
    assert found >= earliest
    assert inside(found, window, zone)
    assert send_time(found, window, zone) == found
    # nothing earlier was inside: check one instant between, wherever hypothesis chooses
    between = earliest + (found - earliest) * fraction
    assert between == found or not inside(between, window, zone)


# ---------------------------------------------------------------------------------------------------------
# Due times


DRIP = Campaign(
    name="drip",
    file="campaigns/drip.toml",
    line=1,
    description="",
    sender=Address("sales@northwind.example", "Sales"),
    reply_to="sales@northwind.example",
    timezone="Europe/Berlin",
    postal_address="Northwind GmbH",
    trigger=Trigger("manual"),
    steps=(
        Step(1, timedelta(0), "campaigns/trial-1", 5),
        Step(2, timedelta(days=2), "campaigns/trial-2", 8),
        Step(3, timedelta(hours=4), "campaigns/trial-3", 11),
    ),
    window=OFFICE,
)


@pytest.mark.parametrize(
    ("step", "base", "contact_zone", "expected"),
    [
        pytest.param(1, berlin(2026, 3, 4, 10), None, berlin(2026, 3, 4, 10), id="first step at once"),
        pytest.param(1, berlin(2026, 3, 7, 10), None, berlin(2026, 3, 9, 9), id="enrolled on saturday"),
        pytest.param(2, berlin(2026, 3, 26, 10), None, utc(2026, 3, 30, 7), id="2d lands on DST saturday → monday"),
        pytest.param(2, berlin(2026, 3, 2, 10), None, berlin(2026, 3, 4, 10), id="2d inside the window"),
        pytest.param(3, berlin(2026, 3, 4, 15), None, berlin(2026, 3, 5, 9), id="4h runs into the evening"),
        pytest.param(3, berlin(2026, 3, 4, 12, 59), None, berlin(2026, 3, 4, 16, 59), id="4h just inside"),
        pytest.param(
            1, berlin(2026, 3, 4, 10), "America/New_York", utc(2026, 3, 4, 14), id="contact's zone: 09:00 in new york"
        ),
        pytest.param(1, berlin(2026, 3, 4, 10), "Asia/Tokyo", utc(2026, 3, 5, 0), id="contact's zone: next day tokyo"),
        pytest.param(1, berlin(2026, 3, 4, 10), "Not/AZone", berlin(2026, 3, 4, 10), id="bad contact zone: campaign's"),
        pytest.param(1, berlin(2026, 3, 4, 8), "", berlin(2026, 3, 4, 9), id="empty contact zone: campaign's"),
    ],
)
def test_due_at(step: int, base: datetime, contact_zone: str | None, expected: datetime) -> None:
    assert due_at(DRIP, step, base, contact_zone) == expected


def test_due_at_without_a_window_is_base_plus_delay() -> None:
    campaign = replace(DRIP, window=None)
    assert due_at(campaign, 2, berlin(2026, 3, 28, 3), None) == utc(2026, 3, 30, 2)  # 48 hours, DST or not


def test_due_at_refuses_steps_that_do_not_exist() -> None:
    for number in (0, 4):
        with pytest.raises(ValueError, match="steps 1 to 3"):
            due_at(DRIP, number, berlin(2026, 3, 4, 10), None)
    with pytest.raises(ValueError, match="aware"):
        due_at(DRIP, 1, datetime(2026, 3, 4, 10), None)


# ---------------------------------------------------------------------------------------------------------
# Exits


EVERYTHING = ContactNow(
    tags=frozenset({"customer", "vip"}),
    stage="customer",
    score=90,
    segments=frozenset({"hot-leads"}),
    replied_since_enrolment=True,
    open_ticket=True,
    unsubscribed=True,
    bounced=True,
    complained=True,
)
EXITING = replace(DRIP, exits=Exits(True, True, frozenset({"customer", "vip"}), frozenset({"customer", "churned"})))


def _without(*fields: str) -> ContactNow:
    cleared = {"tags": frozenset(), "stage": None}
    return replace(EVERYTHING, **{name: cleared.get(name, False) for name in fields})


@pytest.mark.parametrize(
    ("contact", "expected"),
    [
        (EVERYTHING, "unsubscribed"),
        (_without("unsubscribed"), "bounced"),
        (_without("unsubscribed", "bounced"), "complained"),
        (_without("unsubscribed", "bounced", "complained"), "replied"),
        (_without("unsubscribed", "bounced", "complained", "replied_since_enrolment"), "ticket opened"),
        (_without("unsubscribed", "bounced", "complained", "replied_since_enrolment", "open_ticket"), "tag customer"),
        (
            _without("unsubscribed", "bounced", "complained", "replied_since_enrolment", "open_ticket", "tags"),
            "stage customer",
        ),
        (ContactNow(stage="churned"), "stage churned"),
        (ContactNow(stage="lead", tags=frozenset({"trial"}), score=99), None),
        (ContactNow(tags=frozenset({"vip"})), "tag vip"),
    ],
)
def test_exit_reason_in_order_of_precedence(contact: ContactNow, expected: str | None) -> None:
    assert exit_reason(EXITING, contact) == expected


def test_unsubscribe_bounce_and_complaint_exit_whatever_the_campaign_says() -> None:
    lenient = replace(DRIP, exits=Exits(reply=False, ticket=False))
    assert exit_reason(lenient, ContactNow(replied_since_enrolment=True, open_ticket=True)) is None
    assert exit_reason(lenient, ContactNow(unsubscribed=True)) == "unsubscribed"
    assert exit_reason(lenient, ContactNow(bounced=True)) == "bounced"
    assert exit_reason(lenient, ContactNow(complained=True)) == "complained"


# ---------------------------------------------------------------------------------------------------------
# Triggers and enrolment


def _triggered_by(trigger: Trigger) -> Campaign:
    return replace(DRIP, trigger=trigger)


@pytest.mark.parametrize(
    ("trigger", "before", "after", "expected"),
    [
        (Trigger("tag", "trial"), None, ContactNow(tags=frozenset({"trial"})), True),
        (Trigger("tag", "trial"), ContactNow(), ContactNow(tags=frozenset({"trial", "x"})), True),
        (Trigger("tag", "trial"), ContactNow(tags=frozenset({"trial"})), ContactNow(tags=frozenset({"trial"})), False),
        (Trigger("tag", "trial"), ContactNow(tags=frozenset({"trial"})), ContactNow(), False),
        (Trigger("tag", "trial"), None, ContactNow(tags=frozenset({"Trial"})), False),
        (Trigger("stage", "mql"), None, ContactNow(stage="mql"), True),
        (Trigger("stage", "mql"), ContactNow(stage="lead"), ContactNow(stage="mql"), True),
        (Trigger("stage", "mql"), ContactNow(stage="lead"), ContactNow(stage="customer"), True),
        (Trigger("stage", "mql"), ContactNow(), ContactNow(stage="mql"), True),
        (Trigger("stage", "mql"), ContactNow(stage="mql"), ContactNow(stage="customer"), False),
        (Trigger("stage", "mql"), ContactNow(stage="customer"), ContactNow(stage="mql"), False),
        (Trigger("stage", "mql"), ContactNow(stage="subscriber"), ContactNow(stage="lead"), False),
        (Trigger("stage", "mql"), ContactNow(stage="lead"), ContactNow(stage="unheard-of"), False),
        (Trigger("stage", "mql"), ContactNow(stage="unheard-of"), ContactNow(stage="mql"), True),
        (Trigger("stage", "gone"), None, ContactNow(stage="gone"), False),
        (Trigger("score", 30.0), ContactNow(score=10), ContactNow(score=30), True),
        (Trigger("score", 30.0), ContactNow(score=10), ContactNow(score=29.9), False),
        (Trigger("score", 30.0), ContactNow(score=30), ContactNow(score=45), False),
        (Trigger("score", 30.0), ContactNow(score=45), ContactNow(score=20), False),
        (Trigger("score", 30.0), None, ContactNow(score=35), True),
        (Trigger("segment", "hot-leads"), None, ContactNow(segments=frozenset({"hot-leads"})), True),
        (Trigger("segment", "hot-leads"), ContactNow(), ContactNow(segments=frozenset({"hot-leads"})), True),
        (
            Trigger("segment", "hot-leads"),
            ContactNow(segments=frozenset({"hot-leads"})),
            ContactNow(segments=frozenset({"hot-leads", "x"})),
            False,
        ),
        (Trigger("segment", "hot-leads"), ContactNow(), ContactNow(segments=frozenset({"cold-leads"})), False),
        (Trigger("rule"), None, EVERYTHING, False),
        (Trigger("manual"), None, EVERYTHING, False),
    ],
)
def test_triggers(trigger: Trigger, before: ContactNow | None, after: ContactNow, expected: bool) -> None:
    assert triggers(_triggered_by(trigger), before, after, ("subscriber", "lead", "mql", "customer")) is expected


@pytest.mark.parametrize(
    ("previous", "reenrol", "allowed"),
    [
        ((), False, True),
        ((), True, True),
        (("active",), False, False),
        (("active",), True, False),
        (("finished",), False, False),
        (("finished",), True, True),
        (("exited",), False, False),
        (("exited",), True, True),
        (("exited", "finished", "exited"), True, True),
        (("finished", "active"), True, False),
    ],
)
def test_may_enrol(previous: tuple[str, ...], reenrol: bool, allowed: bool) -> None:
    campaign = replace(DRIP, reenrol=reenrol)
    ok, reason = may_enrol(campaign, previous)
    assert ok is allowed
    assert reason


def test_may_enrol_says_why() -> None:
    assert may_enrol(DRIP, ["active"]) == (False, "already enrolled in 'drip'")
    assert may_enrol(DRIP, ["exited"]) == (False, "left 'drip' before, and the campaign does not allow re-enrolment")
    assert may_enrol(DRIP, ["finished", "exited"])[1].startswith("finished 'drip' before")
    assert may_enrol(DRIP, []) == (True, "first enrolment")


def test_may_enrol_refuses_unknown_statuses() -> None:
    with pytest.raises(ValueError, match="paused"):
        may_enrol(DRIP, ["finished", "paused"])


def test_from_may_name_a_mailbox_so_one_file_serves_every_deployment() -> None:
    vocabulary = CampaignVocabulary(
        templates=frozenset({"t"}),
        senders=frozenset({"sales@example.com"}),
        mailboxes={"sales": Address("sales@example.com", "Example Sales")},
    )
    text = 'name = "x"\nfrom = "sales"\npostal_address = "P"\n[[campaign.step]]\ndelay = "0d"\ntemplate = "t"\n'
    (campaign,) = compile_campaigns([("campaigns/x.toml", "[[campaign]]\n" + text)], vocabulary)
    assert campaign.sender == Address("sales@example.com", "Example Sales")
    with pytest.raises(RulesInvalid) as problems:
        compile_campaigns([("campaigns/x.toml", "[[campaign]]\n" + text.replace('"sales"', '"marketing"'))], vocabulary)
    assert "campaigns/x.toml:3" in str(problems.value)
