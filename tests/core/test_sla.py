"""Service-level targets: business-time arithmetic across weekends, holidays and DST, due times and breaches."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inboxcrm.core.sla import (
    Breach,
    BusinessHours,
    Due,
    Target,
    add_business_time,
    breaches,
    business_time_between,
    due,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = frozenset(range(5))
EVERY_DAY = frozenset(range(7))
EASTER_2026 = frozenset({date(2026, 4, 3), date(2026, 4, 6)})  # Good Friday, Easter Monday

OFFICE = BusinessHours("Europe/Berlin", WEEKDAYS, time(9), time(17), EASTER_2026)
OFFICE_NY = BusinessHours("America/New_York", WEEKDAYS, time(9), time(17))
OFFICE_TOKYO = BusinessHours("Asia/Tokyo", WEEKDAYS, time(9), time(17), frozenset({date(2026, 3, 3)}))
SEVEN_DAYS = BusinessHours("Europe/Berlin", EVERY_DAY, time(9), time(17))
# opening hours that themselves span the night of a DST change
NIGHT = BusinessHours("Europe/Berlin", EVERY_DAY, time(1), time(5))


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=BERLIN)


def new_york(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=NEW_YORK)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


H = timedelta(hours=1)


# ---------------------------------------------------------------------------------------------------------
# Hand-computed cases


@pytest.mark.parametrize(
    ("start", "duration", "hours", "expected"),
    [
        pytest.param(
            berlin(2026, 3, 6, 16), 2 * H, OFFICE, berlin(2026, 3, 9, 10), id="friday 16:00 + 2h → monday 10:00"
        ),
        pytest.param(berlin(2026, 3, 9, 7), H, OFFICE, berlin(2026, 3, 9, 10), id="before opening"),
        pytest.param(berlin(2026, 3, 9, 18), H, OFFICE, berlin(2026, 3, 10, 10), id="after closing"),
        pytest.param(berlin(2026, 3, 7, 12), H, OFFICE, berlin(2026, 3, 9, 10), id="on a saturday"),
        pytest.param(berlin(2026, 3, 9, 16, 30), H, OFFICE, berlin(2026, 3, 10, 9, 30), id="across closing"),
        pytest.param(berlin(2026, 3, 9, 9), 8 * H, OFFICE, berlin(2026, 3, 9, 17), id="a whole day ends at closing"),
        pytest.param(
            berlin(2026, 3, 9, 9),
            8 * H + timedelta(seconds=1),
            OFFICE,
            berlin(2026, 3, 10, 9, 0, 1),
            id="a second more runs into the next day",
        ),
        pytest.param(berlin(2026, 3, 9, 9), 40 * H, OFFICE, berlin(2026, 3, 13, 17), id="a working week"),
        pytest.param(berlin(2026, 3, 7, 12), timedelta(0), OFFICE, berlin(2026, 3, 7, 12), id="nothing to add"),
        pytest.param(
            berlin(2026, 4, 2, 16), 2 * H, OFFICE, berlin(2026, 4, 7, 10), id="good friday and easter monday skipped"
        ),
        pytest.param(berlin(2026, 3, 27, 16), 2 * H, OFFICE, utc(2026, 3, 30, 8), id="berlin spring forward weekend"),
        pytest.param(berlin(2026, 10, 23, 16), 2 * H, OFFICE, utc(2026, 10, 26, 9), id="berlin fall back weekend"),
        pytest.param(
            berlin(2026, 3, 28, 16), 2 * H, SEVEN_DAYS, utc(2026, 3, 29, 8), id="open on the spring forward sunday"
        ),
        pytest.param(
            berlin(2026, 3, 29, 9), 8 * H, SEVEN_DAYS, utc(2026, 3, 29, 15), id="spring forward sunday is 8 hours"
        ),
        pytest.param(
            berlin(2026, 10, 25, 9), 8 * H, SEVEN_DAYS, utc(2026, 10, 25, 16), id="fall back sunday is 8 hours"
        ),
        pytest.param(
            berlin(2026, 3, 29, 1), 3 * H, NIGHT, utc(2026, 3, 29, 3), id="a night losing an hour has 3 of 01–05"
        ),
        pytest.param(
            berlin(2026, 10, 25, 1), 5 * H, NIGHT, utc(2026, 10, 25, 4), id="a night gaining an hour has 5 of 01–05"
        ),
        pytest.param(
            new_york(2026, 3, 6, 16), 2 * H, OFFICE_NY, utc(2026, 3, 9, 14), id="new york spring forward weekend"
        ),
        pytest.param(
            new_york(2026, 10, 30, 16), 2 * H, OFFICE_NY, utc(2026, 11, 2, 15), id="new york fall back weekend"
        ),
        pytest.param(
            utc(2026, 3, 1, 23), H, OFFICE_TOKYO, utc(2026, 3, 2, 1), id="utc sunday night is tokyo monday morning"
        ),
        pytest.param(
            utc(2026, 3, 2, 23), H, OFFICE_TOKYO, utc(2026, 3, 4, 1), id="a holiday is a local date (tokyo tuesday)"
        ),
        pytest.param(
            berlin(2026, 1, 5, 9),
            30 * 24 * H,
            OFFICE,
            berlin(2026, 5, 12, 17),
            id="30 days of business time: 90 working days, easter skipped",
        ),
        pytest.param(berlin(2026, 3, 28, 12), 24 * H, None, berlin(2026, 3, 29, 13), id="round the clock across DST"),
        pytest.param(berlin(2026, 3, 6, 16), 2 * H, None, berlin(2026, 3, 6, 18), id="round the clock"),
    ],
)
def test_add_business_time(
    start: datetime, duration: timedelta, hours: BusinessHours | None, expected: datetime
) -> None:
    result = add_business_time(start, duration, hours)
    assert result == expected
    assert result.tzinfo is UTC
    assert business_time_between(start, result, hours) == duration


@pytest.mark.parametrize(
    ("start", "end", "hours", "expected"),
    [
        pytest.param(berlin(2026, 3, 6, 16), berlin(2026, 3, 9, 10), OFFICE, 2 * H, id="over a weekend"),
        pytest.param(berlin(2026, 3, 9), berlin(2026, 3, 16), OFFICE, 40 * H, id="a week"),
        pytest.param(berlin(2026, 3, 30), berlin(2026, 4, 6), OFFICE, 32 * H, id="a week with good friday"),
        pytest.param(berlin(2026, 3, 9, 10), berlin(2026, 3, 9, 10, 30), OFFICE, H / 2, id="inside one day"),
        pytest.param(berlin(2026, 3, 9, 17), berlin(2026, 3, 10, 9), OFFICE, timedelta(0), id="overnight"),
        pytest.param(berlin(2026, 3, 29), berlin(2026, 3, 30), SEVEN_DAYS, 8 * H, id="spring forward sunday"),
        pytest.param(berlin(2026, 10, 25), berlin(2026, 10, 26), SEVEN_DAYS, 8 * H, id="fall back sunday"),
        pytest.param(berlin(2026, 3, 29), berlin(2026, 3, 30), NIGHT, 3 * H, id="01–05 on the short night"),
        pytest.param(berlin(2026, 10, 25), berlin(2026, 10, 26), NIGHT, 5 * H, id="01–05 on the long night"),
        pytest.param(berlin(2026, 3, 9, 10), berlin(2026, 3, 6, 16), OFFICE, -2 * H, id="backwards is negative"),
        pytest.param(berlin(2026, 3, 28, 12), berlin(2026, 3, 29, 12), None, 23 * H, id="23 real hours, not 24"),
        pytest.param(berlin(2026, 10, 24, 12), berlin(2026, 10, 25, 12), None, 25 * H, id="25 real hours, not 24"),
        pytest.param(
            berlin(2026, 10, 25, 2, 30),
            berlin(2026, 10, 25, 2, 30).replace(fold=1),
            None,
            H,
            id="the repeated half hour is an hour apart",
        ),
    ],
)
def test_business_time_between(
    start: datetime, end: datetime, hours: BusinessHours | None, expected: timedelta
) -> None:
    assert business_time_between(start, end, hours) == expected


def test_a_long_target_round_trips() -> None:
    ten_years = timedelta(days=3650)  # about 30 calendar years of 8-hour working days
    end = add_business_time(berlin(2026, 1, 5, 9), ten_years, OFFICE)
    assert business_time_between(berlin(2026, 1, 5, 9), end, OFFICE) == ten_years


def test_a_skipped_calendar_day_is_not_counted_twice() -> None:
    # Samoa skipped 30 December 2011: the 29th (UTC-10) was followed by the 31st (UTC+14)
    samoa = BusinessHours("Pacific/Apia", EVERY_DAY, time(0), time(23, 59))
    assert business_time_between(utc(2011, 12, 29, 10), utc(2011, 12, 30, 10), samoa) == timedelta(hours=23, minutes=59)
    end = add_business_time(utc(2011, 12, 29, 10), timedelta(hours=48), samoa)
    assert business_time_between(utc(2011, 12, 29, 10), end, samoa) == timedelta(hours=48)


# ---------------------------------------------------------------------------------------------------------
# Contracts that raise


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown timezone 'Mars/Olympus'"),
        ({"timezone": "../etc/passwd"}, "unknown timezone"),
        ({"days": frozenset()}, "at least one open day"),
        ({"days": frozenset({0, 7})}, "days are 0 (Monday) to 6 (Sunday)"),
        ({"start": time(17), "end": time(9)}, "closing 09:00:00 must be after opening 17:00:00"),
        ({"start": time(9), "end": time(9)}, "must be after opening"),
        ({"start": time(9, tzinfo=UTC)}, "local wall-clock times"),
    ],
)
def test_business_hours_that_cannot_work_are_refused(kwargs: dict[str, object], message: str) -> None:
    given_ = {"timezone": "Europe/Berlin", "days": WEEKDAYS, "start": time(9), "end": time(17), **kwargs}
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        BusinessHours(**given_)  # type: ignore[arg-type]


def test_naive_datetimes_and_negative_durations_are_refused() -> None:
    naive = datetime(2026, 3, 9, 10)
    with pytest.raises(ValueError, match="start must be an aware datetime"):
        add_business_time(naive, H, OFFICE)
    with pytest.raises(ValueError, match="end must be an aware datetime"):
        business_time_between(berlin(2026, 3, 9), naive, None)
    with pytest.raises(ValueError, match="now must be an aware datetime"):
        breaches(Due(None, None), None, None, naive)
    with pytest.raises(ValueError, match="duration cannot be negative"):
        add_business_time(berlin(2026, 3, 9), -H, None)
    with pytest.raises(ValueError, match="cannot be negative"):
        Target(first_response=-H, resolution=None)


# ---------------------------------------------------------------------------------------------------------
# Due times and breaches


def test_due_counts_each_target_in_business_hours() -> None:
    opened = berlin(2026, 3, 6, 16)  # a Friday afternoon
    assert due(opened, Target(first_response=2 * H, resolution=16 * H), OFFICE) == Due(
        first_response=berlin(2026, 3, 9, 10), resolution=berlin(2026, 3, 10, 16)
    )
    assert due(opened, Target(first_response=2 * H, resolution=None), None) == Due(berlin(2026, 3, 6, 18), None)
    assert due(opened, Target(None, None), OFFICE) == Due(None, None)
    assert due(opened, None, OFFICE) == Due(None, None)


T = utc(2026, 3, 9, 9)
DUE = Due(first_response=T + H, resolution=T + 8 * H)


@pytest.mark.parametrize(
    ("first_response_at", "resolved_at", "now", "expected"),
    [
        pytest.param(None, None, T + H / 2, [], id="nothing due yet"),
        pytest.param(None, None, T + H, [], id="due right now is not late"),
        pytest.param(None, None, T + 2 * H, [Breach("first_response", T + H, T + H)], id="no response, past due"),
        pytest.param(
            None,
            None,
            T + 9 * H,
            [Breach("first_response", T + H, T + H), Breach("resolution", T + 8 * H, T + 8 * H)],
            id="both past due",
        ),
        pytest.param(T + 2 * H, None, T + 3 * H, [Breach("first_response", T + H, T + 2 * H)], id="late response"),
        pytest.param(T + H, None, T + 3 * H, [], id="response exactly when due"),
        pytest.param(
            T + H / 2, None, T + 9 * H, [Breach("resolution", T + 8 * H, T + 8 * H)], id="unresolved past due"
        ),
        pytest.param(
            T + H / 2, T + 10 * H, T + 20 * H, [Breach("resolution", T + 8 * H, T + 10 * H)], id="late resolution"
        ),
        pytest.param(T + H / 2, T + 7 * H, T + 20 * H, [], id="all on time"),
        pytest.param(None, T + H / 2, T + 20 * H, [], id="resolved before a response was due"),
        pytest.param(
            None, T + 2 * H, T + 20 * H, [Breach("first_response", T + H, T + H)], id="resolved after response was due"
        ),
        pytest.param(
            T + 2 * H,
            T + 10 * H,
            T + 10 * H,
            [
                Breach("first_response", T + H, T + 2 * H),
                Breach("resolution", T + 8 * H, T + 10 * H),
            ],
            id="both late",
        ),
    ],
)
def test_breaches(
    first_response_at: datetime | None, resolved_at: datetime | None, now: datetime, expected: list[Breach]
) -> None:
    assert breaches(DUE, first_response_at, resolved_at, now) == tuple(expected)


def test_no_targets_no_breaches() -> None:
    assert breaches(Due(None, None), None, None, T + 1000 * H) == ()
    assert breaches(Due(None, T + H), None, None, T + 2 * H) == (Breach("resolution", T + H, T + H),)


def test_breaches_compare_instants_not_wall_clocks() -> None:
    # 02:30 happens twice in Berlin on 2026-10-25; the second one (fold=1) is an hour after the first
    first = berlin(2026, 10, 25, 2, 30)
    second = first.replace(fold=1)
    late = breaches(Due(first, None), second, None, second + H)
    assert late == (Breach("first_response", utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)),)
    assert late[0].at.tzinfo is UTC and late[0].due.tzinfo is UTC


# ---------------------------------------------------------------------------------------------------------
# Properties

ZONES = [ZoneInfo(name) for name in ("Europe/Berlin", "America/New_York", "UTC", "Asia/Tokyo", "Australia/Lord_Howe")]
# instants of DST changes (and Samoa's skipped day), to start near them often
CHANGES = [
    utc(2026, 3, 29, 1),
    utc(2026, 10, 25, 1),
    utc(2026, 3, 8, 7),
    utc(2026, 11, 1, 6),
    utc(2026, 4, 4, 15),
    utc(2011, 12, 30, 10),
]


@st.composite
def opening_hours(draw: st.DrawFn, zones: list[str] | None = None, whole_minutes: bool = False) -> BusinessHours:
    zone = draw(st.sampled_from(zones or [*(str(z) for z in ZONES), "Pacific/Apia"]))
    days = draw(st.frozensets(st.integers(0, 6), min_size=1))
    # at least half an hour a day keeps long durations to a few thousand open days
    opening = draw(st.integers(0, 24 * 60 - 31))
    closing = draw(st.integers(opening + 30, 24 * 60 - 1))
    seconds = 0 if whole_minutes else draw(st.integers(0, 59))
    holidays = draw(st.frozensets(st.dates(date(2025, 1, 1), date(2027, 12, 31)), max_size=15))
    return BusinessHours(
        zone,
        days,
        time(opening // 60, opening % 60, seconds),
        time(closing // 60, closing % 60, seconds),
        holidays,
    )


starts = st.one_of(
    st.datetimes(datetime(2025, 1, 1), datetime(2027, 6, 30), timezones=st.sampled_from(ZONES)),
    st.builds(
        lambda change, offset: change + offset,
        st.sampled_from(CHANGES),
        st.timedeltas(-timedelta(days=4), timedelta(days=4)),
    ),
)
durations = st.timedeltas(timedelta(0), timedelta(days=40))


@settings(max_examples=400, deadline=None)
@given(start=starts, duration=durations, hours=st.one_of(st.none(), opening_hours()))
def test_business_time_between_undoes_add_business_time(
    start: datetime, duration: timedelta, hours: BusinessHours | None
) -> None:
    end = add_business_time(start, duration, hours)
    assert end.tzinfo is UTC
    assert end >= start
    assert business_time_between(start, end, hours) == duration


@settings(max_examples=300, deadline=None)
@given(start=starts, one=durations, other=durations, hours=opening_hours())
def test_add_business_time_is_monotonic_in_duration(
    start: datetime, one: timedelta, other: timedelta, hours: BusinessHours
) -> None:
    shorter, longer = sorted((one, other))
    assert add_business_time(start, shorter, hours) <= add_business_time(start, longer, hours)


@settings(max_examples=300, deadline=None)
@given(start=starts, duration=durations)
def test_round_the_clock_is_plain_addition_of_real_time(start: datetime, duration: timedelta) -> None:
    end = add_business_time(start, duration, None)
    assert end == start.astimezone(UTC) + duration
    assert end.timestamp() - start.timestamp() == pytest.approx(duration.total_seconds(), abs=1e-6)
    assert business_time_between(start, end, None) == duration


@settings(max_examples=300, deadline=None)
@given(start=starts, duration=st.timedeltas(timedelta(microseconds=1), timedelta(days=40)), hours=opening_hours())
def test_a_target_falls_due_while_open(start: datetime, duration: timedelta, hours: BusinessHours) -> None:
    # a deadline in the middle of the night would be met by nobody: the last microsecond before it is open time
    end = add_business_time(start, duration, hours)
    tick = timedelta(microseconds=1)
    assert business_time_between(end - tick, end, hours) == tick


@settings(max_examples=300, deadline=None)
@given(a=starts, b=starts, c=starts, hours=opening_hours())
def test_business_time_adds_up_and_never_exceeds_real_time(
    a: datetime, b: datetime, c: datetime, hours: BusinessHours
) -> None:
    ab, bc, ac = (business_time_between(x, y, hours) for x, y in ((a, b), (b, c), (a, c)))
    assert ab + bc == ac
    assert timedelta(0) <= abs(ab) <= abs(b.astimezone(UTC) - a.astimezone(UTC))


@settings(max_examples=60, deadline=None)
@given(
    start=st.datetimes(datetime(2025, 1, 1), datetime(2027, 6, 30)).map(lambda d: d.replace(second=0, microsecond=0)),
    minutes=st.integers(0, 4 * 24 * 60),
    hours=opening_hours(["Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC"], whole_minutes=True).filter(
        lambda h: h.start >= time(4)  # clear of the 02:00–03:00 DST changes, where wall clocks mislead
    ),
)
def test_business_time_matches_counting_open_minutes(start: datetime, minutes: int, hours: BusinessHours) -> None:
    zone = ZoneInfo(hours.timezone)
    begin = start.replace(tzinfo=UTC)
    expected = 0
    for minute in range(minutes):
        local = (begin + timedelta(minutes=minute)).astimezone(zone)
        if (
            local.weekday() in hours.days
            and local.date() not in hours.holidays
            and hours.start <= local.time() < hours.end
        ):
            expected += 1
    assert business_time_between(begin, begin + timedelta(minutes=minutes), hours) == timedelta(minutes=expected)
