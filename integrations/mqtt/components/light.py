"""MQTT lights in Home Assistant's default schema (one topic per feature) and JSON schema."""

from __future__ import annotations

import json
from typing import Any

from hub.domains.light import (
    COLOR_MODE_BRIGHTNESS,
    COLOR_MODE_COLOR_TEMP,
    COLOR_MODE_ONOFF,
    COLOR_MODE_RGB,
    LightEntity,
)

from ..client import MqttClient, ReceivedMessage
from ..discovery import DiscoveryConfig, DiscoveryError
from ..entity import MqttEntity, StateHandler, finite_float, json_payload, parse_bool_payload

KELVIN_MIN, KELVIN_MAX = 1000, 10000


def mired_to_kelvin(mired: float) -> int:
    """Colour temperature in mireds (as HA and Zigbee speak it) to kelvin."""
    if mired <= 0:
        raise ValueError(f"bad colour temperature {mired} mired")
    return max(KELVIN_MIN, min(KELVIN_MAX, round(1_000_000 / mired)))


def kelvin_to_mired(kelvin: int) -> int:
    return round(1_000_000 / kelvin)


def scale(value: float, source_max: float, target_max: float) -> int:
    """Rescale a brightness between 0..source_max and 0..target_max."""
    return max(0, min(int(target_max), round(float(value) * target_max / source_max)))


class _MqttLightBase(MqttEntity, LightEntity):
    def __init__(self, client: MqttClient, config: DiscoveryConfig) -> None:
        super().__init__(client, config)
        topic = self.opts.topic("command_topic")
        if topic is None:
            raise DiscoveryError("light needs a command_topic")
        self.command_topic: str = topic
        self.state_topic = self.opts.topic("state_topic")
        self.brightness_scale = self.opts.integer("brightness_scale", 255, 1, 65535)
        self.kelvin_units = self.opts.flag("color_temp_kelvin", False)
        if self.kelvin_units:
            self.min_color_temp_kelvin = self.opts.integer("min_kelvin", 2000, 1000, 10000)
            self.max_color_temp_kelvin = self.opts.integer("max_kelvin", 6535, 1000, 10000)
        else:
            # Warmest light has the most mireds.
            self.min_color_temp_kelvin = mired_to_kelvin(self.opts.integer("max_mireds", 500, 1))
            self.max_color_temp_kelvin = mired_to_kelvin(self.opts.integer("min_mireds", 153, 1))
        self.optimistic = self.opts.flag("optimistic", self.state_topic is None)

    def color_temp_out(self, kelvin: int) -> int:
        return kelvin if self.kelvin_units else kelvin_to_mired(kelvin)

    def color_temp_in(self, value: float) -> int:
        return int(value) if self.kelvin_units else mired_to_kelvin(value)

    def apply_optimistic(self, on: bool, data: dict[str, Any]) -> None:
        if not self.optimistic:
            return
        self.is_on = on
        if on:
            if "brightness" in data:
                self.brightness = data["brightness"]
            if "color_temp_kelvin" in data:
                self.color_temp_kelvin = data["color_temp_kelvin"]
                self.color_mode = COLOR_MODE_COLOR_TEMP
            if "rgb_color" in data:
                self.rgb_color = tuple(data["rgb_color"])  # type: ignore[assignment]
                self.color_mode = COLOR_MODE_RGB
        self.async_write_state()


