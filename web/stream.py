"""Fan-out of state changes to websocket subscriptions: one bus listener, one encode per event."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hub.bus import Event
from hub.const import EVENT_STATE_CHANGED
from hub.json import json_bytes

if TYPE_CHECKING:
    from hub.core import Hub

__all__ = ["StateStream", "StateSubscription"]


class StateSubscription:
    """A client's interest in state changes: some entities, domains or areas, or everything."""

    __slots__ = ("areas", "deliver", "domains", "entity_ids", "prefix", "visible")

    def __init__(
        self,
        sub_id: int,
        deliver: Callable[[bytes], None],
        *,
        entity_ids: frozenset[str] | None = None,
        domains: frozenset[str] | None = None,
        areas: frozenset[str] | None = None,
        visible: Callable[[str], bool] | None = None,
    ) -> None:
        self.prefix = b'{"id":%d,"type":"event","event":' % sub_id
        self.deliver = deliver
        self.entity_ids = entity_ids
        self.domains = domains
        self.areas = areas
        self.visible = visible

    def matches(self, hub: Hub, entity_id: str) -> bool:
        """Whether a change of this entity goes to this subscription."""
        if self.domains is not None and entity_id.split(".", 1)[0] not in self.domains:
            return False
        if self.areas is not None and hub.registry.entity_area_id(entity_id) not in self.areas:
            return False
        return self.visible is None or self.visible(entity_id)


class StateStream:
    """Indexes subscriptions by entity id so a change only touches the clients that want it."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._by_entity: dict[str, set[StateSubscription]] = {}
        self._filtered: set[StateSubscription] = set()
        self._unsub: Callable[[], None] | None = None
        self.delivered = 0

    def start(self) -> None:
        """Begin listening to state changes."""
        self._unsub = self._hub.bus.async_listen(EVENT_STATE_CHANGED, self._on_change)

    def stop(self) -> None:
        """Stop listening."""
        if self._unsub is not None:
            self._unsub()
            self._unsub = None

    def add(self, sub: StateSubscription) -> Callable[[], None]:
        """Add a subscription; returns a function that removes it."""
        if sub.entity_ids is not None:
            for entity_id in sub.entity_ids:
                self._by_entity.setdefault(entity_id, set()).add(sub)
        else:
            self._filtered.add(sub)
        return lambda: self._remove(sub)

    def _remove(self, sub: StateSubscription) -> None:
        self._filtered.discard(sub)
        for entity_id in sub.entity_ids or ():
            subs = self._by_entity.get(entity_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._by_entity[entity_id]

    def _on_change(self, event: Event) -> None:
        entity_id: str = event.data["entity_id"]
        direct = self._by_entity.get(entity_id)
        if not direct and not self._filtered:
            return
        payload: bytes | None = None
        hub = self._hub
        for group in (direct or (), self._filtered):
            for sub in group:
                if not sub.matches(hub, entity_id):
                    continue
                if payload is None:
                    payload = _encode(event)
                sub.deliver(sub.prefix + payload + b"}")
                self.delivered += 1


def _encode(event: Event) -> bytes:
    data: dict[str, Any] = {
        "entity_id": event.data["entity_id"],
        "new_state": event.data["new_state"],
        "time_fired": event.time_fired,
    }
    return json_bytes(data)
