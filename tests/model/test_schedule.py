"""EventBridge schedule expressions: parsing, validation, next ticks, missed ticks.

Expected times were worked out from the calendar (2024-01-01 is a Monday).
The valid and invalid expressions come from the EventBridge user guide
("Cron expressions reference", "Rate expressions reference") and from
expressions whose acceptance or rejection was recorded against AWS.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventyard.errors import InvalidParameterValue
from eventyard.model.schedule import Schedule

EPOCH_2000 = datetime(2000, 1, 1, tzinfo=UTC)  # an anchor well before every start below


def at(text: str) -> datetime:
    """'2024-01-05 19:00' as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def ticks(expression: str, start: str, count: int, anchor: datetime = EPOCH_2000) -> list[str]:
    schedule = Schedule.parse(expression)
    out: list[str] = []
    t: datetime | None = at(start)
    for _ in range(count):
        assert t is not None
        t = schedule.next_after(t, anchor=anchor)
        out.append("none" if t is None else t.strftime("%Y-%m-%d %H:%M"))
        if t is None:
            break
    return out


# -- the cron examples of the user guide, with their next fire times ----------


@pytest.mark.parametrize(
    ("expression", "start", "expected"),
    [
        # Run at 10:00 am (UTC+0) every day
        ("cron(0 10 * * ? *)", "2024-01-01 10:00", ["2024-01-02 10:00", "2024-01-03 10:00"]),
        # Run at 12:15 pm (UTC+0) every day
        ("cron(15 12 * * ? *)", "2024-01-01 00:00", ["2024-01-01 12:15", "2024-01-02 12:15"]),
        # Run at 6:00 pm (UTC+0) every Monday through Friday (from Friday evening)
        (
            "cron(0 18 ? * MON-FRI *)",
            "2024-01-05 19:00",
            ["2024-01-08 18:00", "2024-01-09 18:00"],
        ),
        # Run at 8:00 am (UTC+0) every first day of the month
        ("cron(0 8 1 * ? *)", "2024-01-01 08:00", ["2024-02-01 08:00", "2024-03-01 08:00"]),
        # Run every 15 minutes
        (
            "cron(0/15 * * * ? *)",
            "2024-01-01 00:00",
            ["2024-01-01 00:15", "2024-01-01 00:30", "2024-01-01 00:45", "2024-01-01 01:00"],
        ),
        # Run every 10 minutes Monday through Friday (over a weekend)
        (
            "cron(0/10 * ? * MON-FRI *)",
            "2024-01-05 23:45",
            ["2024-01-05 23:50", "2024-01-08 00:00", "2024-01-08 00:10"],
        ),
        # Run every 5 minutes Monday through Friday between 8:00 am and 5:55 pm
        (
            "cron(0/5 8-17 ? * MON-FRI *)",
            "2024-01-08 17:50",
            ["2024-01-08 17:55", "2024-01-09 08:00", "2024-01-09 08:05"],
        ),
        # Run at 9 a.m. (UTC+0) on the first Monday of each month
        (
            "cron(0 9 ? * 2#1 *)",
            "2024-01-01 09:00",
            ["2024-02-05 09:00", "2024-03-04 09:00", "2024-04-01 09:00"],
        ),
        # accepted by AWS: 2:00 am every Saturday; the third Saturday; 2:05 and 2:35 pm
        ("cron(0 2 ? * SAT *)", "2024-01-01 00:00", ["2024-01-06 02:00", "2024-01-13 02:00"]),
        ("cron(0 2 ? * SAT#3 *)", "2024-01-01 00:00", ["2024-01-20 02:00", "2024-02-17 02:00"]),
        (
            "cron(5,35 14 * * ? *)",
            "2024-01-01 14:05",
            ["2024-01-01 14:35", "2024-01-02 14:05"],
        ),
        # accepted by AWS: 1-5 in day-of-week is SUN-THU (2022-01-01 was a Saturday)
        (
            "cron(0/5 5 ? JAN 1-5 2022)",
            "2021-06-01 00:00",
            ["2022-01-02 05:00", "2022-01-02 05:05"],
        ),
        # 1/10: every tenth minute starting at minute 1
        ("cron(1/10 * * * ? *)", "2024-01-01 00:00", ["2024-01-01 00:01", "2024-01-01 00:11"]),
    ],
)
def test_user_guide_examples_fire_at_the_documented_times(
    expression: str, start: str, expected: list[str]
) -> None:
    assert ticks(expression, start, len(expected)) == expected


