"""Drip campaign files that compile: the values, the defaults, triggers, delays, windows, names and order."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from inboxcrm.core.campaigns import Campaign, CampaignVocabulary, Exits, Step, Trigger, Window, compile_campaigns
from inboxcrm.core.model import Address
from inboxcrm.core.rules import RulesInvalid
from tests.core.campaigns_support import EVERY_DAY, HEAD, OFFICE, STEP, VALID, VOCAB, one


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
