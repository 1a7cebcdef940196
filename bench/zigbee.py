"""Zigbee bench: join + interview + configure time per device, report -> state latency."""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zigpy.zcl.clusters.general import OnOff

from hub.config import HubConfig
from hub.core import Hub
from hub.services import Target
from integrations.zigbee import DEFAULT_OTA_DIR as OTA_DIR
from integrations.zigbee.sim import SimAir, get_stick
from integrations.zigbee.sim.profiles import KINDS, make_device

DEVICES = 100
REPORTS = 1000


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        stick = get_stick("sim://bench", SimAir())
        hub = Hub(
            HubConfig.minimal(Path(tmp), zigbee={"radio": "sim", "device": "sim://bench"}),
            record=False,
        )
        await hub.async_start()
        zigbee = hub.integrations["zigbee"]
        await zigbee.gateway.app.permit(254)  # type: ignore[attr-defined]
        kinds = sorted(KINDS)
        devices = [make_device(kinds[i % len(kinds)], i) for i in range(DEVICES)]
        ready: dict[object, float] = {}
        zigbee.gateway.progress_listeners.append(  # type: ignore[attr-defined]
            lambda p: ready.setdefault(p.ieee, time.perf_counter()) if p.stage == "ready" else None
        )
        starts: dict[object, float] = {}
        t0 = time.perf_counter()
        for device in devices:
            starts[str(device.ieee)] = time.perf_counter()
            stick.air.join(device, stick)
        while len(ready) < DEVICES:  # noqa: ASYNC110 - progress arrives via callback
            await asyncio.sleep(0.01)
        total = time.perf_counter() - t0
        per = [ready[k] - starts[k] for k in starts]
        print(
            f"devices joined+interviewed+configured: {DEVICES} in {total:.2f} s "
            f"({total / DEVICES * 1000:.1f} ms/device throughput)"
        )
        print(
            f"join->ready per device (concurrent): median {statistics.median(per) * 1000:.0f} ms, "
            f"max {max(per) * 1000:.0f} ms"
        )

        plug = next(d for d in devices if d.kind == "metering_plug")
        entity = next(e for e in zigbee.gateway.entities[plug.ieee] if e.domain == "switch")  # type: ignore[attr-defined]
        lat: list[float] = []
        for i in range(REPORTS):
            want = "on" if i % 2 == 0 else "off"
            t = time.perf_counter()
            plug.set_attribute(OnOff.cluster_id, "on_off", want == "on")
            while getattr(hub.states.get(entity.entity_id), "state", None) != want:  # noqa: ASYNC110
                await asyncio.sleep(0)
            lat.append(time.perf_counter() - t)
        lat.sort()
        print(
            f"report->state latency over {REPORTS}: median {statistics.median(lat) * 1e3:.2f} ms, "
            f"p99 {lat[int(len(lat) * 0.99) - 1] * 1e3:.2f} ms"
        )

        # Radio loss: unplug, plug back, time until the plug answers a command again.
        gateway = zigbee.gateway  # type: ignore[attr-defined]
        stick.unplug()
        while gateway.connected.is_set():  # noqa: ASYNC110 - set by the reconnect task
            await asyncio.sleep(0.001)
        t = time.perf_counter()
        stick.plug()
        while not gateway.connected.is_set():  # noqa: ASYNC110
            await asyncio.sleep(0.001)
        back = time.perf_counter() - t
        print(
            f"radio replugged -> network back ({DEVICES} devices): {back * 1000:.0f} ms "
            f"(first retry {gateway.backoff[0]} s after the loss)"
        )

        # OTA of the committed example image (colour bulb) through zigpy's OTA path.
        bulb = next(d for d in devices if d.kind == "colour_bulb")
        entry = hub.registry.devices.find_by_identifier(("zigbee", str(bulb.ieee)))
        assert entry is not None
        t = time.perf_counter()
        result = await hub.services.async_call(
            "zigbee", "update_firmware", {}, target=Target(device_ids=(entry.id,))
        )
        ota = time.perf_counter() - t
        size = sum(p.stat().st_size for p in OTA_DIR.glob("*.zigbee"))
        print(f"OTA {size} B image: {ota * 1000:.0f} ms ({result[entry.id]})")
        await hub.async_stop()


if __name__ == "__main__":
    asyncio.run(main())
