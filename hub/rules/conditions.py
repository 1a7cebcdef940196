"""Conditions: checks on states, numbers, time, the sun, templates and combinations."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from .checker import Checker, Invalid, join_path, state_text
from .env import Env
from .sun import SUN_EVENTS, sun_event_on
from .templates import Template, TemplateError

__all__ = ["WEEKDAYS", "Condition", "ConditionError", "parse_condition", "parse_conditions"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TRUE = {"true", "on", "yes", "1"}


class ConditionError(Exception):
    """A condition could not be evaluated (a template failed, for example)."""


class Condition:
    """Base of condition configs."""

    kind = ""

    def check(self, env: Env, variables: Mapping[str, Any]) -> bool:
        """True if the condition holds now."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class StateCondition(Condition):
    """Every entity is in one of the states (optionally for at least a duration)."""

    entity_ids: tuple[str, ...]
    states: tuple[str, ...]
    attribute: str | None = None
    for_: float | None = None
    kind = "state"

    def check(self, env: Env, variables: Mapping[str, Any]) -> bool:
        for eid in self.entity_ids:
            state = env.hub.states.get(eid)
            if state is None:
                return False
            value = state.state if self.attribute is None else state.attributes.get(self.attribute)
            if state_text(value) not in self.states:
                return False
            if self.for_ and env.hub.clock.now() - state.last_changed < timedelta(
                seconds=self.for_
            ):
                return False
        return True


@dataclass(frozen=True, slots=True)
class NumericCondition(Condition):
    """Every entity's number is above and/or below limits."""

    entity_ids: tuple[str, ...]
    above: float | None = None
    below: float | None = None
    attribute: str | None = None
    kind = "numeric_state"

    def check(self, env: Env, variables: Mapping[str, Any]) -> bool:
        for eid in self.entity_ids:
            state = env.hub.states.get(eid)
            if state is None:
                return False
            raw = state.state if self.attribute is None else state.attributes.get(self.attribute)
            try:
                number = float(raw)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                return False
            if self.above is not None and not number > self.above:
                return False
            if self.below is not None and not number < self.below:
                return False
        return True


@dataclass(frozen=True, slots=True)
class TimeCondition(Condition):
    """Local time within [after, before) (may wrap midnight) and on given weekdays."""

    after: time | None = None
    before: time | None = None
    weekdays: tuple[str, ...] = ()
    kind = "time"

    def check(self, env: Env, variables: Mapping[str, Any]) -> bool:
        now = env.now()
        if self.weekdays and WEEKDAYS[now.weekday()] not in self.weekdays:
            return False
        clock = now.time().replace(tzinfo=None)
        after, before = self.after, self.before
        if after is not None and before is not None and after > before:
            return clock >= after or clock < before
        if after is not None and clock < after:
            return False
        return before is None or clock < before


@dataclass(frozen=True, slots=True)
class SunCondition(Condition):
    """After and/or before today's sunrise/sunset (with offsets)."""

    after: str | None = None
    after_offset: float = 0.0
    before: str | None = None
    before_offset: float = 0.0
    kind = "sun"

    def check(self, env: Env, variables: Mapping[str, Any]) -> bool:
        now = env.now()
        start = self._moment(env, now, self.after, self.after_offset)
        end = self._moment(env, now, self.before, self.before_offset)
        if (self.after is not None and start is None) or (self.before is not None and end is None):
            return False  # the sun does not rise or set today here
        if start is not None and end is not None and start > end:
            return now >= start or now < end  # "after sunset, before sunrise": the night
        if start is not None and now < start:
            return False
        return end is None or now < end

    @staticmethod
    def _moment(env: Env, now: datetime, event: str | None, offset: float) -> datetime | None:
        if event is None:
            return None
        moment = sun_event_on(event, now, env.location)
        return None if moment is None else moment + timedelta(seconds=offset)


@dataclass(frozen=True, slots=True)
class TemplateCondition(Condition):
    """A template that renders true."""

    template: Template
    kind = "template"

    def check(self, env: Env, variables: Mapping[str, Any]) -> bool:
        try:
            result = self.template.render(env.variables(variables))
        except TemplateError as err:
            raise ConditionError(str(err)) from None
        if isinstance(result, str):
            return result.strip().lower() in _TRUE
        return bool(result)


@dataclass(frozen=True, slots=True)
class TriggerCondition(Condition):
    """The run was started by a trigger with one of these ids."""

    ids: tuple[str, ...]
    kind = "trigger"

    def check(self, env: Env, variables: Mapping[str, Any]) -> bool:
        trigger = variables.get("trigger")
        return isinstance(trigger, Mapping) and trigger.get("id") in self.ids


