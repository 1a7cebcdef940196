"""Lights: on/off, brightness, colour temperature, RGB colour."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from ..entity import Command, Property
from ..schema import Field, Schema
from .toggle import TOGGLE, TURN_OFF, ToggleEntity

if TYPE_CHECKING:
    from ..states import State

COLOR_MODE_ONOFF = "onoff"
COLOR_MODE_BRIGHTNESS = "brightness"
COLOR_MODE_COLOR_TEMP = "color_temp"
COLOR_MODE_RGB = "rgb"

TURN_ON_SCHEMA = Schema(
    {
        "brightness": Field("int", min=0, max=255, description="0-255"),
        "brightness_pct": Field("float", min=0, max=100, description="0-100 %"),
        "color_temp_kelvin": Field("int", min=1000, max=10000),
        "rgb_color": Field("rgb"),
        "transition": Field("float", min=0, max=300, description="seconds"),
    }
)


class LightEntity(ToggleEntity):
    """A light. Integrations set the attributes and implement turn on/off."""

    domain = "light"
    commands: ClassVar = (
        Command("turn_on", "async_turn_on", TURN_ON_SCHEMA, "Turn on, optionally dimmed/coloured"),
        TURN_OFF,
        TOGGLE,
    )
    properties: ClassVar = (
        Property("brightness", "int", description="0-255"),
        Property("color_temp_kelvin", "int", "K"),
        Property("rgb_color", "rgb"),
        Property("color_mode", "str"),
    )

    brightness: int | None = None
    color_temp_kelvin: int | None = None
    rgb_color: tuple[int, int, int] | None = None
    color_mode: str | None = None
    supported_color_modes: tuple[str, ...] = (COLOR_MODE_ONOFF,)
    min_color_temp_kelvin: int = 2000
    max_color_temp_kelvin: int = 6500

    @property
    def state_attributes(self) -> dict[str, Any]:
        attrs: dict[str, Any] = {"supported_color_modes": list(self.supported_color_modes)}
        if COLOR_MODE_COLOR_TEMP in self.supported_color_modes:
            attrs["min_color_temp_kelvin"] = self.min_color_temp_kelvin
            attrs["max_color_temp_kelvin"] = self.max_color_temp_kelvin
        if self.is_on:
            attrs["color_mode"] = self.color_mode
            if self.brightness is not None:
                attrs["brightness"] = self.brightness
            if self.color_temp_kelvin is not None and self.color_mode == COLOR_MODE_COLOR_TEMP:
                attrs["color_temp_kelvin"] = self.color_temp_kelvin
            if self.rgb_color is not None and self.color_mode == COLOR_MODE_RGB:
                attrs["rgb_color"] = list(self.rgb_color)
        return attrs

    def prepare_command_data(self, command: str, data: dict[str, Any]) -> dict[str, Any]:
        return normalize_turn_on(data) if command == "turn_on" else data

    def restore(self, last: State) -> None:
        super().restore(last)
        attrs = last.attributes
        dims = self.supported_color_modes != (COLOR_MODE_ONOFF,)
        if isinstance(attrs.get("brightness"), int) and dims:
            self.brightness = attrs["brightness"]
        if attrs.get("color_mode") in self.supported_color_modes:
            self.color_mode = attrs["color_mode"]
        if isinstance(attrs.get("color_temp_kelvin"), int):
            self.color_temp_kelvin = attrs["color_temp_kelvin"]
        rgb = attrs.get("rgb_color")
        if isinstance(rgb, list | tuple) and len(rgb) == 3:
            self.rgb_color = (int(rgb[0]), int(rgb[1]), int(rgb[2]))


def normalize_turn_on(data: dict[str, Any]) -> dict[str, Any]:
    """Fold brightness_pct into brightness so integrations see one form."""
    out = dict(data)
    pct = out.pop("brightness_pct", None)
    if pct is not None and "brightness" not in out:
        out["brightness"] = round(pct * 255 / 100)
    return out
