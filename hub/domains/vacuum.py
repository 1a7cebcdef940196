"""Robot cleaners: start, pause, stop, return to dock, clean an area; battery and status."""

from __future__ import annotations

from typing import Any, ClassVar

from ..entity import Command, Entity, Property
from ..errors import NotSupported
from ..schema import Field, Schema

STATE_CLEANING = "cleaning"
STATE_DOCKED = "docked"
STATE_RETURNING = "returning"
STATE_PAUSED = "paused"
STATE_IDLE = "idle"
STATE_ERROR = "error"


class VacuumEntity(Entity):
    """A robot cleaner. The state is its activity."""

    domain = "vacuum"
    commands: ClassVar = (
        Command("start", "async_start", description="Start cleaning"),
        Command("pause", "async_pause"),
        Command("stop", "async_stop"),
        Command("return_to_base", "async_return_to_base", description="Go back to the dock"),
        Command(
            "clean_area",
            "async_clean_area",
            Schema({"area": Field("str", required=True, description="room name or area id")}),
            "Clean one room",
        ),
        Command("locate", "async_locate", description="Make the robot beep"),
        Command(
            "set_fan_speed",
            "async_set_fan_speed",
            Schema({"fan_speed": Field("str", required=True)}),
        ),
    )
    properties: ClassVar = (
        Property("battery_level", "int", "%"),
        Property("status", "str"),
        Property("current_area", "str"),
        Property("fan_speed", "str"),
    )
    events: ClassVar = ("vacuum_cleaning_finished", "vacuum_error")

    activity: str | None = None
    battery_level: int | None = None
    status: str | None = None
    areas: tuple[str, ...] = ()
    current_area: str | None = None
    fan_speed: str | None = None
    fan_speeds: tuple[str, ...] = ()

    @property
    def state(self) -> str | None:
        return self.activity

    @property
    def state_attributes(self) -> dict[str, Any]:
        attrs: dict[str, Any] = {"areas": list(self.areas)}
        for key in ("battery_level", "status", "current_area", "fan_speed"):
            value = getattr(self, key)
            if value is not None:
                attrs[key] = value
        if self.fan_speeds:
            attrs["fan_speeds"] = list(self.fan_speeds)
        return attrs

    async def async_start(self) -> None:
        """Start or resume cleaning."""
        raise NotSupported(f"{self.entity_id} cannot start")

    async def async_pause(self) -> None:
        """Pause."""
        raise NotSupported(f"{self.entity_id} cannot pause")

    async def async_stop(self) -> None:
        """Stop where it is."""
        raise NotSupported(f"{self.entity_id} cannot stop")

    async def async_return_to_base(self) -> None:
        """Go back to the dock."""
        raise NotSupported(f"{self.entity_id} cannot return to base")

    async def async_clean_area(self, area: str) -> None:
        """Clean one area."""
        raise NotSupported(f"{self.entity_id} cannot clean an area")

    async def async_locate(self) -> None:
        """Beep."""
        raise NotSupported(f"{self.entity_id} cannot locate")

    async def async_set_fan_speed(self, fan_speed: str) -> None:
        """Set suction power."""
        raise NotSupported(f"{self.entity_id} has no fan speeds")
