"""Event bus: ordering, filters, error isolation, async listeners and back-pressure."""

from __future__ import annotations

import asyncio
import logging

import pytest

from hub.bus import MATCH_ALL, Event, EventBus
from hub.const import EVENT_BUS_DROPPED
from hub.context import Context


async def test_events_reach_listeners_in_fire_order() -> None:
    bus = EventBus()
    seen: list[tuple[str, int]] = []
    bus.async_listen("a", lambda e: seen.append(("first", e.data["n"])))
    bus.async_listen("a", lambda e: seen.append(("second", e.data["n"])))
    for n in range(3):
        bus.async_fire("a", {"n": n})
    assert seen == [
        ("first", 0),
        ("second", 0),
        ("first", 1),
        ("second", 1),
        ("first", 2),
        ("second", 2),
    ]


async def test_event_carries_type_data_time_and_context() -> None:
    bus = EventBus()
    got: list[Event] = []
    bus.async_listen("x", got.append)
    ctx = Context(user_id="u1", origin="test")
    bus.async_fire("x", {"k": 1}, context=ctx)
    event = got[0]
    assert event.event_type == "x"
    assert event.data == {"k": 1}
    assert event.time_fired > 0
    assert event.context is ctx and event.context.id
    assert event.as_dict()["context"]["user_id"] == "u1"


async def test_listen_by_type_and_to_all() -> None:
    bus = EventBus()
    typed: list[str] = []
    every: list[str] = []
    bus.async_listen("a", lambda e: typed.append(e.event_type))
    bus.async_listen_all(lambda e: every.append(e.event_type))
    bus.async_fire("a")
    bus.async_fire("b")
    assert typed == ["a"]
    assert every == ["a", "b"]
    assert bus.listener_counts()[MATCH_ALL] == 1


async def test_filter_runs_before_delivery() -> None:
    bus = EventBus()
    seen: list[int] = []
    bus.async_listen(
        "a", lambda e: seen.append(e.data["n"]), event_filter=lambda e: e.data["n"] % 2 == 0
    )
    for n in range(6):
        bus.async_fire("a", {"n": n})
    assert seen == [0, 2, 4]


async def test_unsubscribe_stops_delivery() -> None:
    bus = EventBus()
    seen: list[int] = []
    remove = bus.async_listen("a", lambda e: seen.append(1))
    bus.async_fire("a")
    remove()
    bus.async_fire("a")
    assert seen == [1]
    assert "a" not in bus.listener_counts()


async def test_failing_listener_does_not_stop_others(caplog: pytest.LogCaptureFixture) -> None:
    bus = EventBus()
    seen: list[str] = []

    def broken(event: Event) -> None:
        raise RuntimeError("boom")

    bus.async_listen("a", broken)
    bus.async_listen("a", lambda e: seen.append("after"))
    bus.async_listen("a", lambda e: seen.append("filtered"), event_filter=lambda e: 1 / 0 == 0)
    with caplog.at_level(logging.ERROR):
        bus.async_fire("a")
    assert seen == ["after"]
    assert "boom" in caplog.text
    assert "Error in event filter" in caplog.text


async def test_async_listener_runs_as_task_in_order() -> None:
    bus = EventBus()
    seen: list[int] = []
    done = asyncio.Event()

    async def slow(event: Event) -> None:
        await asyncio.sleep(0)
        seen.append(event.data["n"])
        if event.data["n"] == 4:
            done.set()

    bus.async_listen("a", slow)
    for n in range(5):
        bus.async_fire("a", {"n": n})
    assert seen == []  # not run inline
    await asyncio.wait_for(done.wait(), 5)
    assert seen == [0, 1, 2, 3, 4]


async def test_failing_async_listener_is_isolated(caplog: pytest.LogCaptureFixture) -> None:
    bus = EventBus()
    seen: list[int] = []

    async def broken(event: Event) -> None:
        raise ValueError("async boom")

    async def good(event: Event) -> None:
        seen.append(event.data["n"])

    bus.async_listen("a", broken)
    bus.async_listen("a", good)
    with caplog.at_level(logging.ERROR):
        bus.async_fire("a", {"n": 1})
        bus.async_fire("a", {"n": 2})
        for _ in range(10):
            await asyncio.sleep(0)
    assert seen == [1, 2]
    assert "async boom" in caplog.text


async def test_slow_async_listener_has_bounded_queue_and_counts_drops() -> None:
    bus = EventBus()
    release = asyncio.Event()
    handled: list[int] = []
    dropped_events: list[Event] = []
    bus.async_listen(EVENT_BUS_DROPPED, dropped_events.append)

    async def stuck(event: Event) -> None:
        await release.wait()
        handled.append(event.data["n"])

    bus.async_listen("a", stuck, max_pending=10)
    for n in range(1000):
        bus.async_fire("a", {"n": n})
    await asyncio.sleep(0)
    # One in flight plus at most ten queued; everything else dropped and counted.
    assert bus.dropped >= 1000 - 11
    assert dropped_events and dropped_events[0].data["dropped"] >= 1
    release.set()
    for _ in range(50):
        await asyncio.sleep(0)
    assert len(handled) <= 11
    assert handled == sorted(handled)


async def test_listen_once_and_wait_for() -> None:
    bus = EventBus()
    seen: list[int] = []
    bus.async_listen_once("a", lambda e: seen.append(e.data["n"]))
    bus.async_fire("a", {"n": 1})
    bus.async_fire("a", {"n": 2})
    assert seen == [1]

    async def later() -> None:
        await asyncio.sleep(0)
        bus.async_fire("b", {"n": 1})
        bus.async_fire("b", {"n": 7})

    task = asyncio.create_task(later())
    event = await bus.async_wait_for("b", lambda e: e.data["n"] == 7, timeout=5)
    await task
    assert event.data["n"] == 7
    with pytest.raises(TimeoutError):
        await bus.async_wait_for("never", timeout=0.01)


async def test_fire_from_another_thread() -> None:
    bus = EventBus()
    got = asyncio.Event()
    bus.async_listen("t", lambda e: got.set())
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, bus.fire, "t", {"from": "thread"})
    await asyncio.wait_for(got.wait(), 5)


async def test_context_ids_are_unique() -> None:
    ids = {Context().id for _ in range(10_000)}
    assert len(ids) == 10_000
    child = Context(user_id="u").child("rule")
    assert child.user_id == "u" and child.parent_id and child.origin == "rule"
