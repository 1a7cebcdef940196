"""Spoken timers: start, cancel, ask what is left; finishing fires a bus event."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Literal

TimerChange = Literal["started", "cancelled", "finished"]
TimerListener = Callable[[TimerChange, str, float], None]


class Timers:
    """One timer per conversation, on the event loop's clock."""

    def __init__(self, on_finished: Callable[[str, float], None]) -> None:
        self._timers: dict[str, tuple[asyncio.TimerHandle, float, float]] = {}
        self._on_finished = on_finished
        self._listeners: list[TimerListener] = []

    def listen(self, listener: TimerListener) -> Callable[[], None]:
        """Hear every start, cancel and finish (satellites show timers); returns an unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def start(self, conversation_id: str, seconds: float) -> None:
        self.cancel(conversation_id)
        loop = asyncio.get_running_loop()
        handle = loop.call_later(seconds, self._finish, conversation_id, seconds)
        self._timers[conversation_id] = (handle, loop.time() + seconds, seconds)
        self._tell("started", conversation_id, seconds)

    def cancel(self, conversation_id: str) -> bool:
        entry = self._timers.pop(conversation_id, None)
        if entry is None:
            return False
        entry[0].cancel()
        self._tell("cancelled", conversation_id, entry[2])
        return True

    def remaining(self, conversation_id: str) -> float | None:
        entry = self._timers.get(conversation_id)
        if entry is None:
            return None
        return max(0.0, entry[1] - asyncio.get_running_loop().time())

    def cancel_all(self) -> None:
        for conversation_id in list(self._timers):
            self.cancel(conversation_id)

    def _finish(self, conversation_id: str, seconds: float) -> None:
        self._timers.pop(conversation_id, None)
        self._on_finished(conversation_id, seconds)
        self._tell("finished", conversation_id, seconds)

    def _tell(self, change: TimerChange, conversation_id: str, seconds: float) -> None:
        for listener in list(self._listeners):
            listener(change, conversation_id, seconds)
