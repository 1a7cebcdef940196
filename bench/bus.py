"""Bus benchmark: Home Assistant's benchmark workloads on Hearth's bus and state machine.

Each workload runs in a fresh process and is timed whole (creating and firing the events plus
delivering them), with that process's peak memory (max RSS). `--vs-home-assistant PYTHON` runs
the same workloads on a Home Assistant install and prints the ratios.

    python bench/bus.py [--events N] [--vs-home-assistant /path/to/ha/bin/python]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

WORKLOADS = (
    "fire_events",
    "fire_events_with_filter",
    "state_changed_helper",
    "state_changed_event_helper",
    "json_serialize_states",
)
Workload = Callable[[int], Coroutine[Any, Any, None]]


# -- Hearth workloads (same semantics as homeassistant/scripts/benchmark) ----------------
async def fire_events(n: int) -> None:
    from hub.bus import EventBus

    bus = EventBus()
    count = 0

    def listener(_event: Any) -> None:
        nonlocal count
        count += 1

    bus.async_listen("benchmark_event", listener)
    for _ in range(n):
        bus.async_fire("benchmark_event")
    assert count == n


async def fire_events_with_filter(n: int) -> None:
    from hub.bus import EventBus

    bus = EventBus()
    count = 0

    def listener(_event: Any) -> None:
        nonlocal count
        count += 1

    bus.async_listen("benchmark_event", listener, event_filter=lambda _e: False)
    for _ in range(n):
        bus.async_fire("benchmark_event")
    assert count == 0


async def state_changed_helper(n: int) -> None:
    from hub.bus import EventBus
    from hub.const import EVENT_STATE_CHANGED
    from hub.states import State
    from hub.track import async_track_state_change

    bus = EventBus()
    count = 0
    entity_id = "light.kitchen"

    def listener(*_args: Any) -> None:
        nonlocal count
        count += 1

    for idx in range(1000):
        async_track_state_change(bus, f"{entity_id}{idx}", listener, "off", "on")
    data = {
        "entity_id": f"{entity_id}0",
        "old_state": State(entity_id, "off"),
        "new_state": State(entity_id, "on"),
    }
    for _ in range(n):
        bus.async_fire(EVENT_STATE_CHANGED, data)
    assert count == n


async def state_changed_event_helper(n: int) -> None:
    from hub.bus import EventBus
    from hub.const import EVENT_STATE_CHANGED
    from hub.states import State
    from hub.track import async_track_state_change_event

    bus = EventBus()
    count = 0
    entity_id = "light.kitchen"

    def listener(_event: Any) -> None:
        nonlocal count
        count += 1

    async_track_state_change_event(bus, [f"{entity_id}{idx}" for idx in range(1000)], listener)
    data = {
        "entity_id": f"{entity_id}0",
        "old_state": State(entity_id, "off"),
        "new_state": State(entity_id, "on"),
    }
    for _ in range(n):
        bus.async_fire(EVENT_STATE_CHANGED, data)
    assert count == n


async def json_serialize_states(n: int) -> None:
    from hub.json import json_bytes
    from hub.states import State

    states = [State("light.kitchen", "on", {"friendly_name": "Kitchen Lights"}) for _ in range(n)]
    out = json_bytes(states)
    assert out.startswith(b'[{"entity_id":"light.kitchen"')


HEARTH: dict[str, Workload] = {name: globals()[name] for name in WORKLOADS}


# -- Home Assistant workloads, run by HA's own interpreter --------------------------------
HA_SCRIPT = r"""
import asyncio, json, logging, resource, sys, tempfile, time
logging.disable(logging.CRITICAL)
from homeassistant import core
from homeassistant.const import EVENT_STATE_CHANGED

name, n = sys.argv[1], int(sys.argv[2])

def new_hass():
    try:
        return core.HomeAssistant(tempfile.mkdtemp())
    except TypeError:
        return core.HomeAssistant()

async def fire_events(hass):
    count = 0
    @core.callback
    def listener(_):
        nonlocal count
        count += 1
    hass.bus.async_listen("benchmark_event", listener)
    for _ in range(n):
        hass.bus.async_fire("benchmark_event")
    await hass.async_block_till_done()
    assert count == n

