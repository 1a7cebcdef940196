"""Notifications for the dashboard (rules and integrations create them)."""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass

from .bus import EventBus
from .const import EVENT_NOTIFICATION
from .schema import Field, Schema
from .services import ServiceCall, ServiceRegistry

__all__ = ["Notification", "Notifications"]

MAX_NOTIFICATIONS = 200


@dataclass(frozen=True, slots=True)
class Notification:
    """A message shown in the dashboard's notification area."""

    id: str
    message: str
    title: str | None
    created: float

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return asdict(self)


class Notifications:
    """Keeps recent notifications; services notify.send and notify.dismiss."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._items: dict[str, Notification] = {}

    def register_services(self, services: ServiceRegistry) -> None:
        """Register notify.send and notify.dismiss."""
        services.async_register(
            "notify",
            "send",
            self._send,
            Schema(
                {
                    "message": Field("str", required=True, max_length=2000),
                    "title": Field("str", max_length=200),
                    "id": Field("str", max_length=100),
                }
            ),
            description="Show a notification on the dashboard",
        )
        services.async_register(
            "notify", "dismiss", self._dismiss, Schema({"id": Field("str", required=True)})
        )

    def all(self) -> list[Notification]:
        """Current notifications, newest last."""
        return list(self._items.values())

    def async_create(
        self, message: str, title: str | None = None, nid: str | None = None
    ) -> Notification:
        """Create (or replace, by id) a notification."""
        note = Notification(nid or uuid.uuid4().hex[:12], message, title, time.time())
        self._items.pop(note.id, None)
        self._items[note.id] = note
        while len(self._items) > MAX_NOTIFICATIONS:
            self._items.pop(next(iter(self._items)))
        self._bus.async_fire(EVENT_NOTIFICATION, {"action": "create", **note.as_dict()})
        return note

    def async_dismiss(self, nid: str) -> bool:
        """Dismiss a notification."""
        if self._items.pop(nid, None) is None:
            return False
        self._bus.async_fire(EVENT_NOTIFICATION, {"action": "dismiss", "id": nid})
        return True

    def _send(self, call: ServiceCall) -> dict[str, object]:
        note = self.async_create(call.data["message"], call.data.get("title"), call.data.get("id"))
        return note.as_dict()

    def _dismiss(self, call: ServiceCall) -> None:
        self.async_dismiss(call.data["id"])
