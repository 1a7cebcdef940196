"""BLE fixtures: a private D-Bus with a mock bluetoothd that the real bleak talks to."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

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
def make_hub(hub_factory: Callable[..., Awaitable[Hub]]) -> Callable[..., Awaitable[Hub]]:
    """Start a real Hub with a `ble` section on hci0 (plus any other sections given)."""

    async def start(
        ble: dict[str, Any] | None = None, *, config_dir: Path | None = None, **others: Any
    ) -> Hub:
        section = {"adapter": "hci0", "retry_interval": 0.5, "reconnect_max": 1.0, **(ble or {})}
        return await hub_factory(config_dir=config_dir, ble=section, **others)

    return start
