"""The demo home: every device answers service calls and behaves over time."""

from __future__ import annotations

import pytest

from hub.clock import FakeClock
from hub.core import Hub
from hub.errors import InvalidServiceData

from ..conftest import HubFactory


def state(hub: Hub, entity_id: str):
    value = hub.states.get(entity_id)
    assert value is not None, entity_id
    return value


async def test_demo_home_has_rooms_and_devices(demo_hub: Hub) -> None:
    areas = {a.name for a in demo_hub.registry.areas.all()}
    assert {"Kitchen", "Living Room", "Bedroom", "Hallway"} <= areas
    ids = set(demo_hub.states.entity_ids())
    for eid in (
        "light.kitchen_light",
        "light.living_room_lamp",
        "light.bedroom_light",
        "switch.coffee_maker",
        "climate.bedroom_thermostat",
        "sensor.kitchen_temperature",
        "sensor.bedroom_humidity",
        "binary_sensor.front_door",
        "lock.front_door_lock",
        "appliance.fridge",
        "vacuum.robot_cleaner",
        "todo.shopping_list",
    ):
        assert eid in ids
    assert demo_hub.registry.entity_area_id("light.living_room_lamp") == "living_room"
    assert state(demo_hub, "sensor.kitchen_temperature").attributes["unit_of_measurement"] == "°C"


async def test_colour_lamp(demo_hub: Hub) -> None:
    target = {"entity_id": "light.living_room_lamp"}
    await demo_hub.services.async_call(
        "light", "turn_on", {"rgb_color": [255, 0, 0], "brightness": 40}, target=target
    )
    lamp = state(demo_hub, "light.living_room_lamp")
    assert lamp.state == "on" and lamp.attributes["rgb_color"] == [255, 0, 0]
    assert lamp.attributes["color_mode"] == "rgb" and lamp.attributes["brightness"] == 40
    await demo_hub.services.async_call(
        "light", "turn_on", {"color_temp_kelvin": 4000}, target=target
    )
    assert state(demo_hub, "light.living_room_lamp").attributes["color_temp_kelvin"] == 4000
    await demo_hub.services.async_call("light", "toggle", target=target)
    assert state(demo_hub, "light.living_room_lamp").state == "off"


async def test_thermostat_and_lock(demo_hub: Hub) -> None:
    await demo_hub.services.async_call(
        "climate",
        "set_temperature",
        {"temperature": 22.5},
        target={"entity_id": "climate.bedroom_thermostat"},
    )
    assert state(demo_hub, "climate.bedroom_thermostat").attributes["temperature"] == 22.5
    await demo_hub.services.async_call(
        "lock", "unlock", target={"entity_id": "lock.front_door_lock"}
    )
    assert state(demo_hub, "lock.front_door_lock").state == "unlocked"
    await demo_hub.services.async_call("lock", "lock", target={"entity_id": "lock.front_door_lock"})
    assert state(demo_hub, "lock.front_door_lock").state == "locked"


async def test_fridge(demo_hub: Hub) -> None:
    target = {"entity_id": "appliance.fridge"}
    await demo_hub.services.async_call(
        "appliance",
        "set_temperature",
        {"compartment": "freezer", "temperature": -20},
        target=target,
    )
    await demo_hub.services.async_call(
        "appliance", "set_mode", {"mode": "fast_freeze"}, target=target
    )
    await demo_hub.services.async_call("appliance", "add_item", {"item": "yoghurt"}, target=target)
    fridge = state(demo_hub, "appliance.fridge")
    assert fridge.attributes["compartments"]["freezer"]["target"] == -20
    assert fridge.attributes["modes"] == ["fast_freeze"]
    assert "yoghurt" in fridge.attributes["inventory"]
    with pytest.raises(InvalidServiceData):
        await demo_hub.services.async_call(
            "appliance",
            "set_temperature",
            {"compartment": "fridge", "temperature": 20},
            target=target,
        )
    with pytest.raises(InvalidServiceData):
        await demo_hub.services.async_call(
            "appliance", "set_mode", {"mode": "disco"}, target=target
        )
    await demo_hub.services.async_call("demo", "simulate", {"device": "fridge_door", "value": True})
    assert state(demo_hub, "binary_sensor.fridge_door").state == "on"
    assert state(demo_hub, "appliance.fridge").attributes["door_open"] is True


async def test_shopping_list(demo_hub: Hub) -> None:
    target = {"entity_id": "todo.shopping_list"}
    await demo_hub.services.async_call("todo", "add_item", {"item": "Milk"}, target=target)
    await demo_hub.services.async_call("todo", "add_item", {"item": "milk"}, target=target)
    assert state(demo_hub, "todo.shopping_list").attributes["items"] == ["Milk"]


async def test_robot_cleaner_moves_through_states(hub_factory: HubFactory) -> None:
    clock = FakeClock()
    hub = await hub_factory(clock=clock, demo={"delay": 0, "tick": 1, "cleaner_room_seconds": 10})
    finished = []
    hub.bus.async_listen("vacuum_cleaning_finished", finished.append)
    target = {"entity_id": "vacuum.robot_cleaner"}
    await hub.services.async_call("vacuum", "clean_area", {"area": "kitchen"}, target=target)
    vac = state(hub, "vacuum.robot_cleaner")
    assert vac.state == "cleaning" and vac.attributes["current_area"] == "Kitchen"
    await clock.async_advance(5)
    assert state(hub, "vacuum.robot_cleaner").attributes["battery_level"] < 100
    await clock.async_advance(6)
    assert state(hub, "vacuum.robot_cleaner").state == "returning"
    assert len(finished) == 1
    await clock.async_advance(5)
    vac = state(hub, "vacuum.robot_cleaner")
    assert vac.state == "docked" and vac.attributes["status"] == "charging"
    await clock.async_advance(20)
    assert state(hub, "vacuum.robot_cleaner").attributes["battery_level"] == 100
    with pytest.raises(InvalidServiceData):
        await hub.services.async_call("vacuum", "clean_area", {"area": "garage"}, target=target)


async def test_commands_take_a_realistic_delay(hub_factory: HubFactory) -> None:
    clock = FakeClock()
    hub = await hub_factory(clock=clock, demo={"delay": 0.3, "tick": 3600})
    import asyncio

    call = asyncio.ensure_future(
        hub.services.async_call("light", "turn_on", target={"entity_id": "light.kitchen_light"})
    )
    await clock.async_advance(0.1)
    assert state(hub, "light.kitchen_light").state == "off"
    await clock.async_advance(0.3)
    await call
    assert state(hub, "light.kitchen_light").state == "on"


async def test_reset_restores_first_run_state(demo_hub: Hub) -> None:
    await demo_hub.services.async_call(
        "light", "turn_on", target={"entity_id": "light.kitchen_light"}
    )
    await demo_hub.services.async_call("demo", "reset")
    assert state(demo_hub, "light.kitchen_light").state == "off"
    assert demo_hub.entities.get("light.kitchen_light") is not None
