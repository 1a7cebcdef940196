"""Cron-like schedules: 'minute hour day-of-month month day-of-week', in local time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["CronSpec", "parse_cron"]

_ALIASES = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# Feb 29 on a given weekday can be 28 years away; any schedule that matches at all does so sooner.
_SEARCH_DAYS = 366 * 29


@dataclass(frozen=True, slots=True)
class CronSpec:
    """A parsed schedule: the allowed values of each field."""

    source: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool
    any_weekday: bool

    def matches_day(self, day: date) -> bool:
        """True if the schedule runs on this date (cron's either-day rule when both are set)."""
        if day.month not in self.months:
            return False
        weekday = (day.weekday() + 1) % 7
        if self.any_day and self.any_weekday:
            return True
        if self.any_day:
            return weekday in self.weekdays
        if self.any_weekday:
            return day.day in self.days
        return day.day in self.days or weekday in self.weekdays

    def next_after(self, after: datetime, zone: ZoneInfo) -> datetime | None:
        """The first matching minute strictly after `after`, or None if it never comes."""
        local = after.astimezone(zone)
        day = local.date()
        for _ in range(_SEARCH_DAYS):
            if self.matches_day(day):
                for hour in self.hours:
                    for minute in self.minutes:
                        wall = datetime.combine(day, time(hour, minute), tzinfo=zone)
                        candidate = wall.astimezone(UTC).astimezone(zone)
                        if candidate > local:
                            return candidate
            day += timedelta(days=1)
        return None


def parse_cron(text: str) -> CronSpec:
    """Parse five cron fields (or an @alias); ValueError names the bad field."""
    source = text.strip().lower()
    fields = _ALIASES.get(source, source).split()
    if len(fields) != 5:
        raise ValueError("expected five fields: minute hour day-of-month month day-of-week")
    minutes = _field(fields[0], 0, 59, "minute", ())
    hours = _field(fields[1], 0, 23, "hour", ())
    days = _field(fields[2], 1, 31, "day of month", ())
    months = _field(fields[3], 1, 12, "month", _MONTHS)
    weekdays = {d % 7 for d in _field(fields[4], 0, 7, "day of week", _DAYS)}
    return CronSpec(
        source=text.strip(),
        minutes=tuple(sorted(minutes)),
        hours=tuple(sorted(hours)),
        days=frozenset(days),
        months=frozenset(months),
        weekdays=frozenset(weekdays),
        any_day=fields[2] in ("*", "?"),
        any_weekday=fields[4] in ("*", "?"),
    )


def _field(text: str, low: int, high: int, name: str, names: tuple[str, ...]) -> set[int]:
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = _number(step_text, name, names, 1, high - low + 1)
        if part in ("*", "?"):
            start, end = low, high
        elif "-" in part:
            first, last = part.split("-", 1)
            start = _number(first, name, names, low, high)
            end = _number(last, name, names, low, high)
            if end < start:
                raise ValueError(f"{name}: range {part} runs backwards")
        else:
            start = _number(part, name, names, low, high)
            end = high if step > 1 else start
        values.update(range(start, end + 1, step))
    return values


def _number(text: str, name: str, names: tuple[str, ...], low: int, high: int) -> int:
    if text in names:
        return names.index(text) + (1 if name == "month" else 0)
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{name}: cannot read {text!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{name}: {value} is outside {low}-{high}")
    return value