# -- L, W and #: end of month, leap years, nearest weekday ---------------------


@pytest.mark.parametrize(
    ("expression", "start", "expected"),
    [
        # L: the last day of the month, leap years included
        (
            "cron(0 0 L * ? *)",
            "2024-01-31 00:00",
            ["2024-02-29 00:00", "2024-03-31 00:00", "2024-04-30 00:00"],
        ),
        ("cron(0 0 L 2 ? *)", "2023-01-01 00:00", ["2023-02-28 00:00", "2024-02-29 00:00"]),
        # LW: the last weekday (Mar 31 2024 is a Sunday, Aug 31 a Saturday)
        (
            "cron(0 0 LW * ? 2024)",
            "2024-01-01 00:00",
            ["2024-01-31 00:00", "2024-02-29 00:00", "2024-03-29 00:00", "2024-04-30 00:00"],
        ),
        ("cron(0 0 LW 8 ? 2024)", "2024-01-01 00:00", ["2024-08-30 00:00", "none"]),
        # 15W: Jun 15 2024 is a Saturday (-> Fri 14), Sep 15 a Sunday (-> Mon 16)
        ("cron(0 0 15W 6,9 ? *)", "2024-01-01 00:00", ["2024-06-14 00:00", "2024-09-16 00:00"]),
        # 1W never leaves the month: Jun 1 2024 is a Saturday -> Monday 3rd
        ("cron(0 0 1W 6 ? *)", "2024-01-01 00:00", ["2024-06-03 00:00"]),
        # 31W in a 30-day month falls back to that month's last day (croniter's rule)
        ("cron(0 0 31W 9 ? *)", "2024-01-01 00:00", ["2024-09-30 00:00"]),
        # L in day-of-week alone is Saturday; 6L is the last Friday of the month
        ("cron(0 0 ? * L *)", "2024-01-01 00:00", ["2024-01-06 00:00", "2024-01-13 00:00"]),
        ("cron(15 10 ? * FRIL *)", "2024-01-01 00:00", ["2024-01-26 10:15"]),
        # accepted by AWS: the last Friday of every month during 2002-2005
        (
            "cron(15 10 ? * 6L 2002-2005)",
            "2005-11-01 00:00",
            ["2005-11-25 10:15", "2005-12-30 10:15", "none"],
        ),
        # #5 only fires in months with a fifth such day
        (
            "cron(0 9 ? * 2#5 2024)",
            "2024-01-01 00:00",
            ["2024-01-29 09:00", "2024-04-29 09:00", "2024-07-29 09:00"],
        ),
        # the 31st only exists in 31-day months
        ("cron(0 0 31 * ? *)", "2024-01-31 00:00", ["2024-03-31 00:00", "2024-05-31 00:00"]),
        # 29 February: 2100 is not a leap year
        ("cron(0 0 29 2 ? *)", "2096-03-01 00:00", ["2104-02-29 00:00"]),
    ],
)
def test_last_nearest_and_nth_days(expression: str, start: str, expected: list[str]) -> None:
    assert ticks(expression, start, len(expected)) == expected


