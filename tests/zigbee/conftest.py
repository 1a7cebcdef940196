"""Fixtures: a real zigpy ControllerApplication over the simulated radio."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import zigpy.application
import zigpy.device
from zigpy.zcl import foundation

from hub.clock import Clock
from hub.core import Hub
from hub.integration import PairingRequest
from hub.services import Target
from integrations.zigbee import ZigbeeIntegration
from integrations.zigbee.radio import RadioConfig, controller_class, zigpy_config
from integrations.zigbee.sim import (
    SimAir,
    SimControllerApplication,
    SimStick,
    VirtualDevice,
    forget_stick,
    get_stick,
)
from tests.waiting import wait_until

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
    await wait_until(predicate, timeout, interval=0.01)


@pytest.fixture
def stick_path() -> str:
    return f"sim://test-{next(_counter)}"


@pytest.fixture
async def zapp(tmp_path: Path, stick_path: str) -> AsyncIterator[SimControllerApplication]:
    """A formed network on a fresh simulated stick, permit-join open."""
    get_stick(stick_path, SimAir())  # a private air per test: no devices shared
    radio = RadioConfig(radio="sim", device=stick_path)
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


# -- a hub running the zigbee integration -------------------------------------------------

_homes = itertools.count()


class Home:
    """A hub running the zigbee integration on a private simulated air."""

    def __init__(self, hub: Hub, stick: SimStick) -> None:
        self.hub = hub
        self.stick = stick
        self.zigbee: ZigbeeIntegration = hub.integrations["zigbee"]  # type: ignore[assignment]

    @property
    def air(self) -> SimAir:
        return self.stick.air

    async def pair(self, *devices: VirtualDevice, duration: float = 2.0) -> list[Any]:
        """Open joining, join the devices, return the progress steps of the whole window."""
        steps: list[Any] = []

        async def run() -> None:
            async for step in self.zigbee.async_pair(PairingRequest("zigbee", duration)):
                steps.append(step)

        task = asyncio.ensure_future(run())
        await wait_for(lambda: bool(steps))
        for device in devices:
            assert self.air.join(device, self.stick)
        await wait_for(
            lambda: sum(1 for s in steps if s.stage == "ready") >= len(devices), timeout=60
        )
        await task
        return steps

    def entity(self, vdev: VirtualDevice, domain: str, device_class: str | None = None) -> str:
        """The entity id of `vdev`'s entity in `domain` (and device class, if given)."""
        for entity in self.zigbee.gateway.entities[vdev.ieee]:
            if entity.domain == domain and device_class in (None, entity.device_class):
                assert entity.entity_id is not None
                return entity.entity_id
        raise AssertionError(f"no {domain} entity for {vdev}")

    def entity_ids(self, vdev: VirtualDevice) -> set[str]:
        return {e.entity_id or "" for e in self.zigbee.gateway.entities.get(vdev.ieee, [])}

    def device_id(self, vdev: VirtualDevice) -> str:
        entry = self.hub.registry.devices.find_by_identifier(("zigbee", str(vdev.ieee)))
        assert entry is not None
        return entry.id

    def frames_to(
        self, vdev: VirtualDevice, cluster_id: int
    ) -> list[tuple[foundation.ZCLHeader, bytes]]:
        """ZCL frames the coordinator sent to `vdev` on a cluster, oldest first."""
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

    def state(self, entity_id: str) -> Any:
        return self.hub.states.get(entity_id)

    async def until_state(self, entity_id: str, value: str, **attrs: Any) -> None:
        """Wait until the entity has `value` (and the given attributes)."""

        def ok() -> bool:
            st = self.hub.states.get(entity_id)
            return (
                st is not None
                and st.state == value
                and all(st.attributes.get(k) == v for k, v in attrs.items())
            )

        await wait_for(ok)

    async def call(self, domain: str, service: str, entity_id: str, **data: Any) -> Any:
        return await self.hub.services.async_call(
            domain, service, data, target=Target(entity_ids=(entity_id,))
        )


HomeFactory = Callable[..., Awaitable[Home]]


@pytest.fixture
async def make_home(hub_factory: Any, tmp_path: Path) -> AsyncIterator[HomeFactory]:
    """Start hubs running zigbee: `await make_home(air=..., path=..., clock=..., **options)`."""
    sticks: list[SimStick] = []

    async def make(
        *,
        air: SimAir | None = None,
        path: str | None = None,
        config_dir: Path | None = None,
        clock: Clock | None = None,
        **options: Any,
    ) -> Home:
        path = path or f"sim://hub-{next(_homes)}"
        stick = get_stick(path, air or SimAir())
        sticks.append(stick)
        ota = tmp_path / "ota"
        ota.mkdir(exist_ok=True)
        config = {
            "radio": "sim",
            "device": path,
            "ota_dir": str(ota),
            "availability_interval": 0.1,
            "reconnect_max": 0.2,
            **options,
        }
        hub = await hub_factory(config_dir=config_dir, clock=clock, zigbee=config)
        return Home(hub, stick)

    yield make
    # hub_factory stops the hubs after this; the devices' report loops stop here.
    for stick in sticks:
        for device in stick.air.devices.values():
            device.stop()
        forget_stick(stick.path)


@pytest.fixture
async def home(make_home: HomeFactory) -> Home:
    """A hub with zigbee on a fresh simulated stick and air."""
    return await make_home()
