"""Catch callbacks that block the event loop (asyncio's slow-callback check, made robust).

asyncio's debug mode flags a callback whose wall time exceeds ``slow_callback_duration``. On a
loaded two-core machine wall time also counts the time the thread sat runnable on the run queue
while other processes had the CPU, which is not the callback's doing. So each callback's
blocked time here is its wall time minus the run-queue wait Linux reports for the thread
(``/proc/thread-self/schedstat``): CPU work and blocking I/O or sleeps count, contention not.
Starting a thread (an executor's first job) waits until the new thread is scheduled, which on a
busy machine is contention too: that wait is left out as well. So is a garbage collection that
happens to start inside a callback: its length depends on everything the whole test session
still holds (hundreds of hubs, speech models), not on the callback.
"""

from __future__ import annotations

import asyncio.events
import gc
import itertools
import os
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any

THRESHOLD = float(os.environ.get("HEARTH_SLOW_CALLBACK_MS", "50")) / 1000
_local = threading.local()


@dataclass(frozen=True)
class SlowCallback:
    """One callback that held the loop too long."""

    blocked: float
    wall: float
    what: str
    stack: str = ""

    def __str__(self) -> str:
        head = f"{self.blocked * 1000:.0f} ms blocked ({self.wall * 1000:.0f} ms wall): {self.what}"
        return f"{head}\n{self.stack}" if self.stack else head


recorded: list[SlowCallback] = []
# Callbacks running now, by thread id: (start, sequence number); a watcher thread samples the
# stack of one that runs long, so the report shows where it blocked, not just which task.
_running: dict[int, tuple[float, int]] = {}
_stacks: dict[int, str] = {}
_seq = itertools.count()
SAMPLE_EVERY = 0.02
STACK_FRAMES = 8


def _runqueue_wait() -> float:
    """Seconds this thread has spent runnable but not running (0 where Linux does not say)."""
    fd = getattr(_local, "fd", None)
    if fd is None:
        try:
            fd = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
        except OSError:
            fd = -1
        _local.fd = fd
    if fd < 0:
        return 0.0
    try:
        return int(os.pread(fd, 64, 0).split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


_original_run = asyncio.events.Handle._run


def _excluded() -> float:
    return getattr(_local, "excluded", 0.0)  # type: ignore[no-any-return]


_original_start = threading.Thread.start


def _timed_start(self: threading.Thread) -> None:
    start = time.perf_counter()
    try:
        _original_start(self)
    finally:
        _local.excluded = _excluded() + time.perf_counter() - start


def _gc_phase(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _local.gc_start = time.perf_counter()
    else:
        start = getattr(_local, "gc_start", None)
        if start is not None:
            _local.excluded = _excluded() + time.perf_counter() - start
            _local.gc_start = None


def _watched_run(self: asyncio.events.Handle) -> None:
    tid = threading.get_ident()
    seq = next(_seq)
    wait0 = _runqueue_wait()
    excluded0 = _excluded()
    start = time.perf_counter()
    _running[tid] = (start, seq)
    try:
        _original_run(self)
    finally:
        _running.pop(tid, None)
        wall = time.perf_counter() - start
        stack = _stacks.pop(seq, "")
        if wall > THRESHOLD:
            blocked = wall - (_runqueue_wait() - wait0) - (_excluded() - excluded0)
            if blocked > THRESHOLD:
                recorded.append(SlowCallback(blocked, wall, _describe(self), stack))


def _sample_forever() -> None:
    while True:
        time.sleep(SAMPLE_EVERY)
        now = time.perf_counter()
        for tid, (start, seq) in list(_running.items()):
            if now - start > THRESHOLD * 0.6 and seq not in _stacks:
                frame = sys._current_frames().get(tid)
                if frame is not None:
                    lines = traceback.format_stack(frame)[-STACK_FRAMES:]
                    _stacks[seq] = "".join(
                        "    " + ln.strip().replace("\n", "\n    ") + "\n" for ln in lines
                    )
        if len(_stacks) > 1000:  # never collected (a callback that never finished)
            _stacks.clear()


def _describe(handle: Any) -> str:
    try:
        task = getattr(handle._callback, "__self__", None)
        if isinstance(task, asyncio.Task):
            coro = task.get_coro()
            name = getattr(coro, "__qualname__", repr(coro))
            return f"task {task.get_name()} ({name})"
        return repr(handle)[:300]
    except Exception:  # pragma: no cover - a repr failing must not hide the finding
        return type(handle).__name__


def install() -> None:
    """Watch every callback of every event loop in this process."""
    if THRESHOLD > 0:
        asyncio.events.Handle._run = _watched_run  # type: ignore[method-assign]
        threading.Thread.start = _timed_start  # type: ignore[method-assign]
        gc.callbacks.append(_gc_phase)
        threading.Thread(target=_sample_forever, name="loop-watch", daemon=True).start()