@pytest.mark.parametrize(
    ("expression", "start", "expected"),
    [
        # ranges wrap around as in Quartz
        (
            "cron(0 0 ? * FRI-MON *)",
            "2024-01-01 00:00",
            ["2024-01-05 00:00", "2024-01-06 00:00", "2024-01-07 00:00", "2024-01-08 00:00"],
        ),
        ("cron(0 22-1 * * ? *)", "2024-01-01 12:00", ["2024-01-01 22:00", "2024-01-01 23:00"]),
        ("cron(0 0 1 NOV-FEB ? *)", "2024-02-02 00:00", ["2024-11-01 00:00", "2024-12-01 00:00"]),
        # an equal range is one value, not the whole field (croniter reads 5-5 as *)
        ("cron(5-5 * * * ? *)", "2024-01-01 00:00", ["2024-01-01 00:05", "2024-01-01 01:05"]),
        # a start at the field maximum with a step is that one value
        ("cron(59/15 * * * ? *)", "2024-01-01 00:00", ["2024-01-01 00:59", "2024-01-01 01:59"]),
        # */n is 0/n; ranges with steps; lower-case names
        ("cron(*/20 * * * ? *)", "2024-01-01 00:00", ["2024-01-01 00:20", "2024-01-01 00:40"]),
        ("cron(10-30/10 1 * * ? *)", "2024-01-01 00:00", ["2024-01-01 01:10", "2024-01-01 01:20"]),
        ("cron(0 0 ? jul wed *)", "2024-01-01 00:00", ["2024-07-03 00:00", "2024-07-10 00:00"]),
        ("cron(0 0 1/10 * ? *)", "2024-01-01 00:00", ["2024-01-11 00:00", "2024-01-21 00:00"]),
        ("cron(0 0 1 1 ? */100)", "2024-01-01 00:00", ["2070-01-01 00:00", "2170-01-01 00:00"]),
    ],
)
def test_ranges_steps_and_names(expression: str, start: str, expected: list[str]) -> None:
    assert ticks(expression, start, len(expected)) == expected


# -- the year field: 1970-2199 -------------------------------------------------


def test_cron_ticks_start_in_1970() -> None:
    assert ticks("cron(0 0 * * ? *)", "1900-06-01 00:00", 1, anchor=at("1900-01-01")) == [
        "1970-01-01 00:00"
    ]
    noon = Schedule.parse("cron(0 12 * * ? *)")
    assert noon.due(at("1900-01-01"), None, at("1970-01-01 11:59")) is None
    assert noon.due(at("1900-01-01"), None, at("1970-01-01 12:00")) == at("1970-01-01 12:00")


def test_cron_ticks_end_in_2199() -> None:
    assert ticks("cron(59 23 31 DEC ? *)", "2199-12-31 23:58", 2) == ["2199-12-31 23:59", "none"]
    assert ticks("cron(0 0 1 1 ? 2199)", "2024-01-01 00:00", 2) == ["2199-01-01 00:00", "none"]
    assert (
        Schedule.parse("cron(* * * * ? *)").next_after(at("2300-01-01"), anchor=EPOCH_2000) is None
    )


def test_a_schedule_in_the_past_never_fires_again() -> None:
    schedule = Schedule.parse("cron(0 12 * * ? 1970-1971)")
    assert schedule.next_after(at("1972-01-01"), anchor=at("1960-01-01")) is None
    assert schedule.due(at("1960-01-01"), None, at("2024-01-01")) == at("1971-12-31 12:00")


@pytest.mark.parametrize("expression", ["cron(0 0 30 2 ? *)", "cron(0 0 31 4,6,9,11 ? *)"])
def test_impossible_dates_are_accepted_but_never_fire(expression: str) -> None:
    schedule = Schedule.parse(expression)
    assert schedule.next_after(at("2024-01-01"), anchor=EPOCH_2000) is None
    assert schedule.due(EPOCH_2000, None, at("2024-01-01")) is None


# -- DST is irrelevant: everything is UTC --------------------------------------


def test_dst_changes_do_not_move_cron_ticks() -> None:
    schedule = Schedule.parse("cron(0 12 * * ? *)")
    new_york = ZoneInfo("America/New_York")  # DST began 2024-03-10
    t = datetime(2024, 3, 9, 13, 0, tzinfo=new_york)  # 18:00 UTC
    first = schedule.next_after(t, anchor=EPOCH_2000)
    assert first == at("2024-03-10 12:00")
    assert first is not None
    assert first.tzinfo is UTC
    second = schedule.next_after(first, anchor=EPOCH_2000)
    assert second is not None
    assert second - first == timedelta(hours=24)


