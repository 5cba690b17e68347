"""Schedules: ``hourly``, ``daily``, ``weekly``, ``@monthly`` and 5-field cron expressions, in UTC.

A field is ``*``, a number, a range ``a-b``, a step ``*/n``, ``a-b/n`` or ``a/n``, or a comma list of those;
months (``jan``–``dec``) and days of the week (``sun``–``sat``, 0 or 7 = Sunday) may be named. As in cron, when
both the day of the month and the day of the week are restricted a day matching either runs. Times have minute
resolution; a naive datetime is read as UTC and every result is an aware UTC datetime."""

from __future__ import annotations

import calendar
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from tessera.errors import TesseraError

__all__ = ["MACROS", "Schedule", "parse_schedule"]

MACROS: dict[str, str] = {
    "hourly": "0 * * * *",
    "daily": "0 0 * * *",
    "weekly": "0 0 * * 0",
    "monthly": "0 0 1 * *",
    "yearly": "0 0 1 1 *",
    "annually": "0 0 1 1 *",
    "midnight": "0 0 * * *",
}
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
_DAYS = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
#: name, lowest, highest, names allowed.
_FIELDS: tuple[tuple[str, int, int, dict[str, int] | None], ...] = (
    ("minute", 0, 59, None),
    ("hour", 0, 23, None),
    ("day-of-month", 1, 31, None),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 0, 7, _DAYS),
)
_LONGEST_MONTH = {m: 29 if m == 2 else calendar.monthrange(2001, m)[1] for m in range(1, 13)}
#: Far enough to find the next 29 February past a skipped leap year (1900, 2100).
_HORIZON_DAYS = 366 * 9


@dataclass(frozen=True, slots=True)
class Schedule:
    """A parsed schedule: the allowed minutes, hours, days, months and weekdays (0 = Sunday)."""

    text: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    either_day: bool = False  # both day fields restricted: a day matching either one runs

    def __str__(self) -> str:
        return self.text

    def runs_on(self, day: date) -> bool:
        weekday = (day.weekday() + 1) % 7
        if self.either_day:
            return day.day in self.days or weekday in self.weekdays
        return day.day in self.days and weekday in self.weekdays

    def next_after(self, t: datetime) -> datetime:
        """The first scheduled minute strictly after ``t``."""
        start = _minute(t) + timedelta(minutes=1)
        day, first = start.date(), True
        for _ in range(_HORIZON_DAYS):
            if day.month not in self.months:
                day = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
            else:
                if self.runs_on(day):
                    hm = self._time_at_or_after(start.hour, start.minute) if first else self._first()
                    if hm is not None:
                        return datetime.combine(day, time(*hm), tzinfo=UTC)
                day += timedelta(days=1)
            first = False
        raise TesseraError(f"schedule {self.text!r} has no run within {_HORIZON_DAYS // 366} years of {t}")

    def previous_at_or_before(self, t: datetime) -> datetime:
        """The last scheduled minute at or before ``t``."""
        end = _minute(t)
        day, first = end.date(), True
        for _ in range(_HORIZON_DAYS):
            if day.month not in self.months:
                day = day.replace(day=1) - timedelta(days=1)
            else:
                if self.runs_on(day):
                    hm = self._time_at_or_before(end.hour, end.minute) if first else self._last()
                    if hm is not None:
                        return datetime.combine(day, time(*hm), tzinfo=UTC)
                day -= timedelta(days=1)
            first = False
        raise TesseraError(
            f"schedule {self.text!r} has no run within {_HORIZON_DAYS // 366} years before {t}"
        )

    def _first(self) -> tuple[int, int]:
        return self.hours[0], self.minutes[0]

    def _last(self) -> tuple[int, int]:
        return self.hours[-1], self.minutes[-1]

    def _time_at_or_after(self, hour: int, minute: int) -> tuple[int, int] | None:
        i = bisect_left(self.hours, hour)
        if i == len(self.hours):
            return None
        if self.hours[i] > hour:
            return self.hours[i], self.minutes[0]
        j = bisect_left(self.minutes, minute)
        if j < len(self.minutes):
            return hour, self.minutes[j]
        return (self.hours[i + 1], self.minutes[0]) if i + 1 < len(self.hours) else None

    def _time_at_or_before(self, hour: int, minute: int) -> tuple[int, int] | None:
        i = bisect_right(self.hours, hour) - 1
        if i < 0:
            return None
        if self.hours[i] < hour:
            return self.hours[i], self.minutes[-1]
        j = bisect_right(self.minutes, minute) - 1
        if j >= 0:
            return hour, self.minutes[j]
        return (self.hours[i - 1], self.minutes[-1]) if i > 0 else None


def _minute(t: datetime) -> datetime:
    t = t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
    return t.replace(second=0, microsecond=0)


@lru_cache(maxsize=512)
def parse_schedule(text: str) -> Schedule:
    """Parse an update frequency; raises TesseraError naming the field and value that are wrong."""
    cleaned = " ".join(str(text).split())
    expression = MACROS.get(cleaned.lower().removeprefix("@"), cleaned)
    if cleaned.startswith("@") and cleaned.lower()[1:] not in MACROS:
        raise _invalid(text, f"unknown macro {cleaned!r}; use one of " + ", ".join(f"@{m}" for m in MACROS))
    parts = expression.split(" ") if expression else []
    if len(parts) != len(_FIELDS):
        raise _invalid(
            text,
            f"{len(parts)} field{'s' if len(parts) != 1 else ''} where 5 are expected "
            "(minute hour day-of-month month day-of-week), or use hourly, daily, weekly or @monthly",
        )
    values = [_field(text, part, *spec) for part, spec in zip(parts, _FIELDS, strict=True)]
    minutes, hours, days, months, weekdays = values
    weekdays = {0 if d == 7 else d for d in weekdays}
    day_any, weekday_any = parts[2] in ("*", "?"), parts[4] in ("*", "?")
    if weekday_any and not any(d <= _LONGEST_MONTH[m] for m in months for d in days):
        raise _invalid(text, f"day-of-month field '{parts[2]}' never falls in month field '{parts[3]}'")
    return Schedule(
        text=cleaned,
        minutes=tuple(sorted(minutes)),
        hours=tuple(sorted(hours)),
        days=frozenset(days),
        months=frozenset(months),
        weekdays=frozenset(weekdays),
        either_day=not day_any and not weekday_any,
    )


def _invalid(text: str, why: str) -> TesseraError:
    return TesseraError(f"invalid schedule {text!r}: {why}")


def _field(text: str, part: str, name: str, low: int, high: int, names: dict[str, int] | None) -> set[int]:
    def number(token: str) -> int:
        if token.isdigit():
            value = int(token)
            if not low <= value <= high:
                raise _invalid(text, f"{name} field '{token}' is out of range {low}–{high}")
            return value
        if names is not None and token.lower() in names:
            return names[token.lower()]
        known = f" or a name ({', '.join(names)})" if names else ""
        raise _invalid(text, f"{name} field '{token}' is not a number{known}")

    out: set[int] = set()
    for item in part.split(","):
        base, slash, step_text = item.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) == 0:
                raise _invalid(
                    text, f"{name} field step '{step_text}' in '{item}' is not a positive whole number"
                )
            step = int(step_text)
        if base in ("*", "?"):
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = number(first), number(last)
            if start > end:
                raise _invalid(text, f"{name} field range '{base}' runs backwards; write it low-high")
        elif base:
            start = number(base)
            end = high if slash else start
        else:
            raise _invalid(text, f"{name} field '{part}' has an empty item")
        out.update(range(start, end + 1, step))
    return out
