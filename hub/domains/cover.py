"""Covers: blinds, curtains, garage doors."""

from __future__ import annotations

from typing import Any, ClassVar

from ..entity import Command, Entity, Property
from ..errors import NotSupported
from ..schema import Field, Schema

STATE_OPEN = "open"
STATE_CLOSED = "closed"
STATE_OPENING = "opening"
STATE_CLOSING = "closing"


class CoverEntity(Entity):
    """A cover; position 0 is closed and 100 open."""

    domain = "cover"
    commands: ClassVar = (
        Command("open_cover", "async_open_cover", description="Open"),
        Command("close_cover", "async_close_cover", description="Close"),
        Command("stop_cover", "async_stop_cover", description="Stop moving"),
        Command(
            "set_cover_position",
            "async_set_cover_position",
            Schema({"position": Field("int", required=True, min=0, max=100)}),
        ),
    )
    properties: ClassVar = (Property("current_position", "int", "%"),)
    # Opening a garage door or gate lets people in: as risky as unlocking.
    _RISKY_CLASSES: ClassVar = frozenset({"garage", "gate", "door"})
    _OPENING: ClassVar = frozenset({"open_cover", "set_cover_position", "toggle", "turn_on"})

    cover_state: str | None = None
    current_position: int | None = None

    @property
    def state(self) -> str | None:
        return self.cover_state

    def is_risky(self, command: str) -> bool:
        """Opening a garage door, gate or door is risky; blinds are not."""
        if self.device_class in self._RISKY_CLASSES and command in self._OPENING:
            return True
        return super().is_risky(command)

    @property
    def state_attributes(self) -> dict[str, Any]:
        if self.current_position is None:
            return {}
        return {"current_position": self.current_position}

    async def async_open_cover(self) -> None:
        """Open."""
        await self.async_set_cover_position(100)

    async def async_close_cover(self) -> None:
        """Close."""
        await self.async_set_cover_position(0)

    async def async_stop_cover(self) -> None:
        """Stop."""
        raise NotSupported(f"{self.entity_id} cannot stop")

    async def async_set_cover_position(self, position: int) -> None:
        """Move to a position."""
        raise NotSupported(f"{self.entity_id} cannot be positioned")
