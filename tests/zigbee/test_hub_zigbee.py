"""Hearth over real zigpy over the simulated radio: pairing, services -> frames, reports -> states."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from zigpy.zcl import foundation
from zigpy.zcl.clusters.closures import DoorLock
from zigpy.zcl.clusters.general import LevelControl, OnOff
from zigpy.zcl.clusters.hvac import Thermostat
from zigpy.zcl.clusters.lighting import Color
from zigpy.zcl.clusters.measurement import OccupancySensing, TemperatureMeasurement
from zigpy.zcl.clusters.security import IasZone

from hub.core import Hub
from hub.services import Target
from integrations.zigbee import ZigbeeIntegration
from integrations.zigbee.sim import SimAir, SimStick, VirtualDevice, forget_stick, get_stick
from integrations.zigbee.sim.profiles import KINDS, make_device

from .conftest import wait_for

_paths = itertools.count()


class Home:
    """A hub running the zigbee integration on a private simulated air."""

    def __init__(self, hub: Hub, stick: SimStick) -> None:
        self.hub = hub
        self.stick = stick
        self.zigbee: ZigbeeIntegration = hub.integrations["zigbee"]  # type: ignore[assignment]

    async def pair(self, *devices: VirtualDevice, duration: float = 2.0) -> list[Any]:
        """Open joining, join the devices, return the progress steps once all are ready."""
        steps: list[Any] = []

        async def run() -> None:
            async for step in self.zigbee.async_pair(
                __import__("hub.integration").integration.PairingRequest("zigbee", duration)
            ):
                steps.append(step)

        task = asyncio.ensure_future(run())
        await wait_for(lambda: bool(steps))
        for device in devices:
            assert self.stick.air.join(device, self.stick)
        names = {str(d.ieee) for d in devices}
        await wait_for(
            lambda: (
                names <= {s.message.split()[0] for s in steps if False}
                or sum(1 for s in steps if s.stage == "ready") >= len(devices)
            ),
            timeout=60,
        )
        await task
        return steps

    def entity(self, vdev: VirtualDevice, domain: str) -> str:
        for entity in self.zigbee.gateway.entities[vdev.ieee]:
            if entity.domain == domain:
                assert entity.entity_id is not None
                return entity.entity_id
        raise AssertionError(f"no {domain} entity for {vdev}")

    def frames_to(
        self, vdev: VirtualDevice, cluster_id: int
    ) -> list[tuple[foundation.ZCLHeader, bytes]]:
        out = []
        for packet in self.stick.sent:
            if (
                packet.dst is not None
                and packet.dst.address == vdev.nwk
                and packet.cluster_id == cluster_id
            ):
                hdr, _ = foundation.ZCLHeader.deserialize(packet.data.serialize())
                out.append((hdr, packet.data.serialize()))
        return out


@pytest.fixture
async def home(hub_factory: Any, tmp_path: Path) -> AsyncIterator[Home]:
    path = f"sim://hub-{next(_paths)}"
    stick = get_stick(path, SimAir())
    ota = tmp_path / "ota"
    ota.mkdir()
    hub = await hub_factory(
        zigbee={
            "device": path,
            "ota_dir": str(ota),
            "availability_interval": 0.1,
            "reconnect_max": 0.2,
        }
    )
    yield Home(hub, stick)
    for device in stick.air.devices.values():
        device.stop()
    forget_stick(path)


def state(home: Home, entity_id: str) -> Any:
    return home.hub.states.get(entity_id)


async def until_state(home: Home, entity_id: str | None, value: str, **attrs: Any) -> None:
    assert entity_id is not None

    def ok() -> bool:
        st = state(home, entity_id)
        return (
            st is not None
            and st.state == value
            and all(st.attributes.get(k) == v for k, v in attrs.items())
        )

    await wait_for(ok)


async def call(home: Home, domain: str, service: str, entity_id: str, **data: Any) -> None:
    await home.hub.services.async_call(
        domain, service, data, target=Target(entity_ids=(entity_id,))
    )


async def test_pairing_every_device_type_reports_progress(home: Home) -> None:
    devices = [make_device(kind) for kind in sorted(KINDS)]
    steps = await home.pair(*devices, duration=3.0)
    stages = [s.stage for s in steps]
    assert stages[0] == "searching" and stages[-1] == "done"
    for stage in ("joined", "interviewing", "configured", "ready"):
        assert stages.count(stage) == len(devices)
    ready = [s for s in steps if s.stage == "ready"]
    assert all(s.entity_ids and s.device_id and s.suggested_name for s in ready)
    # Reporting was configured on the devices themselves by real ZCL frames.
    bulb = devices[sorted(KINDS).index("colour_bulb")]
    assert bulb.cluster(OnOff.cluster_id).reporting and bulb.cluster(OnOff.cluster_id).bound
    contact = devices[sorted(KINDS).index("door_contact")]
    assert contact.get(IasZone.cluster_id, "zone_state") == IasZone.ZoneState.Enrolled
    for device in devices:
        entry = home.hub.registry.devices.find_by_identifier(("zigbee", str(device.ieee)))
        assert entry is not None and entry.model == device.model


async def test_light_services_send_zcl_and_reports_change_state(home: Home) -> None:
    bulb = make_device("colour_bulb")
    await home.pair(bulb)
    light = home.entity(bulb, "light")
    await until_state(home, light, "off")
    await call(home, "light", "turn_on", light, brightness=128)
    hdr, data = home.frames_to(bulb, LevelControl.cluster_id)[-1]
    assert hdr.command_id == 0x04 and data[3] == round(128 * 254 / 255)
    await until_state(home, light, "on", brightness=128)
    await call(home, "light", "turn_on", light, color_temp_kelvin=2700)
    hdr, data = home.frames_to(bulb, Color.cluster_id)[-1]
    assert hdr.command_id == 0x0A and int.from_bytes(data[3:5], "little") == round(1e6 / 2700)
    await wait_for(lambda: bulb.get(Color.cluster_id, "color_temperature") == round(1e6 / 2700))
    await until_state(home, light, "on", color_temp_kelvin=round(1e6 / round(1e6 / 2700)))
    await call(home, "light", "turn_off", light)
    assert home.frames_to(bulb, OnOff.cluster_id)[-1][0].command_id == 0x00
    await until_state(home, light, "off")
    bulb.set_attribute(OnOff.cluster_id, "on_off", True)  # someone flips the wall switch
    await until_state(home, light, "on")


async def test_plug_lock_thermostat_sensors_button(home: Home) -> None:
    kinds = [
        "metering_plug",
        "door_lock",
        "thermostat",
        "temp_humidity_sensor",
        "door_contact",
        "motion_sensor",
        "wireless_button",
        "dimmable_bulb",
    ]
    plug, lock, trv, th, door, pir, button, dim = (make_device(k) for k in kinds)
    await home.pair(plug, lock, trv, th, door, pir, button, dim)

    switch = home.entity(plug, "switch")
    await call(home, "switch", "turn_on", switch)
    assert home.frames_to(plug, OnOff.cluster_id)[-1][0].command_id == 0x01
    await until_state(home, switch, "on")
    plug.set_attribute(0x0B04, "active_power", 42)
    power = next(
        e.entity_id for e in home.zigbee.gateway.entities[plug.ieee] if e.device_class == "power"
    )
    await until_state(home, power, "42.0")

    door_lock = home.entity(lock, "lock")
    await until_state(home, door_lock, "locked")
    await call(home, "lock", "unlock", door_lock)
    assert home.frames_to(lock, DoorLock.cluster_id)[-1][0].command_id == 0x01
    await until_state(home, door_lock, "unlocked")

    climate = home.entity(trv, "climate")
    await call(home, "climate", "set_temperature", climate, temperature=22.5)
    hdr, _ = home.frames_to(trv, Thermostat.cluster_id)[-1]
    assert hdr.command_id == foundation.GeneralCommand.Write_Attributes
    await until_state(home, climate, "heat", temperature=22.5)
    assert trv.get(Thermostat.cluster_id, "occupied_heating_setpoint") == 2250

    temp = next(
        e.entity_id
        for e in home.zigbee.gateway.entities[th.ieee]
        if e.device_class == "temperature"
    )
    th.set_attribute(TemperatureMeasurement.cluster_id, "measured_value", 2345)
    await until_state(home, temp, "23.45")

    contact = home.entity(door, "binary_sensor")
    door.send_command(
        IasZone,
        "status_change_notification",
        from_server=True,
        zone_status=IasZone.ZoneStatus.Alarm_1,
        extended_status=0,
        zone_id=0,
        delay=0,
    )
    await until_state(home, contact, "on", device_class="door")

    motion = home.entity(pir, "binary_sensor")
    pir.set_attribute(OccupancySensing.cluster_id, "occupancy", 1)
    await until_state(home, motion, "on")

    presses: list[Any] = []
    home.hub.bus.async_listen("zigbee_button", presses.append)
    button.send_command(OnOff, "toggle")
    await wait_for(lambda: bool(presses))
    assert presses[0].data["command"] == "toggle"
    dim_light = home.entity(dim, "light")
    await call(home, "light", "turn_on", dim_light, brightness_pct=50)
    await until_state(home, dim_light, "on", brightness=round(50 * 255 / 100))


async def test_hundred_device_network_joins_and_is_configured(home: Home) -> None:
    kinds = sorted(KINDS)
    devices = [make_device(kinds[i % len(kinds)], i) for i in range(100)]
    steps = await home.pair(*devices, duration=5.0)
    assert sum(1 for s in steps if s.stage == "ready") == 100
    assert not [s for s in steps if s.stage == "failed"]
    assert len(home.zigbee.gateway.entities) == 100
    for device in devices:
        if device.kind in ("colour_bulb", "dimmable_bulb", "metering_plug"):
            assert device.cluster(OnOff.cluster_id).reporting
