"""Waiting for a condition in tests: poll, never a fixed sleep."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any


async def wait_until(
    check: Callable[[], Any], timeout: float = 30.0, what: str = "", interval: float = 0.02
) -> Any:
    """Poll `check()` (plain or awaitable) until truthy and return its value; after `timeout`
    seconds fail with an AssertionError naming `what` (generous: the machine may be loaded)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = check()
        if isinstance(value, Awaitable):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(interval)
