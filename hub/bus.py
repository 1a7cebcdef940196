"""Event bus: the asyncio hub that integrations, voice, rules and web talk through."""

from __future__ import annotations

import asyncio
import collections
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from .const import EVENT_BUS_DROPPED
from .context import Context

__all__ = ["MATCH_ALL", "Event", "EventBus", "EventFilter", "Listener"]

_LOGGER = logging.getLogger(__name__)

MATCH_ALL = "*"
DEFAULT_MAX_PENDING = 1000
# A slow listener that keeps dropping events is reported at most this often.
_DROP_REPORT_INTERVAL = 10.0

EventCallback = Callable[["Event"], None] | Callable[["Event"], Awaitable[None]]
EventFilter = Callable[["Event"], bool]
_EMPTY: Mapping[str, Any] = {}


class Event:
    """Something that happened: a type, data, when it was fired and what caused it."""

    __slots__ = ("context", "data", "event_type", "origin", "time_fired")

    def __init__(
        self,
        event_type: str,
        data: Mapping[str, Any] | None = None,
        context: Context | None = None,
        time_fired: float | None = None,
        origin: str = "local",
    ) -> None:
        self.event_type = event_type
        self.data = _EMPTY if data is None else data
        self.context = Context() if context is None else context
        self.time_fired = time.time() if time_fired is None else time_fired
        self.origin = origin

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (nested states and contexts are serialised by hub.json)."""
        return {
            "event_type": self.event_type,
            "data": self.data,
            "time_fired": self.time_fired,
            "origin": self.origin,
            "context": self.context.as_dict(),
        }

    def __repr__(self) -> str:
        return f"<Event {self.event_type} {dict(self.data)!r}>"


class Listener:
    """One subscription. Async listeners get a bounded queue drained by one worker task."""

    __slots__ = (
        "_bus",
        "_last_drop_report",
        "_queue",
        "_worker",
        "callback",
        "dropped",
        "event_filter",
        "event_type",
        "is_async",
        "max_pending",
    )

    def __init__(
        self,
        bus: EventBus,
        event_type: str,
        callback: EventCallback,
        event_filter: EventFilter | None,
        max_pending: int,
    ) -> None:
        self._bus = bus
        self.event_type = event_type
        self.callback = callback
        self.event_filter = event_filter
        self.is_async = inspect.iscoroutinefunction(callback) or inspect.iscoroutinefunction(
            getattr(callback, "__call__", None)  # noqa: B004 - async callable objects
        )
        self.max_pending = max_pending
        self.dropped = 0
        self._last_drop_report = 0.0
        self._queue: collections.deque[Event] = collections.deque()
        self._worker: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        """How many events wait for this (async) listener."""
        return len(self._queue)

    def enqueue(self, event: Event) -> None:
        """Queue an event for an async listener, dropping it when the queue is full."""
        if len(self._queue) >= self.max_pending:
            self.dropped += 1
            self._bus.dropped += 1
            now = time.monotonic()
            if now - self._last_drop_report > _DROP_REPORT_INTERVAL:
                self._last_drop_report = now
                _LOGGER.warning(
                    "Listener %s for %s is too slow: %d events dropped so far",
                    _name(self.callback),
                    self.event_type,
                    self.dropped,
                )
                if event.event_type != EVENT_BUS_DROPPED:
                    self._bus.async_fire(
                        EVENT_BUS_DROPPED,
                        {"listener": _name(self.callback), "dropped": self.dropped},
                    )
            return
        self._queue.append(event)
        if self._worker is None:
            self._worker = self._bus.loop.create_task(self._drain(), name="bus-listener")

    async def _drain(self) -> None:
        queue = self._queue
        try:
            while queue:
                event = queue.popleft()
                try:
                    await self.callback(event)  # type: ignore[misc]
                except Exception:
                    _LOGGER.exception(
                        "Error in listener %s for %s", _name(self.callback), event.event_type
                    )
        finally:
            self._worker = None

    def cancel(self) -> None:
        """Stop the worker and forget pending events."""
        self._queue.clear()
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None


class EventBus:
    """Fire events by type; listen by type or to all. Runs in one event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.loop = loop or asyncio.get_running_loop()
        # Tuples are replaced on (un)subscribe so delivery never sees a list change under it.
        self._listeners: dict[str, tuple[Listener, ...]] = {}
        self._match_all: tuple[Listener, ...] = ()
        self.dropped = 0
        self.fired = 0
        # Per-bus state of helpers such as hub.track's entity index.
        self.helpers: dict[str, Any] = {}

    # -- firing -------------------------------------------------------------------------
    def async_fire(
        self,
        event_type: str,
        data: Mapping[str, Any] | None = None,
        context: Context | None = None,
        origin: str = "local",
        time_fired: float | None = None,
    ) -> Event:
        """Fire an event from inside the event loop and return it."""
        event = Event(event_type, data, context, time_fired, origin)
        self.async_fire_event(event)
        return event

    def async_fire_event(self, event: Event) -> None:
        """Deliver an already built event to its listeners, in subscription order."""
        self.fired += 1
        listeners = self._listeners.get(event.event_type)
        if self._match_all:
            listeners = (listeners or ()) + self._match_all
        if not listeners:
            return
        for listener in listeners:
            if listener.event_filter is not None:
                try:
                    if not listener.event_filter(event):
                        continue
                except Exception:
                    _LOGGER.exception("Error in event filter for %s", event.event_type)
                    continue
            if listener.is_async:
                listener.enqueue(event)
                continue
            try:
                listener.callback(event)
            except Exception:
                _LOGGER.exception(
                    "Error in listener %s for %s", _name(listener.callback), event.event_type
                )

    def fire(
        self,
        event_type: str,
        data: Mapping[str, Any] | None = None,
        context: Context | None = None,
    ) -> None:
        """Fire from another thread (an integration's library callback, for example)."""
        self.loop.call_soon_threadsafe(self.async_fire, event_type, data, context)

    # -- listening ----------------------------------------------------------------------
    def async_listen(
        self,
        event_type: str,
        callback: EventCallback,
        event_filter: EventFilter | None = None,
        max_pending: int = DEFAULT_MAX_PENDING,
    ) -> Callable[[], None]:
        """Listen to one event type (or MATCH_ALL). Returns a function that unsubscribes."""
        listener = Listener(self, event_type, callback, event_filter, max_pending)
        if event_type == MATCH_ALL:
            self._match_all = (*self._match_all, listener)
        else:
            self._listeners[event_type] = (*self._listeners.get(event_type, ()), listener)
        return lambda: self._async_remove(listener)

    def async_listen_all(
        self,
        callback: EventCallback,
        event_filter: EventFilter | None = None,
        max_pending: int = DEFAULT_MAX_PENDING,
    ) -> Callable[[], None]:
        """Listen to every event."""
        return self.async_listen(MATCH_ALL, callback, event_filter, max_pending)

    def async_listen_once(self, event_type: str, callback: EventCallback) -> Callable[[], None]:
        """Listen for the next event of a type only."""
        fired = False

        def _once(event: Event) -> None:
            nonlocal fired
            if fired:
                return
            fired = True
            remove()
            result = callback(event)
            if inspect.isawaitable(result):
                self.loop.create_task(_await(result))

        remove = self.async_listen(event_type, _once)
        return remove

    async def async_wait_for(
        self,
        event_type: str,
        predicate: EventFilter | None = None,
        timeout: float | None = None,
    ) -> Event:
        """Wait for the next event of a type that matches a predicate."""
        future: asyncio.Future[Event] = self.loop.create_future()

        def _match(event: Event) -> None:
            if not future.done() and (predicate is None or predicate(event)):
                future.set_result(event)

        remove = self.async_listen(event_type, _match)
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            remove()

    def listener_counts(self) -> dict[str, int]:
        """Number of listeners per event type, for diagnostics."""
        counts = {etype: len(ls) for etype, ls in self._listeners.items()}
        if self._match_all:
            counts[MATCH_ALL] = len(self._match_all)
        return counts

    def _async_remove(self, listener: Listener) -> None:
        listener.cancel()
        if listener.event_type == MATCH_ALL:
            self._match_all = tuple(x for x in self._match_all if x is not listener)
            return
        remaining = tuple(
            x for x in self._listeners.get(listener.event_type, ()) if x is not listener
        )
        if remaining:
            self._listeners[listener.event_type] = remaining
        else:
            self._listeners.pop(listener.event_type, None)


async def _await(awaitable: Awaitable[Any]) -> None:
    try:
        await awaitable
    except Exception:
        _LOGGER.exception("Error in one-shot listener")


def _name(callback: Any) -> str:
    return getattr(callback, "__qualname__", None) or repr(callback)
