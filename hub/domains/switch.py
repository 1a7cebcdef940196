"""Switches and smart plugs (optionally with power metering)."""

from __future__ import annotations

from typing import Any, ClassVar

from ..entity import Command, Property
from .toggle import TOGGLE, TURN_OFF, ToggleEntity


class SwitchEntity(ToggleEntity):
    """A switch or plug."""

    domain = "switch"
    commands: ClassVar = (
        Command("turn_on", "async_turn_on", description="Turn on"),
        TURN_OFF,
        TOGGLE,
    )
    properties: ClassVar = (Property("current_power_w", "float", "W"),)

    current_power_w: float | None = None

    @property
    def state_attributes(self) -> dict[str, Any]:
        if self.current_power_w is None:
            return {}
        return {"current_power_w": self.current_power_w}