def test_aware_datetimes_in_any_zone_are_the_same_instants() -> None:
    schedule = Schedule.parse("cron(30 1 ? * SUN *)")
    berlin = ZoneInfo("Europe/Berlin")  # DST began 2024-03-31 at 01:00 UTC
    local = datetime(2024, 3, 31, 2, 59, tzinfo=berlin)
    assert schedule.next_after(local, anchor=EPOCH_2000) == schedule.next_after(
        local.astimezone(UTC), anchor=EPOCH_2000
    )
    assert schedule.due(EPOCH_2000, None, datetime(2024, 3, 31, 4, 0, tzinfo=berlin)) == at(
        "2024-03-31 01:30"
    )
    plus_five = timezone(timedelta(hours=5))
    assert schedule.due(EPOCH_2000, None, datetime(2024, 3, 31, 6, 30, tzinfo=plus_five)) == at(
        "2024-03-31 01:30"
    )


@pytest.mark.parametrize("argument", ["t", "anchor"])
def test_next_after_rejects_naive_datetimes(argument: str) -> None:
    values = {"t": at("2024-01-01"), "anchor": at("2024-01-01")}
    values[argument] = values[argument].replace(tzinfo=None)
    schedule = Schedule.parse("rate(5 minutes)")
    with pytest.raises(ValueError, match=f"{argument} must be a timezone-aware"):
        schedule.next_after(values["t"], anchor=values["anchor"])


@pytest.mark.parametrize("argument", ["anchor", "last_fired", "now"])
def test_due_rejects_naive_datetimes(argument: str) -> None:
    values = {"anchor": at("2024-01-01"), "last_fired": at("2024-01-01"), "now": at("2024-01-02")}
    values[argument] = values[argument].replace(tzinfo=None)
    with pytest.raises(ValueError, match=f"{argument} must be a timezone-aware"):
        Schedule.parse("cron(0 * * * ? *)").due(**values)


# -- rate expressions ----------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "interval"),
    [
        ("rate(1 minute)", timedelta(minutes=1)),
        ("rate(5 minutes)", timedelta(minutes=5)),
        ("rate(1 hour)", timedelta(hours=1)),
        ("rate(12 hours)", timedelta(hours=12)),
        ("rate(1 day)", timedelta(days=1)),
        ("rate(7 days)", timedelta(days=7)),
    ],
)
def test_valid_rates(expression: str, interval: timedelta) -> None:
    schedule = Schedule.parse(expression)
    assert (schedule.expression, schedule.interval, schedule.kind) == (expression, interval, "rate")
    assert str(schedule) == expression


def test_rate_ticks_count_from_the_anchor() -> None:
    schedule = Schedule.parse("rate(5 minutes)")
    anchor = at("2024-01-01 10:02:30")
    assert schedule.next_after(at("2024-01-01 09:00"), anchor=anchor) == at("2024-01-01 10:07:30")
    assert schedule.next_after(anchor, anchor=anchor) == at("2024-01-01 10:07:30")
    assert schedule.next_after(at("2024-01-01 10:07:30"), anchor=anchor) == at(
        "2024-01-01 10:12:30"
    )
    assert schedule.next_after(at("2024-01-01 11:00"), anchor=anchor) == at("2024-01-01 11:02:30")
    # nothing at the anchor itself; the first tick one interval later
    assert schedule.due(anchor, None, at("2024-01-01 10:07:29")) is None
    assert schedule.due(anchor, None, at("2024-01-01 10:07:30")) == at("2024-01-01 10:07:30")


def test_a_rate_past_the_end_of_time_has_no_next_tick() -> None:
    schedule = Schedule.parse("rate(1000 days)")
    assert schedule.next_after(datetime.max.replace(tzinfo=UTC), anchor=EPOCH_2000) is None


# -- missed ticks fire once ------------------------------------------------------


