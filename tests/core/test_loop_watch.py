"""The slow-callback watch itself: blocking is caught, waiting is not."""

from __future__ import annotations

import asyncio
import time

from tests import loop_watch


async def test_a_blocking_callback_is_recorded() -> None:
    loop_watch.recorded.clear()
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def blocks() -> None:
        time.sleep(0.08)  # the kind of thing that must never run on the loop
        done.set_result(None)

    loop.call_soon(blocks)
    await done
    found = list(loop_watch.recorded)
    loop_watch.recorded.clear()  # caught as expected: this test must not fail for it
    assert len(found) == 1
    assert found[0].blocked >= 0.05
    assert "blocks" in found[0].what
    assert "time.sleep" in found[0].stack


async def test_waiting_is_not_blocking() -> None:
    loop_watch.recorded.clear()
    await asyncio.sleep(0.08)
    await asyncio.get_running_loop().run_in_executor(None, time.sleep, 0.08)
    assert loop_watch.recorded == []
