"""Buttons: a stateless action (restart, identify); the state is when it was last pressed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

from ..entity import Command, Entity
from ..errors import NotSupported


class ButtonEntity(Entity):
    """A button the hub can press."""

    domain = "button"
    commands: ClassVar = (Command("press", "async_handle_press", description="Press"),)

    last_pressed: datetime | None = None

    @property
    def state(self) -> str | None:
        return self.last_pressed.isoformat() if self.last_pressed else None

    async def async_handle_press(self) -> None:
        """Record the press, then run the device's action."""
        await self.async_press()
        self.last_pressed = datetime.now(UTC)
        self.async_write_state()

    async def async_press(self) -> None:
        """Perform the press on the device."""
        raise NotSupported(f"{self.entity_id} cannot be pressed")
