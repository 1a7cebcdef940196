"""On/off behaviour shared by lights, switches and fans."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..const import STATE_OFF, STATE_ON
from ..entity import Command, Entity
from ..errors import NotSupported

if TYPE_CHECKING:
    from ..states import State

TURN_OFF = Command("turn_off", "async_turn_off", description="Turn off")
TOGGLE = Command("toggle", "async_toggle", description="Toggle on/off")


class ToggleEntity(Entity):
    """An entity that is on or off."""

    is_on: bool | None = None

    @property
    def state(self) -> str | None:
        if self.is_on is None:
            return None
        return STATE_ON if self.is_on else STATE_OFF

    def restore(self, last: State) -> None:
        if last.state in (STATE_ON, STATE_OFF):
            self.is_on = last.state == STATE_ON

    async def async_turn_on(self, **data: Any) -> None:
        """Turn on."""
        raise NotSupported(f"{self.entity_id} cannot turn on")

    async def async_turn_off(self, **data: Any) -> None:
        """Turn off."""
        raise NotSupported(f"{self.entity_id} cannot turn off")

    async def async_toggle(self, **data: Any) -> None:
        """Turn off if on, else on."""
        if self.is_on:
            await self.async_turn_off()
        else:
            await self.async_turn_on()
