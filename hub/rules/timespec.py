"""Durations, times of day and the home's time zone, as rule files write them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["local_zone", "next_time_of_day", "parse_duration", "parse_time_of_day"]

_UNITS = {
    "ms": 0.001,
    "s": 1.0,
    "sec": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "m": 60.0,
    "min": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "h": 3600.0,
    "hour": 3600.0,
    "hours": 3600.0,
    "d": 86400.0,
    "day": 86400.0,
    "days": 86400.0,
}
_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*")
_CLOCK = re.compile(r"^(\d{1,3}):(\d{2})(?::(\d{2}(?:\.\d+)?))?$")
_MAPPING_KEYS = {"days": 86400.0, "hours": 3600.0, "minutes": 60.0, "seconds": 1.0}
MAX_DURATION = 366 * 86400.0


def parse_duration(value: Any, *, signed: bool = False) -> float:
    """Seconds from 90, '90s', '2m', '1h30m', '00:02:00' or {minutes: 2}; ValueError if bad."""
    seconds = _duration(value, signed)
    if seconds != seconds or abs(seconds) > MAX_DURATION:
        raise ValueError("duration out of range (at most a year)")
    if seconds < 0 and not signed:
        raise ValueError("duration must not be negative")
    return seconds


def _duration(value: Any, signed: bool) -> float:
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 90, '2m' or '00:02:00'")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, Mapping):
        unknown = set(value) - set(_MAPPING_KEYS) - {"milliseconds"}
        if unknown:
            raise ValueError(f"unknown duration keys: {', '.join(sorted(map(str, unknown)))}")
        total = 0.0
        for key, factor in (*_MAPPING_KEYS.items(), ("milliseconds", 0.001)):
            part = value.get(key, 0)
            if isinstance(part, bool) or not isinstance(part, int | float):
                raise ValueError(f"{key}: expected a number")
            total += float(part) * factor
        return total
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected a duration such as 90, '2m' or '00:02:00'")
    text = value.strip().lower()
    sign = 1.0
    if text[0] in "+-":
        if not signed and text[0] == "-":
            raise ValueError("duration must not be negative")
        sign = -1.0 if text[0] == "-" else 1.0
        text = text[1:].strip()
    clock = _CLOCK.match(text)
    if clock:
        hours, minutes, secs = clock.groups()
        return sign * (int(hours) * 3600 + int(minutes) * 60 + float(secs or 0))
    try:
        return sign * float(text)
    except ValueError:
        pass
    total, pos = 0.0, 0
    while pos < len(text):
        match = _PART.match(text, pos)
        if not match or match.group(2) not in _UNITS:
            raise ValueError(f"cannot read {value!r} as a duration (try '90s', '2m', '00:02:00')")
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    return sign * total


def parse_time_of_day(value: Any) -> time:
    """A local time of day from 'HH:MM' or 'HH:MM:SS'; ValueError if bad."""
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads 07:30 without quotes as a base-60 number (450).
        value = f"{value // 60}:{value % 60:02d}"
    if not isinstance(value, str):
        raise ValueError("expected a time of day such as '07:30' or '22:15:00'")
    match = _CLOCK.match(value.strip())
    if not match:
        raise ValueError(f"cannot read {value!r} as a time of day (try '07:30')")
    hours, minutes, secs = int(match.group(1)), int(match.group(2)), float(match.group(3) or 0)
    if hours > 23 or minutes > 59 or secs >= 60:
        raise ValueError(f"{value!r} is not a time of day")
    whole = int(secs)
    return time(hours, minutes, whole, round((secs - whole) * 1_000_000))


def next_time_of_day(at: time, after: datetime, zone: ZoneInfo) -> datetime:
    """The first moment strictly after `after` when local wall time equals `at`."""
    local = after.astimezone(zone)
    day = local.date()
    for _ in range(3):
        candidate = datetime.combine(day, at, tzinfo=zone)
        # Round-trip through UTC so a wall time skipped by DST moves forward, not back.
        candidate = candidate.astimezone(ZoneInfo("UTC")).astimezone(zone)
        if candidate > local:
            return candidate
        day += timedelta(days=1)
    raise AssertionError("unreachable: a time of day recurs within two days")


def local_zone(name: str) -> ZoneInfo:
    """The configured zone, or UTC when the name is unknown."""
    try:
        return ZoneInfo(name)
    except Exception:
        return ZoneInfo("UTC")
