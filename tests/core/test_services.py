"""Service registry: validation, targeting by entity/device/area, typed errors."""

from __future__ import annotations

import pytest

from hub.const import EVENT_CALL_SERVICE
from hub.context import Context
from hub.core import Hub
from hub.errors import DeviceUnavailable, EntityNotFound, InvalidServiceData, UnknownService
from hub.schema import Field, Schema
from hub.services import ServiceCall, Target


async def test_custom_service_validates_and_returns_response(hub: Hub) -> None:
    calls: list[ServiceCall] = []

    async def handler(call: ServiceCall) -> dict[str, int]:
        calls.append(call)
        return {"doubled": call.data["n"] * 2}

    hub.services.async_register(
        "test", "double", handler, Schema({"n": Field("int", required=True, min=0)})
    )
    assert await hub.services.async_call("test", "double", {"n": "21"}) == {"doubled": 42}
    assert calls[0].data == {"n": 21}

    with pytest.raises(InvalidServiceData) as err:
        await hub.services.async_call("test", "double", {"n": -1})
    assert err.value.errors == {"n": "must be at least 0"}
    with pytest.raises(InvalidServiceData) as err:
        await hub.services.async_call("test", "double", {"m": 1})
    assert err.value.errors == {"m": "unknown field", "n": "required"}
    with pytest.raises(InvalidServiceData):
        await hub.services.async_call("test", "double", ["not", "a", "mapping"])  # type: ignore[arg-type]


async def test_unknown_service(hub: Hub) -> None:
    with pytest.raises(UnknownService) as err:
        await hub.services.async_call("nope", "nothing")
    assert err.value.as_dict()["code"] == "unknown_service"


async def test_call_by_entity_fires_call_service_with_context(demo_hub: Hub) -> None:
    seen = []
    demo_hub.bus.async_listen(EVENT_CALL_SERVICE, seen.append)
    ctx = Context(user_id="anna", origin="test")
    await demo_hub.services.async_call(
        "light",
        "turn_on",
        {"brightness_pct": 50},
        target={"entity_id": "light.kitchen_light"},
        context=ctx,
    )
    state = demo_hub.states.get("light.kitchen_light")
    assert state is not None and state.state == "on"
    assert state.attributes["brightness"] == 128
    assert state.context.user_id == "anna"
    assert seen[0].data["entity_ids"] == ["light.kitchen_light"]


async def test_call_by_area_reaches_every_light_in_it(demo_hub: Hub) -> None:
    await demo_hub.services.async_call("light", "turn_on", target={"area_id": "living_room"})
    await demo_hub.services.async_call("light", "turn_on", target={"area_id": "Bedroom"})  # by name
    states = {s.entity_id: s.state for s in demo_hub.states.all("light")}
    assert states == {
        "light.kitchen_light": "off",
        "light.living_room_lamp": "on",
        "light.bedroom_light": "on",
    }


async def test_call_by_device(demo_hub: Hub) -> None:
    entry = demo_hub.registry.entities.get("switch.coffee_maker")
    assert entry is not None and entry.device_id
    await demo_hub.services.async_call(
        "switch", "turn_on", target=Target(device_ids=(entry.device_id,))
    )
    state = demo_hub.states.get("switch.coffee_maker")
    assert (
        state is not None and state.state == "on" and state.attributes["current_power_w"] == 1450.0
    )


async def test_generic_turn_off_in_area(demo_hub: Hub) -> None:
    await demo_hub.services.async_call("hub", "turn_on", target={"area_id": "kitchen"})
    assert demo_hub.states.get("light.kitchen_light").state == "on"  # type: ignore[union-attr]
    assert demo_hub.states.get("switch.coffee_maker").state == "on"  # type: ignore[union-attr]
    await demo_hub.services.async_call("hub", "turn_off", target={"area_id": "kitchen"})
    assert demo_hub.states.get("switch.coffee_maker").state == "off"  # type: ignore[union-attr]


async def test_target_errors(demo_hub: Hub) -> None:
    with pytest.raises(EntityNotFound):
        await demo_hub.services.async_call(
            "light", "turn_on", target={"entity_id": "light.nowhere"}
        )
    with pytest.raises(EntityNotFound):
        await demo_hub.services.async_call("light", "turn_on", target={"area_id": "attic"})
    with pytest.raises(EntityNotFound):
        await demo_hub.services.async_call("light", "turn_on", target={"device_id": "nope"})
    with pytest.raises(InvalidServiceData):
        await demo_hub.services.async_call(
            "light", "turn_on", target={"entity_id": "switch.coffee_maker"}
        )
    with pytest.raises(InvalidServiceData):
        await demo_hub.services.async_call("light", "turn_on")  # no target
    with pytest.raises(InvalidServiceData):
        await demo_hub.services.async_call("light", "turn_on", target={"room": "x"})
    with pytest.raises(InvalidServiceData) as err:
        await demo_hub.services.async_call(
            "light",
            "turn_on",
            {"rgb_color": [300, 0, 0]},
            target={"entity_id": "light.living_room_lamp"},
        )
    assert "rgb_color" in err.value.errors


async def test_unavailable_device_error_reaches_caller(demo_hub: Hub) -> None:
    entity = demo_hub.entities.get("light.bedroom_light")
    assert entity is not None
    entity.async_set_available(False)
    assert demo_hub.states.get("light.bedroom_light").state == "unavailable"  # type: ignore[union-attr]
    with pytest.raises(DeviceUnavailable) as err:
        await demo_hub.services.async_call(
            "light", "turn_on", target={"entity_id": "light.bedroom_light"}
        )
    assert err.value.code == "unavailable"


async def test_services_describe_themselves(demo_hub: Hub) -> None:
    svc = demo_hub.services.get("lock", "unlock")
    assert svc is not None and svc.risky
    desc = demo_hub.services.get("light", "turn_on").describe()  # type: ignore[union-attr]
    assert desc["schema"]["properties"]["brightness"]["maximum"] == 255
