"""Triggers: what starts a rule. Each kind parses its YAML and attaches to the index."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from hub.bus import Event
from hub.const import (
    EVENT_DEVICE_JOINED,
    EVENT_DEVICE_LEFT,
    EVENT_DEVICE_UNAVAILABLE,
    EVENT_HUB_STARTED,
    EVENT_HUB_STOP,
)
from hub.context import Context
from hub.states import State

from .checker import Checker, join_path, state_text
from .cron import CronSpec, parse_cron
from .env import Env
from .index import normalize_phrase
from .sun import SUN_EVENTS, next_sun_event
from .timespec import next_time_of_day

__all__ = ["PLATFORMS", "Fire", "Trigger", "parse_trigger", "state_dict"]

_LOGGER = logging.getLogger(__name__)
Fire = Callable[[dict[str, Any], Context | None], None]
Unsub = Callable[[], None]
DEVICE_EVENTS = {
    "joined": EVENT_DEVICE_JOINED,
    "left": EVENT_DEVICE_LEFT,
    "unavailable": EVENT_DEVICE_UNAVAILABLE,
}
HUB_EVENTS = {"start": EVENT_HUB_STARTED, "stop": EVENT_HUB_STOP}
_UTC = ZoneInfo("UTC")


class Trigger:
    """Base of trigger configs (frozen dataclasses)."""

    platform = ""
    id: str | None

    def attach(self, env: Env, fire: Fire) -> Unsub:
        """Start watching; returns the function that stops."""
        raise NotImplementedError

    def base_vars(self) -> dict[str, Any]:
        return {"platform": self.platform, "id": self.id}


# -- state and numeric_state ---------------------------------------------------------------
class _HeldTrigger(Trigger):
    """Shared by state triggers: a match may have to hold `for` a while before firing."""

    entity_ids: tuple[str, ...]
    attribute: str | None
    for_: float | None

    def matches(self, old: State | None, new: State | None) -> bool:
        raise NotImplementedError

    def still_holds(self, new: State | None) -> bool:
        raise NotImplementedError

    def attach(self, env: Env, fire: Fire) -> Unsub:
        pending: dict[str, Unsub] = {}

        def on_change(event: Event) -> None:
            eid = event.data["entity_id"]
            old, new = event.data["old_state"], event.data["new_state"]
            waiting = pending.get(eid)
            if waiting is not None and not (self.for_ and self.still_holds(new)):
                waiting()
                del pending[eid]
                waiting = None
            if not self.matches(old, new):
                return
            variables = {
                **self.base_vars(),
                "entity_id": eid,
                "from_state": state_dict(old),
                "to_state": state_dict(new),
                "for": self.for_,
            }
            if not self.for_:
                fire(variables, event.context)
                return
            if waiting is None:

                def held() -> None:
                    pending.pop(eid, None)
                    fire(variables, event.context)

                pending[eid] = env.index.scheduler.async_later(self.for_, held)

        unsubs = [env.index.watch_entity(eid, on_change) for eid in self.entity_ids]

        def detach() -> None:
            for unsub in (*unsubs, *pending.values()):
                unsub()
            pending.clear()

        return detach

    def value(self, state: State | None) -> Any:
        if state is None:
            return None
        if self.attribute is None:
            return state.state
        return state.attributes.get(self.attribute)


@dataclass(frozen=True, slots=True)
class StateTrigger(_HeldTrigger):
    """An entity's state (or attribute) changes, optionally from/to given values."""

    id: str | None
    entity_ids: tuple[str, ...]
    from_: tuple[str, ...] | None = None
    to: tuple[str, ...] | None = None
    attribute: str | None = None
    for_: float | None = None
    platform = "state"

    def matches(self, old: State | None, new: State | None) -> bool:
        before, after = self.value(old), self.value(new)
        if new is None or before == after:
            return False
        if self.from_ is not None and state_text(before) not in self.from_:
            return False
        return self.to is None or state_text(after) in self.to

    def still_holds(self, new: State | None) -> bool:
        return self.to is not None and new is not None and state_text(self.value(new)) in self.to


