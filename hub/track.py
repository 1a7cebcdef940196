"""Indexed state tracking: one bus listener per bus, dispatch by entity id."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .bus import Event, EventBus
from .const import EVENT_STATE_CHANGED
from .states import State

__all__ = ["async_track_state_change", "async_track_state_change_event"]

StateCallback = Callable[[str, State | None, State | None], Any]
EventCallback = Callable[[Event], Any]


class _StateIndex:
    """Maps entity ids to callbacks so one event costs work only for those that care."""

    def __init__(self, bus: EventBus) -> None:
        self.by_entity: dict[str, list[EventCallback]] = {}
        self._unsub = bus.async_listen(EVENT_STATE_CHANGED, self._dispatch, self._wanted)

    def _wanted(self, event: Event) -> bool:
        return event.data["entity_id"] in self.by_entity

    def _dispatch(self, event: Event) -> None:
        for callback in tuple(self.by_entity.get(event.data["entity_id"], ())):
            callback(event)

    def add(self, entity_ids: Iterable[str], callback: EventCallback) -> Callable[[], None]:
        ids = [e.lower() for e in entity_ids]
        for eid in ids:
            self.by_entity.setdefault(eid, []).append(callback)

        def remove() -> None:
            for eid in ids:
                callbacks = self.by_entity.get(eid)
                if callbacks and callback in callbacks:
                    callbacks.remove(callback)
                    if not callbacks:
                        del self.by_entity[eid]

        return remove


def _index(bus: EventBus) -> _StateIndex:
    index = bus.helpers.get("state_index")
    if index is None:
        index = bus.helpers["state_index"] = _StateIndex(bus)
    return index  # type: ignore[no-any-return]


def async_track_state_change_event(
    bus: EventBus, entity_ids: str | Iterable[str], callback: EventCallback
) -> Callable[[], None]:
    """Call callback(event) on every state_changed of the given entities."""
    if isinstance(entity_ids, str):
        entity_ids = [entity_ids]
    return _index(bus).add(entity_ids, callback)


def async_track_state_change(
    bus: EventBus,
    entity_ids: str | Iterable[str],
    callback: StateCallback,
    from_state: str | None = None,
    to_state: str | None = None,
) -> Callable[[], None]:
    """Call callback(entity_id, old, new) when the state moves from/to the given strings."""

    def _filtered(event: Event) -> None:
        old: State | None = event.data["old_state"]
        new: State | None = event.data["new_state"]
        if from_state is not None and (old is None or old.state != from_state):
            return
        if to_state is not None and (new is None or new.state != to_state):
            return
        callback(event.data["entity_id"], old, new)

    return async_track_state_change_event(bus, entity_ids, _filtered)