@dataclass(frozen=True, slots=True)
class GroupCondition(Condition):
    """and / or / not over nested conditions."""

    op: str
    conditions: tuple[Condition, ...]
    kind = "group"

    def check(self, env: Env, variables: Mapping[str, Any]) -> bool:
        if self.op == "and":
            return all(c.check(env, variables) for c in self.conditions)
        if self.op == "or":
            return any(c.check(env, variables) for c in self.conditions)
        return not any(c.check(env, variables) for c in self.conditions)


# -- parsing ------------------------------------------------------------------------------------
def parse_conditions(
    chk: Checker, node: Mapping[str, Any], key: str, path: str
) -> tuple[Condition, ...]:
    """A list of conditions under node[key] (all must hold)."""
    out = []
    for raw, where, item_path in chk.items(node, key, join_path(path, key)):
        try:
            out.append(parse_condition(chk, raw, where, item_path))
        except Invalid:
            continue  # already recorded; keep checking the rest
    return tuple(out)


def parse_condition(chk: Checker, raw: Any, where: tuple[Any, Any], path: str) -> Condition:
    """Read one condition (a mapping, or a template string as shorthand)."""
    if isinstance(raw, str):
        return TemplateCondition(chk.compile(raw, where[0], where[1], path))
    node = chk.mapping(raw, where[0], where[1], path)
    parse = chk.kind(node, "condition", KINDS, path)
    return parse(chk, node, path)  # type: ignore[no-any-return]


def _state(chk: Checker, node: Mapping[str, Any], path: str) -> Condition:
    states = chk.state_values(node, "state", path)
    if not states:
        raise chk.error(node, None, join_path(path, "state"), "required")
    return StateCondition(
        chk.entity_ids(node, "entity_id", path),
        states,
        chk.text(node, "attribute", path),
        chk.duration(node, "for", path),
    )


def _numeric(chk: Checker, node: Mapping[str, Any], path: str) -> Condition:
    above, below = chk.number(node, "above", path), chk.number(node, "below", path)
    if above is None and below is None:
        raise chk.error(node, None, path, "needs above and/or below")
    return NumericCondition(
        chk.entity_ids(node, "entity_id", path), above, below, chk.text(node, "attribute", path)
    )


def _time(chk: Checker, node: Mapping[str, Any], path: str) -> Condition:
    after = chk.time_of_day(node, "after", path)
    before = chk.time_of_day(node, "before", path)
    weekdays = tuple(d.lower()[:3] for d in chk.texts(node, "weekday", path))
    for day in weekdays:
        if day not in WEEKDAYS:
            raise chk.error(
                node,
                "weekday",
                join_path(path, "weekday"),
                f"expected days like {', '.join(WEEKDAYS)}",
            )
    if not (after or before or weekdays):
        raise chk.error(node, None, path, "needs after, before and/or weekday")
    return TimeCondition(after[0] if after else None, before[0] if before else None, weekdays)


def _sun(chk: Checker, node: Mapping[str, Any], path: str) -> Condition:
    after = chk.choice(node, "after", path, SUN_EVENTS) if "after" in node else None
    before = chk.choice(node, "before", path, SUN_EVENTS) if "before" in node else None
    if after is None and before is None:
        raise chk.error(node, None, path, "needs after and/or before (sunrise or sunset)")
    return SunCondition(
        after,
        chk.duration(node, "after_offset", path, signed=True) or 0.0,
        before,
        chk.duration(node, "before_offset", path, signed=True) or 0.0,
    )


def _template(chk: Checker, node: Mapping[str, Any], path: str) -> Condition:
    template = chk.template(node, "value_template", path, required=True)
    assert template is not None
    return TemplateCondition(template)


def _trigger(chk: Checker, node: Mapping[str, Any], path: str) -> Condition:
    return TriggerCondition(chk.texts(node, "id", path, required=True))


def _group(kind: str) -> Callable[[Checker, Mapping[str, Any], str], Condition]:
    def parse(chk: Checker, node: Mapping[str, Any], path: str) -> Condition:
        chk.required(node, "conditions", path)
        return GroupCondition(kind, parse_conditions(chk, node, "conditions", path))

    return parse


KINDS: dict[str, tuple[tuple[str, ...], Callable[[Checker, Mapping[str, Any], str], Condition]]] = {
    "state": (("entity_id", "state", "attribute", "for"), _state),
    "numeric_state": (("entity_id", "above", "below", "attribute"), _numeric),
    "time": (("after", "before", "weekday"), _time),
    "sun": (("after", "after_offset", "before", "before_offset"), _sun),
    "template": (("value_template",), _template),
    "trigger": (("id",), _trigger),
    "and": (("conditions",), _group("and")),
    "or": (("conditions",), _group("or")),
    "not": (("conditions",), _group("not")),
}