@dataclass(frozen=True, slots=True)
class NumericStateTrigger(_HeldTrigger):
    """A numeric state or attribute crosses into a range (above and/or below)."""

    id: str | None
    entity_ids: tuple[str, ...]
    above: float | None = None
    below: float | None = None
    attribute: str | None = None
    for_: float | None = None
    platform = "numeric_state"

    def in_range(self, state: State | None) -> bool:
        number = _number(self.value(state))
        if number is None:
            return False
        if self.above is not None and not number > self.above:
            return False
        return self.below is None or number < self.below

    def matches(self, old: State | None, new: State | None) -> bool:
        return self.in_range(new) and not self.in_range(old)

    def still_holds(self, new: State | None) -> bool:
        return self.in_range(new)


# -- time -----------------------------------------------------------------------------------
class _TimedTrigger(Trigger):
    """Shared by triggers that fire at computed moments on the time wheel."""

    def next_after(self, env: Env, after: datetime) -> datetime | None:
        raise NotImplementedError

    def attach(self, env: Env, fire: Fire) -> Unsub:
        cancel: Unsub | None = None
        active = True

        def schedule(after: datetime) -> None:
            nonlocal cancel
            when = self.next_after(env, after)
            if when is None or not active:
                cancel = None
                return

            def due() -> None:
                fire({**self.base_vars(), "now": when.isoformat()}, None)
                # From the planned moment, so a late wake-up neither skips nor repeats.
                schedule(max(when, env.hub.clock.now()))

            cancel = env.index.scheduler.async_at(when.timestamp(), due)

        schedule(env.hub.clock.now())

        def detach() -> None:
            nonlocal active
            active = False
            if cancel is not None:
                cancel()

        return detach


@dataclass(frozen=True, slots=True)
class TimeTrigger(_TimedTrigger):
    """At given local times of day."""

    id: str | None
    at: tuple[time, ...]
    platform = "time"

    def next_after(self, env: Env, after: datetime) -> datetime | None:
        return min(next_time_of_day(t, after, env.zone) for t in self.at)


@dataclass(frozen=True, slots=True)
class ScheduleTrigger(_TimedTrigger):
    """On a cron-like schedule in local time."""

    id: str | None
    cron: CronSpec
    platform = "schedule"

    def next_after(self, env: Env, after: datetime) -> datetime | None:
        return self.cron.next_after(after, env.zone)


@dataclass(frozen=True, slots=True)
class SunTrigger(_TimedTrigger):
    """At sunrise or sunset, shifted by an offset (negative: before)."""

    id: str | None
    event: str
    offset: float = 0.0
    platform = "sun"

    def next_after(self, env: Env, after: datetime) -> datetime | None:
        return next_sun_event(self.event, self.offset, after, env.location, env.zone)

    def base_vars(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "id": self.id,
            "event": self.event,
            "offset": self.offset,
        }


# -- events -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class EventTrigger(Trigger):
    """A bus event of given types whose data contains the given values."""

    id: str | None
    event_types: tuple[str, ...]
    data: Mapping[str, Any] = field(default_factory=dict)
    platform = "event"

    def attach(self, env: Env, fire: Fire) -> Unsub:
        def on_event(event: Event) -> None:
            if _contains(event.data, self.data):
                fire(
                    {**self.base_vars(), "event_type": event.event_type, "data": dict(event.data)},
                    event.context,
                )

        unsubs = [env.index.watch_event(etype, on_event) for etype in self.event_types]
        return _all(unsubs)


@dataclass(frozen=True, slots=True)
class DeviceTrigger(Trigger):
    """A device joined, left or became unavailable (optionally only given devices)."""

    id: str | None
    event: str
    device_ids: tuple[str, ...] = ()
    platform = "device"

    def attach(self, env: Env, fire: Fire) -> Unsub:
        def on_event(event: Event) -> None:
            if self.device_ids and event.data.get("device_id") not in self.device_ids:
                return
            fire(
                {
                    **self.base_vars(),
                    "event": self.event,
                    "device_id": event.data.get("device_id"),
                    "data": dict(event.data),
                },
                event.context,
            )

        return env.index.watch_event(DEVICE_EVENTS[self.event], on_event)