class MqttLight(_MqttLightBase):
    """Default schema: on/off, brightness, colour temperature and RGB on separate topics."""

    def __init__(self, client: MqttClient, config: DiscoveryConfig) -> None:
        super().__init__(client, config)
        opts = self.opts
        self.payload_on = opts.payload("payload_on", "ON")
        self.payload_off = opts.payload("payload_off", "OFF")
        self.state_template = opts.template("state_value_template")
        self.brightness_command_topic = opts.topic("brightness_command_topic")
        self.brightness_state_topic = opts.topic("brightness_state_topic")
        self.brightness_template = opts.template("brightness_value_template")
        self.color_temp_command_topic = opts.topic("color_temp_command_topic")
        self.color_temp_state_topic = opts.topic("color_temp_state_topic")
        self.color_temp_template = opts.template("color_temp_value_template")
        self.rgb_command_topic = opts.topic("rgb_command_topic")
        self.rgb_state_topic = opts.topic("rgb_state_topic")
        self.rgb_template = opts.template("rgb_value_template")
        self.rgb_command_template = opts.template("rgb_command_template")
        self.on_command_type = opts.text("on_command_type", "last")
        if self.on_command_type not in ("last", "first", "brightness"):
            raise DiscoveryError(f"unknown on_command_type {self.on_command_type!r}")
        modes = []
        if self.rgb_command_topic:
            modes.append(COLOR_MODE_RGB)
        if self.color_temp_command_topic:
            modes.append(COLOR_MODE_COLOR_TEMP)
        if not modes and self.brightness_command_topic:
            modes.append(COLOR_MODE_BRIGHTNESS)
        self.supported_color_modes = tuple(modes) or (COLOR_MODE_ONOFF,)
        self.color_mode = self.supported_color_modes[0]

    def state_topics(self) -> list[tuple[str, StateHandler]]:
        topics: list[tuple[str, StateHandler]] = []
        for topic, handler in (
            (self.state_topic, self._on_state),
            (self.brightness_state_topic, self._on_brightness),
            (self.color_temp_state_topic, self._on_color_temp),
            (self.rgb_state_topic, self._on_rgb),
        ):
            if topic:
                topics.append((topic, handler))
        return topics

    def _on_state(self, message: ReceivedMessage) -> bool:
        value = self.render_state(self.state_template, message)
        self.is_on = parse_bool_payload(value, self.payload_on, self.payload_off)
        return True

    def _on_brightness(self, message: ReceivedMessage) -> bool:
        raw = finite_float(self.render_state(self.brightness_template, message))
        if not 0 <= raw <= self.brightness_scale:
            raise ValueError(f"brightness {raw} outside 0..{self.brightness_scale}")
        self.brightness = scale(raw, self.brightness_scale, 255)
        return True

    def _on_color_temp(self, message: ReceivedMessage) -> bool:
        self.color_temp_kelvin = self.color_temp_in(
            finite_float(self.render_state(self.color_temp_template, message))
        )
        self.color_mode = COLOR_MODE_COLOR_TEMP
        return True

    def _on_rgb(self, message: ReceivedMessage) -> bool:
        parts = [int(p) for p in self.render_state(self.rgb_template, message).split(",")]
        if len(parts) != 3 or not all(0 <= p <= 255 for p in parts):
            raise ValueError("rgb state must be r,g,b with values 0-255")
        self.rgb_color = (parts[0], parts[1], parts[2])
        self.color_mode = COLOR_MODE_RGB
        return True

    async def async_turn_on(self, **data: Any) -> None:
        send_on = True
        if self.on_command_type == "first":
            self.publish(self.command_topic, self.payload_on)
            send_on = False
        brightness = data.get("brightness")
        if self.on_command_type == "brightness" and brightness is None and not self.is_on:
            brightness = 255
        if brightness is not None and self.brightness_command_topic:
            value = scale(brightness, 255, self.brightness_scale)
            self.publish(self.brightness_command_topic, str(value))
            if self.on_command_type == "brightness":
                send_on = False
        if "color_temp_kelvin" in data and self.color_temp_command_topic:
            self.publish(
                self.color_temp_command_topic, str(self.color_temp_out(data["color_temp_kelvin"]))
            )
        if "rgb_color" in data and self.rgb_command_topic:
            red, green, blue = data["rgb_color"]
            if self.rgb_command_template is not None:
                payload = self.rgb_command_template.render(
                    {"red": red, "green": green, "blue": blue, "value": f"{red},{green},{blue}"}
                )
            else:
                payload = f"{red},{green},{blue}"
            self.publish(self.rgb_command_topic, payload)
        if send_on:
            self.publish(self.command_topic, self.payload_on)
        self.apply_optimistic(True, data)

    async def async_turn_off(self, **data: Any) -> None:
        self.publish(self.command_topic, self.payload_off)
        self.apply_optimistic(False, data)


