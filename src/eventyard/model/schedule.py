"""EventBridge schedule expressions: ``rate(value unit)`` and ``cron(6 fields)``.

What it is: a parser and validator of the ``ScheduleExpression`` of a rule
(each bad expression raises `InvalidParameterValue` naming the field and the
value) and the arithmetic a dispatcher needs: the next tick after a time, and
the one tick that is due now. All times are timezone-aware and computed in UTC,
so daylight saving never shifts a tick.

What it is not: a scheduler. It holds no clock, sleeps nowhere and does no I/O;
the caller passes ``now`` and stores what fired.

Semantics, following the EventBridge user guide ("Cron expressions reference",
"Rate expressions reference"):

* ``rate(N unit)`` ticks at ``anchor + k*N units`` for k >= 1, the anchor being
  when the rule was created or last enabled.
* ``cron(...)`` ticks at the matching UTC minutes in the years 1970-2199 that
  fall strictly after the anchor. Day-of-week runs 1-7 with 1 = Sunday.
* Missed ticks fire once: `Schedule.due` returns only the latest tick that is
  due, however many were missed.

Cron calendars are computed by croniter. Each AWS field is validated and
expanded here into explicit values, then handed to croniter as a 5-field
expression with day-of-week renumbered to 0-6 (croniter's own range syntax
differs: ``5-5`` means every minute there). The year field is applied here,
because croniter's year field stops at 2099.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final, Literal

from croniter import CroniterBadDateError, croniter

from eventyard.errors import InvalidParameterValue
from eventyard.model.names import shorten

#: PutRule: ScheduleExpression has a maximum length of 256.
SCHEDULE_EXPRESSION_MAX_LENGTH: Final = 256
#: The cron year field allows 1970-2199; no cron tick exists outside it.
CRON_FIRST_YEAR: Final = 1970
CRON_LAST_YEAR: Final = 2199

_RATE_UNITS: Final[Mapping[str, timedelta]] = {
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
}
_MINUTE: Final = timedelta(minutes=1)
_FIRST_TICK: Final = datetime(CRON_FIRST_YEAR, 1, 1, tzinfo=UTC)
_END_OF_TICKS: Final = datetime(CRON_LAST_YEAR + 1, 1, 1, tzinfo=UTC)

_ITEM: Final = re.compile(r"(\*|[0-9A-Z]+)(?:-([0-9A-Z]+))?(?:/([0-9]+))?")
_NEAREST_WEEKDAY: Final = re.compile(r"([0-9]+)W")
_LAST_WEEKDAY_OF_MONTH: Final = re.compile(r"([0-9]+|[A-Z]{3})L")
_NTH_WEEKDAY: Final = re.compile(r"([0-9]+|[A-Z]{3})#([0-9]+)")


@dataclass(frozen=True, slots=True)
class _Field:
    """One cron field: its name, bounds, value names and what a range may do."""

    name: str
    low: int
    high: int
    max_step: int
    names: Mapping[str, int] = field(default_factory=dict)
    wraps: bool = True

    @property
    def span(self) -> int:
        return self.high - self.low + 1


def _numbered(names: str) -> dict[str, int]:
    return {name: number for number, name in enumerate(names.split(), 1)}


_MINUTES: Final = _Field("minutes", 0, 59, max_step=59)
_HOURS: Final = _Field("hours", 0, 23, max_step=23)
_DAY_OF_MONTH: Final = _Field("day-of-month", 1, 31, max_step=31)
_MONTH: Final = _Field(
    "month", 1, 12, max_step=12, names=_numbered("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC")
)
_DAY_OF_WEEK: Final = _Field(
    "day-of-week", 1, 7, max_step=7, names=_numbered("SUN MON TUE WED THU FRI SAT")
)
_YEAR: Final = _Field(
    "year", CRON_FIRST_YEAR, CRON_LAST_YEAR, max_step=CRON_LAST_YEAR - CRON_FIRST_YEAR, wraps=False
)


class _Invalid(Exception):
    """A field-level problem; `Schedule.parse` adds the expression to the message."""


def _value(f: _Field, token: str) -> int:
    if token.isdigit() and token.isascii():
        number = int(token)
    elif token in f.names:
        number = f.names[token]
    else:
        kind = "a number" if not f.names else f"a number or a name ({', '.join(f.names)})"
        raise _Invalid(f"{f.name} value {token!r} is not {kind}")
    if not f.low <= number <= f.high:
        raise _Invalid(f"{f.name} value {token!r} is out of range {f.low}-{f.high}")
    return number


def _values(f: _Field, text: str) -> frozenset[int]:
    """Expand ``a``, ``a-b``, ``*``, with ``/step``, comma-separated (Quartz semantics)."""
    out: set[int] = set()
    for item in text.split(","):
        match = _ITEM.fullmatch(item)
        if match is None:
            raise _Invalid(f"{f.name} value {item!r} is not a value, a range a-b, '*' or a/n")
        start, end, step_text = match.groups()
        if start == "*":
            if end is not None:
                raise _Invalid(f"{f.name} value {item!r}: '*' cannot start a range")
            low, high = f.low, f.high
        else:
            low = _value(f, start)
            high = low if step_text is None else f.high  # "a/n" runs from a to the end
            if end is not None:
                high = _value(f, end)
        step = 1 if step_text is None else int(step_text)
        if not 1 <= step <= f.max_step:
            raise _Invalid(f"{f.name} increment in {item!r} must be 1-{f.max_step}")
        if high < low:
            if not f.wraps:
                raise _Invalid(f"{f.name} range {item!r} runs backwards")
            high += f.span  # wraps around, e.g. FRI-MON or 22-2
        out.update(v if v <= f.high else v - f.span for v in range(low, high + 1, step))
    return frozenset(out)


def _emit(values: frozenset[int], span: int, shift: int = 0) -> str:
    """A croniter field listing ``values`` (minus ``shift``), or ``*`` when all are in."""
    if len(values) == span:
        return "*"
    return ",".join(str(v - shift) for v in sorted(values))


def _day_of_month(text: str) -> str:
    if text in ("?", "*"):
        return "*"
    if text == "L":
        return "L"
    if text == "LW":  # croniter clamps nW to the month's last day: 31W is the last weekday
        return "31W"
    if match := _NEAREST_WEEKDAY.fullmatch(text):
        return f"{_value(_DAY_OF_MONTH, match[1])}W"
    if any(t in ("L", "LW", "W") or _NEAREST_WEEKDAY.fullmatch(t) for t in _tokens(text)):
        raise _Invalid(
            f"day-of-month value {text!r}: 'L', 'LW' and 'nW' (n = 1-31) must stand alone, "
            "without lists, ranges, increments or offsets"
        )
    return _emit(_values(_DAY_OF_MONTH, text), _DAY_OF_MONTH.span)


def _day_of_week(text: str) -> str:
    """AWS numbers Sunday 1 ... Saturday 7; croniter numbers Sunday 0 ... Saturday 6."""
    if text in ("?", "*"):
        return "*"
    if text == "L":  # the last day of the week: Saturday
        return "6"
    if match := _LAST_WEEKDAY_OF_MONTH.fullmatch(text):  # 6L: the last Friday of the month
        return f"L{_value(_DAY_OF_WEEK, match[1]) - 1}"
    if match := _NTH_WEEKDAY.fullmatch(text):  # 2#1: the first Monday of the month
        nth = int(match[2])
        if not 1 <= nth <= 5:
            raise _Invalid(f"day-of-week value {text!r}: the number after '#' must be 1-5")
        return f"{_value(_DAY_OF_WEEK, match[1]) - 1}#{nth}"
    if any(t == "L" or "#" in t or _LAST_WEEKDAY_OF_MONTH.fullmatch(t) for t in _tokens(text)):
        raise _Invalid(
            f"day-of-week value {text!r}: 'L', 'dL' and 'd#n' must stand alone "
            "(a '#' allows one expression only: '3#1,6#3' is not valid)"
        )
    return _emit(_values(_DAY_OF_WEEK, text), _DAY_OF_WEEK.span, shift=1)


def _tokens(text: str) -> list[str]:
    return re.split(r"[,/-]", text)


def _check_wildcards(f: _Field, text: str, allowed: str) -> None:
    bare = text
    for name in f.names:  # JUL and WED are names, not the L and W wildcards
        bare = bare.replace(name, "")
    for char in "?LW#/":
        if char in bare and char not in allowed:
            raise _Invalid(f"{f.name} value {text!r}: the {f.name} field takes no {char!r}")


def _parse_cron(fields: list[str]) -> tuple[str, tuple[int, ...] | None]:
    """The croniter expression (5 fields) and the allowed years (None: all of them)."""
    if len(fields) != 6:
        raise _Invalid(
            "cron takes 6 fields (minutes hours day-of-month month day-of-week year), "
            f"got {len(fields)}"
        )
    minutes, hours, dom, month, dow, year = fields
    for f, text, allowed in (
        (_MINUTES, minutes, "/"),
        (_HOURS, hours, "/"),
        (_DAY_OF_MONTH, dom, "?/LW"),
        (_MONTH, month, "/"),
        (_DAY_OF_WEEK, dow, "?L#"),
        (_YEAR, year, "/"),
    ):
        _check_wildcards(f, text, allowed)
    if (dom != "?" and "?" in dom) or (dow != "?" and "?" in dow):
        raise _Invalid("'?' must stand alone in day-of-month or day-of-week")
    cron = " ".join(
        (
            _emit(_values(_MINUTES, minutes), _MINUTES.span),
            _emit(_values(_HOURS, hours), _HOURS.span),
            _day_of_month(dom),
            _emit(_values(_MONTH, month), _MONTH.span),
            _day_of_week(dow),
        )
    )
    years = _values(_YEAR, year)
    if (dom == "?") == (dow == "?"):
        raise _Invalid(
            f"day-of-month {dom!r} and day-of-week {dow!r}: exactly one of them must be '?'"
        )
    return cron, None if len(years) == _YEAR.span else tuple(sorted(years))


def _parse_rate(inner: str) -> tuple[str, timedelta]:
    parts = inner.split(" ")
    if len(parts) != 2 or not all(parts):
        raise _Invalid("a rate is 'rate(value unit)', one space between value and unit")
    value_text, unit = parts
    if not (value_text.isdigit() and value_text.isascii()) or int(value_text) == 0:
        raise _Invalid(f"rate value {value_text!r} is not a positive integer")
    value = int(value_text)
    singular = unit[:-1] if unit.endswith("s") else unit
    if singular not in _RATE_UNITS:
        raise _Invalid(f"rate unit {unit!r} is not one of minute, minutes, hour, hours, day, days")
    if value == 1 and unit != singular:
        raise _Invalid(f"rate unit {unit!r}: a value of 1 takes the singular {singular!r}")
    if value > 1 and unit == singular:
        raise _Invalid(f"rate unit {unit!r}: a value above 1 takes the plural {unit + 's'!r}")
    try:
        interval = value * _RATE_UNITS[singular]
    except OverflowError:
        raise _Invalid(f"rate value {value_text!r} is too large") from None
    return f"rate({value} {unit})", interval


def _utc(name: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value!r}")
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Schedule:
    """A parsed schedule expression. Build it with `Schedule.parse`."""

    #: The normalized expression: ``rate(5 minutes)``, ``cron(0/5 8-17 ? * MON-FRI *)``.
    expression: str
    #: The period of a rate schedule; None for cron.
    interval: timedelta | None = None
    _cron: str = field(default="", repr=False)
    _years: tuple[int, ...] | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, expression: object) -> Schedule:
        """Parse and validate as EventBridge does; raise `InvalidParameterValue` if invalid."""
        if not isinstance(expression, str):
            raise InvalidParameterValue(
                f"ScheduleExpression must be a string, got {type(expression).__name__}"
            )
        if len(expression) > SCHEDULE_EXPRESSION_MAX_LENGTH:
            raise InvalidParameterValue(
                f"ScheduleExpression {shorten(expression)} has {len(expression)} characters; "
                f"at most {SCHEDULE_EXPRESSION_MAX_LENGTH} are allowed"
            )
        try:
            if expression.startswith("rate(") and expression.endswith(")"):
                text, interval = _parse_rate(expression[5:-1])
                return cls(text, interval=interval)
            if expression.startswith("cron(") and expression.endswith(")"):
                fields = expression[5:-1].upper().split()
                cron, years = _parse_cron(fields)
                return cls(f"cron({' '.join(fields)})", _cron=cron, _years=years)
        except _Invalid as exc:
            raise InvalidParameterValue(
                f"ScheduleExpression {shorten(expression)} is not valid: {exc}"
            ) from None
        raise InvalidParameterValue(
            f"ScheduleExpression {shorten(expression)} is not valid: "
            "it must be 'rate(value unit)' or 'cron(fields)'"
        )

    @property
    def kind(self) -> Literal["rate", "cron"]:
        return "cron" if self.interval is None else "rate"

    def __str__(self) -> str:
        return self.expression

    def next_after(self, t: datetime, *, anchor: datetime) -> datetime | None:
        """The first tick strictly after ``t`` (and after ``anchor``); None if none is left.

        A cron schedule runs out after its last year (2199 at most); a rate one
        only past `datetime.max`.
        """
        t, anchor = _utc("t", t), _utc("anchor", anchor)
        if self.interval is not None:
            k = 1 if t < anchor else (t - anchor) // self.interval + 1
            try:
                return anchor + k * self.interval
            except OverflowError:
                return None
        return self._cron_next(max(t, anchor))

    def due(self, anchor: datetime, last_fired: datetime | None, now: datetime) -> datetime | None:
        """The one tick to fire at ``now``: the latest tick in (last fired, now], else None.

        ``anchor`` is when the rule was created or enabled; ticks at or before it
        never fire, nor do those at or before ``last_fired``. A dispatcher that
        missed several ticks gets only the latest one; it should store that tick
        as ``last_fired`` and sleep until ``next_after(now, anchor=anchor)``.
        """
        anchor, now = _utc("anchor", anchor), _utc("now", now)
        floor = anchor if last_fired is None else max(anchor, _utc("last_fired", last_fired))
        if self.interval is not None:
            k = (now - anchor) // self.interval
            tick = anchor + k * self.interval if k >= 1 else None
        else:
            tick = self._cron_latest(now)
        return tick if tick is not None and tick > floor else None

    # croniter is only ever given whole minutes: it round-trips datetimes through
    # float timestamps, which do not keep every microsecond of a date in 2199.

    def _cron_next(self, after: datetime) -> datetime | None:
        start = max(after.replace(second=0, microsecond=0), _FIRST_TICK - _MINUTE)
        years = self._years
        while True:
            try:
                tick = croniter(self._cron, start, ret_type=datetime).get_next()
            except CroniterBadDateError:  # no such date, e.g. 30 February
                return None
            if tick >= _END_OF_TICKS:
                return None
            if years is None or _contains(years, tick.year):
                return tick
            later = bisect_right(years, tick.year)
            if later == len(years):
                return None
            start = datetime(years[later], 1, 1, tzinfo=UTC) - _MINUTE

    def _cron_latest(self, at: datetime) -> datetime | None:
        """The latest tick at or before ``at``."""
        if at < _FIRST_TICK:
            return None
        stop = min(at.replace(second=0, microsecond=0) + _MINUTE, _END_OF_TICKS)
        years = self._years
        while True:
            try:  # get_prev is strictly before a whole minute
                tick = croniter(self._cron, stop, ret_type=datetime).get_prev()
            except CroniterBadDateError:
                return None
            if tick < _FIRST_TICK:
                return None
            if years is None or _contains(years, tick.year):
                return tick
            earlier = bisect_left(years, tick.year)
            if earlier == 0:
                return None
            stop = datetime(years[earlier - 1] + 1, 1, 1, tzinfo=UTC)


def _contains(sorted_values: tuple[int, ...], value: int) -> bool:
    i = bisect_left(sorted_values, value)
    return i < len(sorted_values) and sorted_values[i] == value
