"""What the campaign tests (tests/core/test_campaigns_*.py) share: the vocabulary, an office-hours window,
campaign file texts, compiling one campaign, and a three-step drip campaign."""

from __future__ import annotations

from datetime import time, timedelta

from inboxcrm.core.campaigns import Campaign, CampaignVocabulary, Step, Trigger, Window, compile_campaigns
from inboxcrm.core.model import Address

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

# Four lines; every problem test (test_campaigns_problems.py) adds its lines after these (line 5 on) unless it
# replaces one.
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


def one(text: str, vocabulary: CampaignVocabulary = VOCAB) -> Campaign:
    (campaign,) = compile_campaigns([("campaigns/c.toml", text)], vocabulary)
    return campaign


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
