"""Thermostats: HVAC mode, target and current temperature."""

from __future__ import annotations

from typing import Any, ClassVar

from ..entity import Command, Entity, Property
from ..errors import NotSupported
from ..schema import Field, Schema

HVAC_MODES = ("off", "heat", "cool", "heat_cool", "auto", "dry", "fan_only")


class ClimateEntity(Entity):
    """A thermostat. The state is the HVAC mode."""

    domain = "climate"
    commands: ClassVar = (
        Command(
            "set_temperature",
            "async_set_temperature",
            Schema(
                {
                    "temperature": Field("float", required=True, min=-50, max=100),
                    "hvac_mode": Field("enum", choices=HVAC_MODES),
                }
            ),
            "Set the target temperature",
        ),
        Command(
            "set_hvac_mode",
            "async_set_hvac_mode",
            Schema({"hvac_mode": Field("enum", required=True, choices=HVAC_MODES)}),
        ),
        Command("turn_on", "async_turn_on"),
        Command("turn_off", "async_turn_off"),
    )
    properties: ClassVar = (
        Property("current_temperature", "float", "°C"),
        Property("temperature", "float", "°C", "target temperature"),
        Property("current_humidity", "float", "%"),
        Property("hvac_action", "str"),
    )

    hvac_mode: str | None = None
    hvac_modes: tuple[str, ...] = ("off", "heat")
    hvac_action: str | None = None
    current_temperature: float | None = None
    target_temperature: float | None = None
    current_humidity: float | None = None
    min_temp: float = 7.0
    max_temp: float = 30.0
    target_temperature_step: float = 0.5
    temperature_unit: str = "°C"

    @property
    def state(self) -> str | None:
        return self.hvac_mode

    @property
    def state_attributes(self) -> dict[str, Any]:
        attrs: dict[str, Any] = {
            "hvac_modes": list(self.hvac_modes),
            "min_temp": self.min_temp,
            "max_temp": self.max_temp,
            "target_temp_step": self.target_temperature_step,
            "temperature_unit": self.temperature_unit,
        }
        for key, value in (
            ("current_temperature", self.current_temperature),
            ("temperature", self.target_temperature),
            ("current_humidity", self.current_humidity),
            ("hvac_action", self.hvac_action),
        ):
            if value is not None:
                attrs[key] = value
        return attrs

    async def async_set_temperature(self, temperature: float, hvac_mode: str | None = None) -> None:
        """Set the target temperature (and optionally the mode)."""
        raise NotSupported(f"{self.entity_id} cannot set temperature")

    async def async_set_hvac_mode(self, hvac_mode: str) -> None:
        """Set the HVAC mode."""
        raise NotSupported(f"{self.entity_id} cannot set mode")

    async def async_turn_on(self) -> None:
        """Switch to the first mode that is not off."""
        mode = next((m for m in self.hvac_modes if m != "off"), None)
        if mode is None:
            raise NotSupported(f"{self.entity_id} has no mode to turn on")
        await self.async_set_hvac_mode(mode)

    async def async_turn_off(self) -> None:
        """Switch off."""
        await self.async_set_hvac_mode("off")
