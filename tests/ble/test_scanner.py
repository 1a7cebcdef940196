"""The shared scanner: real bleak against the mock BlueZ, passive/active, and no-Bluetooth cases."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from habluetooth import BluetoothServiceInfoBleak

from integrations.ble.errors import BluetoothUnavailable
from integrations.ble.scanner import SharedScanner

from .adverts import BTHOME_UUID, bthome_objects, bthome_v2
from .bluez_mock import BlueZMock

ADDR = "A4:C1:38:11:22:33"


async def _collect(scanner: SharedScanner) -> asyncio.Queue[BluetoothServiceInfoBleak]:
    queue: asyncio.Queue[BluetoothServiceInfoBleak] = asyncio.Queue()
    scanner.async_register_callback(queue.put_nowait)
    return queue


async def _next_from(
    queue: asyncio.Queue[BluetoothServiceInfoBleak], address: str
) -> BluetoothServiceInfoBleak:
    async with asyncio.timeout(20):
        while True:
            info = await queue.get()
            if info.address == address:
                return info


async def test_passive_scan_delivers_real_advert_bytes(bluez: BlueZMock) -> None:
    scanner = SharedScanner(adapter="hci0", mode="auto")
    queue = await _collect(scanner)
    await scanner.async_start()
    try:
        assert scanner.mode == "passive"
        assert len(await bluez.monitors()) == 1  # bleak registered an AdvertisementMonitor
        payload = bthome_v2(bthome_objects(temperature=21.5))
        await bluez.add_device(
            ADDR,
            name="Kitchen",
            service_data={BTHOME_UUID: payload},
            manufacturer={0x0969: b"\x01\x02\x03"},
        )
        info = await _next_from(queue, ADDR)
        assert info.service_data[BTHOME_UUID] == payload
        assert info.manufacturer_data == {0x0969: b"\x01\x02\x03"}
        assert info.name == "Kitchen"
        assert scanner.latest(ADDR.lower()) is info
        assert scanner.ble_device(ADDR) is info.device
        assert scanner.ble_device("00:00:00:00:00:00") is None
    finally:
        await scanner.async_stop()
    assert await bluez.monitors() == []


async def test_falls_back_to_active_without_advertisement_monitor(bluez_bus: BlueZMock) -> None:
    await bluez_bus.add_adapter(passive=False)
    scanner = SharedScanner(mode="auto")  # default adapter: bleak picks the powered central one
    queue = await _collect(scanner)
    await scanner.async_start()
    try:
        assert scanner.mode == "active"
        await bluez_bus.add_device(ADDR, service_data={BTHOME_UUID: b"\x40\x02\x00\x01"})
        info = await _next_from(queue, ADDR)
        assert info.service_data[BTHOME_UUID] == b"\x40\x02\x00\x01"
    finally:
        await scanner.async_stop()


async def test_explicit_passive_mode_without_support_is_a_clear_error(
    bluez_bus: BlueZMock,
) -> None:
    await bluez_bus.add_adapter(passive=False)
    scanner = SharedScanner(adapter="hci0", mode="passive")
    with pytest.raises(BluetoothUnavailable) as err:
        await scanner.async_start()
    assert "scanning failed" in err.value.message
    assert not scanner.running


async def test_a_failing_consumer_does_not_starve_the_others(bluez: BlueZMock) -> None:
    scanner = SharedScanner(adapter="hci0")

    def broken(_info: BluetoothServiceInfoBleak) -> None:
        raise RuntimeError("consumer bug")

    scanner.async_register_callback(broken)
    queue = await _collect(scanner)
    await scanner.async_start()
    try:
        await bluez.add_device(ADDR, service_data={BTHOME_UUID: b"\x40"})
        assert (await _next_from(queue, ADDR)).address == ADDR
    finally:
        await scanner.async_stop()


async def test_no_system_bus(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={tmp_path}/absent")
    with pytest.raises(BluetoothUnavailable) as err:
        await SharedScanner().async_start()
    assert err.value.reason == "no_dbus"
    assert "system bus" in err.value.message


async def test_no_bluez_on_the_bus(monkeypatch: pytest.MonkeyPatch) -> None:
    bus = BlueZMock(with_bluez=False)
    await bus.async_start()
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", bus.address)
    try:
        with pytest.raises(BluetoothUnavailable) as err:
            await SharedScanner().async_start()
        assert err.value.reason == "no_bluez"
        assert "bluetoothd" in err.value.message
    finally:
        await bus.async_stop()


async def test_no_adapter(bluez_bus: BlueZMock) -> None:
    with pytest.raises(BluetoothUnavailable) as err:
        await SharedScanner().async_start()
    assert err.value.reason == "no_adapter"
    with pytest.raises(BluetoothUnavailable) as err:
        await SharedScanner(adapter="hci7").async_start()
    assert err.value.reason == "no_adapter"
    assert "hci7" in err.value.message


@pytest.mark.parametrize("adapter", [None, "hci0"])
@pytest.mark.parametrize("passive", [True, False])
async def test_bluetooth_switched_off(
    bluez_bus: BlueZMock, adapter: str | None, passive: bool
) -> None:
    await bluez_bus.add_adapter(powered=False, passive=passive)
    with pytest.raises(BluetoothUnavailable) as err:
        await SharedScanner(adapter=adapter).async_start()
    assert err.value.reason == "powered_off"
    assert "switched off" in err.value.message
