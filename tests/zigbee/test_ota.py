"""OTA through zigpy's OTA path from the local image folder, with progress events."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from zigpy.ota.image import parse_ota_image
from zigpy.zcl.clusters.general import Ota

from hub.services import Target
from integrations.zigbee import DEFAULT_OTA_DIR, EVENT_ZIGBEE_OTA
from integrations.zigbee.sim.ota_client import BLOCK_SIZE
from integrations.zigbee.sim.profiles import make_device

from .conftest import HomeFactory

EXAMPLE = "hearth-sim-1234-0101-v2.zigbee"


def _script() -> ModuleType:
    path = DEFAULT_OTA_DIR / "make_ota_image.py"
    spec = importlib.util.spec_from_file_location("make_ota_image", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_ota_image", module)
    spec.loader.exec_module(module)
    return module


def test_committed_example_is_what_the_script_builds(tmp_path: Path) -> None:
    script = _script()
    committed = (DEFAULT_OTA_DIR / EXAMPLE).read_bytes()
    assert script.main(["--out", str(tmp_path)]) == 0
    assert (tmp_path / EXAMPLE).read_bytes() == committed
    image, rest = parse_ota_image(committed)
    assert rest == b""
    header = image.header
    assert (header.manufacturer_id, header.image_type, header.file_version) == (0x1234, 0x0101, 2)
    assert header.image_size == len(committed)


async def test_update_from_the_firmware_folder_end_to_end(make_home: HomeFactory) -> None:
    # The repo's own folder: the committed example image is what gets installed.
    home = await make_home(ota_dir=str(DEFAULT_OTA_DIR))
    bulb, dimmer = make_device("colour_bulb"), make_device("dimmable_bulb")
    await home.pair(bulb, dimmer)
    events: list[Any] = []
    home.hub.bus.async_listen(EVENT_ZIGBEE_OTA, events.append)

    bulb_id = home.device_id(bulb)
    result = await home.hub.services.async_call(
        "zigbee", "update_firmware", {}, target=Target(device_ids=(bulb_id,))
    )
    assert result == {bulb_id: {"updated": True, "version": 2}}
    # The virtual device downloaded the image block by block and applied it.
    assert bulb.firmware_version == 2
    assert bulb.get(Ota.cluster_id, "current_file_version") == 2
    blocks = [
        p
        for p in home.stick.sent
        if p.cluster_id == Ota.cluster_id and p.dst is not None and p.dst.address == bulb.nwk
    ]
    size = len((DEFAULT_OTA_DIR / EXAMPLE).read_bytes())
    assert len(blocks) >= size // BLOCK_SIZE
    # Progress: started, rising percentages, done; all for this device.
    stages = [e.data["stage"] for e in events]
    assert stages[0] == "started" and stages[-1] == "done"
    percents = [e.data["percent"] for e in events if e.data["stage"] == "progress"]
    assert len(percents) >= 5 and percents == sorted(percents) and percents[-1] >= 99
    assert {e.data["ieee"] for e in events} == {str(bulb.ieee)}
    assert {e.data["version"] for e in events} == {2}
    # zigpy read the new version back, so Hearth's view matches the device.
    app = home.zigbee.gateway.app
    assert app is not None
    zdev: Any = app.get_device(ieee=bulb.ieee)
    zota = zdev.endpoints[1].out_clusters[Ota.cluster_id]
    assert zota.get("current_file_version") == 2

    # Nothing in the folder for the dimmer (another image type), and nothing newer for the bulb.
    ids = (home.device_id(dimmer), bulb_id)
    result = await home.hub.services.async_call(
        "zigbee", "update_firmware", {"device_id": list(ids)}
    )
    assert {i: r["updated"] for i, r in result.items()} == dict.fromkeys(ids, False)
    assert dimmer.firmware_version == 1


async def test_broken_image_in_the_folder_is_never_offered(
    make_home: HomeFactory, tmp_path: Path
) -> None:
    folder = tmp_path / "bad-ota"
    folder.mkdir()
    good = (DEFAULT_OTA_DIR / EXAMPLE).read_bytes()
    # A valid header but a sub-element longer than the file: zigpy's parser rejects it.
    (folder / "broken.zigbee").write_bytes(good[:58] + b"\xff\xff" + good[60:])
    shutil.copy(DEFAULT_OTA_DIR / "make_ota_image.py", folder)  # non-images are skipped
    home = await make_home(ota_dir=str(folder))
    bulb = make_device("colour_bulb")
    await home.pair(bulb)
    events: list[Any] = []
    home.hub.bus.async_listen(EVENT_ZIGBEE_OTA, events.append)
    bulb_id = home.device_id(bulb)
    result = await home.hub.services.async_call("zigbee", "update_firmware", {"device_id": bulb_id})
    assert result[bulb_id] == {"updated": False, "reason": "no newer image in the OTA folder"}
    assert bulb.firmware_version == 1 and events == []
    # The device and the hub carry on.
    light = home.entity(bulb, "light")
    await home.call("light", "turn_on", light)
    await home.until_state(light, "on")


async def test_update_after_a_hub_restart(make_home: HomeFactory, tmp_path: Path) -> None:
    """zigpy forgets the device's last OTA query on restart: Hearth must still find the image."""
    config_dir = tmp_path / "restart"
    kinds = ["color_bulb"]
    first = await make_home(config_dir=config_dir, ota_dir=str(DEFAULT_OTA_DIR), sim_devices=kinds)
    session = first.hub.pairing.async_start(["zigbee"], duration=1)
    await session.done.wait()
    await first.hub.async_stop()
    second = await make_home(
        config_dir=config_dir, ota_dir=str(DEFAULT_OTA_DIR), sim_devices=kinds, sim_join="all"
    )
    (bulb,) = second.air.devices.values()
    bulb_id = second.device_id(bulb)
    # However it was before, the device's last query is forgotten here: Hearth must ask.
    app = second.zigbee.gateway.app
    assert app is not None
    zdev: Any = app.get_device(ieee=bulb.ieee)
    zdev.endpoints[1].out_clusters[Ota.cluster_id].last_query_cmd = None
    result = await second.hub.services.async_call(
        "zigbee", "update_firmware", {}, target=Target(device_ids=(bulb_id,))
    )
    assert result == {bulb_id: {"updated": True, "version": 2}}
    assert bulb.firmware_version == 2
