"""Sunrise and sunset at the home's location (astral), with offsets."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from astral import LocationInfo
from astral.sun import sunrise, sunset

from hub.config import Location

__all__ = ["SUN_EVENTS", "next_sun_event", "sun_event_on"]

SUN_EVENTS = ("sunrise", "sunset")
# Near the poles the sun may not rise or set for months; look this far ahead before giving up.
_SEARCH_DAYS = 200


def sun_event_on(event: str, day: datetime, location: Location) -> datetime | None:
    """The sunrise or sunset on the local date of `day`, or None (polar day/night)."""
    observer = LocationInfo(
        latitude=location.latitude, longitude=location.longitude, timezone="UTC"
    ).observer
    observer.elevation = location.elevation
    func = sunrise if event == "sunrise" else sunset
    zone = day.tzinfo if isinstance(day.tzinfo, ZoneInfo) else ZoneInfo("UTC")
    try:
        return func(observer, date=day.date(), tzinfo=zone)
    except ValueError:
        return None


def next_sun_event(
    event: str, offset: float, after: datetime, location: Location, zone: ZoneInfo
) -> datetime | None:
    """The first sunrise/sunset (plus offset seconds) strictly after `after`."""
    local = after.astimezone(zone)
    for days in range(-1, _SEARCH_DAYS):
        moment = sun_event_on(event, local + timedelta(days=days), location)
        if moment is None:
            continue
        moment += timedelta(seconds=offset)
        if moment > after:
            return moment
    return None
