"""Fans: on/off, speed percentage, preset modes, oscillation."""

from __future__ import annotations

from typing import Any, ClassVar

from ..entity import Command, Property
from ..errors import NotSupported
from ..schema import Field, Schema
from .toggle import TOGGLE, TURN_OFF, ToggleEntity


class FanEntity(ToggleEntity):
    """A fan."""

    domain = "fan"
    commands: ClassVar = (
        Command(
            "turn_on",
            "async_turn_on",
            Schema(
                {
                    "percentage": Field("int", min=0, max=100),
                    "preset_mode": Field("str"),
                }
            ),
            "Turn on",
        ),
        TURN_OFF,
        TOGGLE,
        Command(
            "set_percentage",
            "async_set_percentage",
            Schema({"percentage": Field("int", required=True, min=0, max=100)}),
        ),
        Command(
            "oscillate", "async_oscillate", Schema({"oscillating": Field("bool", required=True)})
        ),
    )
    properties: ClassVar = (
        Property("percentage", "int", "%"),
        Property("preset_mode", "str"),
        Property("oscillating", "bool"),
    )

    percentage: int | None = None
    preset_mode: str | None = None
    preset_modes: tuple[str, ...] = ()
    oscillating: bool | None = None

    @property
    def state_attributes(self) -> dict[str, Any]:
        attrs: dict[str, Any] = {"preset_modes": list(self.preset_modes)}
        for key in ("percentage", "preset_mode", "oscillating"):
            value = getattr(self, key)
            if value is not None:
                attrs[key] = value
        return attrs

    async def async_set_percentage(self, percentage: int) -> None:
        """Set speed; 0 turns the fan off."""
        if percentage == 0:
            await self.async_turn_off()
        else:
            await self.async_turn_on(percentage=percentage)

    async def async_oscillate(self, oscillating: bool) -> None:
        """Start or stop oscillating."""
        raise NotSupported(f"{self.entity_id} cannot oscillate")
