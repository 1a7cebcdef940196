"""Rules engine benchmark: cost of one state change with 100, 1,000 and 10,000 rules loaded.

Prints, for each rule count: load time (parse + validate + attach), the cost of a state change
no rule watches, and of one that matches exactly one rule (the synchronous dispatch, and end to
end: trigger, conditions, run, action, trace written to SQLite). Run: .venv/bin/python bench/rules.py

Medians are the typical cost; means also carry Python's cyclic collector, whose pauses grow with
the heap (10,000 rules are many objects), and interference from other work on the machine.
"""

from __future__ import annotations

import asyncio
import logging
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
BATCH = 100
MATCH_CHANGES = 2_000


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
    figures = {"load_s": load}
    figures["none_us"], figures["none_mean_us"] = no_match(hub)
    figures["match_us"], figures["match_mean_us"], figures["e2e_us"] = await match(hub, manager)
    traces = await manager.async_traces("target", 5)
    assert traces and traces[0]["state"] == "finished"
    await manager.async_stop()
    await hub.async_stop()
    return figures


def no_match(hub: Hub) -> tuple[float, float]:
    """Median and mean µs per change of an entity no rule watches, timed in batches."""
    samples = []
    value = 0
    for _ in range(NO_MATCH_CHANGES // BATCH):
        t0 = time.perf_counter()
        for _ in range(BATCH):
            value += 1
            hub.states.async_set("sensor.unwatched", str(value))
        samples.append((time.perf_counter() - t0) / BATCH * 1e6)
    return statistics.median(samples), statistics.fmean(samples)


async def match(hub: Hub, manager: RuleManager) -> tuple[float, float, float]:
    """Median and mean µs of the dispatch, and median µs end to end, per matching change."""
    done = 0

    def count_done(_event: object) -> None:
        nonlocal done
        done += 1

    unsub = hub.bus.async_listen("bench_done", count_done)
    dispatch, whole = [], []
    for i in range(MATCH_CHANGES):
        t0 = time.perf_counter()
        hub.states.async_set("sensor.s0", f"{i}.5")
        t1 = time.perf_counter()
        await manager.async_wait_idle()
        dispatch.append((t1 - t0) * 1e6)
        whole.append((time.perf_counter() - t0) * 1e6)
    unsub()
    assert done == MATCH_CHANGES, done
    return statistics.median(dispatch), statistics.fmean(dispatch), statistics.median(whole)


async def baseline() -> float:
    """A state change on a hub without the rules component, for comparison."""
    folder = Path(tempfile.mkdtemp(prefix="hearth-bench-rules-"))
    hub = Hub(HubConfig.minimal(folder), record=False)
    await hub.async_start()
    median, _ = no_match(hub)
    await hub.async_stop()
    return median


async def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    print(f"state change, hub without rules: {await baseline():.2f} µs (median)")
    print(
        f"{'rules':>7} {'load s':>7} | {'no match µs':>11} {'mean':>6} | {'match µs':>8} "
        f"{'mean':>6} | {'end-to-end µs':>13}"
    )
    results = {}
    for count in COUNTS:
        results[count] = r = await run(count)
        print(
            f"{count:>7,} {r['load_s']:>7.2f} | {r['none_us']:>11.2f} {r['none_mean_us']:>6.2f}"
            f" | {r['match_us']:>8.2f} {r['match_mean_us']:>6.2f} | {r['e2e_us']:>13.1f}"
        )
    small, large = results[COUNTS[0]], results[COUNTS[-1]]
    print(
        f"10,000 vs 100 rules (medians): no match x{large['none_us'] / small['none_us']:.2f}, "
        f"match x{large['match_us'] / small['match_us']:.2f}, "
        f"end to end x{large['e2e_us'] / small['e2e_us']:.2f}; "
        f"load {large['load_s'] / COUNTS[-1] * 1e6:.0f} µs per rule"
    )
    print(
        "(match: state change until the run is handed to its run mode; end to end adds the "
        "run, its action and the trace written to SQLite)"
    )


if __name__ == "__main__":
    asyncio.run(main())