def test_a_dispatcher_down_for_three_hours_fires_an_hourly_rate_once() -> None:
    schedule = Schedule.parse("rate(1 hour)")
    anchor = at("2024-01-01 08:00")
    last = at("2024-01-01 09:00")
    now = at("2024-01-01 12:30")  # 10:00, 11:00 and 12:00 were missed
    assert schedule.due(anchor, last, now) == at("2024-01-01 12:00")
    assert schedule.due(anchor, at("2024-01-01 12:00"), now) is None
    assert schedule.next_after(now, anchor=anchor) == at("2024-01-01 13:00")


def test_a_dispatcher_down_for_three_hours_fires_an_hourly_cron_once() -> None:
    schedule = Schedule.parse("cron(0 * * * ? *)")
    anchor, last, now = at("2024-01-01"), at("2024-01-01 09:00"), at("2024-01-01 12:30")
    assert schedule.due(anchor, last, now) == at("2024-01-01 12:00")
    assert schedule.due(anchor, at("2024-01-01 12:00"), now) is None
    assert schedule.next_after(now, anchor=anchor) == at("2024-01-01 13:00")


def test_cron_due_boundaries() -> None:
    schedule = Schedule.parse("cron(0 12 * * ? *)")
    anchor = at("2024-01-01 12:00")  # created exactly on a tick: that tick does not fire
    assert schedule.due(anchor, None, at("2024-01-01 12:00")) is None
    assert schedule.due(anchor, None, at("2024-01-02 11:59:59.999999")) is None
    assert schedule.due(anchor, None, at("2024-01-02 12:00")) == at("2024-01-02 12:00")
    assert schedule.due(anchor, None, at("2024-01-02 12:00:59")) == at("2024-01-02 12:00")
    assert schedule.due(anchor, at("2024-01-02 12:00"), at("2024-01-02 12:00:59")) is None
    # a rule enabled again later does not fire the ticks of while it was disabled
    assert (
        schedule.due(at("2024-03-01 13:00"), at("2024-01-02 12:00"), at("2024-03-01 14:00")) is None
    )
    # a last firing in the future (a clock that went back) fires nothing
    assert schedule.due(anchor, at("2024-02-01"), at("2024-01-10")) is None
    assert schedule.due(anchor, None, at("1969-01-01")) is None


def test_a_cron_due_respects_the_year_field() -> None:
    schedule = Schedule.parse("cron(0 0 1 1 ? 2030,2040)")
    assert schedule.due(EPOCH_2000, None, at("2039-06-01")) == at("2030-01-01")
    assert schedule.due(EPOCH_2000, None, at("2029-06-01")) is None
    assert schedule.due(EPOCH_2000, None, at("2300-06-01")) == at("2040-01-01")
    assert Schedule.parse("cron(0 0 * * ? *)").due(EPOCH_2000, None, at("2300-06-01")) == at(
        "2199-12-31"
    )


# -- normalization ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "normalized"),
    [
        ("cron(0 12 * * ? *)", "cron(0 12 * * ? *)"),
        ("cron(0/5  8-17 ? *   mon-fri *)", "cron(0/5 8-17 ? * MON-FRI *)"),
        ("cron(0 10 ? * 6l 2002-2005)", "cron(0 10 ? * 6L 2002-2005)"),
        ("rate(05 minutes)", "rate(5 minutes)"),
    ],
)
def test_expressions_are_normalized(given: str, normalized: str) -> None:
    schedule = Schedule.parse(given)
    assert schedule.expression == normalized
    assert schedule == Schedule.parse(normalized)


def test_cron_schedules_have_no_interval() -> None:
    schedule = Schedule.parse("cron(0 12 * * ? *)")
    assert (schedule.kind, schedule.interval) == ("cron", None)


