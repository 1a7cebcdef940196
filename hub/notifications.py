"""Notifications for the dashboard (rules and integrations create them), each with an audience."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .bus import EventBus
from .const import EVENT_NOTIFICATION
from .errors import InvalidServiceData
from .permissions import ROLES, Principal
from .schema import Field, Schema
from .services import ServiceCall, ServiceRegistry

__all__ = [
    "DEFAULT_AUDIENCE",
    "Audience",
    "Notification",
    "Notifications",
    "audience_from_event",
]

MAX_NOTIFICATIONS = 200


@dataclass(frozen=True, slots=True)
class Audience:
    """Who may read a notification: these roles and these user ids (admins always may)."""

    roles: tuple[str, ...] = ("admin", "member")
    users: tuple[str, ...] = ()

    def includes(self, principal: Principal | None) -> bool:
        """Whether this reader (None: the hub itself) may read it."""
        if principal is None or principal.role == "admin":
            return True
        return principal.role in self.roles or (
            principal.user_id is not None and principal.user_id in self.users
        )

    def as_dict(self) -> dict[str, list[str]]:
        """JSON-ready form."""
        return {"roles": list(self.roles), "users": list(self.users)}


# Household messages ("… unlocked the front door") are for members, never for guests by default.
DEFAULT_AUDIENCE = Audience()


@dataclass(frozen=True, slots=True)
class Notification:
    """A message shown in the dashboard's notification area."""

    id: str
    message: str
    title: str | None
    created: float
    audience: Audience = DEFAULT_AUDIENCE

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "message": self.message,
            "title": self.title,
            "created": self.created,
            "audience": self.audience.as_dict(),
        }


class Notifications:
    """Keeps recent notifications; services notify.send and notify.dismiss."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._items: dict[str, Notification] = {}
        self._services: ServiceRegistry | None = None

    def register_services(self, services: ServiceRegistry) -> None:
        """Register notify.send (admins, rules) and notify.dismiss (members)."""
        self._services = services
        services.async_register(
            "notify",
            "send",
            self._send,
            Schema(
                {
                    "message": Field("str", required=True, max_length=2000),
                    "title": Field("str", max_length=200),
                    "id": Field("str", max_length=100),
                    "roles": Field("str_list", description="roles that may read it"),
                    "users": Field("str_list", description="user ids that may read it"),
                }
            ),
            description="Show a notification on the dashboard (default: members and admins)",
            access="admin",
        )
        services.async_register(
            "notify",
            "dismiss",
            self._dismiss,
            Schema({"id": Field("str", required=True)}),
            description="Dismiss a notification you can read",
            access="member",
        )

    def all(self) -> list[Notification]:
        """Current notifications, newest last."""
        return list(self._items.values())

    def visible_to(self, principal: Principal | None) -> list[Notification]:
        """Current notifications this reader may read, newest last."""
        return [n for n in self._items.values() if n.audience.includes(principal)]

    def async_create(
        self,
        message: str,
        title: str | None = None,
        nid: str | None = None,
        audience: Audience = DEFAULT_AUDIENCE,
    ) -> Notification:
        """Create (or replace, by id) a notification."""
        note = Notification(nid or uuid.uuid4().hex[:12], message, title, time.time(), audience)
        old = self._items.pop(note.id, None)
        self._items[note.id] = note
        while len(self._items) > MAX_NOTIFICATIONS:
            self._items.pop(next(iter(self._items)))
        if old is not None and old.audience != audience:
            # Readers of the old one that may not read the new one must see it go.
            self._bus.async_fire(
                EVENT_NOTIFICATION,
                {"action": "dismiss", "id": old.id, "audience": old.audience.as_dict()},
            )
        self._bus.async_fire(EVENT_NOTIFICATION, {"action": "create", **note.as_dict()})
        return note

    def async_dismiss(self, nid: str, principal: Principal | None = None) -> bool:
        """Dismiss a notification (only one the dismisser may read)."""
        note = self._items.get(nid)
        if note is None or not note.audience.includes(principal):
            return False
        del self._items[nid]
        self._bus.async_fire(
            EVENT_NOTIFICATION,
            {"action": "dismiss", "id": nid, "audience": note.audience.as_dict()},
        )
        return True

    def _send(self, call: ServiceCall) -> dict[str, object]:
        audience = _audience(call.data.get("roles"), call.data.get("users"))
        note = self.async_create(
            call.data["message"], call.data.get("title"), call.data.get("id"), audience
        )
        return note.as_dict()

    def _dismiss(self, call: ServiceCall) -> None:
        principal = None if self._services is None else self._services.principal(call.context)
        self.async_dismiss(call.data["id"], principal)


def _audience(roles: Iterable[str] | None, users: Iterable[str] | None) -> Audience:
    if roles is None and users is None:
        return DEFAULT_AUDIENCE
    roles = tuple(roles or ())
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise InvalidServiceData("invalid audience", {"roles": f"unknown role {unknown[0]!r}"})
    return Audience(roles, tuple(users or ()))


def audience_from_event(data: Mapping[str, Any]) -> Audience:
    """The audience carried by a notification event."""
    raw = data.get("audience") or {}
    return Audience(tuple(raw.get("roles", ())), tuple(raw.get("users", ())))
