"""No system bus, no BlueZ, no adapter, Bluetooth off: a clear message, the rest of the hub fine."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from hub.core import Hub
from hub.services import Target

from .adverts import BTHOME_UUID, bthome_objects, bthome_v2
from .bluez_mock import BlueZMock
from .helpers import wait_for, wait_state

MakeHub = Callable[..., Awaitable[Hub]]
SENSOR = "A4:C1:38:00:00:31"
DEVICES = {"devices": [{"address": SENSOR, "kind": "bthome", "name": "Porch"}]}


def _ble_notice(hub: Hub) -> str | None:
    for note in hub.notifications.all():
        if note.id == "ble_unavailable":
            return note.message
    return None


async def _demo_still_works(hub: Hub) -> None:
    lights = [e for e in hub.entities.for_integration("demo") if e.domain == "light"]
    assert lights, "the demo home has lights"
    entity_id = lights[0].entity_id
    assert entity_id is not None
    await hub.services.async_call("light", "turn_on", target=Target(entity_ids=(entity_id,)))
    await wait_for(lambda: hub.states.get(entity_id).state == "on", "the demo light")  # type: ignore[union-attr]


async def test_no_system_bus_leaves_the_hub_running(
    make_hub: MakeHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={tmp_path}/no-such-bus")
    hub = await make_hub(DEVICES, demo={"delay": 0, "tick": 3600})
    assert hub.state == "running"
    assert "ble" in hub.integrations and "demo" in hub.integrations
    notice = _ble_notice(hub)
    assert notice is not None and "no D-Bus system bus" in notice
    await _demo_still_works(hub)
    session = hub.pairing.async_start(["ble"], duration=0.1)
    steps = [s async for s in hub.pairing.async_iterate(session)]
    assert steps[0].stage == "failed" and "no D-Bus system bus" in steps[0].message


async def test_no_adapter_until_one_is_plugged_in(bluez_bus: BlueZMock, make_hub: MakeHub) -> None:
    hub = await make_hub(DEVICES, demo={"delay": 0, "tick": 3600})
    notice = _ble_notice(hub)
    assert notice is not None and "adapter" in notice
    await _demo_still_works(hub)

    # The user plugs in a dongle: the retry picks it up and the notice goes away.
    await bluez_bus.add_adapter()
    await wait_for(lambda: _ble_notice(hub) is None, "the BLE notice to be dismissed")
    await bluez_bus.add_device(
        SENSOR, service_data={BTHOME_UUID: bthome_v2(bthome_objects(temperature=4.5))}
    )
    await wait_state(hub, SENSOR, "temperature", "4.5")


async def test_no_bluetoothd_on_the_bus(make_hub: MakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    bus = BlueZMock(with_bluez=False)
    await bus.async_start()
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", bus.address)
    try:
        hub = await make_hub(DEVICES)
        notice = _ble_notice(hub)
        assert notice is not None and "bluetoothd" in notice
        await hub.async_stop()
    finally:
        await bus.async_stop()


async def test_bluetooth_switched_off_then_on(bluez_bus: BlueZMock, make_hub: MakeHub) -> None:
    await bluez_bus.add_adapter(powered=False)
    hub = await make_hub(DEVICES)
    notice = _ble_notice(hub)
    assert notice is not None and "switched off" in notice and "hci0" in notice
    await bluez_bus.set_powered(True)
    await wait_for(lambda: _ble_notice(hub) is None, "the BLE notice to be dismissed")
    await bluez_bus.add_device(
        SENSOR, service_data={BTHOME_UUID: bthome_v2(bthome_objects(temperature=7.0))}
    )
    await wait_state(hub, SENSOR, "temperature", "7.0")


async def test_bluetooth_switched_off_while_running(bluez: BlueZMock, make_hub: MakeHub) -> None:
    hub = await make_hub(DEVICES)
    await bluez.add_device(
        SENSOR, service_data={BTHOME_UUID: bthome_v2(bthome_objects(temperature=1.0))}
    )
    await wait_state(hub, SENSOR, "temperature", "1.0")
    integration = hub.integrations["ble"]

    await bluez.set_powered(False)
    await wait_for(lambda: _ble_notice(hub) is not None, "the switched-off notice")
    assert "switched off" in (_ble_notice(hub) or "")
    await wait_for(lambda: not integration.scanner.running, "the scanner to stop")  # type: ignore[attr-defined]
    assert await bluez.monitors() == []

    await bluez.set_powered(True)
    await wait_for(lambda: _ble_notice(hub) is None, "the notice to be dismissed")
    await bluez.advertise(
        SENSOR, service_data={BTHOME_UUID: bthome_v2(bthome_objects(temperature=2.0))}
    )
    await wait_state(hub, SENSOR, "temperature", "2.0")
