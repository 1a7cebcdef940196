"""Run modes: what happens when a rule fires while it is still running."""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Callable, Coroutine
from typing import Any

__all__ = ["MODES", "RunController"]

_LOGGER = logging.getLogger(__name__)
MODES = ("single", "restart", "queued", "parallel")
RunFactory = Callable[[], Coroutine[Any, Any, None]]
TaskStarter = Callable[[Coroutine[Any, Any, None], str], "asyncio.Task[None]"]


class RunController:
    """single: ignore new runs while one is going; restart: cancel it and start again;
    queued: run one after another (at most `max` waiting); parallel: up to `max` at once."""

    def __init__(
        self,
        mode: str,
        max_runs: int,
        name: str,
        start_task: TaskStarter,
        active: set[RunController] | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        self.mode = mode
        self.max_runs = max_runs
        self.name = name
        self._start_task = start_task
        self.running: set[asyncio.Task[None]] = set()
        self._queue: collections.deque[RunFactory] = collections.deque()
        self.dropped = 0
        # Controllers with work, shared by a manager so waiting for idle skips quiet rules.
        self._active = active if active is not None else set()

    @property
    def queued(self) -> int:
        """Runs waiting their turn (queued mode)."""
        return len(self._queue)

    def submit(self, factory: RunFactory) -> str:
        """Start, queue or drop a run; returns 'started', 'queued' or 'dropped'."""
        if not self.running:
            self._start(factory)
            return "started"
        if self.mode == "restart":
            for task in list(self.running):
                task.cancel()
            self._start(factory)
            return "started"
        if self.mode == "parallel" and len(self.running) < self.max_runs:
            self._start(factory)
            return "started"
        if self.mode == "queued" and len(self._queue) < self.max_runs:
            self._queue.append(factory)
            return "queued"
        self.dropped += 1
        _LOGGER.info("Rule %s is already running (mode %s): run dropped", self.name, self.mode)
        return "dropped"

    def cancel_all(self) -> None:
        """Cancel every run and forget queued ones."""
        self._queue.clear()
        for task in list(self.running):
            task.cancel()

    async def async_wait_idle(self) -> None:
        """Wait until nothing runs or waits (tests and shutdown)."""
        while self.running or self._queue:
            await asyncio.gather(*list(self.running), return_exceptions=True)
            await asyncio.sleep(0)

    def _start(self, factory: RunFactory) -> None:
        self._active.add(self)
        task = self._start_task(factory(), f"rule {self.name}")
        self.running.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.running.discard(task)
        if self.mode == "queued" and self._queue and not self.running:
            self._start(self._queue.popleft())
        elif not self.running and not self._queue:
            self._active.discard(self)
