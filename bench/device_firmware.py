"""Firmware benchmark: device-side crypto cost, boot-to-online, command round trip, OTA timings.

Virtual appliances run as real processes (the reference firmware under the CPython hardware
layer) against a real mosquitto on a loopback port; the figures are for this host, not a board.

    python bench/device_firmware.py [--commands N] [--updates N]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for extra in (ROOT, ROOT / "firmware" / "device" / "base"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from hearthfw import ed25519, sha512  # type: ignore[import-not-found]  # noqa: E402

from firmware.ota.image import app_files, build_image  # noqa: E402
from firmware.ota.keys import load_or_create_signing_key  # noqa: E402
from firmware.ota.server import ImageServer  # noqa: E402
from firmware.ota.store import ImageStore  # noqa: E402
from firmware.ota.updater import OtaUpdater  # noqa: E402
from firmware.provision import async_provision  # noqa: E402
from firmware.virtual import VirtualAppliance  # noqa: E402
from tests.firmware.conftest import (  # noqa: E402
    AP_PASSWORD,
    AP_SSID,
    APP_DIR,
    MqttProbe,
    credentials_for,
)
from tests.mosquitto import Mosquitto  # noqa: E402

CRASHING_MAIN = b'def run(boot):\n    raise RuntimeError("bench: broken image")\n'


def bench_crypto(key_dir: Path) -> None:
    key = load_or_create_signing_key(key_dir)
    message = os.urandom(1024)
    signature = key.sign(message)
    runs = 50
    start = time.perf_counter()
    for _ in range(runs):
        ed25519.verify(key.public_raw, signature, message)
    verify_ms = (time.perf_counter() - start) / runs * 1000
    data = os.urandom(256 * 1024)
    start = time.perf_counter()
    sha512.sha512(data).digest()
    pure_kbs = len(data) / 1024 / (time.perf_counter() - start)
    start = time.perf_counter()
    hashlib.sha512(data).digest()
    native_kbs = len(data) / 1024 / (time.perf_counter() - start)
    image = build_image(app_files(APP_DIR, version="9.9.9"), version="9.9.9", profile="*", key=key)
    print(f"ed25519 verify (plain Python, CPython): {verify_ms:.2f} ms")
    print(f"SHA-512 plain Python: {pure_kbs:,.0f} KiB/s; hashlib: {native_kbs:,.0f} KiB/s")
    print(f"reference application image: {len(image):,} bytes")


def bench_micropython(key_dir: Path, tmp: Path) -> None:
    """The same crypto under real MicroPython (WebAssembly port), closer to a board's cost."""
    from tests.firmware import micropython as mp

    entry = mp.ensure_micropython()
    if isinstance(entry, str):
        print(f"MicroPython figures skipped: {entry}")
        return
    key = load_or_create_signing_key(key_dir)
    message = os.urandom(1024)
    body = f"""
import time, json
from hearthfw import ed25519, sha512
t = time.ticks_ms()
for _ in range(5):
    ed25519.verify({key.public_raw!r}, {key.sign(message)!r}, {message!r})
verify_ms = time.ticks_diff(time.ticks_ms(), t) / 5
data = bytes(65536)
t = time.ticks_ms()
sha512.sha512(data).digest()
kib_s = 64 * 1000 / max(1, time.ticks_diff(time.ticks_ms(), t))
print({mp.RESULT_MARK!r} + json.dumps([verify_ms, kib_s]))
"""
    files = mp.sources(ROOT / "firmware" / "device" / "base", "hearthfw")
    verify_ms, kib_s = mp.run(entry, mp.bundle(files, body), tmp)
    print(f"ed25519 verify under MicroPython (wasm, this host): {verify_ms:.0f} ms")
    print(f"SHA-512 plain Python under MicroPython (wasm, this host): {kib_s:,.0f} KiB/s")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def bench_device(workdir: Path, commands: int, updates: int, nodelay: bool) -> None:
    (workdir / "broker").mkdir()
    broker = Mosquitto(workdir / "broker", auth=True)
    if nodelay:
        # Without it mosquitto's small writes wait on Nagle + delayed ACK: ~62 vs ~24 ms here.
        broker.config_path.write_text(broker.config_path.read_text() + "set_tcp_nodelay true\n")
    broker.start()
    key = load_or_create_signing_key(workdir / "hub")
    probe = MqttProbe(broker)
    await asyncio.wait_for(probe.ready.wait(), 30)
    try:
        device = VirtualAppliance(
            "benchfridge", "fridge", workdir / "dev", mdns=False,
            ap_ssid=AP_SSID, ap_password=AP_PASSWORD,
        )  # fmt: skip
        port = device.http_port
        start = time.perf_counter()
        device.start()
        await device.async_wait_http()
        booted = time.perf_counter()
        mark = probe.mark()
        await async_provision("127.0.0.1", port, credentials_for(broker, key))
        await probe.wait_state(device.id, lambda s: True, since=mark)
        online = time.perf_counter()
        print(f"boot to provisioning endpoint: {(booted - start) * 1000:.0f} ms")
        print(f"provisioning to first state on the broker: {(online - booted) * 1000:.0f} ms")

        latencies = []
        for i in range(commands):
            value = f"{2 + (i % 12) * 0.5:.1f}"
            mark = probe.mark()
            sent = time.perf_counter()
            probe.publish(f"hearth/{device.id}/set/fridge_setpoint", value)
            await probe.wait_state(
                device.id,
                lambda s, v=float(value): s["fridge_setpoint"] == v,  # type: ignore[misc]
                since=mark,
            )
            latencies.append((time.perf_counter() - sent) * 1000)
        print(
            f"command round trip over {commands} commands, broker nodelay={nodelay} (set-point -> state): "
            f"median {statistics.median(latencies):.1f} ms, p99 {percentile(latencies, 0.99):.1f} ms"
        )

        store = ImageStore(workdir / "hub", key.public_hex)
        server = ImageServer(store, host="127.0.0.1", advertise="127.0.0.1")
        await server.async_start()
        updater = OtaUpdater(probe, store, server)
        durations = []
        for i in range(updates):
            version = f"1.{i + 1}.0"
            data = build_image(app_files(APP_DIR, version=version), version=version,
                               profile="*", key=key)  # fmt: skip
            image = store.add(data)
            start = time.perf_counter()
            result = await updater.async_update(device.id, image.id, timeout=120)
            durations.append((time.perf_counter() - start) * 1000)
            assert result.success, device.log()
        print(
            f"OTA update to a reported-in new image ({len(data):,} byte image, {updates} runs): "
            f"median {statistics.median(durations):.0f} ms, max {max(durations):.0f} ms"
        )
        files = app_files(APP_DIR, version="6.6.6")
        files["hearthapp/main.py"] = CRASHING_MAIN
        bad = store.add(build_image(files, version="6.6.6", profile="*", key=key))
        start = time.perf_counter()
        result = await updater.async_update(device.id, bad.id, timeout=120)
        assert result.stage == "rolled_back", device.log()
        print(
            f"OTA of a crashing image until rolled back and reported: "
            f"{(time.perf_counter() - start) * 1000:.0f} ms"
        )
        await server.async_stop()
        device.kill()
    finally:
        probe.close()
        broker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--updates", type=int, default=5)
    parser.add_argument(
        "--broker-nagle", action="store_true", help="leave mosquitto's set_tcp_nodelay off"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hearth-bench-fw-") as tmp:
        workdir = Path(tmp)
        bench_crypto(workdir / "keys")
        bench_micropython(workdir / "keys", workdir)
        asyncio.run(bench_device(workdir, args.commands, args.updates, not args.broker_nagle))


if __name__ == "__main__":
    main()
