"""The hub's daily rolling backups: every store that must survive a damaged file registers here.

The registry, the dashboard's accounts (auth.db) and the broker's credentials each keep copies in
``<config_dir>/backups/``; a hub that runs for months must keep making them, not only at start.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from .clock import Clock

__all__ = ["BACKUP_INTERVAL", "BackupJob", "Backups"]

_LOGGER = logging.getLogger(__name__)
BACKUP_INTERVAL = 86400.0


@dataclass(frozen=True)
class BackupJob:
    """One store's backup: `run` makes a copy (off the loop) and may return where it went."""

    name: str
    run: Callable[[], Awaitable[object]]


class Backups:
    """Runs every registered backup job once a day on the hub's clock."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._jobs: dict[str, BackupJob] = {}
        self._cancel: Callable[[], None] | None = None

    def register(self, name: str, run: Callable[[], Awaitable[object]]) -> Callable[[], None]:
        """Back `name` up daily with `run`; returns the function that stops it."""
        job = BackupJob(name, run)
        self._jobs[name] = job

        def remove() -> None:
            if self._jobs.get(name) is job:
                del self._jobs[name]

        return remove

    @property
    def names(self) -> list[str]:
        """What is backed up, in registration order."""
        return list(self._jobs)

    async def async_run_all(self) -> dict[str, bool]:
        """Back up every store now; one failing store never stops the others."""
        results: dict[str, bool] = {}
        for job in list(self._jobs.values()):
            try:
                await job.run()
                results[job.name] = True
            except Exception:
                _LOGGER.exception("Daily backup of %s failed", job.name)
                results[job.name] = False
        return results

    def async_start(
        self, schedule: Callable[[Coroutine[Any, Any, dict[str, bool]]], object]
    ) -> None:
        """Start the daily timer; `schedule` runs the backup coroutine as a hub task."""
        self.async_stop()

        def due() -> None:
            self._cancel = self._clock.async_call_later(BACKUP_INTERVAL, due)
            schedule(self.async_run_all())

        self._cancel = self._clock.async_call_later(BACKUP_INTERVAL, due)

    def async_stop(self) -> None:
        """Stop the daily timer."""
        if self._cancel is not None:
            self._cancel()
            self._cancel = None
