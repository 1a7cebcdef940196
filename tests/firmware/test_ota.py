"""OTA end to end: hub-signed images reach virtual appliances over real MQTT and HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

from firmware.ota.image import app_files, build_image
from firmware.ota.keys import SigningKey
from firmware.ota.server import ImageServer
from firmware.ota.store import ImageStore
from firmware.ota.updater import OtaProgress, OtaUpdater
from tests.mosquitto import Mosquitto

from .conftest import APP_DIR, DeviceFactory, MqttProbe, async_provisioned

CRASHING_MAIN = b'def run(boot):\n    raise RuntimeError("boom: this image is broken")\n'
SILENT_MAIN = (
    b"from hearthfw import hal\n\n\ndef run(boot):\n    while True:\n        hal.sleep_ms(100)\n"
)


@dataclass
class Ota:
    store: ImageStore
    server: ImageServer
    updater: OtaUpdater
    progress: list[OtaProgress]
    key: SigningKey

    def add(
        self, version: str, profile: str = "*", sequence: int | None = None, **replace: bytes
    ) -> str:
        files = app_files(APP_DIR, version=version)
        for name, content in replace.items():
            files[f"hearthapp/{name}.py"] = content
        if sequence is None:
            sequence = self.store.next_sequence()
        data = build_image(files, version=version, profile=profile, key=self.key, sequence=sequence)
        return self.store.add(data).id

    def stages(self, update_id: str) -> list[str]:
        return [p.stage for p in self.progress if p.update_id == update_id]


@pytest.fixture
async def ota(tmp_path: Path, signing_key: SigningKey, probe: MqttProbe) -> AsyncIterator[Ota]:
    store = ImageStore(tmp_path / "hub-config", signing_key.public_hex)
    server = ImageServer(store, host="127.0.0.1", advertise="127.0.0.1")
    await server.async_start()
    progress: list[OtaProgress] = []
    updater = OtaUpdater(probe, store, server, on_progress=progress.append)
    yield Ota(store, server, updater, progress, signing_key)
    await server.async_stop()


async def test_update_then_rollback_of_a_crashing_image(
    device_factory: DeviceFactory,
    broker: Mosquitto,
    signing_key: SigningKey,
    probe: MqttProbe,
    ota: Ota,
) -> None:
    device = await async_provisioned(device_factory, broker, signing_key, probe, "fridge")
    mark = probe.mark()
    probe.publish(f"hearth/{device.id}/set/mode", "eco")
    await probe.wait_state(device.id, lambda s: s["mode"] == "eco", since=mark)

    result = await ota.updater.async_update(device.id, ota.add("1.1.0"), timeout=90)
    assert result.stage == "done", device.log()
    assert result.running == "1.1.0"
    stages = ota.stages(result.update_id)
    for stage in ("requested", "downloading", "verifying", "installing", "rebooting", "done"):
        assert stage in stages
    assert stages.index("verifying") < stages.index("installing") < stages.index("done")
    assert (await device.async_info())["firmware_version"] == "1.1.0"
    # The new image obeys commands and kept the user's settings across the update.
    mark = probe.mark()
    probe.publish(f"hearth/{device.id}/set/fridge_setpoint", "3")
    state = await probe.wait_state(device.id, lambda s: s["fridge_setpoint"] == 3.0, since=mark)
    assert state["mode"] == "eco" and state["firmware_version"] == "1.1.0"

    crash = await ota.updater.async_update(
        device.id, ota.add("1.2.0", main=CRASHING_MAIN), timeout=90
    )
    assert crash.stage == "rolled_back", device.log()
    assert crash.running == "1.1.0"
    assert crash.error is not None and "boom" in crash.error
    info = await device.async_wait_http()
    assert info["firmware_version"] == "1.1.0" and info["online"]
    mark = probe.mark()
    probe.publish(f"hearth/{device.id}/set/mode", "vacation")
    state = await probe.wait_state(device.id, lambda s: s["mode"] == "vacation", since=mark)
    assert state["firmware_version"] == "1.1.0"

    # A genuine but older build (a replay by someone on the broker) is refused.
    replay = await ota.updater.async_update(device.id, ota.add("1.0.9", sequence=0), timeout=90)
    assert replay.stage == "failed"
    assert replay.error is not None and "older than the running" in replay.error
    assert (await device.async_info())["firmware_version"] == "1.1.0"


async def test_rollback_when_the_image_never_reports_in(
    device_factory: DeviceFactory,
    broker: Mosquitto,
    signing_key: SigningKey,
    probe: MqttProbe,
    ota: Ota,
) -> None:
    device = await async_provisioned(
        device_factory, broker, signing_key, probe, "cleaner", trial_seconds=4
    )
    result = await ota.updater.async_update(
        device.id, ota.add("2.0.0", main=SILENT_MAIN), timeout=90
    )
    assert result.stage == "rolled_back", device.log()
    assert result.running == "1.0.0"
    assert result.error is not None and "did not report in" in result.error
    mark = probe.mark()
    probe.publish(f"hearth/{device.id}/set/command", "locate")
    state = await probe.wait_state(device.id, lambda s: s["locates"] == 1, since=mark)
    assert state["firmware_version"] == "1.0.0"


async def test_tampered_foreign_and_misfit_images_are_refused(
    device_factory: DeviceFactory,
    broker: Mosquitto,
    signing_key: SigningKey,
    probe: MqttProbe,
    ota: Ota,
    tmp_path: Path,
) -> None:
    """Images arriving from the network (not the hub's store) are checked on the device."""
    from firmware.ota.keys import load_or_create_signing_key

    device = await async_provisioned(device_factory, broker, signing_key, probe, "fridge")
    genuine = build_image(
        app_files(APP_DIR, version="9.0.0"), version="9.0.0", profile="*", key=signing_key
    )
    stranger = load_or_create_signing_key(tmp_path / "other-hub")
    flipped = bytearray(genuine)
    flipped[-10] ^= 0x01
    cases = {
        "foreign": (
            build_image(
                app_files(APP_DIR, version="9.0.0"), version="9.0.0", profile="*", key=stranger
            ),
            "bad signature",
        ),
        "flipped": (bytes(flipped), "bad signature"),
        "truncated": (genuine[:-100], "truncated"),
        "garbage": (b"GIF89a" + bytes(500), "not a Hearth OTA image"),
        "misfit": (
            build_image(
                app_files(APP_DIR, version="9.0.0"),
                version="9.0.0",
                profile="cleaner",
                key=signing_key,
            ),
            "image is for profile cleaner",
        ),
    }
    served: dict[str, bytes] = {name: data for name, (data, _) in cases.items()}

    async def handle(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name == "truncated":
            # Claim the full length but close early, like a connection dropped mid-download.
            resp = web.StreamResponse(headers={"Content-Length": str(len(genuine))})
            await resp.prepare(request)
            await resp.write(served[name])
            request.transport.close()  # type: ignore[union-attr]
            return resp  # type: ignore[return-value]
        return web.Response(body=served[name])

    app = web.Application()
    app.router.add_get("/{name}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        for name, (_data, reason) in cases.items():
            mark = probe.mark()
            probe.publish(
                f"hearth/{device.id}/ota/start",
                f'{{"url": "http://127.0.0.1:{port}/{name}", "update": "{name}"}}',
            )
            status = await probe.wait_for(
                lambda m: (
                    m.topic == f"hearth/{device.id}/ota/status"
                    and m.json()["update"] == name  # noqa: B023
                    and m.json()["stage"] in ("failed", "rebooting")
                ),
                since=mark,
            )
            assert status.json()["stage"] == "failed", (name, device.log())
            assert reason in status.json()["error"], (name, status.json())
            assert status.json()["running"] == "1.0.0"
    finally:
        await runner.cleanup()
    # Still the original image, still obeying.
    assert device.alive()
    mark = probe.mark()
    probe.publish(f"hearth/{device.id}/set/mode", "fast_freeze")
    state = await probe.wait_state(device.id, lambda s: s["mode"] == "fast_freeze", since=mark)
    assert state["firmware_version"] == "1.0.0"
    assert state["freezer_target"] == -30.0