# -- every validation error names what is wrong --------------------------------


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        # rejected by AWS
        ("rate(10 seconds)", "rate unit 'seconds' is not one of minute, minutes"),
        ("rate(10 years)", "rate unit 'years' is not one of"),
        ("rate(1 minutes)", "a value of 1 takes the singular 'minute'"),
        ("rate(1 hours)", "a value of 1 takes the singular 'hour'"),
        ("rate(1 days)", "a value of 1 takes the singular 'day'"),
        ("rate(10 minute)", "a value above 1 takes the plural 'minutes'"),
        ("rate(10 hour)", "a value above 1 takes the plural 'hours'"),
        ("rate(10 day)", "a value above 1 takes the plural 'days'"),
        ("rate()", "one space between value and unit"),
        ("rate(10)", "one space between value and unit"),
        ("rate(10 minutess)", "rate unit 'minutess'"),
        ("rate(foo minutes)", "rate value 'foo' is not a positive integer"),
        ("rate(0 minutes)", "rate value '0' is not a positive integer"),
        ("rate(-10 minutes)", "rate value '-10' is not a positive integer"),
        ("rate(10 MINUTES)", "rate unit 'MINUTES'"),
        ("rate( 10 minutes )", "one space between value and unit"),
        (" rate(10 minutes)", "must be 'rate\\(value unit\\)' or 'cron\\(fields\\)'"),
        # further
        ("rate(10  minutes)", "one space between value and unit"),
        ("rate(1.5 hours)", "rate value '1.5' is not a positive integer"),
        ("rate(+5 minutes)", "rate value '\\+5' is not a positive integer"),
        ("rate(\uff15 minutes)", "is not a positive integer"),
        ("rate(99999999999 days)", "rate value '99999999999' is too large"),
        ("rate(5 minutes", "must be 'rate\\(value unit\\)' or 'cron\\(fields\\)'"),
        ("Rate(5 minutes)", "must be 'rate\\(value unit\\)' or 'cron\\(fields\\)'"),
        ("", "must be 'rate\\(value unit\\)' or 'cron\\(fields\\)'"),
        ("at(2024-01-01T00:00:00)", "must be 'rate\\(value unit\\)' or 'cron\\(fields\\)'"),
    ],
)
def test_invalid_rates_say_why(expression: str, reason: str) -> None:
    with pytest.raises(InvalidParameterValue, match=reason):
        Schedule.parse(expression)


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        # rejected by AWS
        ("cron(0 1 * * * *)", "day-of-month '\\*' and day-of-week '\\*': exactly one"),
        ("cron(7 20 * * NOT *)", "day-of-week value 'NOT' is not a number or a name"),
        ("cron(INVALID)", "cron takes 6 fields .* got 1"),
        ("cron(0 dummy ? * MON-FRI *)", "hours value 'DUMMY' is not a number"),
        ("cron(71 8 1 * ? *)", "minutes value '71' is out of range 0-59"),
        # the one-of-them-is-'?' rule
        ("cron(0 12 ? * ? *)", "day-of-month '\\?' and day-of-week '\\?': exactly one"),
        ("cron(0 12 1 * MON *)", "day-of-month '1' and day-of-week 'MON': exactly one"),
        ("cron(0 12 1,? * ? *)", "'\\?' must stand alone"),
        ("cron(0 12 ? * MON,? *)", "'\\?' must stand alone"),
        # field count
        ("cron()", "cron takes 6 fields .* got 0"),
        ("cron(0 12 * * ?)", "got 5"),
        ("cron(0 0 12 * * ? *)", "got 7"),
        # ranges of values
        ("cron(0 24 * * ? *)", "hours value '24' is out of range 0-23"),
        ("cron(0 0 0 * ? *)", "day-of-month value '0' is out of range 1-31"),
        ("cron(0 0 32 * ? *)", "day-of-month value '32' is out of range 1-31"),
        ("cron(0 0 1 13 ? *)", "month value '13' is out of range 1-12"),
        ("cron(0 0 1 0 ? *)", "month value '0' is out of range 1-12"),
        ("cron(0 0 1 FOO ? *)", "month value 'FOO' is not a number or a name \\(JAN"),
        ("cron(0 0 ? * 0 *)", "day-of-week value '0' is out of range 1-7"),
        ("cron(0 0 ? * 8 *)", "day-of-week value '8' is out of range 1-7"),
        ("cron(0 0 ? * JAN *)", "day-of-week value 'JAN' is not a number or a name \\(SUN"),
        ("cron(0 0 ? * JUL *)", "day-of-week value 'JUL'"),
        ("cron(0 0 MON * ? *)", "day-of-month value 'MON' is not a number"),
        ("cron(0 0 WED * ? *)", "day-of-month value 'WED' is not a number"),
        ("cron(0 0 1 * ? 1969)", "year value '1969' is out of range 1970-2199"),
        ("cron(0 0 1 * ? 2200)", "year value '2200' is out of range 1970-2199"),
        ("cron(0 0 1 * ? 2005-2002)", "year range '2005-2002' runs backwards"),
        ("cron(0 0 1 * ? 1970-2200)", "year value '2200' is out of range"),
        # malformed items and increments
        ("cron(1,,2 0 * * ? *)", "minutes value '' is not a value, a range a-b"),
        ("cron(-5 0 * * ? *)", "minutes value '-5' is not a value"),
        ("cron(5- 0 * * ? *)", "minutes value '5-' is not a value"),
        ("cron(5/ 0 * * ? *)", "minutes value '5/' is not a value"),
        ("cron(*-5 0 * * ? *)", "minutes value '\\*-5': '\\*' cannot start a range"),
        ("cron(0/0 * * * ? *)", "minutes increment in '0/0' must be 1-59"),
        ("cron(0/60 * * * ? *)", "minutes increment in '0/60' must be 1-59"),
        ("cron(0 0/24 * * ? *)", "hours increment in '0/24' must be 1-23"),
        ("cron(0 0 1/32 * ? *)", "day-of-month increment in '1/32' must be 1-31"),
        ("cron(0 0 1 1/13 ? *)", "month increment in '1/13' must be 1-12"),
        # wildcards outside their fields
        ("cron(? 0 * * ? *)", "minutes value '\\?': the minutes field takes no '\\?'"),
        ("cron(L 0 * * ? *)", "the minutes field takes no 'L'"),
        ("cron(0 1W * * ? *)", "the hours field takes no 'W'"),
        ("cron(0 0 * L ? *)", "the month field takes no 'L'"),
        ("cron(0 0 * * ? L)", "the year field takes no 'L'"),
        ("cron(0 0 1#2 * ? *)", "the day-of-month field takes no '#'"),
        ("cron(0 0 ? * 2W *)", "the day-of-week field takes no 'W'"),
        ("cron(0 0 ? * */2 *)", "the day-of-week field takes no '/'"),
        ("cron(0 0 ? * 1/2 *)", "the day-of-week field takes no '/'"),
        # L, W and # stand alone
        ("cron(0 0 L,15 * ? *)", "day-of-month value 'L,15': 'L', 'LW' and 'nW'"),
        ("cron(0 0 15W,20 * ? *)", "day-of-month value '15W,20'"),
        ("cron(0 0 1-5W * ? *)", "day-of-month value '1-5W'"),
        ("cron(0 0 W * ? *)", "day-of-month value 'W'"),
        ("cron(0 0 L-3 * ? *)", "day-of-month value 'L-3'"),
        ("cron(0 0 32W * ? *)", "day-of-month value '32' is out of range 1-31"),
        ("cron(0 0 ? * 3#1,6#3 *)", "'3#1,6#3' is not valid"),
        ("cron(0 0 ? * 6L,2 *)", "day-of-week value '6L,2': 'L', 'dL' and 'd#n'"),
        ("cron(0 0 ? * MON-L *)", "day-of-week value 'MON-L'"),
        ("cron(0 0 ? * 2#0 *)", "the number after '#' must be 1-5"),
        ("cron(0 0 ? * 2#6 *)", "the number after '#' must be 1-5"),
        ("cron(0 0 ? * 8#1 *)", "day-of-week value '8' is out of range 1-7"),
        ("cron(0 0 ? * 9L *)", "day-of-week value '9' is out of range 1-7"),
        # the wrapper
        ("cron(0 12 * * ? *", "must be 'rate\\(value unit\\)' or 'cron\\(fields\\)'"),
        ("CRON(0 12 * * ? *)", "must be 'rate\\(value unit\\)' or 'cron\\(fields\\)'"),
    ],
)
def test_invalid_crons_name_the_field_and_the_value(expression: str, reason: str) -> None:
    with pytest.raises(InvalidParameterValue, match=reason) as caught:
        Schedule.parse(expression)
    assert str(caught.value).startswith("ScheduleExpression ")


