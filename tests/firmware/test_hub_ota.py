"""OTA driven from a running hub: the firmware.ota_update service and ota_progress events."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from firmware.ota.manager import DATA_KEY, OtaManager
from firmware.ota.updater import EVENT_OTA_PROGRESS
from firmware.provision import async_provision
from hub.bus import Event
from hub.core import Hub
from hub.errors import InvalidServiceData
from tests.mosquitto import Mosquitto

from .conftest import DeviceFactory, MqttProbe, credentials_for


@pytest.fixture
async def manager(
    hub_factory: Callable[..., Awaitable[Hub]], probe: MqttProbe
) -> AsyncIterator[OtaManager]:
    hub = await hub_factory()
    ota = OtaManager(hub, probe, advertise_host="127.0.0.1", bind_host="127.0.0.1")
    await ota.async_setup()
    yield ota
    await ota.async_teardown()


async def test_service_updates_a_device_and_fires_progress(
    manager: OtaManager, device_factory: DeviceFactory, broker: Mosquitto, probe: MqttProbe
) -> None:
    hub = manager.hub
    assert hub.data[DATA_KEY] is manager
    events: list[Event] = []
    hub.bus.async_listen(EVENT_OTA_PROGRESS, events.append)

    device = device_factory("cleaner")
    await device.async_wait_http()
    mark = probe.mark()
    await async_provision(
        "127.0.0.1",
        device.http_port,
        credentials_for(broker, manager.key),  # the hub's own OTA public key
    )
    await probe.wait_state(device.id, lambda s: True, since=mark)

    image = await manager.async_build_reference_image("1.5.0", profile="cleaner")
    other = await manager.async_build_reference_image("1.4.0", profile="fridge")  # not for us
    assert other.sequence == image.sequence + 1
    result: dict[str, Any] = await hub.services.async_call(
        "firmware", "ota_update", {"device": device.id, "profile": "cleaner", "wait": True}
    )
    assert result["image"] == image.id
    assert result["stage"] == "done", device.log()
    assert result["running"] == "1.5.0"
    stages = [e.data["stage"] for e in events if e.data["device_id"] == device.id]
    assert stages[0] == "requested" and stages[-1] == "done"
    assert "downloading" in stages and "installing" in stages
    assert (await device.async_info())["firmware_version"] == "1.5.0"


async def test_service_rejects_bad_requests(manager: OtaManager) -> None:
    hub = manager.hub
    with pytest.raises(InvalidServiceData):
        await hub.services.async_call("firmware", "ota_update", {"device": "x"})  # no image
    image = await manager.async_build_reference_image("1.0.1")
    with pytest.raises(InvalidServiceData):
        await hub.services.async_call(
            "firmware", "ota_update", {"device": "a/#", "image": image.id}
        )
    with pytest.raises(InvalidServiceData):
        await hub.services.async_call(
            "firmware", "ota_update", {"device": "dev1", "image": "0" * 64}
        )


async def test_key_survives_a_hub_restart(
    hub_factory: Callable[..., Awaitable[Hub]], probe: MqttProbe, tmp_path: Any
) -> None:
    config_dir = tmp_path / "persistent-hub"
    keys = []
    for _ in range(2):
        hub = await hub_factory(config_dir=config_dir)
        ota = OtaManager(hub, probe, advertise_host="127.0.0.1", bind_host="127.0.0.1")
        await ota.async_setup()
        keys.append(ota.public_key_hex)
        await ota.async_teardown()
        await hub.async_stop()
    assert keys[0] == keys[1]
