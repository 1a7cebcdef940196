"""Login rate limiting: failed attempts per client address and per user name, in a window."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from .errors import RateLimited

__all__ = ["LoginRateLimiter"]


class LoginRateLimiter:
    """Blocks a key after `max_failures` failures within `window` seconds."""

    def __init__(
        self,
        max_failures: int = 5,
        window: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def check(self, *keys: str) -> None:
        """Raise RateLimited if any key has too many recent failures."""
        now = self._clock()
        for key in keys:
            times = self._recent(key, now)
            if times is not None and len(times) >= self.max_failures:
                raise RateLimited(
                    "too many failed attempts; try again later", times[0] + self.window - now
                )

    def failed(self, *keys: str) -> None:
        """Record a failed attempt for each key."""
        now = self._clock()
        for key in keys:
            self._failures.setdefault(key, deque(maxlen=self.max_failures)).append(now)
        if len(self._failures) > 10_000:
            self._prune(now)

    def succeeded(self, *keys: str) -> None:
        """Forget failures after a successful login."""
        for key in keys:
            self._failures.pop(key, None)

    def _recent(self, key: str, now: float) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def _prune(self, now: float) -> None:
        for key in list(self._failures):
            self._recent(key, now)