def test_expression_must_be_a_string() -> None:
    with pytest.raises(InvalidParameterValue, match="must be a string, got int"):
        Schedule.parse(5)


def test_expression_is_at_most_256_characters() -> None:
    longest = "cron(" + "0," * 119 + "0 12 * * ? *)"
    assert len(longest) == 256
    assert Schedule.parse(longest).next_after(at("2024-01-01"), anchor=EPOCH_2000) == at(
        "2024-01-01 12:00"
    )
    with pytest.raises(InvalidParameterValue, match="has 257 characters; at most 256"):
        Schedule.parse("cron(" + "0," * 119 + "0 12 * * ? * )")


# -- properties ---------------------------------------------------------------------

EXPRESSIONS = [
    "rate(1 minute)",
    "rate(7 minutes)",
    "rate(1 hour)",
    "rate(3 days)",
    "cron(0 10 * * ? *)",
    "cron(0/15 * * * ? *)",
    "cron(0/5 8-17 ? * MON-FRI *)",
    "cron(0 9 ? * 2#1 *)",
    "cron(0 0 L * ? *)",
    "cron(30 6 LW * ? *)",
    "cron(0 0 15W * ? *)",
    "cron(15 10 ? * 6L 2002-2005)",
    "cron(0 0 29 2 ? *)",
    "cron(0 12 ? * FRI-MON 2020,2150-2199)",
    "cron(0 0 30 2 ? *)",
    "cron(* * * * ? *)",
]
times = st.datetimes(
    min_value=datetime(1960, 1, 1), max_value=datetime(2210, 1, 1), timezones=st.just(UTC)
)
near = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=800))


