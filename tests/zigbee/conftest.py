"""Fixtures: a real zigpy ControllerApplication over the simulated radio."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import zigpy.application
import zigpy.device

from integrations.zigbee.radio import RadioConfig, controller_class, zigpy_config
from integrations.zigbee.sim import SimAir, SimControllerApplication, forget_stick, get_stick

_counter = itertools.count()


class Interviews:
    """zigpy listener collecting initialised devices."""

    def __init__(self) -> None:
        self.done: dict[Any, zigpy.device.Device] = {}
        self.failed: list[Any] = []

    def device_initialized(self, device: zigpy.device.Device) -> None:
        self.done[device.ieee] = device

    def device_init_failure(self, device: zigpy.device.Device) -> None:
        self.failed.append(device.ieee)


async def wait_for(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll `predicate` until true (generous timeout for a loaded machine)."""
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 - state lives in zigpy and sim objects
            await asyncio.sleep(0.01)


@pytest.fixture
def stick_path() -> str:
    return f"sim://test-{next(_counter)}"


@pytest.fixture
async def zapp(tmp_path: Path, stick_path: str) -> AsyncIterator[SimControllerApplication]:
    """A formed network on a fresh simulated stick, permit-join open."""
    get_stick(stick_path, SimAir())  # a private air per test: no devices shared
    radio = RadioConfig(device=stick_path)
    ota_dir = tmp_path / "ota"
    ota_dir.mkdir()
    cls = controller_class("sim")
    app = await cls.new(
        zigpy_config(radio, database=tmp_path / "zigbee.db", ota_dir=ota_dir), auto_form=True
    )
    assert isinstance(app, SimControllerApplication)
    app.interviews = Interviews()  # type: ignore[attr-defined]
    app.add_listener(app.interviews)  # type: ignore[attr-defined]
    await app.permit(254)
    yield app
    await app.shutdown()
    for device in list(app.stick.air.devices.values()):
        device.stop()
    forget_stick(stick_path)


async def join(app: zigpy.application.ControllerApplication, *devices: Any) -> None:
    """Join virtual devices and wait until zigpy has interviewed them all."""
    assert isinstance(app, SimControllerApplication)
    for device in devices:
        assert app.stick.air.join(device, app.stick)
    interviews: Interviews = app.interviews  # type: ignore[attr-defined]
    await wait_for(lambda: all(d.ieee in interviews.done for d in devices))