@dataclass(frozen=True, slots=True)
class HubTrigger(Trigger):
    """The hub finished starting (or begins to stop)."""

    id: str | None
    event: str = "start"
    platform = "hub"

    def attach(self, env: Env, fire: Fire) -> Unsub:
        def on_event(event: Event) -> None:
            fire({**self.base_vars(), "event": self.event}, event.context)

        return env.index.watch_event(HUB_EVENTS[self.event], on_event)


@dataclass(frozen=True, slots=True)
class MqttTrigger(Trigger):
    """An MQTT message on a topic filter, optionally with an exact payload."""

    id: str | None
    topic: str
    payload: str | None = None
    platform = "mqtt"

    def attach(self, env: Env, fire: Fire) -> Unsub:
        def on_message(message: Any) -> None:
            raw = message.payload
            text = (
                raw.decode("utf-8", "replace") if isinstance(raw, bytes | bytearray) else str(raw)
            )
            if self.payload is not None and text != self.payload:
                return
            variables = {**self.base_vars(), "topic": message.topic, "payload": text}
            try:
                variables["payload_json"] = json.loads(text)
            except ValueError:
                variables["payload_json"] = None
            fire(variables, None)

        return env.index.watch_topic(self.topic, on_message)


@dataclass(frozen=True, slots=True)
class VoiceTrigger(Trigger):
    """The voice pipeline heard one of the phrases (compared without case or punctuation)."""

    id: str | None
    phrases: tuple[str, ...]
    platform = "voice"

    def attach(self, env: Env, fire: Fire) -> Unsub:
        def on_voice(event: Event) -> None:
            fire(
                {
                    **self.base_vars(),
                    "phrase": normalize_phrase(str(event.data.get("text", ""))),
                    "text": event.data.get("text"),
                    "language": event.data.get("language"),
                    "conversation_id": event.data.get("conversation_id"),
                    "satellite": event.data.get("satellite"),
                },
                event.context,
            )

        unsubs = [env.index.watch_phrase(phrase, on_voice) for phrase in self.phrases]
        return _all(unsubs)


# -- parsing ----------------------------------------------------------------------------------
def parse_trigger(chk: Checker, raw: Any, where: tuple[Any, Any], path: str) -> Trigger:
    """Read one trigger; errors are recorded on `chk` and raise Invalid."""
    node = chk.mapping(raw, where[0], where[1], path)
    parse = chk.kind(node, "platform", PLATFORMS, path, extra=("id",))
    trigger_id = chk.text(node, "id", path)
    return parse(chk, node, path, trigger_id)  # type: ignore[no-any-return]


def _state(chk: Checker, node: Mapping[str, Any], path: str, tid: str | None) -> Trigger:
    return StateTrigger(
        tid,
        chk.entity_ids(node, "entity_id", path),
        chk.state_values(node, "from", path),
        chk.state_values(node, "to", path),
        chk.text(node, "attribute", path),
        chk.duration(node, "for", path),
    )


def _numeric(chk: Checker, node: Mapping[str, Any], path: str, tid: str | None) -> Trigger:
    above, below = chk.number(node, "above", path), chk.number(node, "below", path)
    if above is None and below is None:
        raise chk.error(node, None, path, "needs above and/or below")
    if above is not None and below is not None and above >= below:
        raise chk.error(node, "below", join_path(path, "below"), "must be greater than above")
    return NumericStateTrigger(
        tid,
        chk.entity_ids(node, "entity_id", path),
        above,
        below,
        chk.text(node, "attribute", path),
        chk.duration(node, "for", path),
    )


def _time(chk: Checker, node: Mapping[str, Any], path: str, tid: str | None) -> Trigger:
    chk.required(node, "at", path)
    return TimeTrigger(tid, chk.time_of_day(node, "at", path))


