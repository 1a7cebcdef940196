"""Subprocess for the crash test: records an ever-growing counter until it is killed."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from hub.config import HubConfig
from hub.core import Hub


async def main(config_dir: Path) -> None:
    config = HubConfig.minimal(config_dir)
    config = HubConfig(
        config_dir=config.config_dir,
        file=config.file,
        recorder={"commit_interval": 0.02, "keep_days": 10},
        logging=config.logging,
    )
    hub = Hub(config)
    await hub.async_start()
    await hub.registry.areas.async_create("Crash Lab")
    print("started", flush=True)
    n = 0
    while True:
        n += 1
        hub.states.async_set("sensor.counter", str(n), {"n": n, "pad": "x" * 200})
        hub.states.async_set(f"sensor.other_{n % 50}", str(n))
        if n % 200 == 0:
            await asyncio.sleep(0.001)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
