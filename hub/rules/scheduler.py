"""The time wheel: all timed rule work shares one clock timer, kept on the earliest entry."""

from __future__ import annotations

import heapq
import itertools
import logging
from collections.abc import Callable
from typing import Any

from hub.clock import Clock

__all__ = ["Scheduler"]

_LOGGER = logging.getLogger(__name__)
# Re-check the wall clock at least this often: loop timers run on monotonic time, and a hub
# without a real-time clock may see its wall time jump when NTP first syncs.
MAX_SLEEP = 60.0


class _Entry:
    __slots__ = ("callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[[], Any]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False


class Scheduler:
    """Run callbacks at epoch times; 10,000 pending entries still cost one armed timer."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._heap: list[tuple[float, int, _Entry]] = []
        self._seq = itertools.count()
        self._armed_for: float | None = None
        self._cancel_timer: Callable[[], None] | None = None
        self._cancelled = 0
        self._closed = False

    def __len__(self) -> int:
        return len(self._heap) - self._cancelled

    def async_at(self, when: float, callback: Callable[[], Any]) -> Callable[[], None]:
        """Call `callback()` at epoch time `when`; returns a cancel function."""
        entry = _Entry(when, callback)
        heapq.heappush(self._heap, (when, next(self._seq), entry))
        if self._armed_for is None or when < self._armed_for:
            self._arm()

        def cancel() -> None:
            if not entry.cancelled:
                entry.cancelled = True
                self._cancelled += 1
                if self._cancelled > 64 and self._cancelled * 2 > len(self._heap):
                    self._compact()

        return cancel

    def async_later(self, delay: float, callback: Callable[[], Any]) -> Callable[[], None]:
        """Call `callback()` after `delay` seconds."""
        return self.async_at(self._clock.time() + delay, callback)

    def close(self) -> None:
        """Drop every entry and the armed timer."""
        self._closed = True
        self._heap.clear()
        self._cancelled = 0
        self._disarm()

    # -- internals ----------------------------------------------------------------------
    def _arm(self) -> None:
        self._disarm()
        while self._heap and self._heap[0][2].cancelled:
            heapq.heappop(self._heap)
            self._cancelled -= 1
        if not self._heap or self._closed:
            return
        when = self._heap[0][0]
        delay = min(max(0.0, when - self._clock.time()), MAX_SLEEP)
        self._armed_for = when
        self._cancel_timer = self._clock.async_call_later(delay, self._wake)

    def _disarm(self) -> None:
        if self._cancel_timer is not None:
            self._cancel_timer()
        self._cancel_timer = None
        self._armed_for = None

    def _wake(self) -> None:
        self._cancel_timer = None
        self._armed_for = None
        now = self._clock.time()
        while self._heap and self._heap[0][0] <= now:
            _, _, entry = heapq.heappop(self._heap)
            if entry.cancelled:
                self._cancelled -= 1
                continue
            entry.cancelled = True  # a late cancel() must not count it twice
            try:
                entry.callback()
            except Exception:
                _LOGGER.exception("Scheduled rule callback failed")
        if self._armed_for is None:
            self._arm()

    def _compact(self) -> None:
        self._heap = [item for item in self._heap if not item[2].cancelled]
        heapq.heapify(self._heap)
        self._cancelled = 0
