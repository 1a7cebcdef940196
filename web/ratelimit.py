"""Login rate limiting: attempts counted before the password is checked.

A client address is refused after `max_failures` failed attempts within the window (whatever the
account). An account attacked from many addresses is slowed down (each attempt waits a little
longer, capped), never refused: a stranger cannot lock the owner out, who signs in from their
own address after a short wait.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from .errors import RateLimited

__all__ = ["LoginRateLimiter"]

_MAX_DELAY = 4.0
_BASE_DELAY = 0.25


class LoginRateLimiter:
    """Counts attempts per source address and per account in a sliding window."""

    def __init__(
        self,
        max_failures: int = 5,
        window: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        max_delay: float = _MAX_DELAY,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self.max_delay = max_delay
        self._clock = clock
        self._attempts: dict[str, deque[float]] = {}

    def begin(self, source: str, account: str) -> float:
        """Count an attempt now (before verifying); returns how long to wait before checking.

        Raises RateLimited when this source has used up its attempts.
        """
        now = self._clock()
        source_key = f"source:{source}"
        times = self._recent(source_key, now)
        if times is not None and len(times) >= self.max_failures:
            raise RateLimited(
                "too many failed attempts; try again later", times[0] + self.window - now
            )
        account_key = f"account:{account}"
        earlier = self._recent(account_key, now)
        count = 0 if earlier is None else len(earlier)
        self._attempts.setdefault(source_key, deque(maxlen=self.max_failures)).append(now)
        self._attempts.setdefault(account_key, deque(maxlen=64)).append(now)
        if len(self._attempts) > 10_000:
            self._prune(now)
        if count < self.max_failures:
            return 0.0
        return min(self.max_delay, _BASE_DELAY * 2 ** (count - self.max_failures))

    def succeeded(self, source: str, account: str) -> None:
        """A right password: this attempt was no failure, and the account's slow-down ends.

        Only this attempt is taken back from the source: signing in to one's own account does
        not buy more guesses at another.
        """
        self._attempts.pop(f"account:{account}", None)
        times = self._attempts.get(f"source:{source}")
        if times:
            times.pop()

    def check(self, key: str, limit: int | None = None) -> None:
        """Count an attempt for a plain key (a setup code); raise RateLimited past the limit."""
        now = self._clock()
        limit = limit or self.max_failures
        times = self._recent(key, now)
        if times is not None and len(times) >= limit:
            raise RateLimited("too many attempts; try again later", times[0] + self.window - now)
        self._attempts.setdefault(key, deque(maxlen=limit)).append(now)

    def _recent(self, key: str, now: float) -> deque[float] | None:
        times = self._attempts.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._attempts[key]
            return None
        return times

    def _prune(self, now: float) -> None:
        for key in list(self._attempts):
            self._recent(key, now)
