"""Drip campaign enrolment: exits (in order of precedence), triggers and re-enrolment."""

from __future__ import annotations

from dataclasses import replace

import pytest

from inboxcrm.core.campaigns import Campaign, ContactNow, Exits, Trigger, exit_reason, may_enrol, triggers
from tests.core.campaigns_support import DRIP

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
