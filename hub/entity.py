"""Entity base: one thing a user sees and controls, described by properties, commands and events."""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from .const import ATTR_FRIENDLY_NAME, STATE_UNAVAILABLE, STATE_UNKNOWN
from .context import Context
from .permissions import Role
from .schema import EMPTY_SCHEMA, FieldType, Schema

if TYPE_CHECKING:
    from .core import Hub
    from .states import State

__all__ = ["Command", "DeviceInfo", "Entity", "Property", "slugify"]

# A service call's context is attached to the states it causes for this long.
_CONTEXT_TTL = 5.0


@dataclass(frozen=True, slots=True)
class Command:
    """A command of a domain, exposed as the service `<domain>.<name>`."""

    name: str
    method: str
    schema: Schema = EMPTY_SCHEMA
    description: str = ""
    risky: bool = False
    # The least role that may run it; guests only on entities in their rooms.
    access: Role = "guest"


@dataclass(frozen=True, slots=True)
class Property:
    """A readable property of a domain (an attribute of its state)."""

    name: str
    type: FieldType = "any"
    unit: str | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """The physical device behind one or more entities."""

    identifiers: tuple[tuple[str, str], ...]
    name: str
    manufacturer: str | None = None
    model: str | None = None
    sw_version: str | None = None
    suggested_area: str | None = None
    via_device: tuple[str, str] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


class Entity:
    """Base of every entity. Subclasses live in hub/domains/, one module per domain."""

    domain: ClassVar[str] = ""
    commands: ClassVar[tuple[Command, ...]] = ()
    properties: ClassVar[tuple[Property, ...]] = ()
    events: ClassVar[tuple[str, ...]] = ()
    # Polled entities are refreshed by the entity manager; most push their state.
    should_poll: ClassVar[bool] = False
    # Entities whose state lives only in the hub (simulated or virtual devices) take back the
    # state recorded before a restart; a real device reports its own instead.
    restore_state: ClassVar[bool] = False

    def __init__(
        self,
        unique_id: str,
        name: str,
        *,
        device_info: DeviceInfo | None = None,
        device_class: str | None = None,
        icon: str | None = None,
        suggested_area: str | None = None,
    ) -> None:
        self.unique_id = unique_id
        self.name = name
        self.device_info = device_info
        self.device_class = device_class
        self.icon = icon
        self.suggested_area = suggested_area or (
            device_info.suggested_area if device_info else None
        )
        self.available = True
        self.hub: Hub | None = None
        self.entity_id: str | None = None
        self.integration: str | None = None
        self.device_id: str | None = None
        self._context: Context | None = None
        self._context_set = 0.0

    # -- what subclasses provide --------------------------------------------------------
    @property
    def state(self) -> str | None:
        """The state string; None means unknown."""
        return None

    @property
    def state_attributes(self) -> dict[str, Any]:
        """Domain attributes (brightness, battery, ...)."""
        return {}

    @property
    def extra_attributes(self) -> dict[str, Any]:
        """Integration-specific attributes."""
        return {}

    def restore(self, last: State) -> None:
        """Take back the state recorded before a restart (only if restore_state is set)."""

    async def async_added_to_hub(self) -> None:
        """Called once the entity has an id and a hub."""

    async def async_command_result(self) -> dict[str, Any] | None:
        """After a command: what the caller should learn (e.g. {"delivery": "queued"})."""
        return None

    async def async_will_remove(self) -> None:
        """Called before the entity is removed."""

    async def async_update(self) -> None:
        """Refresh from the device (polled entities only)."""

    # -- behaviour shared by all entities -----------------------------------------------
    @classmethod
    def command(cls, name: str) -> Command | None:
        """Return the command with this name, if the domain has it."""
        for cmd in cls.commands:
            if cmd.name == name:
                return cmd
        return None

    def is_risky(self, command: str) -> bool:
        """Whether running `command` on this entity is risky (members and up, confirmed)."""
        cmd = self.command(command)
        return cmd is not None and cmd.risky

    def prepare_command_data(self, command: str, data: dict[str, Any]) -> dict[str, Any]:
        """Normalise validated service data before the command method sees it."""
        return data

    @property
    def supported_commands(self) -> tuple[str, ...]:
        """Names of the commands this entity supports (all of its domain's by default)."""
        return tuple(cmd.name for cmd in self.commands)

    def attributes(self) -> dict[str, Any]:
        """All attributes as written to the state machine."""
        attrs: dict[str, Any] = {ATTR_FRIENDLY_NAME: self.display_name}
        if self.device_class:
            attrs["device_class"] = self.device_class
        if self.icon:
            attrs["icon"] = self.icon
        attrs.update(self.state_attributes)
        attrs.update(self.extra_attributes)
        return attrs

    @property
    def display_name(self) -> str:
        """The name the user gave in the registry, else the integration's name."""
        if self.hub is not None and self.entity_id is not None:
            entry = self.hub.registry.entities.get(self.entity_id)
            if entry is not None and entry.name_by_user:
                return entry.name_by_user
        return self.name

    def async_set_context(self, context: Context | None) -> None:
        """Attach a cause to the next state writes (for a few seconds)."""
        self._context = context
        self._context_set = time.monotonic()

    def async_write_state(self, context: Context | None = None) -> None:
        """Push the current state to the state machine."""
        if self.hub is None or self.entity_id is None:
            return
        if context is None and self._context is not None:
            if time.monotonic() - self._context_set < _CONTEXT_TTL:
                context = self._context
            else:
                self._context = None
        if not self.available:
            state = STATE_UNAVAILABLE
        else:
            value = self.state
            state = STATE_UNKNOWN if value is None else str(value)
        self.hub.states.async_set(self.entity_id, state, self.attributes(), context=context)

    def async_set_available(self, available: bool) -> None:
        """Mark the entity (un)available and push the state."""
        if self.available != available:
            self.available = available
            self.async_write_state()

    def async_fire_event(self, event_type: str, data: Mapping[str, Any] | None = None) -> None:
        """Fire a device event (a button press, an alert) tagged with this entity."""
        if self.hub is None:
            return
        self.hub.bus.async_fire(
            event_type,
            {"entity_id": self.entity_id, "device_id": self.device_id, **(data or {})},
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.entity_id or self.unique_id}>"


def slugify(text: str, separator: str = "_") -> str:
    """Turn a name into an id part: 'Living Room Lamp' -> 'living_room_lamp'."""
    normalized = unicodedata.normalize("NFKD", text)
    ascii_text = normalized.encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", separator, ascii_text).strip(separator)
    if not slug:
        # Names in scripts without ASCII (Chinese, for example) still need a stable id.
        slug = "e" + "".join(f"{ord(c):x}" for c in text.strip())[:24]
    return slug
