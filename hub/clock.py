"""Clocks: the real one, and a fake one that tests advance by hand."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

__all__ = ["Clock", "FakeClock"]

Cancel = Callable[[], None]


class Clock:
    """Wall-clock time and timers. Everything time-based in Hearth goes through one of these."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        return datetime.now(UTC)

    def time(self) -> float:
        """Seconds since the epoch."""
        return time.time()

    def async_call_later(self, delay: float, callback: Callable[[], Any]) -> Cancel:
        """Run callback after delay seconds; returns a cancel function."""
        handle = asyncio.get_running_loop().call_later(max(0.0, delay), callback)
        return handle.cancel

    def async_call_at(self, when: float, callback: Callable[[], Any]) -> Cancel:
        """Run callback at an epoch timestamp."""
        return self.async_call_later(when - self.time(), callback)

    async def async_sleep(self, delay: float) -> None:
        """Sleep for delay seconds."""
        await asyncio.sleep(delay)


class FakeClock(Clock):
    """A clock that only moves when told to: timers fire in order as time is advanced."""

    def __init__(self, start: datetime | float | None = None) -> None:
        if isinstance(start, datetime):
            self._now = start.timestamp()
        elif start is None:
            self._now = time.time()
        else:
            self._now = float(start)
        self._timers: list[tuple[float, int, Callable[[], Any]]] = []
        self._seq = itertools.count()
        self._cancelled: set[int] = set()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._now, UTC)

    def time(self) -> float:
        return self._now

    def async_call_later(self, delay: float, callback: Callable[[], Any]) -> Cancel:
        seq = next(self._seq)
        heapq.heappush(self._timers, (self._now + max(0.0, delay), seq, callback))
        return lambda: self._cancelled.add(seq)

    async def async_sleep(self, delay: float) -> None:
        future = asyncio.get_running_loop().create_future()
        self.async_call_later(delay, lambda: _resolve(future))
        await future

    async def async_advance(self, seconds: float) -> None:
        """Move time forward, firing due timers in order and letting tasks run after each."""
        target = self._now + seconds
        await _settle()
        while self._timers and self._timers[0][0] <= target:
            when, seq, callback = heapq.heappop(self._timers)
            if seq in self._cancelled:
                self._cancelled.discard(seq)
                continue
            self._now = max(self._now, when)
            callback()
            await _settle()
        self._now = target
        await _settle()

    async def async_set(self, when: datetime) -> None:
        """Advance to a point in time."""
        await self.async_advance(max(0.0, when.timestamp() - self._now))


async def _settle() -> None:
    # Several loop turns so chains of tasks woken by a timer get to run.
    for _ in range(20):
        await asyncio.sleep(0)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
