"""Drip campaign timing: send windows across weekends and DST changes, and when each step is due."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inboxcrm.core.campaigns import Window, due_at, send_time
from tests.core.campaigns_support import DRIP, EVERY_DAY, OFFICE

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=BERLIN)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


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
