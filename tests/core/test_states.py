"""State machine semantics."""

from __future__ import annotations

import asyncio

import pytest

from hub.bus import Event, EventBus
from hub.const import EVENT_STATE_CHANGED
from hub.context import Context
from hub.errors import InvalidEntityId
from hub.json import json_dumps, json_loads
from hub.states import State, StateMachine, valid_entity_id
from hub.track import async_track_state_change, async_track_state_change_event


@pytest.fixture
async def machine() -> tuple[EventBus, StateMachine, list[Event]]:
    bus = EventBus(asyncio.get_running_loop())
    events: list[Event] = []
    bus.async_listen(EVENT_STATE_CHANGED, events.append)
    return bus, StateMachine(bus), events


async def test_set_fires_state_changed_with_old_and_new(machine) -> None:
    _, states, events = machine
    first = states.async_set("light.kitchen", "off")
    second = states.async_set("light.kitchen", "on", {"brightness": 10})
    assert [e.data["old_state"] for e in events] == [None, first]
    assert events[1].data["new_state"] is second
    assert states.get("light.kitchen") is second
    assert second.last_changed > first.last_changed or second.last_changed == second.last_updated


async def test_attribute_only_update_keeps_last_changed(machine) -> None:
    _, states, events = machine
    first = states.async_set("sensor.t", "20", {"unit": "C"})
    second = states.async_set("sensor.t", "20", {"unit": "C", "battery": 90})
    assert second.last_changed == first.last_changed
    assert second.last_updated >= first.last_updated
    assert len(events) == 2


async def test_no_event_when_nothing_changes_unless_forced(machine) -> None:
    _, states, events = machine
    states.async_set("switch.a", "on", {"x": 1})
    states.async_set("switch.a", "on", {"x": 1})
    assert len(events) == 1
    states.async_set("switch.a", "on", {"x": 1}, force_update=True)
    assert len(events) == 2


async def test_context_says_who_caused_it(machine) -> None:
    _, states, events = machine
    ctx = Context(user_id="anna", origin="voice")
    state = states.async_set("lock.door", "unlocked", context=ctx)
    assert state.context is ctx
    assert events[0].context is ctx


async def test_remove_fires_with_new_state_none(machine) -> None:
    _, states, events = machine
    states.async_set("light.x", "on")
    assert states.async_remove("light.x")
    assert events[-1].data["new_state"] is None
    assert states.get("light.x") is None
    assert not states.async_remove("light.x")


@pytest.mark.parametrize(
    "bad", ["light", "Light.kitchen", "light.kit chen", ".x", "light.", "a.b.c", "light__x.y"]
)
async def test_invalid_entity_ids_are_rejected(machine, bad: str) -> None:
    _, states, _ = machine
    assert not valid_entity_id(bad)
    with pytest.raises(InvalidEntityId):
        states.async_set(bad, "on")


async def test_states_are_read_only(machine) -> None:
    _, states, _ = machine
    state = states.async_set("light.a", "on", {"brightness": 1})
    with pytest.raises(TypeError):
        state.attributes["brightness"] = 2  # type: ignore[index]


async def test_state_json_round_trip(machine) -> None:
    _, states, _ = machine
    state = states.async_set("light.a", "on", {"brightness": 100, "rgb_color": [1, 2, 3]})
    data = json_loads(json_dumps(state))
    assert data["entity_id"] == "light.a" and data["attributes"]["rgb_color"] == [1, 2, 3]
    back = State.from_dict(data)
    assert back == state and back.last_changed == state.last_changed


async def test_track_state_change_filters_from_to(machine) -> None:
    bus, states, _ = machine
    calls: list[tuple[str, str | None, str | None]] = []
    remove = async_track_state_change(
        bus,
        ["light.a", "light.b"],
        lambda eid, old, new: calls.append((eid, old and old.state, new and new.state)),
        "off",
        "on",
    )
    states.async_set("light.a", "off")
    states.async_set("light.a", "on")
    states.async_set("light.b", "on")  # from None, not "off"
    states.async_set("light.c", "off")
    states.async_set("light.c", "on")
    assert calls == [("light.a", "off", "on")]
    remove()
    states.async_set("light.a", "off")
    states.async_set("light.a", "on")
    assert len(calls) == 1


async def test_track_state_change_event_only_for_tracked(machine) -> None:
    bus, states, _ = machine
    seen: list[str] = []
    async_track_state_change_event(bus, "sensor.x", lambda e: seen.append(e.data["entity_id"]))
    states.async_set("sensor.y", "1")
    states.async_set("sensor.x", "1")
    assert seen == ["sensor.x"]
