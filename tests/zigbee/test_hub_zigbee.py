"""Hearth over real zigpy over the simulated radio: pairing, services -> frames, reports -> states."""

from __future__ import annotations

from typing import Any

from zigpy.zcl import foundation
from zigpy.zcl.clusters.closures import DoorLock
from zigpy.zcl.clusters.general import LevelControl, OnOff
from zigpy.zcl.clusters.hvac import Thermostat
from zigpy.zcl.clusters.lighting import Color
from zigpy.zcl.clusters.measurement import OccupancySensing, TemperatureMeasurement
from zigpy.zcl.clusters.security import IasZone

from integrations.zigbee.sim.profiles import KINDS, make_device

from .conftest import Home, wait_for


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
    await home.until_state(light, "off")
    await home.call("light", "turn_on", light, brightness=128)
    hdr, data = home.frames_to(bulb, LevelControl.cluster_id)[-1]
    assert hdr.command_id == 0x04 and data[3] == round(128 * 254 / 255)
    await home.until_state(light, "on", brightness=128)
    await home.call("light", "turn_on", light, color_temp_kelvin=2700)
    hdr, data = home.frames_to(bulb, Color.cluster_id)[-1]
    assert hdr.command_id == 0x0A and int.from_bytes(data[3:5], "little") == round(1e6 / 2700)
    await wait_for(lambda: bulb.get(Color.cluster_id, "color_temperature") == round(1e6 / 2700))
    await home.until_state(light, "on", color_temp_kelvin=round(1e6 / round(1e6 / 2700)))
    await home.call("light", "turn_off", light)
    assert home.frames_to(bulb, OnOff.cluster_id)[-1][0].command_id == 0x00
    await home.until_state(light, "off")
    bulb.set_attribute(OnOff.cluster_id, "on_off", True)  # someone flips the wall switch
    await home.until_state(light, "on")


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
    await home.call("switch", "turn_on", switch)
    assert home.frames_to(plug, OnOff.cluster_id)[-1][0].command_id == 0x01
    await home.until_state(switch, "on")
    plug.set_attribute(0x0B04, "active_power", 42)
    power = home.entity(plug, "sensor", "power")
    await home.until_state(power, "42.0")

    door_lock = home.entity(lock, "lock")
    await home.until_state(door_lock, "locked")
    await home.call("lock", "unlock", door_lock)
    assert home.frames_to(lock, DoorLock.cluster_id)[-1][0].command_id == 0x01
    await home.until_state(door_lock, "unlocked")

    climate = home.entity(trv, "climate")
    await home.call("climate", "set_temperature", climate, temperature=22.5)
    hdr, _ = home.frames_to(trv, Thermostat.cluster_id)[-1]
    assert hdr.command_id == foundation.GeneralCommand.Write_Attributes
    await home.until_state(climate, "heat", temperature=22.5)
    assert trv.get(Thermostat.cluster_id, "occupied_heating_setpoint") == 2250

    temp = home.entity(th, "sensor", "temperature")
    th.set_attribute(TemperatureMeasurement.cluster_id, "measured_value", 2345)
    await home.until_state(temp, "23.45")

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
    await home.until_state(contact, "on", device_class="door")

    motion = home.entity(pir, "binary_sensor")
    pir.set_attribute(OccupancySensing.cluster_id, "occupancy", 1)
    await home.until_state(motion, "on")

    presses: list[Any] = []
    home.hub.bus.async_listen("zigbee_button", presses.append)
    button.send_command(OnOff, "toggle")
    await wait_for(lambda: bool(presses))
    assert presses[0].data["command"] == "toggle"
    dim_light = home.entity(dim, "light")
    await home.call("light", "turn_on", dim_light, brightness_pct=50)
    await home.until_state(dim_light, "on", brightness=round(50 * 255 / 100))


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
