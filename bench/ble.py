"""BLE benchmark: parser throughput, advert-to-state latency and GATT round trips.

The latency workloads run the real hub, the real bleak scanner and client, over a private D-Bus
with the mock BlueZ from tests/ble (dbus-daemon plus python-dbusmock under Debian's python3),
so they measure bleak, D-Bus and Hearth, not a radio.

    python bench/ble.py [--adverts N] [--commands N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bleak.backends.device import BLEDevice  # noqa: E402
from habluetooth import BluetoothServiceInfoBleak  # noqa: E402

from hub.config import HubConfig  # noqa: E402
from hub.core import Hub  # noqa: E402
from hub.services import Target  # noqa: E402
from integrations.ble.parsers import AdvertParser  # noqa: E402
from tests.ble.adverts import BTHOME_UUID, bthome_objects, bthome_v2  # noqa: E402
from tests.ble.bluez_mock import BlueZMock  # noqa: E402

SENSOR = "A4:C1:38:00:00:51"
BULB = "C4:7C:8D:00:00:52"
KEY = bytes.fromhex("231d39c1d7cc1ab1aee224cd096db932")


def _info(payload: bytes, stamp: float) -> BluetoothServiceInfoBleak:
    return BluetoothServiceInfoBleak(
        "bench", SENSOR, -60, {}, {BTHOME_UUID: payload}, [], "hci0",
        BLEDevice(SENSOR, "bench", {}), None, True, stamp, None,
    )  # fmt: skip


def parse_rate(n: int, encrypted: bool) -> float:
    """Adverts parsed per second by one device's parser (distinct payloads, no duplicates)."""
    parser = AdvertParser(SENSOR, "bthome", KEY if encrypted else None)
    infos = []
    for i in range(n):
        objects = bthome_objects(packet_id=i, temperature=20 + (i % 500) / 100, humidity=40.0)
        key = KEY if encrypted else None
        # 5 s apart so BTHome's duplicate filter treats each as new.
        infos.append(_info(bthome_v2(objects, key=key, mac=SENSOR, counter=i + 1), i * 5.0))
    start = time.perf_counter()
    parsed = sum(parser.parse(info) is not None for info in infos)
    elapsed = time.perf_counter() - start
    assert parsed == n, f"only {parsed}/{n} parsed"
    return n / elapsed


async def _until(check: Callable[[], bool]) -> None:
    async with asyncio.timeout(60):
        while True:
            if check():
                return
            await asyncio.sleep(0.002)


def _pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


async def hub_workloads(adverts: int, commands: int) -> dict[str, float]:
    """Advert -> state_changed latency and light.turn_on -> bulb state round trips, in ms."""
    figures: dict[str, float] = {}
    bluez = BlueZMock()
    await bluez.async_start()
    os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = bluez.address
    tmp = tempfile.TemporaryDirectory(prefix="hearth-bench-ble-")
    try:
        await bluez.add_adapter()
        await bluez.add_bulb(BULB)
        devices = [
            {"address": SENSOR, "kind": "bthome", "name": "Bench sensor"},
            {"address": BULB, "kind": "switchbot_bulb", "name": "Bench bulb"},
        ]
        config = HubConfig.minimal(Path(tmp.name), ble={"adapter": "hci0", "devices": devices})
        hub = Hub(config, record=False)
        started = time.perf_counter()
        await hub.async_start()
        figures["hub start with ble (ms)"] = (time.perf_counter() - started) * 1000
        try:
            changed: asyncio.Queue[tuple[str, str, float]] = asyncio.Queue()
            hub.bus.async_listen(
                "state_changed",
                lambda e: changed.put_nowait(
                    (e.data["entity_id"], e.data["new_state"].state, time.perf_counter())
                ),
            )
            latencies = []
            await bluez.add_device(
                SENSOR, service_data={BTHOME_UUID: bthome_v2(bthome_objects(temperature=0))}
            )
            for i in range(1, adverts + 1):
                value = f"{i / 100:.2f}".rstrip("0").rstrip(".")
                payload = bthome_v2(bthome_objects(packet_id=i, temperature=i / 100))
                sent = time.perf_counter()
                await bluez.advertise(SENSOR, service_data={BTHOME_UUID: payload})
                while True:
                    entity_id, state, stamp = await asyncio.wait_for(changed.get(), 30)
                    if entity_id.startswith("sensor.") and state.rstrip("0").rstrip(".") == value:
                        latencies.append((stamp - sent) * 1000)
                        break
            figures["advert -> state, median (ms)"] = statistics.median(latencies)
            figures["advert -> state, p95 (ms)"] = _pct(latencies, 0.95)

            light = next(e for e in hub.entities.for_integration("ble") if e.domain == "light")
            await _until(lambda: light.available)
            assert light.entity_id is not None
            target = Target(entity_ids=(light.entity_id,))
            trips = []
            for i in range(commands):
                started = time.perf_counter()
                await hub.services.async_call(
                    "light", "turn_on", {"rgb_color": [i % 256, 0, 255]}, target=target
                )
                trips.append((time.perf_counter() - started) * 1000)
            assert (await bluez.bulb_state(BULB))["rgb"][0] == (commands - 1) % 256
            figures["light.turn_on GATT round trip, median (ms)"] = statistics.median(trips)
            figures["light.turn_on GATT round trip, p95 (ms)"] = _pct(trips, 0.95)

            drop = time.perf_counter()
            await bluez.drop_link(BULB)
            await _until(lambda: not light.available)
            await _until(lambda: light.available)
            figures["link drop -> reconnected and state read (ms)"] = (
                time.perf_counter() - drop
            ) * 1000
        finally:
            await hub.async_stop()
    finally:
        await bluez.async_stop()
        tmp.cleanup()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adverts", type=int, default=500)
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--parse", type=int, default=20000)
    args = parser.parse_args()
    print(f"BTHome plain parse:      {parse_rate(args.parse, False):10.0f} adverts/s")
    print(f"BTHome encrypted parse:  {parse_rate(args.parse, True):10.0f} adverts/s")
    for name, value in asyncio.run(hub_workloads(args.adverts, args.commands)).items():
        print(f"{name:45s} {value:8.2f}")


if __name__ == "__main__":
    main()