@settings(max_examples=300, deadline=None)
@given(expression=st.sampled_from(EXPRESSIONS), t=times, anchor=times)
def test_next_after_is_strictly_after(expression: str, t: datetime, anchor: datetime) -> None:
    tick = Schedule.parse(expression).next_after(t, anchor=anchor)
    assert tick is None or (tick > t and tick > anchor)


@settings(max_examples=300, deadline=None)
@given(
    expression=st.sampled_from(EXPRESSIONS),
    anchor=times,
    since_anchor=near,
    last_offset=st.none() | st.timedeltas(min_value=-timedelta(days=400), max_value=timedelta(0)),
    since_last=near,
)
def test_due_is_the_one_latest_tick_not_yet_fired(
    expression: str,
    anchor: datetime,
    since_anchor: timedelta,
    last_offset: timedelta | None,
    since_last: timedelta,
) -> None:
    schedule = Schedule.parse(expression)
    now = anchor + since_anchor
    last_fired = None if last_offset is None else now + last_offset
    floor = anchor if last_fired is None else max(anchor, last_fired)
    tick = schedule.due(anchor, last_fired, now)
    if tick is not None:
        assert floor < tick <= now
        if last_fired is not None:
            assert tick > last_fired
        following = schedule.next_after(tick, anchor=anchor)
        assert following is None or following > now  # it is the latest one
        assert schedule.due(anchor, tick, now) is None  # and it fires once
    else:
        following = schedule.next_after(floor, anchor=anchor)
        assert following is None or following > now  # nothing was due


@settings(max_examples=100, deadline=None)
@given(minutes=st.integers(1, 10_000), anchor=times, offset=near)
def test_rate_ticks_are_whole_intervals_from_the_anchor(
    minutes: int, anchor: datetime, offset: timedelta
) -> None:
    schedule = Schedule.parse(f"rate({minutes} minute{'s' if minutes > 1 else ''})")
    tick = schedule.next_after(anchor + offset, anchor=anchor)
    assert tick is not None
    steps, remainder = divmod(tick - anchor, timedelta(minutes=minutes))
    assert remainder == timedelta(0)
    assert steps >= 1
    assert tick - timedelta(minutes=minutes) <= max(anchor + offset, anchor)
