"""Per-device budget: a rate limit on incoming messages and quiet, counted error logging.

One device flooding garbage must not slow the others or fill the log: its messages past the
budget are dropped before any parsing (and counted), its bad payloads are logged at most once
a minute with a count, and it is marked over budget so the dashboard can show it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

_LOGGER = logging.getLogger(__name__)

LOG_EVERY = 60.0
# A device stays marked this long after its last dropped message.
CLEAR_AFTER = 60.0


@dataclass(frozen=True)
class Budget:
    """Messages per second a device may send, with a burst allowance."""

    rate: float = 50.0
    burst: float = 200.0


class DeviceGuard:
    """The budget and error counters of one device (all its entities share one guard)."""

    def __init__(self, name: str, budget: Budget, clock: Callable[[], float] = time.monotonic):
        self.name = name
        self.budget = budget
        self._clock = clock
        self._tokens = budget.burst
        self._last = clock()
        self.dropped = 0
        self.errors = 0
        self.over_budget = False
        self._last_drop = 0.0
        self._last_log: dict[str, float] = {}
        self._unlogged: dict[str, int] = {}
        self._listeners: list[Callable[[DeviceGuard], None]] = []

    def add_listener(self, callback: Callable[[DeviceGuard], None]) -> Callable[[], None]:
        """Call ``callback(guard)`` when the device is marked or cleared."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback)

    def admit(self) -> bool:
        """Take one message from the budget; False means drop it unparsed."""
        now = self._clock()
        budget = self.budget
        self._tokens = min(budget.burst, self._tokens + (now - self._last) * budget.rate)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            if self.over_budget and now - self._last_drop > CLEAR_AFTER:
                self._mark(False)
            return True
        self.dropped += 1
        self._last_drop = now
        if not self.over_budget:
            self._mark(True)
        self.log("budget", "over its budget of %.0f msg/s; dropping messages", budget.rate)
        return False

    def refuse(self, kind: str, message: str, *args: object) -> None:
        """Count one bad payload and log it, at most once a minute per kind."""
        self.errors += 1
        self.log(kind, message, *args)

    def log(self, kind: str, message: str, *args: object) -> None:
        """Warn about this device at most once a minute per kind, with how many were skipped."""
        now = self._clock()
        last = self._last_log.get(kind)
        if last is not None and now - last < LOG_EVERY:
            self._unlogged[kind] = self._unlogged.get(kind, 0) + 1
            return
        self._last_log[kind] = now
        skipped = self._unlogged.pop(kind, 0)
        suffix = f" (and {skipped} more in the last minute)" if skipped else ""
        _LOGGER.warning(
            "MQTT device %s: " + message + "%s; %d dropped, %d bad so far",
            self.name,
            *args,
            suffix,
            self.dropped,
            self.errors,
        )

    def attributes(self) -> dict[str, object]:
        """What the dashboard shows for a misbehaving device (nothing for a good one)."""
        if not (self.over_budget or self.dropped or self.errors):
            return {}
        return {
            "over_budget": self.over_budget,
            "dropped_messages": self.dropped,
            "bad_messages": self.errors,
        }

    def _mark(self, over: bool) -> None:
        self.over_budget = over
        if over:
            _LOGGER.warning("MQTT device %s is over its message budget", self.name)
        else:
            _LOGGER.info("MQTT device %s is back within its message budget", self.name)
        for listener in list(self._listeners):
            try:
                listener(self)
            except Exception:
                _LOGGER.exception("Budget listener of %s failed", self.name)
