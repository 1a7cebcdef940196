"""BLE fixtures: a private D-Bus with a mock bluetoothd that the real bleak talks to."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from hub.config import HubConfig
from hub.core import Hub

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


@pytest.fixture
async def make_hub(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[Hub]]]:
    """Start a real Hub with a `ble` section (plus any other sections given)."""
    hubs: list[Hub] = []

    async def start(ble: dict[str, Any] | None = None, **others: dict[str, Any]) -> Hub:
        section = {"adapter": "hci0", "retry_interval": 0.5, **(ble or {})}
        config = HubConfig.minimal(tmp_path / f"home{len(hubs)}", ble=section, **others)
        hub = Hub(config, record=False)
        hubs.append(hub)
        await hub.async_start()
        return hub

    yield start
    for hub in hubs:
        await hub.async_stop()
