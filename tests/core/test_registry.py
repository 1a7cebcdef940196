"""Registry: stable ids across restarts, rename, move between areas, aliases."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.const import EVENT_REGISTRY_UPDATED
from hub.errors import EntityNotFound

from ..conftest import HubFactory


async def test_ids_names_and_areas_survive_restart(hub_factory: HubFactory, tmp_path: Path) -> None:
    config_dir = tmp_path / "home"
    hub = await hub_factory(config_dir=config_dir, demo={"delay": 0, "tick": 3600})
    entry = hub.registry.entities.get("light.kitchen_light")
    assert entry is not None
    device_id = entry.device_id
    assert device_id
    hallway = hub.registry.areas.find("hallway")
    assert hallway is not None
    await hub.registry.entities.async_update(
        "light.kitchen_light", name_by_user="Counter lights", aliases=("worktop", "counter")
    )
    await hub.registry.devices.async_update(device_id, area_id=hallway.id)
    await hub.registry.areas.async_update(
        "bedroom", name="Sleeping room", aliases=("master bedroom",)
    )
    await hub.async_stop()

    hub2 = await hub_factory(config_dir=config_dir, demo={"delay": 0, "tick": 3600})
    entry2 = hub2.registry.entities.get("light.kitchen_light")
    assert entry2 is not None
    assert entry2.device_id == device_id
    assert entry2.name == "Counter lights" and entry2.aliases == ("worktop", "counter")
    assert hub2.registry.entity_area_id("light.kitchen_light") == "hallway"
    assert hub2.registry.areas.get("bedroom").name == "Sleeping room"  # type: ignore[union-attr]
    assert hub2.registry.areas.find("master bedroom").id == "bedroom"  # type: ignore[union-attr]
    # The user's name reaches the state the dashboard and voice see.
    assert hub2.states.get("light.kitchen_light").name == "Counter lights"  # type: ignore[union-attr]
    # Same number of entities: nothing was registered twice.
    assert len(hub2.registry.entities.all()) == len(hub.registry.entities.all())


async def test_registry_changes_fire_events(hub_factory: HubFactory) -> None:
    hub = await hub_factory()
    seen = []
    hub.bus.async_listen(EVENT_REGISTRY_UPDATED, seen.append)
    area = await hub.registry.areas.async_create("Garage")
    assert (await hub.registry.areas.async_create("garage")) == area  # same name: same area
    await hub.registry.areas.async_update(area.id, name="Workshop")
    await hub.registry.areas.async_delete(area.id)
    assert [(e.data["registry"], e.data["action"]) for e in seen] == [
        ("area", "create"),
        ("area", "update"),
        ("area", "remove"),
    ]


async def test_unknown_ids_are_typed_errors(hub_factory: HubFactory) -> None:
    hub = await hub_factory()
    with pytest.raises(EntityNotFound):
        await hub.registry.entities.async_update("light.none", name_by_user="x")
    with pytest.raises(EntityNotFound):
        await hub.registry.devices.async_update("nope", area_id="x")


async def test_name_collisions_get_distinct_entity_ids(hub_factory: HubFactory) -> None:
    hub = await hub_factory()
    a = await hub.registry.entities.async_get_or_create("x", "light", "u1", name="Lamp")
    b = await hub.registry.entities.async_get_or_create("x", "light", "u2", name="Lamp")
    c = await hub.registry.entities.async_get_or_create("x", "light", "u1", name="Lamp")
    zh = await hub.registry.entities.async_get_or_create("x", "light", "u3", name="客厅灯")
    assert (a.entity_id, b.entity_id) == ("light.lamp", "light.lamp_2")
    assert c.entity_id == a.entity_id
    assert zh.entity_id.startswith("light.") and zh.name == "客厅灯"
