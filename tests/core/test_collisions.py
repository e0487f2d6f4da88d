"""The collision guard's rules: which notice a reply answers, and what the held reply's notice says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from inboxcrm.core.collisions import Crossing, Notice, answered_since, notice_text, observed_collision

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
NOTICES = [
    Notice("<n1@northwind.example>", T0, ("ana@northwind.example",)),
    Notice("<n2@northwind.example>", T0 + timedelta(minutes=5), ("ben@northwind.example",)),
    Notice("<n3@northwind.example>", T0 + timedelta(minutes=9), ("ana@northwind.example",)),
]


def test_the_notice_the_reply_names_is_the_moment_compared_with() -> None:
    # Ana answers her first notification although a newer one came: what she saw is the first
    assert answered_since("n1@northwind.example", (), NOTICES, ["ana@northwind.example"]) == T0
    assert answered_since(
        None, ("<x@a>", "<n3@northwind.example>"), NOTICES, ["ana@northwind.example"]
    ) == T0 + timedelta(minutes=9)


def test_without_a_named_notice_the_agents_newest_notice_counts_and_never_told_means_no_hold() -> None:
    assert answered_since(None, (), NOTICES, ["ANA@northwind.example"]) == T0 + timedelta(minutes=9)
    assert answered_since("<other@x>", (), NOTICES, ["carl@northwind.example"]) is None


def test_the_notice_says_who_answered_what_and_the_two_ways_on() -> None:
    crossings = [
        Crossing("customer", "Carol Danvers", T0 + timedelta(minutes=7), "Never mind."),
        Crossing("answer", "Ana Alves", T0 + timedelta(minutes=6), "Hi Carol,\n\nrefunded."),
    ]
    text = notice_text("[#1]", "Charged twice", crossings, "Hi Carol, on it.", T0 + timedelta(days=1), "UTC", ["x"])
    assert text.index("Ana Alves answered the customer on Mon 23 Nov 09:06") < text.index(
        "Carol Danvers (the customer)"
    )
    assert "> Hi Carol,\n>\n> refunded." in text
    assert "#send" in text and "dropped on Tue 24 Nov 09:00" in text
    assert text.rstrip().endswith("> Hi Carol, on it.")


def test_an_observed_collision_names_the_other_agents() -> None:
    line = observed_collision("ben", [Crossing("answer", "Ana Alves", T0, "Hi")])
    assert (
        line == "Collision: ben answered the customer directly (Cc) after Ana Alves had answered; the customer got both"
    )