class MqttJsonLight(_MqttLightBase):
    """JSON schema (Zigbee2MQTT, ESPHome lights): one JSON document for state and commands."""

    def __init__(self, client: MqttClient, config: DiscoveryConfig) -> None:
        super().__init__(client, config)
        opts = self.opts
        modes = []
        for mode in opts.text_list("supported_color_modes"):
            if mode in ("rgb", "rgbw", "rgbww", "hs", "xy"):
                mode = COLOR_MODE_RGB
            if mode in (COLOR_MODE_RGB, COLOR_MODE_COLOR_TEMP, COLOR_MODE_BRIGHTNESS):
                if mode not in modes:
                    modes.append(mode)
        if not modes and opts.flag("brightness", False):
            modes.append(COLOR_MODE_BRIGHTNESS)
        self.supported_color_modes = tuple(modes) or (COLOR_MODE_ONOFF,)
        self.color_mode = self.supported_color_modes[0]
        self.has_brightness = opts.flag("brightness", False) or any(
            m != COLOR_MODE_ONOFF for m in self.supported_color_modes
        )

    def state_topics(self) -> list[tuple[str, StateHandler]]:
        return [(self.state_topic, self._on_state)] if self.state_topic else []

    def _on_state(self, message: ReceivedMessage) -> bool:
        data = json_payload(message.payload)
        if not isinstance(data, dict):
            raise ValueError("JSON light state must be an object")
        changed = False
        state = data.get("state")
        if state is not None:
            if state not in ("ON", "OFF"):
                raise ValueError(f"unknown light state {state!r}")
            self.is_on = state == "ON"
            changed = True
        brightness = data.get("brightness")
        if isinstance(brightness, int | float) and not isinstance(brightness, bool):
            self.brightness = scale(brightness, self.brightness_scale, 255)
            changed = True
        color_temp = data.get("color_temp")
        if isinstance(color_temp, int | float) and not isinstance(color_temp, bool):
            self.color_temp_kelvin = self.color_temp_in(color_temp)
            changed = True
        color = data.get("color")
        if isinstance(color, dict) and all(
            isinstance(color.get(k), int) and 0 <= color[k] <= 255 for k in "rgb"
        ):
            self.rgb_color = (color["r"], color["g"], color["b"])
            changed = True
        mode = data.get("color_mode")
        if mode == COLOR_MODE_COLOR_TEMP or (mode is None and color_temp is not None):
            self.color_mode = COLOR_MODE_COLOR_TEMP
        elif mode in ("rgb", "hs", "xy") and COLOR_MODE_RGB in self.supported_color_modes:
            self.color_mode = COLOR_MODE_RGB
        if not changed:
            raise ValueError("JSON light state has nothing Hearth understands")
        return True

    async def async_turn_on(self, **data: Any) -> None:
        command: dict[str, Any] = {"state": "ON"}
        if "brightness" in data and self.has_brightness:
            command["brightness"] = scale(data["brightness"], 255, self.brightness_scale)
        if "color_temp_kelvin" in data:
            command["color_temp"] = self.color_temp_out(data["color_temp_kelvin"])
        if "rgb_color" in data:
            red, green, blue = data["rgb_color"]
            command["color"] = {"r": red, "g": green, "b": blue}
        if data.get("transition") is not None:
            command["transition"] = data["transition"]
        self.publish(self.command_topic, json.dumps(command))
        self.apply_optimistic(True, data)

    async def async_turn_off(self, **data: Any) -> None:
        command: dict[str, Any] = {"state": "OFF"}
        if data.get("transition") is not None:
            command["transition"] = data["transition"]
        self.publish(self.command_topic, json.dumps(command))
        self.apply_optimistic(False, data)


def light_class(config: DiscoveryConfig) -> type[_MqttLightBase]:
    """The light class for the config's ``schema``."""
    schema = config.data.get("schema", "default")
    if schema == "default" or schema == "basic":
        return MqttLight
    if schema == "json":
        return MqttJsonLight
    raise DiscoveryError(f"unsupported light schema {schema!r}")
