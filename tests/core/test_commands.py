"""Commands at the top of an agent's reply: what is understood, what the customer receives, what is wrong."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inboxcrm.core.commands import (
    COMMANDS,
    NAMES,
    AgentReply,
    Command,
    CommandProblem,
    describe,
    read_commands,
)

NOW = datetime(2026, 3, 27, 10, 0, tzinfo=UTC)  # a Friday, two days before Europe/Berlin moves to summer time
AGENTS = ("ana", "Ben")
PRIORITIES = ("low", "normal", "high", "urgent")


def read(text: str, *, sender: str = "ana", now: datetime = NOW, timezone: str = "Europe/Berlin") -> AgentReply:
    return read_commands(text, sender=sender, agents=AGENTS, priorities=PRIORITIES, now=now, timezone=timezone)


# ---------------------------------------------------------------------------------------------------------
# Each command understood


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("#close", Command("close", line=1)),
        ("#solve", Command("close", line=1)),
        ("#pending", Command("pending", line=1)),
        ("#open", Command("open", line=1)),
        ("#note", Command("note", line=1)),
        ("#spam", Command("spam", line=1)),
        ("#assign ben", Command("assign", ("Ben",), line=1)),
        ("#assign BEN", Command("assign", ("Ben",), line=1)),
        ("#assign me", Command("assign", ("ana",), line=1)),
        ("#assign Me", Command("assign", ("ana",), line=1)),
        ("#priority high", Command("priority", ("high",), line=1)),
        ("#priority URGENT", Command("priority", ("urgent",), line=1)),
        ("#tag billing", Command("tag", ("billing",), line=1)),
        ("#tag billing vip", Command("tag", ("billing", "vip"), line=1)),
        ("#tag billing,vip", Command("tag", ("billing", "vip"), line=1)),
        ("#tag billing, vip ,, refund", Command("tag", ("billing", "vip", "refund"), line=1)),
        ("#tag billing billing", Command("tag", ("billing",), line=1)),
        (
            "#tag plan:pro v1.2 follow-up x_y Rückruf",
            Command("tag", ("plan:pro", "v1.2", "follow-up", "x_y", "Rückruf"), line=1),
        ),
        ("#tag " + "x" * 50, Command("tag", ("x" * 50,), line=1)),
        ("#untag billing", Command("untag", ("billing",), line=1)),
        ("#untag a, b", Command("untag", ("a", "b"), line=1)),
        ("#snooze 30m", Command("snooze", until=NOW + timedelta(minutes=30), line=1)),
        ("#snooze 4h", Command("snooze", until=NOW + timedelta(hours=4), line=1)),
        ("#snooze 3d", Command("snooze", until=NOW + timedelta(days=3), line=1)),
        ("#snooze 3D", Command("snooze", until=NOW + timedelta(days=3), line=1)),
        ("#snooze 2w", Command("snooze", until=NOW + timedelta(weeks=2), line=1)),
        ("#snooze 365d", Command("snooze", until=NOW + timedelta(days=365), line=1)),
        ("#snooze 52w", Command("snooze", until=NOW + timedelta(weeks=52), line=1)),
        # midnight in Berlin: still winter time (UTC+1) on the 28th, summer time (UTC+2) from the 29th
        ("#snooze 2026-03-28", Command("snooze", until=datetime(2026, 3, 27, 23, 0, tzinfo=UTC), line=1)),
        ("#snooze 2026-03-30", Command("snooze", until=datetime(2026, 3, 29, 22, 0, tzinfo=UTC), line=1)),
        ("#snooze 2026-12-01", Command("snooze", until=datetime(2026, 11, 30, 23, 0, tzinfo=UTC), line=1)),
        ("#CLOSE", Command("close", line=1)),
        ("#Snooze 1h", Command("snooze", until=NOW + timedelta(hours=1), line=1)),
        ("   #close   ", Command("close", line=1)),
        ("#close\r", Command("close", line=1)),
        ("#assign\tben", Command("assign", ("Ben",), line=1)),
    ],
)
def test_each_command_is_understood(line: str, expected: Command) -> None:
    reply = read(line + "\nThanks!")
    assert reply.problems == ()
    assert reply.commands == (expected,)
    assert reply.body == "Thanks!"


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("#close", "solved"),
        ("#solve", "solved"),
        ("#pending", "pending"),
        ("#snooze 3d", "pending"),
        ("#pending\n#snooze 3d", "pending"),
        ("#open", "open"),
        ("#spam", "closed"),
        ("#note\n#assign ben\n#tag x\n#priority low", None),
        ("Hello", None),
        ("", None),
    ],
)
def test_status_asked_for(text: str, status: str | None) -> None:
    assert read(text).status == status


def test_note_marks_the_reply_internal() -> None:
    assert read("#note\nCustomer sounds upset, careful.").is_note
    assert read("#NOTE").is_note
    assert not read("#close\nDone.").is_note
    assert not read("Hello\n#note").is_note  # below the body: plain text


@pytest.mark.parametrize(
    ("text", "body"),
    [
        ("#note Her card was charged twice", "Her card was charged twice"),
        ("#note Her card was charged twice\nRefund pending.\n", "Her card was charged twice\nRefund pending.\n"),
        ("#assign me\n#Note: call her back\n#tag vip", "call her back\n#tag vip"),
        ("  #NOTE   spaced out  \n", "spaced out  \n"),
    ],
)
def test_note_with_text_on_its_line_keeps_that_text_and_what_follows(text: str, body: str) -> None:
    reply = read(text)
    assert reply.is_note and reply.problems == ()
    assert reply.body == body


def test_note_text_ends_the_command_block() -> None:
    reply = read("#note #close is what she asked for")
    assert [c.name for c in reply.commands] == ["note"]
    assert reply.body == "#close is what she asked for"


def test_snooze_date_is_midnight_in_the_given_timezone() -> None:
    new_york = read("#snooze 2026-12-01", timezone="America/New_York")
    assert new_york.commands[0].until == datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
    assert read("#snooze 2026-12-01", timezone="UTC").commands[0].until == datetime(2026, 12, 1, tzinfo=UTC)


def test_snooze_until_is_utc_whatever_zone_now_is_given_in() -> None:
    from zoneinfo import ZoneInfo

    local_now = NOW.astimezone(ZoneInfo("Asia/Tokyo"))
    until = read("#snooze 4h", now=local_now).commands[0].until
    assert until == NOW + timedelta(hours=4)
    assert until is not None and until.utcoffset() == timedelta(0)


def test_naive_now_is_read_as_utc() -> None:
    naive = read("#snooze 1h", now=NOW.replace(tzinfo=None))
    assert naive.commands[0].until == NOW + timedelta(hours=1)


def test_snooze_date_tomorrow_in_local_time_is_accepted_late_in_the_utc_day() -> None:
    # 23:30 UTC on the 27th is already the 28th in Berlin: the 28th is today there, the 29th tomorrow
    late = datetime(2026, 3, 27, 23, 30, tzinfo=UTC)
    assert read("#snooze 2026-03-28", now=late).problems[0].message.startswith("snooze '2026-03-28'")
    assert read("#snooze 2026-03-29", now=late).commands[0].until == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------------------
# The command block and the body


@pytest.mark.parametrize(
    ("text", "names", "body"),
    [
        ("#close\nThanks, fixed.\n", ["close"], "Thanks, fixed.\n"),
        ("\n\n  \n#close\n\nThanks.", ["close"], "Thanks."),
        ("#close\n\n#tag x\n\n\n#assign ben\n\nThanks.\n\nAna", ["close", "tag", "assign"], "Thanks.\n\nAna"),
        ("#close\r\n\r\nThanks.\r\n", ["close"], "Thanks.\r\n"),
        ("Thanks.\n#close\n", [], "Thanks.\n#close\n"),
        ("#close\nThanks.\n#open\n", ["close"], "Thanks.\n#open\n"),
        ("#1 priority for us is uptime.\n#close", [], "#1 priority for us is uptime.\n#close"),
        ("#close\n#1 priority for us is uptime.", ["close"], "#1 priority for us is uptime."),
        ("# Heading\n#close", [], "# Heading\n#close"),
        ("#\n#close", [], "#\n#close"),
        ("#_private\n#close", [], "#_private\n#close"),
        ("#close", ["close"], ""),
        ("#close\n\n\n", ["close"], ""),
        ("", [], ""),
        ("\n\n", [], ""),
        ("  Indented first line\n\n  kept as is  \n", [], "  Indented first line\n\n  kept as is  \n"),
        ("\n\nHello,\n\n\nbye\n\n", [], "Hello,\n\n\nbye\n\n"),
        ("#close\n> quoted #open\n", ["close"], "> quoted #open\n"),
    ],
)
def test_command_block_and_body(text: str, names: list[str], body: str) -> None:
    reply = read(text)
    assert [c.name for c in reply.commands] == names
    assert reply.body == body
    assert reply.problems == ()


def test_line_numbers_count_from_the_top_of_the_text() -> None:
    reply = read("\n\n#close\n\n#tag x\n#bogus\nHello")
    assert [c.line for c in reply.commands] == [3, 5]
    assert [p.line for p in reply.problems] == [6]


def test_a_failed_command_line_is_still_a_command_line() -> None:
    # an unknown command, or one with bad arguments, neither ends the block nor reaches the customer
    reply = read("#clsoe\n#assign bob\n#close\nThanks.")
    assert [c.name for c in reply.commands] == ["close"]
    assert reply.body == "Thanks."
    assert [p.line for p in reply.problems] == [1, 2]


# ---------------------------------------------------------------------------------------------------------
# Problems


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("#clsoe", "unknown command '#clsoe' (did you mean #close?)"),
        ("#asign ben", "unknown command '#asign' (did you mean #assign?)"),
        ("#hello", "unknown command '#hello' (commands: #close, #pending, #open, #assign, #priority, #tag"),
        ("#Hi team, see below", "unknown command '#Hi'"),
        ("#close.", "unknown command '#close.' (did you mean #close?)"),
        ("#close now", "#close takes no arguments: write #close alone on its line"),
        ("#SPAM please", "#SPAM takes no arguments"),
        ("#pending 3d", "#pending takes no arguments"),
        ("#assign", "#assign takes one agent name or 'me' (agents: Ben, ana)"),
        ("#assign ana ben", "#assign takes one agent name or 'me', not 'ana ben'"),
        ("#assign bob", "unknown agent 'bob' (agents: Ben, ana)"),
        ("#priority", "#priority takes one level (priorities: low, normal, high, urgent)"),
        ("#priority very high", "#priority takes one level, not 'very high'"),
        ("#priority hgih", "unknown priority 'hgih' (priorities: low, normal, high, urgent)"),
        ("#tag", "#tag needs at least one tag, e.g. '#tag billing'"),
        ("#tag , ,", "#tag needs at least one tag"),
        ("#untag", "#untag needs at least one tag, e.g. '#untag billing'"),
        ("#tag a/b", "bad tag 'a/b': a tag is 1 to 50 letters, digits, '_', '.', ':' or '-'"),
        ("#tag ok bad! #x", "bad tag 'bad!', '#x'"),
        ("#tag " + "x" * 51, "bad tag 'xxxxx"),
        ("#snooze", "#snooze needs a duration or a date: use 30m, 4h, 3d, 2w or a date such as 2026-12-01"),
        ("#snooze 3 d", "#snooze needs one duration or date, not '3 d'"),
        ("#snooze tomorrow", "cannot read 'tomorrow' as a snooze time: use 30m, 4h"),
        ("#snooze 3x", "cannot read '3x' as a snooze time"),
        ("#snooze 1.5h", "cannot read '1.5h' as a snooze time"),
        ("#snooze -3d", "cannot read '-3d' as a snooze time"),
        ("#snooze 12/01/2026", "cannot read '12/01/2026' as a snooze time"),
        ("#snooze 2026-02-30", "'2026-02-30' is not a date"),
        ("#snooze 0m", "snooze '0m' is not in the future"),
        ("#snooze 366d", "snooze '366d' is more than 365 days away"),
        ("#snooze 53w", "snooze '53w' is more than 365 days away"),
        ("#snooze 99999999999999999999d", "snooze '99999999999999999999d' is more than 365 days away"),
        ("#snooze 2026-03-27", "snooze '2026-03-27' is not in the future"),  # midnight today: passed
        ("#snooze 2025-12-01", "snooze '2025-12-01' is in the past"),
        ("#snooze 0001-01-01", "snooze '0001-01-01' is in the past"),
        ("#snooze 2027-03-28", "snooze '2027-03-28' is more than 365 days away"),
        ("#snooze 9999-12-31", "snooze '9999-12-31' is more than 365 days away"),
    ],
)
def test_problems_say_what_is_wrong(line: str, message: str) -> None:
    reply = read(f"\n{line}\nThanks.")
    assert reply.commands == ()
    assert reply.body == "Thanks."
    assert len(reply.problems) == 1
    problem = reply.problems[0]
    assert problem.line == 2
    assert problem.text == line.strip()
    assert problem.message.startswith(message)


def test_snooze_a_year_ahead_by_date_is_the_limit() -> None:
    assert read("#snooze 2027-03-27").commands[0].until == datetime(2027, 3, 26, 23, 0, tzinfo=UTC)


def test_assign_me_when_the_sender_is_not_an_agent() -> None:
    reply = read("#assign me", sender="carl")
    assert reply.commands == ()
    assert reply.problems[0].message == "'me' is 'carl', who is not an agent (agents: Ben, ana)"


def test_no_agents_or_priorities_configured() -> None:
    reply = read_commands(
        "#assign ana\n#priority high", sender="ana", agents=(), priorities=(), now=NOW, timezone="UTC"
    )
    assert [p.message for p in reply.problems] == [
        "unknown agent 'ana' (agents: none configured)",
        "unknown priority 'high' (priorities: none configured)",
    ]


@pytest.mark.parametrize(
    ("text", "kept", "message"),
    [
        ("#close\n#open", ["close"], "#open contradicts '#close' on line 1: keep only one of them"),
        ("#solve\n#spam", ["close"], "#spam contradicts '#solve' on line 1"),
        ("#pending\n#close", ["pending"], "#close contradicts '#pending' on line 1"),
        ("#snooze 3d\n#open", ["snooze"], "#open contradicts '#snooze 3d' on line 1"),
        ("#snooze 3d\n#snooze 4d", ["snooze"], "#snooze contradicts '#snooze 3d' on line 1"),
        ("#assign ana\n#assign ben", ["assign"], "#assign contradicts '#assign ana' on line 1"),
        ("#priority low\n#priority high", ["priority"], "#priority contradicts '#priority low' on line 1"),
        ("#tag a b\n#untag b", ["tag"], "#untag contradicts '#tag a b' on line 1: cannot add and remove tag 'b'"),
        ("#untag b\n#tag a, b", ["untag"], "#tag contradicts '#untag b' on line 1: cannot add and remove tag 'b'"),
    ],
)
def test_contradictions(text: str, kept: list[str], message: str) -> None:
    reply = read(text)
    assert [c.name for c in reply.commands] == kept
    assert len(reply.problems) == 1
    assert reply.problems[0].line == 2
    assert reply.problems[0].message.startswith(message)


@pytest.mark.parametrize(
    "text",
    [
        "#close\n#close",
        "#close\n#solve",
        "#pending\n#snooze 3d",
        "#snooze 3d\n#pending",
        "#snooze 3d\n#snooze 72h",
        "#assign me\n#assign ana",
        "#priority high\n#priority HIGH",
        "#tag a\n#tag a b",
        "#tag a\n#untag b",
        "#note\n#note",
    ],
)
def test_repeating_the_same_thing_is_not_a_contradiction(text: str) -> None:
    assert read(text).problems == ()


def test_a_rejected_command_does_not_cause_later_contradictions() -> None:
    # `#untag b c` contradicts `#tag c`, so it is dropped; `#tag b` afterwards is fine
    reply = read("#tag c\n#untag b c\n#tag b")
    assert [c.values for c in reply.commands] == [("c",), ("b",)]
    assert [p.line for p in reply.problems] == [2]
    # `#open` contradicts `#close` and is dropped; it does not count against `#close` again
    assert [p.line for p in read("#close\n#open\n#close").problems] == [2]


def test_every_problem_is_reported_at_once() -> None:
    reply = read("#clsoe\n#assign bob\n#priority meh\n#tag a/b\n#snooze soon\n#open x\nHello")
    assert [p.line for p in reply.problems] == [1, 2, 3, 4, 5, 6]
    assert reply.commands == ()


# ---------------------------------------------------------------------------------------------------------
# Help and the mail back


def test_help_lists_every_command_once_per_line() -> None:
    lines = COMMANDS.splitlines()
    assert [line.split()[0] for line in lines] == [f"#{name}" for name in NAMES]
    assert set(NAMES) == {"close", "pending", "open", "assign", "priority", "tag", "untag", "note", "snooze", "spam"}
    assert "#solve" in COMMANDS
    assert all(len(line.split(maxsplit=2)) >= 2 for line in lines)


def test_describe_lists_each_problem_with_its_line_and_the_commands() -> None:
    reply = read("#close\n#assign bob\n#open\nHi")
    text = describe(reply.problems)
    assert "line 2: #assign bob\n  unknown agent 'bob' (agents: Ben, ana)" in text
    assert "line 3: #open\n  #open contradicts '#close' on line 1" in text
    assert text.index("line 2") < text.index("line 3") < text.index(COMMANDS)
    assert text.endswith(COMMANDS + "\n")


def test_describe_nothing_wrong_is_empty() -> None:
    assert describe(()) == ""


def test_problem_str_names_line_text_and_message() -> None:
    assert str(CommandProblem(4, "#foo", "unknown")) == "line 4: #foo\n  unknown"


# ---------------------------------------------------------------------------------------------------------
# Properties

_WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789 .,!?#>-:", min_size=0, max_size=40)
_VALID = st.sampled_from(
    # `#pending` and `#snooze` both ask for pending: any subset of these is free of contradictions
    ["#pending", "#note", "#assign ben", "#priority high", "#tag billing, vip", "#untag spam-suspect", "#snooze 2w"]
)


@st.composite
def _body(draw: st.DrawFn) -> str:
    """Text whose first non-blank line does not start a command."""
    first = draw(
        _WORDS.filter(lambda s: s.strip() != "" and not (s.strip().startswith("#") and s.strip()[1:2].isalpha()))
    )
    rest = draw(st.lists(_WORDS, max_size=5))
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    return ending.join([first, *rest]) + draw(st.sampled_from(["", ending]))


@settings(max_examples=300, deadline=None)
@given(
    commands=st.lists(_VALID, max_size=6, unique=True),
    blanks=st.lists(st.sampled_from(["", "  ", "\t"]), min_size=7, max_size=7),
    body=_body(),
)
def test_valid_commands_above_any_body_are_read_and_the_body_is_untouched(
    commands: list[str], blanks: list[str], body: str
) -> None:
    lines: list[str] = []
    for index, command in enumerate(commands):
        lines.extend([blanks[index], command] if blanks[index] else [command])
    reply = read("\n".join([*lines, blanks[-1], body]))
    assert reply.problems == ()
    assert reply.body == body
    assert len(reply.commands) == len(commands)
    assert [lines[c.line - 1] for c in reply.commands] == commands


_LINES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", " ", "#close", "#OPEN", "#1 item", "# x", "#tag a/b", "#snooze 3d", "#assign me", "#foo x"]),
    st.text(alphabet="#abcdefz:/ ,0123456789\t\r", max_size=15).map(lambda s: "#" + s),
)


@settings(max_examples=500, deadline=None)
@given(st.lists(_LINES, max_size=8).map("\n".join))
def test_any_text_is_read_without_raising_and_the_body_is_its_tail(text: str) -> None:
    reply = read(text)
    assert text.endswith(reply.body)
    assert reply.body == "" or reply.body.strip() != ""
    consumed = text[: len(text) - len(reply.body)].splitlines()
    # everything above the body is blank or a command line, each understood or reported
    attempted = [number for number, line in enumerate(consumed, 1) if line.strip()]
    assert sorted([c.line for c in reply.commands] + [p.line for p in reply.problems]) == attempted
    assert all(consumed[line - 1].strip().startswith("#") for line in attempted)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=365 * 24 * 60), st.sampled_from(["m", "h", "d", "w"]))
def test_a_snooze_is_accepted_exactly_when_it_is_at_most_a_year_ahead(amount: int, unit: str) -> None:
    minutes = amount * {"m": 1, "h": 60, "d": 1440, "w": 10080}[unit]
    reply = read(f"#snooze {amount}{unit}")
    if minutes <= 365 * 1440:
        assert reply.commands == (Command("snooze", until=NOW + timedelta(minutes=minutes), line=1),)
        assert reply.status == "pending"
    else:
        assert reply.commands == ()
        assert "more than 365 days" in reply.problems[0].message