def _schedule(chk: Checker, node: Mapping[str, Any], path: str, tid: str | None) -> Trigger:
    text = chk.text(node, "cron", path, required=True) or ""
    try:
        spec = parse_cron(text)
    except ValueError as err:
        raise chk.error(node, "cron", join_path(path, "cron"), str(err)) from None
    if spec.next_after(datetime(2000, 1, 1, tzinfo=UTC), _UTC) is None:
        raise chk.error(node, "cron", join_path(path, "cron"), "this schedule never runs")
    return ScheduleTrigger(tid, spec)


def _sun(chk: Checker, node: Mapping[str, Any], path: str, tid: str | None) -> Trigger:
    event = chk.choice(node, "event", path, SUN_EVENTS)
    return SunTrigger(tid, event, chk.duration(node, "offset", path, signed=True) or 0.0)


def _event(chk: Checker, node: Mapping[str, Any], path: str, tid: str | None) -> Trigger:
    types = chk.texts(node, "event_type", path, required=True)
    data = node.get("event_data", {})
    chk.mapping(data, node, "event_data", join_path(path, "event_data"))
    return EventTrigger(tid, types, dict(data))


def _device(chk: Checker, node: Mapping[str, Any], path: str, tid: str | None) -> Trigger:
    event = chk.choice(node, "event", path, tuple(DEVICE_EVENTS))
    return DeviceTrigger(tid, event, chk.texts(node, "device_id", path))


def _hub(chk: Checker, node: Mapping[str, Any], path: str, tid: str | None) -> Trigger:
    return HubTrigger(tid, chk.choice(node, "event", path, tuple(HUB_EVENTS), "start"))


def _mqtt(chk: Checker, node: Mapping[str, Any], path: str, tid: str | None) -> Trigger:
    topic = chk.text(node, "topic", path, required=True) or ""
    if not _valid_filter(topic):
        raise chk.error(
            node, "topic", join_path(path, "topic"), f"{topic!r} is not a valid topic filter"
        )
    return MqttTrigger(tid, topic, chk.text(node, "payload", path))


def _voice(chk: Checker, node: Mapping[str, Any], path: str, tid: str | None) -> Trigger:
    phrases = tuple(normalize_phrase(p) for p in chk.texts(node, "phrase", path, required=True))
    if not all(phrases):
        raise chk.error(node, "phrase", join_path(path, "phrase"), "a phrase needs words")
    return VoiceTrigger(tid, phrases)


_Parser = Callable[[Checker, Mapping[str, Any], str, str | None], Trigger]
PLATFORMS: dict[str, tuple[tuple[str, ...], _Parser]] = {
    "state": (("entity_id", "from", "to", "attribute", "for"), _state),
    "numeric_state": (("entity_id", "above", "below", "attribute", "for"), _numeric),
    "time": (("at",), _time),
    "schedule": (("cron",), _schedule),
    "sun": (("event", "offset"), _sun),
    "event": (("event_type", "event_data"), _event),
    "mqtt": (("topic", "payload"), _mqtt),
    "voice": (("phrase",), _voice),
    "device": (("event", "device_id"), _device),
    "hub": (("event",), _hub),
}


# -- helpers ------------------------------------------------------------------------------------
def state_dict(state: State | None) -> dict[str, Any] | None:
    """A state as plain values for templates and traces."""
    if state is None:
        return None
    return {
        "entity_id": state.entity_id,
        "state": state.state,
        "attributes": dict(state.attributes),
        "last_changed": state.last_changed.isoformat(),
    }


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None


def _contains(data: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    for key, value in wanted.items():
        if key not in data:
            return False
        actual = data[key]
        if isinstance(value, Mapping):
            if not isinstance(actual, Mapping) or not _contains(actual, value):
                return False
        elif actual != value and state_text(actual) != state_text(value):
            return False
    return True


def _valid_filter(topic: str) -> bool:
    if not topic or "\0" in topic:
        return False
    levels = topic.split("/")
    for i, level in enumerate(levels):
        if "#" in level and (level != "#" or i != len(levels) - 1):
            return False
        if "+" in level and level != "+":
            return False
    return True


def _all(unsubs: list[Unsub]) -> Unsub:
    def detach() -> None:
        for unsub in unsubs:
            unsub()

    return detach