async def fire_events_with_filter(hass):
    count = 0
    @core.callback
    def event_filter(event):
        return False
    @core.callback
    def listener(_):
        nonlocal count
        count += 1
    hass.bus.async_listen("benchmark_event", listener, event_filter=event_filter)
    for _ in range(n):
        hass.bus.async_fire("benchmark_event")
    await hass.async_block_till_done()
    assert count == 0

async def state_changed_helper(hass):
    from homeassistant.helpers.event import async_track_state_change
    count = 0
    done = asyncio.Event()
    entity_id = "light.kitchen"
    @core.callback
    def listener(*args):
        nonlocal count
        count += 1
        if count == n:
            done.set()
    for idx in range(1000):
        async_track_state_change(hass, f"{entity_id}{idx}", listener, "off", "on")
    data = {"entity_id": f"{entity_id}0", "old_state": core.State(entity_id, "off"),
            "new_state": core.State(entity_id, "on")}
    for _ in range(n):
        hass.bus.async_fire(EVENT_STATE_CHANGED, data)
    await done.wait()

async def state_changed_event_helper(hass):
    from homeassistant.helpers.event import async_track_state_change_event
    count = 0
    entity_id = "light.kitchen"
    @core.callback
    def listener(*args):
        nonlocal count
        count += 1
    async_track_state_change_event(hass, [f"{entity_id}{idx}" for idx in range(1000)], listener)
    data = {"entity_id": f"{entity_id}0", "old_state": core.State(entity_id, "off"),
            "new_state": core.State(entity_id, "on")}
    for _ in range(n):
        hass.bus.async_fire(EVENT_STATE_CHANGED, data)
    await hass.async_block_till_done()
    assert count == n

async def json_serialize_states(hass):
    try:
        from homeassistant.components.websocket_api.const import JSON_DUMP
    except ImportError:  # moved in 2024.x
        from homeassistant.helpers.json import JSON_DUMP
    states = [core.State("light.kitchen", "on", {"friendly_name": "Kitchen Lights"}) for _ in range(n)]
    JSON_DUMP(states)

async def main():
    hass = new_hass()
    start = time.perf_counter()
    await globals()[name](hass)
    seconds = time.perf_counter() - start
    try:
        await hass.async_stop(force=True)
    except Exception:
        pass
    return seconds

seconds = asyncio.run(main())
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak}))
"""


# -- runner -------------------------------------------------------------------------------
def run_worker(name: str, n: int) -> None:
    """Run one Hearth workload in this process and print its figures as JSON."""

    async def timed() -> float:
        start = time.perf_counter()
        await HEARTH[name](n)
        return time.perf_counter() - start

    seconds = asyncio.run(timed())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak}))


def measure(cmd: list[str]) -> dict[str, float]:
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=3600, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"workload failed: {' '.join(cmd)}\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=10**6, help="events (or states) per workload")
    parser.add_argument(
        "--vs-home-assistant", metavar="PYTHON", help="Home Assistant's interpreter"
    )
    parser.add_argument("--only", choices=WORKLOADS, action="append", help="run only these")
    parser.add_argument("--worker", choices=WORKLOADS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run_worker(args.worker, args.events)
        return
    names = args.only or list(WORKLOADS)
    print(
        f"workload size: {args.events:,} events per workload; whole workload timed; peak = max RSS"
    )
    header = f"{'workload':<28} {'hearth s':>9} {'peak MB':>8}"
    if args.vs_home_assistant:
        header += f" {'HA s':>8} {'HA MB':>8} {'speed-up':>9} {'mem ratio':>9}"
    print(header)
    slowest: float | None = None
    for name in names:
        ours = measure([sys.executable, __file__, "--worker", name, "--events", str(args.events)])
        line = f"{name:<28} {ours['seconds']:>9.3f} {ours['peak_mb']:>8.1f}"
        if args.vs_home_assistant:
            theirs = measure([args.vs_home_assistant, "-c", HA_SCRIPT, name, str(args.events)])
            ratio = theirs["seconds"] / ours["seconds"]
            mem = ours["peak_mb"] / theirs["peak_mb"]
            slowest = ratio if slowest is None else min(slowest, ratio)
            line += (
                f" {theirs['seconds']:>8.3f} {theirs['peak_mb']:>8.1f} {ratio:>8.1f}x {mem:>8.2f}x"
            )
        print(line, flush=True)
    if slowest is not None:
        print(f"slowest ratio vs Home Assistant: {slowest:.1f}x")


if __name__ == "__main__":
    main()
