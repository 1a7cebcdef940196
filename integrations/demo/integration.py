"""The demo home: kitchen, living room, bedroom and hallway with devices that behave."""

from __future__ import annotations

import asyncio
import random
from typing import Any, ClassVar

from hub.entity import Entity
from hub.errors import InvalidServiceData
from hub.integration import Integration, Manifest
from hub.schema import Field, Schema
from hub.services import ServiceCall

from .cleaner import DemoCleaner
from .devices import (
    DemoBinarySensor,
    DemoFridge,
    DemoLight,
    DemoLock,
    DemoMixin,
    DemoPlug,
    DemoSensor,
    DemoShoppingList,
    DemoThermostat,
)

ROOMS = ("Kitchen", "Living Room", "Bedroom", "Hallway")


class DemoIntegration(Integration):
    """Creates the simulated home and runs its simulation."""

    manifest = Manifest(domain="demo", name="Demo home", description="A simulated home")
    config_schema: ClassVar = Schema(
        {
            "delay": Field("float", min=0, max=10, default=0.2, description="command latency, s"),
            "tick": Field("float", min=0.01, max=3600, default=5.0, description="simulation step"),
            "cleaner_room_seconds": Field("float", min=0.01, default=30.0),
            "seed": Field("int", default=7),
        }
    )

    def __init__(self, hub: Any, config: Any) -> None:
        super().__init__(hub, config)
        self.devices: dict[str, Entity] = {}
        self._task: asyncio.Task[None] | None = None
        self._rng = random.Random(self.config.get("seed", 7))

    async def async_setup(self) -> None:
        await self._create()
        hub = self.hub
        hub.services.async_register(
            "demo", "reset", self._reset, description="Back to the first-run state", access="admin"
        )
        hub.services.async_register(
            "demo",
            "simulate",
            self._simulate,
            Schema(
                {
                    "device": Field(
                        "str", required=True, description="e.g. fridge_door, front_door"
                    ),
                    "value": Field("any", required=True),
                }
            ),
            description="Make a simulated sensor report a value",
            access="admin",
        )
        self._task = hub.async_create_task(self._simulation(), "demo-simulation")

    async def async_teardown(self) -> None:
        if self._task is not None:
            self._task.cancel()
        for entity in list(self.devices.values()):
            await entity.async_will_remove()

    async def _create(self) -> None:
        cfg = self.config
        clock = self.hub.clock
        for area in ROOMS:
            await self.hub.registry.areas.async_create(area)
        devices: list[Entity] = [
            DemoLight("kitchen_light", "Kitchen light", "Kitchen"),
            DemoLight("living_room_lamp", "Living room lamp", "Living Room", color=True),
            DemoLight("bedroom_light", "Bedroom light", "Bedroom"),
            DemoPlug("coffee_maker", "Coffee maker", "Kitchen", load_w=1450.0),
            DemoThermostat("bedroom_thermostat", "Bedroom thermostat", "Bedroom"),
            DemoSensor(
                "kitchen_temperature", "Kitchen temperature", "Kitchen", "temperature", "°C", 21.5
            ),
            DemoSensor("kitchen_humidity", "Kitchen humidity", "Kitchen", "humidity", "%", 48.0),
            DemoSensor(
                "bedroom_temperature", "Bedroom temperature", "Bedroom", "temperature", "°C", 19.0
            ),
            DemoSensor("bedroom_humidity", "Bedroom humidity", "Bedroom", "humidity", "%", 45.0),
            DemoBinarySensor("front_door", "Front door", "Hallway", "door"),
            DemoBinarySensor("someone_home", "Someone home", "Hallway", "occupancy", True),
            DemoLock("front_door_lock", "Front door lock", "Hallway"),
            DemoFridge("fridge", "Fridge", "Kitchen"),
            DemoBinarySensor("fridge_door", "Fridge door", "Kitchen", "door"),
            DemoCleaner(
                "robot_cleaner",
                "Robot cleaner",
                "Living Room",
                ROOMS,
                clock,
                room_seconds=cfg.get("cleaner_room_seconds", 30.0),
                tick=min(1.0, cfg.get("tick", 5.0)),
            ),
            DemoShoppingList(),
        ]
        for device in devices:
            if isinstance(device, DemoMixin):
                device.clock = clock
                device.delay = cfg.get("delay", 0.2)
            self.devices[device.unique_id] = device
        await self.hub.entities.async_add(self.domain, devices)

    async def _simulation(self) -> None:
        tick = self.config.get("tick", 5.0)
        while True:
            await self.hub.clock.async_sleep(tick)
            now = self.hub.clock.time()
            for device in self.devices.values():
                if isinstance(device, DemoSensor):
                    device.drift(self._rng)
                elif isinstance(device, DemoThermostat | DemoFridge):
                    device.step(now) if isinstance(device, DemoFridge) else device.step()

    async def _reset(self, call: ServiceCall) -> None:
        """Recreate every device in its first-run state (ids and names stay)."""
        for entity in list(self.devices.values()):
            await entity.async_will_remove()
            if entity.entity_id:
                await self.hub.entities.async_remove(entity.entity_id)
        self.devices.clear()
        await self._create()

    async def _simulate(self, call: ServiceCall) -> None:
        key = call.data["device"]
        value = call.data["value"]
        device = self.devices.get(key)
        if key == "fridge_door":
            fridge = self.devices["fridge"]
            assert isinstance(fridge, DemoFridge)
            fridge.set_door(_as_bool(value), self.hub.clock.time())
        if isinstance(device, DemoBinarySensor):
            device.is_on = _as_bool(value)
            device.async_write_state()
        elif isinstance(device, DemoSensor):
            try:
                device.native_value = float(value)
            except (TypeError, ValueError):
                raise InvalidServiceData("invalid value", {"value": "expected a number"}) from None
            device.async_write_state()
        elif device is None:
            known = ", ".join(sorted(self.devices))
            raise InvalidServiceData("unknown device", {"device": f"expected one of {known}"})
        else:
            raise InvalidServiceData("not simulatable", {"device": f"{key} is not a sensor"})


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "on", "open", "yes"}
    return bool(value)
