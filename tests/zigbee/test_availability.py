"""Availability from last-seen: per device type timeouts, measured on the hub's (fake) clock."""

from __future__ import annotations

from typing import Any

from zigpy.zcl import foundation
from zigpy.zcl.clusters.general import OnOff
from zigpy.zcl.clusters.measurement import TemperatureMeasurement

from hub.clock import FakeClock
from hub.const import EVENT_DEVICE_UNAVAILABLE
from integrations.zigbee.sim import VirtualDevice
from integrations.zigbee.sim.profiles import make_device

from .conftest import Home, HomeFactory, wait_for

MAINS, BATTERY, CHECK = 600.0, 3600.0, 60.0


async def test_silent_devices_go_unavailable_after_their_type_timeout(
    make_home: HomeFactory, fake_clock: FakeClock
) -> None:
    home = await make_home(
        clock=fake_clock,
        mains_timeout=MAINS,
        battery_timeout=BATTERY,
        availability_interval=CHECK,
    )
    plug, sensor = make_device("metering_plug"), make_device("temp_humidity_sensor")
    await home.pair(plug, sensor)
    switch = home.entity(plug, "switch")
    temp = home.entity(sensor, "sensor", "temperature")
    silent: list[Any] = []
    home.hub.bus.async_listen(EVENT_DEVICE_UNAVAILABLE, silent.append)

    await fake_clock.async_advance(MAINS - CHECK)
    assert home.state(switch).state != "unavailable"
    # Past the mains timeout: the plug (a router) is unavailable, the battery sensor is not.
    await fake_clock.async_advance(2 * CHECK)
    await home.until_state(switch, "unavailable")
    assert home.state(temp).state != "unavailable"
    assert [e.data["ieee"] for e in silent] == [str(plug.ieee)]
    assert silent[0].data["reason"] == "silent"

    # The plug speaks again: available at the next check, with the reported value.
    before = _stamp(home, plug)
    plug.set_attribute(OnOff.cluster_id, "on_off", True, force_report=True)
    await wait_for(lambda: _stamp(home, plug) != before)
    await fake_clock.async_advance(CHECK)
    await home.until_state(switch, "on")

    # Past the battery timeout the sensor goes too; a report brings it back.
    await fake_clock.async_advance(BATTERY)
    await home.until_state(temp, "unavailable")
    assert str(sensor.ieee) in [e.data["ieee"] for e in silent]
    before = _stamp(home, sensor)
    sensor.set_attribute(TemperatureMeasurement.cluster_id, "measured_value", 1950)
    await wait_for(lambda: _stamp(home, sensor) != before)
    await fake_clock.async_advance(CHECK)
    await home.until_state(temp, "19.5")


def _stamp(home: Home, vdev: VirtualDevice) -> float | None:
    """zigpy's (wall clock) last-seen stamp of a device: it changes when a frame arrives."""
    app = home.zigbee.gateway.app
    assert app is not None
    return app.devices[vdev.ieee].last_seen


async def test_attributes_a_device_will_not_report_are_polled(
    make_home: HomeFactory, fake_clock: FakeClock
) -> None:
    home = await make_home(clock=fake_clock, poll_interval=300.0, availability_interval=CHECK)
    plug = make_device("metering_plug")
    plug.cluster(OnOff.cluster_id).reportable = False  # firmware refuses reporting on/off
    steps = await home.pair(plug)
    configured = next(s for s in steps if s.stage == "configured")
    assert "1 polled" in configured.message
    gateway = home.zigbee.gateway
    assert gateway.polled[plug.ieee] == ((1, OnOff.cluster_id, "on_off"),)
    switch = home.entity(plug, "switch")
    await home.until_state(switch, "off")

    plug.set_attribute(OnOff.cluster_id, "on_off", True)  # pressed on the device: no report
    reads_before = len(_reads(home, plug))
    await fake_clock.async_advance(299)
    assert home.state(switch).state == "off" and len(_reads(home, plug)) == reads_before
    await fake_clock.async_advance(1)  # the poll is due: a real Read_Attributes goes out
    await home.until_state(switch, "on")
    assert len(_reads(home, plug)) > reads_before
    # Attributes that do report (the power sensor) are never polled.
    assert all(cluster == OnOff.cluster_id for _, cluster, _ in gateway.polled[plug.ieee])


def _reads(home: Home, vdev: VirtualDevice) -> list[Any]:
    return [
        hdr
        for hdr, _ in home.frames_to(vdev, OnOff.cluster_id)
        if hdr.command_id == foundation.GeneralCommand.Read_Attributes
    ]
