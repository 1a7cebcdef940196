"""Rules engine benchmark: cost of one state change with 100, 1,000 and 10,000 rules loaded.

Prints, for each rule count: load time (parse + validate + attach), the cost of a state change
no rule watches, and of one that matches exactly one rule (the synchronous dispatch, and end to
end: trigger, run, action, trace written to SQLite). Run: .venv/bin/python bench/rules.py
(BENCH_GC_FREEZE=1 calls gc.freeze() after loading, to show how much is the cyclic collector.)
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hub.config import HubConfig
from hub.core import Hub
from hub.rules import RuleManager

COUNTS = (100, 1_000, 10_000)
NO_MATCH_CHANGES = 20_000
MATCH_CHANGES = 2_000
ROUNDS = 3
FREEZE = bool(os.environ.get("BENCH_GC_FREEZE"))


def rules_yaml(count: int) -> str:
    """A mix of trigger kinds, each rule on its own entity; rule 0 matches any sensor.s0 change."""
    out = [
        "- id: target\n  triggers: [{platform: state, entity_id: sensor.s0}]\n"
        "  conditions: [{condition: numeric_state, entity_id: sensor.s0, above: -1}]\n"
        "  actions: [{event: bench_done, event_data: {v: '{{ trigger.to_state.state }}'}}]\n"
    ]
    for i in range(1, count):
        kind = i % 4
        if kind == 0:
            trigger = f"{{platform: state, entity_id: sensor.s{i}, to: 'on', for: 30}}"
        elif kind == 1:
            trigger = f"{{platform: numeric_state, entity_id: sensor.n{i}, above: 50}}"
        elif kind == 2:
            trigger = f"{{platform: event, event_type: e{i % 100}, event_data: {{n: {i}}}}}"
        else:
            trigger = f"{{platform: time, at: '{i % 24:02d}:{i % 60:02d}'}}"
        out.append(
            f"- id: r{i}\n  mode: queued\n  triggers: [{trigger}]\n"
            f"  conditions: [{{condition: state, entity_id: binary_sensor.b{i % 50}, state: 'on'}}]\n"
            f"  actions:\n    - service: light.turn_on\n      target: {{entity_id: light.l{i}}}\n"
            f"      data: {{brightness: '{{{{ {i} % 255 }}}}'}}\n    - delay: 5\n"
        )
    return "".join(out)


async def run(count: int) -> dict[str, float]:
    """Load `count` rules into a fresh hub and time state changes."""
    folder = Path(tempfile.mkdtemp(prefix="hearth-bench-rules-"))
    (folder / "rules.yaml").write_text(rules_yaml(count), encoding="utf-8")
    hub = Hub(HubConfig.minimal(folder), record=False)
    await hub.async_start()
    manager = RuleManager(hub)
    started = time.perf_counter()
    await manager.async_start()
    load = time.perf_counter() - started
    assert len(manager.rules()) == count
    if FREEZE:
        gc.freeze()
    states = hub.states

    none_us = []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        for i in range(NO_MATCH_CHANGES):
            states.async_set("sensor.unwatched", str(i))
        none_us.append((time.perf_counter() - t0) / NO_MATCH_CHANGES * 1e6)

    done = 0

    def count_done(_event: object) -> None:
        nonlocal done
        done += 1

    hub.bus.async_listen("bench_done", count_done)
    dispatch = 0.0
    t_all = time.perf_counter()
    for i in range(MATCH_CHANGES):
        t0 = time.perf_counter()
        states.async_set("sensor.s0", str(i))
        dispatch += time.perf_counter() - t0
        await manager.async_wait_idle()
    end_to_end = (time.perf_counter() - t_all) / MATCH_CHANGES * 1e6
    assert done == MATCH_CHANGES, done
    traces = await manager.async_traces("target", 5)
    assert traces and traces[0]["state"] == "finished"
    await manager.async_stop()
    await hub.async_stop()
    return {
        "load_s": load,
        "none_us": statistics.median(none_us),
        "match_dispatch_us": dispatch / MATCH_CHANGES * 1e6,
        "match_e2e_us": end_to_end,
    }


async def baseline() -> float:
    """A state change on a hub without the rules component, for comparison."""
    folder = Path(tempfile.mkdtemp(prefix="hearth-bench-rules-"))
    hub = Hub(HubConfig.minimal(folder), record=False)
    await hub.async_start()
    samples = []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        for i in range(NO_MATCH_CHANGES):
            hub.states.async_set("sensor.unwatched", str(i))
        samples.append((time.perf_counter() - t0) / NO_MATCH_CHANGES * 1e6)
    await hub.async_stop()
    return statistics.median(samples)


async def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    base = await baseline()
    print(f"state change, hub without rules: {base:.2f} µs")
    print(
        f"{'rules':>7} {'load s':>8} {'no match µs':>12} {'match µs':>10} "
        f"{'match end-to-end µs':>20}"
    )
    results = {}
    for count in COUNTS:
        results[count] = r = await run(count)
        print(
            f"{count:>7,} {r['load_s']:>8.2f} {r['none_us']:>12.2f} "
            f"{r['match_dispatch_us']:>10.2f} {r['match_e2e_us']:>20.1f}"
        )
    small, large = results[COUNTS[0]], results[COUNTS[-1]]
    print(
        f"10,000 vs 100 rules: no-match x{large['none_us'] / small['none_us']:.2f}, "
        f"match x{large['match_dispatch_us'] / small['match_dispatch_us']:.2f}, "
        f"load {large['load_s'] / COUNTS[-1] * 1e6:.0f} µs per rule"
    )
    print(
        "(match µs: state change to run started; end-to-end adds the run, its action and "
        "the trace written to SQLite)"
    )


if __name__ == "__main__":
    asyncio.run(main())
