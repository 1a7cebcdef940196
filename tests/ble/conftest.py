"""BLE fixtures: a private D-Bus with a mock bluetoothd that the real bleak talks to."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from .bluez_mock import BlueZMock


@pytest.fixture
async def bluez_bus(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[BlueZMock]:
    """A running mock BlueZ with no adapter yet; bleak in this test talks to it."""
    mock = BlueZMock()
    await mock.async_start()
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", mock.address)
    try:
        yield mock
    finally:
        await mock.async_stop()


@pytest.fixture
async def bluez(bluez_bus: BlueZMock) -> BlueZMock:
    """The mock BlueZ with one powered adapter, hci0, that supports passive scanning."""
    await bluez_bus.add_adapter()
    return bluez_bus
