"""Run modes: a rule fired again while it is still running."""

from __future__ import annotations

from hub.clock import FakeClock
from hub.core import Hub

from .conftest import RulesHub, manager, record, traces


def slow_rule(mode: str, max_runs: int = 10) -> str:
    return (
        f"- id: r\n  mode: {mode}\n  max: {max_runs}\n"
        "  triggers: [{platform: event, event_type: go}]\n  actions:\n"
        "    - event: started\n      event_data: {n: '{{ trigger.data.n }}'}\n"
        "    - delay: 10\n"
        "    - event: done\n      event_data: {n: '{{ trigger.data.n }}'}\n"
    )


async def fire_all(hub: Hub, clock: FakeClock, count: int) -> None:
    for n in range(1, count + 1):
        hub.bus.async_fire("go", {"n": n})
        await clock.async_advance(1)


async def test_single_ignores_new_runs(make_hub: RulesHub, fake_clock: FakeClock) -> None:
    hub = await make_hub(slow_rule("single"), demo=False)
    started, done = record(hub, "started"), record(hub, "done")
    await fire_all(hub, fake_clock, 3)
    await fake_clock.async_advance(60)
    assert [d["n"] for d in started] == [1] and [d["n"] for d in done] == [1]
    assert len(await traces(hub, "r")) == 1
    await fire_all(hub, fake_clock, 1)  # idle again: runs
    await fake_clock.async_advance(60)
    assert len(done) == 2


async def test_restart_cancels_the_running_one(make_hub: RulesHub, fake_clock: FakeClock) -> None:
    hub = await make_hub(slow_rule("restart"), demo=False)
    started, done = record(hub, "started"), record(hub, "done")
    await fire_all(hub, fake_clock, 3)
    await fake_clock.async_advance(60)
    assert [d["n"] for d in started] == [1, 2, 3] and [d["n"] for d in done] == [3]
    states = [t["state"] for t in await traces(hub, "r")]
    assert states == ["finished", "cancelled", "cancelled"]
    cancelled = (await traces(hub, "r"))[1]
    assert cancelled["steps"][-1] == {
        **cancelled["steps"][-1],
        "kind": "delay",
        "error": "cancelled",
    }


async def test_queued_runs_in_order_and_is_bounded(
    make_hub: RulesHub, fake_clock: FakeClock
) -> None:
    hub = await make_hub(slow_rule("queued", 2), demo=False)
    started, done = record(hub, "started"), record(hub, "done")
    await fire_all(hub, fake_clock, 5)  # 1 runs, 2 and 3 wait, 4 and 5 are dropped
    await fake_clock.async_advance(60)
    await manager(hub).async_wait_idle()
    assert [d["n"] for d in started] == [1, 2, 3]
    assert [d["n"] for d in done] == [1, 2, 3]
    assert manager(hub).get("r").info.running == 0


async def test_parallel_is_bounded(make_hub: RulesHub, fake_clock: FakeClock) -> None:
    hub = await make_hub(slow_rule("parallel", 2), demo=False)
    started, done = record(hub, "started"), record(hub, "done")
    await fire_all(hub, fake_clock, 3)
    assert manager(hub).get("r").info.running == 2
    await fake_clock.async_advance(60)
    await manager(hub).async_wait_idle()
    assert [d["n"] for d in started] == [1, 2]
    assert sorted(d["n"] for d in done) == [1, 2]
